"""The generalization matrix: its degradation sets, its scores (equal to ``test`` in either mode) and
the ``audioenh matrix`` command's files."""

import json
import warnings
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner

from audioenh import hookimpl, plugins
from audioenh.checkpoint import save_checkpoint
from audioenh.cli import cli
from audioenh.data.builtin import generate_song
from audioenh.data.corpus import resolve_corpus
from audioenh.degradations.chain import DegradationSampler, resolve_degradations
from audioenh.degradations.sets import CUTOFFS_HZ, FAMILIES, HELD_OUT_FAMILIES, ORDERS, RECIPES
from audioenh.errors import UnknownNameError
from audioenh.evaluation.matrix import EDGE_LSD, MatrixModel, edge_lsd, matrix_summary, score_matrix
from audioenh.evaluation.testing import evaluate_songs
from audioenh.metrics.lsd import HighBandLSD
from audioenh.registry import Registry
from tests.test_do_no_harm import checkpoint, random_model

SR = 44100


def test_the_full_set_has_every_family_order_and_cutoff():
    members = set(plugins.degradations().sets()["matrix"])
    for family in FAMILIES:
        for order in ORDERS:
            assert f"{family}:order={order}" in members  # 11025 Hz, the default cut-off
            for hz in (h for h in CUTOFFS_HZ if h != 11025):
                assert f"{family}:order={order},cutoff={hz}" in members
    for name in ("fir", "brickwall"):
        assert {name, f"{name}:cutoff=8000", f"{name}:cutoff=13000", f"{name}:cutoff=16000"} <= members
    assert {"resample:16000", "resample:22050", "resample:32000"} <= members
    assert any("+" in m for m in members)  # chains
    assert len(resolve_degradations(["matrix"])) == len(members) == 73


def test_the_quick_set_covers_every_family_at_11025_hz_and_stays_small():
    quick = resolve_degradations(["matrix-quick"])
    assert 15 <= len(quick) <= 30
    names = [c.canonical.split(":")[0] for c in quick]
    for family in (*FAMILIES, "fir", "brickwall", "resample"):
        assert family in names
    eleven = {c.canonical.split(":")[0] for c in quick if "cutoff=11025.0" in c.canonical}
    assert set(FAMILIES) | {"fir", "brickwall"} <= eleven
    assert "cheby1:order=6,cutoff=11025.0,rp=0.05" in [c.canonical for c in quick]  # the paper's seen filter


def test_recipes_leave_out_the_held_out_families():
    for name, members in RECIPES.items():
        resolved = resolve_degradations([name])
        assert len(resolved) == len(members)
        for c in resolved:
            assert c.canonical.split(":")[0] not in HELD_OUT_FAMILIES, (name, c.canonical)


def test_a_plugin_extends_a_set_and_unknown_sets_are_refused_with_a_warning():
    class Extender:
        @hookimpl
        def register_degradations(self, register):
            register.extend("matrix-quick", ["gain:-3", "cheby1:6"])  # cheby1:6 is already a member
            register.extend("matrx-quick", ["gain:-6"])

    plugins.register_plugin(Extender(), name="extender")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            members = plugins.degradations().sets()["matrix-quick"]
        assert members[-1] == "gain:-3" and members.count("cheby1:6") == 1
        assert plugins.degradations().set_extenders("matrix-quick") == ["extender"]
        assert any("unknown degradation set 'matrx-quick'" in str(w.message) for w in caught)
        assert any("did you mean 'matrix-quick'" in str(w.message) for w in caught)
    finally:
        plugins.unregister_plugin(name="extender")


def test_registry_extension_goes_away_with_its_plugin():
    reg = Registry("degradation")
    reg.register_set("pair", ["cheby1:6", "butter:6"], plugin="a")
    reg.extend_set("pair", ["cheby1:6+gain:-1"], plugin="b")
    assert reg.sets()["pair"] == ("cheby1:6", "butter:6", "cheby1:6+gain:-1")
    with pytest.raises(UnknownNameError):
        reg.extend_set("trio", ["cheby1:6"], plugin="b")
    reg.unregister_plugin("b")
    assert reg.sets()["pair"] == ("cheby1:6", "butter:6")


def test_edge_lsd_is_lsd_hf_at_the_edge_and_undefined_at_nyquist():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 8192)), rng.standard_normal((2, 8192))
    assert edge_lsd(a, b, SR, 12000.0) == HighBandLSD(cutoff=12000.0)(a, b, SR)
    assert np.isnan(edge_lsd(a, b, SR, SR / 2))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for split, seeds in (("train", (40,)), ("test", (41, 42))):
        (root / split).mkdir()
        for seed in seeds:
            sf.write(root / split / f"s{seed}.flac", generate_song(seed, 2.5, SR).T, SR, subtype="PCM_24")
    return root


