"""The generalization report's smoke preset through the real CLI (a subprocess)."""

import json
import os
import subprocess
import sys

import pytest

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
    assert html.count("data:image/png;base64,") == 3  # self-contained
    for table in ("Table II", "Table III", "Table IV"):
        assert table in html and table in (out / "report.md").read_text()


def test_json_schema(smoke_report):
    out, *_ = smoke_report
    report = json.loads((out / "report.json").read_text())
    assert report["preset"] == "smoke" and report["data"] == ["builtin:songs=3,seconds=3"]
    rows = report["rows"]
    assert len(rows) == 2 * 4 * 2  # {U-Net, ResNet} x {baseline, DA, BN, DO} x {seen, unseen}
    assert {(r["arch"], r["variant"]) for r in rows} == {
        (a, v) for a in ("U-Net", "ResNet") for v in ("baseline", "DA", "BN", "DO")
    }
    for r in rows:
        assert set(r) >= {"arch", "variant", "degradation", "seen", "input", "output", "delta"}
        assert r["seen"] == (r["degradation"] == "cheby1:6")
        assert r["degradation"] in ("cheby1:6", "butter:6")
        for part in ("input", "output", "delta"):
            assert set(r[part]) >= {"snr", "lsd"}
        assert r["delta"]["snr"] == pytest.approx(r["output"]["snr"] - r["input"]["snr"])
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


def test_rerun_reuses_finished_runs(smoke_report):
    out, cmd, env, _ = smoke_report
    checkpoint = out / "runs" / "resnet-baseline" / "checkpoints" / "last.pt"
    before = (checkpoint.stat().st_mtime_ns, (out / "runs" / "resnet-baseline" / "metrics.jsonl").read_text())
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    after = (checkpoint.stat().st_mtime_ns, (out / "runs" / "resnet-baseline" / "metrics.jsonl").read_text())
    assert after == before


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
