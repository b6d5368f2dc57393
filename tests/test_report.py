"""The generalization report's smoke preset through the real CLI (a subprocess)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from audioenh.degradations.chain import resolve_degradations
from audioenh.reports import presets

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    env = dict(os.environ, AUDIOENH_NO_PLUGINS="1", AUDIOENH_CACHE=str(tmp_path_factory.mktemp("cache")))
    cmd = [
        sys.executable,
        "-m",
        "audioenh",
        "generalization-report",
        "--preset",
        "smoke",
        "--device",
        "cpu",
        "--output",
        str(out),
        "--quiet",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return out, cmd, env, result


def test_every_file_is_written(smoke_report):
    out, *_ = smoke_report
    for name in (
        "report.md",
        "report.html",
        "report.json",
        "fig2_filters.png",
        "fig3_validation.png",
        "fig4_spectrograms.png",
    ):
        assert (out / name).stat().st_size > 0, name
    for name in ("fig2_filters.png", "fig3_validation.png", "fig4_spectrograms.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and b"IEND" in data[-16:], name
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 5  # self-contained: figures 2-4 and two matrix heatmaps
    for name in ("matrix-snr.png", "matrix-lsd-edge.png"):
        assert (out / name).read_bytes().startswith(PNG_MAGIC), name
    for table in ("Table II", "Table III", "Table IV"):
        assert table in html and table in (out / "report.md").read_text()


def test_json_schema(smoke_report):
    out, *_ = smoke_report
    report = json.loads((out / "report.json").read_text())
    assert report["preset"] == "smoke" and report["data"] == ["builtin:songs=3,seconds=3"]
    rows = report["rows"]
    assert len(rows) == 2 * 5 * 2  # {U-Net, ResNet} x {baseline, DA, BN, DO, recipe} x {seen, unseen}
    assert {(r["arch"], r["variant"]) for r in rows} == {
        (a, v) for a in ("U-Net", "ResNet") for v in ("baseline", "DA", "BN", "DO", "recipe")
    }
    for r in rows:
        assert set(r) >= {"arch", "variant", "degradation", "seen", "input", "output", "delta"}
        assert r["seen"] == (r["degradation"] == "cheby1:6")
        assert r["degradation"] in ("cheby1:6", "butter:6")
        for part in ("input", "output", "delta"):
            assert set(r[part]) >= {"snr", "lsd"}
        assert r["delta"]["snr"] == pytest.approx(r["output"]["snr"] - r["input"]["snr"])
        assert r["iterations"] == presets.PRESETS["smoke"].iterations  # read from the run itself
    assert report["budget_note"] == ""  # the smoke preset trains as much on every machine
    assert report["preset_iterations"] == presets.PRESETS["smoke"].iterations
    assert f"Every run trained {presets.PRESETS['smoke'].iterations} iterations." in (out / "report.md").read_text()
    assert {(s["arch"], s["split"]) for s in report["sample_overfitting"]} == {
        (a, s) for a in ("U-Net", "ResNet") for s in ("train", "test")
    }
    for s in report["sample_overfitting"]:
        assert set(s) >= {"arch", "split", "input", "output"}
    assert [m["arch"] for m in report["models"]] == ["U-Net", "ResNet"]
    for m in report["models"]:
        assert isinstance(m["params"], int) and m["params"] > 0
        assert m["macs"] > 0 and m["runtime_rate"] > 0
    assert set(report["finding"]) >= {"shown", "baseline_seen_delta_snr"}
    matrix = report["matrix"]
    assert matrix["cells"] == ["cheby1:6", "ellip:order=8,cutoff=16000", "resample:16000"]
    assert list(matrix["models"]) == [
        f"{a} {v}" for a in ("U-Net", "ResNet") for v in ("baseline", "DA", "BN", "DO", "recipe")
    ]
    recipe = resolve_degradations([presets.RECIPE])
    assert report["recipe_members"] == [c.text for c in recipe] and len(recipe) >= 2
    assert matrix["models"]["ResNet recipe"]["trained"] == [c.canonical for c in recipe]
    for mode in ("raw", "safe"):
        for cells in matrix["results"][mode].values():
            assert set(cells) == set(matrix["cells"])
    # the raw matrix's seen cell is Table II's seen row scored on the same songs' centred excerpts
    assert matrix["seconds"] == 1.0 and len(matrix["songs"]) == 1
    # where the time went: every phase ran (a first run caches nothing), and they add up to at most the whole
    phases = report["phase_seconds"]
    assert list(phases) == ["corpus", "training", "tables", "matrix", "listening", "speed", "page"]
    assert all(seconds > 0 for seconds in phases.values())
    assert phases["training"] > phases["listening"]  # ten runs trained against two excerpts enhanced
    assert sum(phases.values()) <= report["wall_seconds"] + 1e-6
    assert f"Wall time: {report['wall_seconds']:.0f} s (" in (out / "report.md").read_text()


def test_rerun_reuses_finished_runs(smoke_report):
    out, cmd, env, _ = smoke_report
    checkpoint = out / "runs" / "resnet-baseline" / "checkpoints" / "last.pt"
    before = (checkpoint.stat().st_mtime_ns, (out / "runs" / "resnet-baseline" / "metrics.jsonl").read_text())
    loud = [c for c in cmd if c != "--quiet"]  # says what it does
    result = subprocess.run(loud, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    after = (checkpoint.stat().st_mtime_ns, (out / "runs" / "resnet-baseline" / "metrics.jsonl").read_text())
    assert after == before
    assert "training ResNet" not in result.stderr
    for arch in ("U-Net", "ResNet"):
        assert f"testing {arch} DA: cheby1:6, butter:6 and the matrix (" in result.stderr


def test_unavailable_metric_is_reported_and_the_others_run(monkeypatch):
    from audioenh import plugins
    from audioenh.errors import AudioenhError
    from audioenh.hookspecs import hookimpl
    from audioenh.metrics import Metric
    from audioenh.reports.experiment import probe_metrics

    class NeedsWeights(Metric):
        """Needs a file this machine lacks."""

        def __init__(self):
            raise AudioenhError("no weights here; run 'audioenh weights fetch demo'")

        def compute(self, reference, estimate, sample_rate):
            return 0.0

    class Plugin:
        @hookimpl
        def register_metrics(self, register):
            register("needs-weights", NeedsWeights)

    plugins.register_plugin(Plugin(), name="needs-weights")
    try:
        available, unavailable = probe_metrics(["lsd", "needs-weights"])
    finally:
        plugins.unregister_plugin(name="needs-weights")
    assert available == ["snr", "lsd"]
    assert unavailable == {"needs-weights": "no weights here; run 'audioenh weights fetch demo'"}
    with pytest.raises(Exception, match="unknown metric"):
        probe_metrics(["nope"])


def _render_tool():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "tools" / "render_report.py"
    spec = importlib.util.spec_from_file_location("render_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_page_in_chromium_never_scrolls_sideways_and_its_media_load(smoke_report, tmp_path):
    """Loaded in headless Chromium at 1280 and 400 px: no page-level sideways scrolling, every image
    decoded and every audio element loaded and played. Under CI=true a missing Chromium fails instead of skipping."""
    out, *_ = smoke_report
    tool = _render_tool()
    try:
        results = tool.render(out / "report.html", tmp_path / "shots", [1280, 400])
    except tool.ChromiumMissing as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs Chromium for this test: {exc}")
        pytest.skip(str(exc))
    for width, result in results.items():
        measured = result["measured"]
        assert measured["innerWidth"] == width
        assert result["problems"] == [], (width, result["problems"])
        assert len(measured["images"]) == 5 and len(measured["audio"]) == 11  # target, 2 inputs, 2 x 4 outputs
        assert all(a["duration"] > 0.5 for a in measured["audio"])
        assert all(a["played_seconds"] > 0 for a in measured["audio"])  # the players play
        assert (tmp_path / "shots" / f"report-{width}.png").read_bytes().startswith(PNG_MAGIC)


def test_page_shows_no_python_reprs(smoke_report):
    out, *_ = smoke_report
    text = (out / "report.md").read_text()
    settings = text[text.index("## Preset settings") :].split("\n## ")[0]
    assert "{" not in settings and "None" not in settings and "'" not in settings
    assert "U-Net: `unet:preset=tiny`; ResNet: `resnet:preset=tiny`" in settings
    table4 = text[text.index("## Table IV") :].split("\n## ")[0]
    assert "`unet:preset=tiny`" in table4 and "preset=paper" not in table4
    report = json.loads((out / "report.json").read_text())
    assert [r["name"] for r in report["listening"]["rows"]][:2] == ["target", "input"]
    for row in report["listening"]["rows"]:
        for relative in row["files"].values():
            assert (out / relative).read_bytes().startswith(b"OggS")


@pytest.mark.parametrize("bf16_hardware", [True, False])
def test_quick_preset_trains_fewer_iterations_on_a_cpu_without_bf16_hardware(monkeypatch, bf16_hardware):
    """The performance issue lets the quick preset cut its budget where the CPU lacks bf16 hardware: the
    same for every run, and the report says so; GPUs and CPUs with AMX or AVX-512 BF16 train it whole."""
    import torch

    from audioenh import precision
    from audioenh.reports import render
    from audioenh.reports.experiment import _config, training_budget

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: bf16_hardware)
    quick = presets.PRESETS["quick"]
    assert quick.iterations_without_bf16 < quick.iterations
    trained, note = training_budget(quick, torch.device("cpu"))
    if bf16_hardware:
        assert trained is quick and note == ""
    else:
        assert trained.iterations == quick.iterations_without_bf16 and trained.iterations_without_bf16 is None
        assert note == "this CPU has no bf16 hardware (neither AMX nor AVX-512 BF16)"
        for arch in quick.archs:
            for variant in presets.VARIANTS:
                config = _config(trained, arch, variant, ["builtin:songs=3,seconds=3"], "cpu", "fp32")
                assert config.iterations == quick.iterations_without_bf16
    assert training_budget(quick, torch.device("cuda")) == (quick, "")  # a GPU: the whole budget
    assert training_budget(presets.PRESETS["smoke"], torch.device("cpu")) == (presets.PRESETS["smoke"], "")
    rows = [{"arch": "ResNet", "variant": v, "iterations": trained.iterations} for v in ("baseline", "DA")]
    text = render.budget_text({"rows": rows, "budget_note": note, "preset_iterations": quick.iterations})
    if bf16_hardware:
        assert text == "Every run trained 1000 iterations."
    else:
        assert text == (
            f"Every run trained {quick.iterations_without_bf16} iterations, not the preset's 1000: this CPU has "
            "no bf16 hardware (neither AMX nor AVX-512 BF16), where the preset trains less to keep to its time "
            "(docs/results.md)."
        )


def test_preset_scales_run_iterations_with_its_reduced_budget():
    from dataclasses import replace

    preset = replace(presets.PRESETS["smoke"], iterations=100, iterations_without_bf16=50, run_iterations={"DA": 40})
    reduced = preset.without_bf16()
    assert reduced.iterations_for("ResNet", "DA") == 20 and reduced.iterations_for("ResNet", "BN") == 50
    assert replace(preset, iterations_without_bf16=None).without_bf16().iterations == 100
    from audioenh.reports.render import budget_text

    rows = [{"arch": "ResNet", "variant": v, "iterations": n} for v, n in (("DA", 20), ("BN", 50))]

    assert budget_text({"rows": rows}) == "Iterations trained: ResNet DA 20, ResNet BN 50."


def test_wall_time_text_lists_the_phases_longest_first_and_leaves_out_the_instant_ones():
    from audioenh.reports.render import wall_time_text

    report = {"wall_seconds": 530.4, "phase_seconds": {"corpus": 0.2, "training": 380.0, "matrix": 95.6, "page": 12.0}}
    assert wall_time_text(report) == "Wall time: 530 s (training 380 s, matrix 96 s, figures and page 12 s)."
    assert wall_time_text({"wall_seconds": 3.0}) == "Wall time: 3 s."  # a report.json written before the phases


def test_phase_times_add_up_each_phase_over_its_calls(monkeypatch):
    from audioenh.reports import experiment

    clock = iter([0.0, 2.0, 10.0, 13.5, 20.0, 21.0])
    monkeypatch.setattr(experiment.time, "monotonic", lambda: next(clock))
    phases = experiment.PhaseTimes()
    for name in ("training", "matrix", "training"):
        with phases(name):
            pass
    assert phases.seconds == {"training": 3.0, "matrix": 3.5}


def test_a_run_trained_with_other_settings_is_refused_with_what_to_do(smoke_report, tmp_path):
    """A report folder whose run was trained with settings the preset no longer has (a variant's
    training set redefined since) stops at that run with one line that says what to do."""
    out, cmd, env, _ = smoke_report
    run = out / "runs" / "unet-baseline"  # the grid's first run
    stale = tmp_path / "runs" / run.name
    shutil.copytree(run, stale)
    config = json.loads((stale / "config.json").read_text())
    config["lr"] = config["lr"] * 2
    (stale / "config.json").write_text(json.dumps(config))
    moved = [str(tmp_path) if c == str(out) else c for c in cmd]
    result = subprocess.run(moved, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()[-1]
    assert "was trained with other settings (lr)" in message
    assert f"delete {stale} to train it again, or report into another --output" in message