def test_songs_degraded_once_score_every_model_as_degrading_them_per_model(corpus):
    """The report degrades and scores each (songs, degradation) once for all its runs
    (``degraded_songs``): every figure equals evaluate_songs degrading per model, in either mode."""
    from audioenh.evaluation.testing import degraded_songs

    songs = resolve_corpus([str(corpus)]).test
    metrics = ["snr", "lsd", "lsd-hf"]
    shared = degraded_songs(songs, "cheby1:order=4..8", metrics)  # a range: drawn per song, fixed by its index
    assert [s.name for s in shared] == [s.name for s in songs] and all(s.input_scores for s in shared)
    for seed in (0, 1):
        model = random_model(seed)
        for mode in ("raw", "safe"):
            options = dict(device=torch.device("cpu"), mode=mode, trained_specs=["cheby1:6"])
            plain = evaluate_songs(model, songs, "cheby1:order=4..8", metrics, **options)
            reused = evaluate_songs(model, songs, "cheby1:order=4..8", metrics, inputs=shared, **options)
            assert reused == plain


def test_matrix_scores_equal_the_test_command_in_both_modes(corpus):
    """One network pass serves both modes; each equals evaluate_songs (what ``audioenh test`` runs)."""
    model = random_model()
    songs = resolve_corpus([str(corpus)]).test
    cells = ["cheby1:6", "ellip:order=12,cutoff=16000"]
    row = MatrixModel("random", model, ["cheby1:6"])
    result = score_matrix([row], songs, cells, ["snr", "lsd"], device=torch.device("cpu"))
    assert result["cells"] == cells and result["metrics"] == ["snr", "lsd", EDGE_LSD]
    for mode in ("raw", "safe"):
        for cell in cells:
            expected = evaluate_songs(
                model, songs, cell, ["snr", "lsd"], device=torch.device("cpu"), mode=mode, trained_specs=["cheby1:6"]
            )
            got = result["results"][mode]["random"][cell]
            for metric in ("snr", "lsd"):
                assert got["delta"][metric] == pytest.approx(expected["mean"]["delta"][metric], abs=1e-4)
                assert result["inputs"][cell][metric] == pytest.approx(expected["mean"]["input"][metric], abs=1e-9)
    # far from its training edge the model is not trusted: the input comes back (0 dB exactly)
    far = result["results"]["safe"]["random"]["ellip:order=12,cutoff=16000"]
    assert far["trust"] == 0.0 and far["delta"]["snr"] == 0.0 and far["delta"][EDGE_LSD] == 0.0
    assert result["results"]["raw"]["random"]["ellip:order=12,cutoff=16000"]["delta"]["snr"] < -0.1
    assert 15000 < result["inputs"]["ellip:order=12,cutoff=16000"]["edge_hz"] < 16500
    summary = matrix_summary(result)
    assert summary["safe"]["random"]["min"] == min(
        result["results"]["safe"]["random"][c]["delta"]["snr"] for c in cells
    )
    assert summary["raw"]["random"]["harmed"] >= 1


def test_raw_mode_alone_runs_no_self_test(corpus, monkeypatch):
    """The self-test only decides safe mode's trust: a raw-only matrix does not pay for it."""
    from audioenh.evaluation import matrix

    def never(*args):
        raise AssertionError("the self-test ran for a raw-only matrix")

    monkeypatch.setattr(matrix, "self_tested", never)
    songs = resolve_corpus([str(corpus)]).test
    row = MatrixModel("random", random_model(), ["cheby1:6"])
    result = score_matrix([row], songs, ["cheby1:6"], modes=("raw",), device=torch.device("cpu"))
    assert result["results"]["raw"]["random"]["cheby1:6"]["delta"]["snr"] != 0.0
    with pytest.raises(AssertionError, match="self-test ran"):
        score_matrix([row], songs, ["cheby1:6"], modes=("safe",), device=torch.device("cpu"))


def test_matrix_command_writes_tables_heatmaps_and_json(corpus, tmp_path):
    model = random_model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, {**checkpoint(model), "degradations": ["cheby1:6"]})
    out = tmp_path / "matrix"
    args = ["matrix", f"base={ckpt}", str(ckpt), "--set", "cheby1:6", "--set", "resample:16000"]
    args += ["--data", str(corpus), "--seconds", "1.5", "--songs", "1", "-o", str(out), "--device", "cpu", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "base:" in result.stdout and "m:" in result.stdout and "safe" in result.stdout
    data = json.loads((out / "matrix.json").read_text())
    assert data["cells"] == ["cheby1:6", "resample:16000"] and list(data["models"]) == ["base", "m"]
    assert data["seconds"] == 1.5 and len(data["songs"]) == 1 and data["split"] == "test"
    base = data["results"]["raw"]["base"]["cheby1:6"]["delta"]["snr"]
    assert base == pytest.approx(data["results"]["raw"]["m"]["cheby1:6"]["delta"]["snr"])  # same network
    for name in ("matrix.md", "matrix.html", "matrix-snr.png", "matrix-lsd-edge.png"):
        assert (out / name).stat().st_size > 500, name
    md = (out / "matrix.md").read_text()
    assert "`resample:16000`" in md and "safe mode" in md and "raw mode" in md
    assert "data:image/png;base64," in (out / "matrix.html").read_text()


def test_matrix_command_refuses_bad_input_in_one_line(corpus, tmp_path):
    model = random_model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, {**checkpoint(model), "degradations": ["cheby1:6"]})
    save_checkpoint(tmp_path / "m48.pt", {**checkpoint(model), "sample_rate": 48000})
    for args, message in (
        ([str(ckpt), "--set", "chebby1:6"], "unknown degradation"),
        ([str(tmp_path / "none.pt")], "no such file"),
        ([str(ckpt), f"m={ckpt}"], "share a name"),
        ([str(ckpt), f"other={tmp_path / 'm48.pt'}"], "different sample rates"),
        ([str(ckpt), "--data", str(corpus), "--split", "val"], "holds no songs"),
    ):
        result = CliRunner().invoke(cli, ["matrix", *args, "--device", "cpu", "-q"])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_the_oracle_row_is_the_original_above_the_band_edge(corpus, tmp_path):
    """--oracle: the input below the detected edge, the original song above it (enhance's crossover),
    by hand; nothing to restore on a full-band input; and far above what a random network gains."""
    from audioenh.analysis.bandwidth import recording_edge
    from audioenh.evaluation.crossover import keep_below_edge, restoration_filter
    from audioenh.evaluation.matrix import ORACLE, centred_excerpt

    songs = resolve_corpus([str(corpus)]).test[:1]
    cells = ["cheby1:6", "noise:snr=60"]
    row = MatrixModel("random", random_model(), ["cheby1:6"])
    result = score_matrix([row], songs, cells, device=torch.device("cpu"), seconds=1.5, oracle=True)
    assert list(result["models"]) == ["random", ORACLE] and result["models"][ORACLE]["oracle"]
    target = songs[0].read()
    target = target[:, centred_excerpt(target, 1.5, SR)]
    degraded, _ = DegradationSampler("cheby1:6", SR).degrade(target, SR, np.random.default_rng([0, 0]))
    degraded = np.asarray(degraded, dtype=np.float32)
    best = keep_below_edge(degraded, target.astype(np.float32), restoration_filter(recording_edge(degraded, SR), SR))
    snr = plugins.metrics().create("snr")
    expected = snr(target, best, SR) - snr(target, degraded, SR)
    for mode in ("raw", "safe"):
        got = result["results"][mode][ORACLE]
        assert got["cheby1:6"]["delta"]["snr"] == pytest.approx(expected, abs=1e-6)
        assert got["cheby1:6"]["trust"] == 1.0
        assert got["noise:snr=60"]["delta"]["snr"] == 0.0 and got["noise:snr=60"]["trust"] == 0.0  # full band
    assert expected > 5.0 > result["results"]["safe"]["random"]["cheby1:6"]["delta"]["snr"]
    with pytest.raises(ValueError, match="distinct"):
        score_matrix([replace(row, name=ORACLE)], songs, cells, device=torch.device("cpu"), oracle=True)


def test_the_safe_mode_bound_tool_scores_as_the_matrix_does(corpus, monkeypatch, capsys):
    """tools/safe_mode_bound.py: raw and safe equal the matrix's; the bound is the matrix's safe score with
    every song fully trusted and no level limit (the most any trust rule could keep)."""
    from audioenh.checkpoint import load_model, training_degradations, validated_gain_db
    from audioenh.evaluation import crossover, self_test, transients
    from audioenh.evaluation.matrix import _DEGRADED
    from audioenh.pretrained import resolve_model
    from tests.conftest import tool_module

    cell, name = "cheby1:order=8", "resnet-11k-cheby1"
    with tool_module("safe_mode_bound") as tool:
        [(label, raw, safe, bound)] = tool.main([f"B={name}", "-d", cell, "--data", str(corpus), "--seconds", "2"])
    assert label == "B" and "bound/raw" in capsys.readouterr().out
    model, ck = load_model(resolve_model(name))
    row = MatrixModel(name, model, training_degradations(ck), validated_gain_db=validated_gain_db(ck))
    songs = resolve_corpus([str(corpus)]).test

    def scored():
        _DEGRADED.clear()
        result = score_matrix([row], songs, [cell], device=torch.device("cpu"), seconds=2.0)["results"]
        return result["raw"][name][cell]["delta"]["snr"], result["safe"][name][cell]["delta"]["snr"]

    expected_raw, expected_safe = scored()
    assert raw == pytest.approx(expected_raw, abs=1e-6) and safe == pytest.approx(expected_safe, abs=1e-6)
    monkeypatch.setattr(crossover, "trust_from_mismatch", lambda mismatch, moved=False: 1.0)
    monkeypatch.setattr(crossover.Restoration, "level_limited", lambda self, inputs, outputs, rate: self)
    monkeypatch.setattr(transients, "reference_db", lambda *args: None)  # nor burst-limited
    monkeypatch.setattr(self_test, "MIN_GAIN_DB", float("-inf"))  # the bound is not self-tested
    assert bound == pytest.approx(scored()[1], abs=1e-6)
    assert abs(bound - safe) > 1e-3 and abs(bound - raw) > 1e-3  # three different outputs
