"""enhance's safe mode: the network only adds the band above the input's edge; a full-band input
comes back unchanged; blocks still join without seams."""

import numpy as np
import pytest
import soundfile as sf
import torch
from click.testing import CliRunner
from scipy import signal

from audioenh import plugins
from audioenh.checkpoint import save_checkpoint
from audioenh.cli import cli
from audioenh.data.builtin import generate_song
from audioenh.evaluation import transients
from audioenh.evaluation.crossover import BELOW_EDGE_HZ, TRANSITION_HZ, keep_below_edge, restoration_filter
from audioenh.evaluation.inference import enhance_array
from audioenh.evaluation.streaming import enhance_file

SR = 44100


def random_model(seed=3, scale=0.05):
    """A tiny ResNet whose output differs from its input in every band (its tail is not zero); its
    weights perturbed by ``scale`` times Gaussian noise (0.5: far from the identity, a noise maker)."""
    torch.manual_seed(seed)
    model = plugins.architectures().create("resnet:preset=tiny,width=8")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn_like(p))
    return model.eval()


def checkpoint(model):
    return {"arch": "resnet:preset=tiny,width=8", "sample_rate": SR, "audio_channels": 2, "model": model.state_dict()}


@pytest.fixture(scope="module")
def song():
    return generate_song(21, 4.0, SR).astype(np.float32)


def level_db(x):
    return 10 * np.log10(np.sum(np.asarray(x, np.float64) ** 2) + 1e-300)


def enhance_safe_and_raw(model, src, tmp_path):
    """``enhance_file`` of ``src`` in both modes (float WAVs): the safe summary, the safe and raw outputs."""
    summary = enhance_file(model, checkpoint(model), src, tmp_path / "safe.wav", subtype="FLOAT", progress=False)
    enhance_file(model, checkpoint(model), src, tmp_path / "raw.wav", subtype="FLOAT", progress=False, mode="raw")
    read = [sf.read(tmp_path / f"{m}.wav", dtype="float32", always_2d=True)[0].T for m in ("safe", "raw")]
    return summary, *read


def test_full_band_input_comes_back_unchanged(song, tmp_path):
    model = random_model()
    src = tmp_path / "full.wav"
    sf.write(src, song.T, SR, subtype="FLOAT")
    safe, out_safe, out_raw = enhance_safe_and_raw(model, src, tmp_path)
    assert safe["edge_hz"] == SR / 2 and safe["restored_hz"] is None
    assert level_db(out_safe - song) - level_db(song) < -90  # returned within -90 dB of itself
    assert level_db(out_raw - song) - level_db(song) > -40  # the model would have changed it


def test_below_the_edge_the_output_is_the_input(song, tmp_path):
    model = random_model()
    lowpassed = plugins.degradations().create("cheby1:order=10,cutoff=11025")(song, SR).astype(np.float32)
    src = tmp_path / "lp.wav"
    sf.write(src, lowpassed.T, SR, subtype="FLOAT")
    summary, out, raw = enhance_safe_and_raw(model, src, tmp_path)
    edge = summary["edge_hz"]
    assert abs(edge - 11300) < 400 and summary["restored_hz"] == [edge, SR / 2]
    f, p_in = signal.welch(lowpassed, fs=SR, nperseg=4096, axis=-1)
    _, p_safe = signal.welch(out - lowpassed, fs=SR, nperseg=4096, axis=-1)
    _, p_raw = signal.welch(raw - lowpassed, fs=SR, nperseg=4096, axis=-1)
    below = (f > 100) & (f < edge - BELOW_EDGE_HZ - TRANSITION_HZ - 100)  # the crossover's stop band
    above = f > edge + 1000
    assert np.max(10 * np.log10(p_raw[:, below] / p_in[:, below])) > -40  # raw mode changes the band...
    assert np.max(10 * np.log10(p_safe[:, below] / p_in[:, below])) < -70  # ...safe mode leaves it alone
    # above the edge, safe mode adds what the network adds
    np.testing.assert_allclose(10 * np.log10(p_safe[:, above]), 10 * np.log10(p_raw[:, above]), atol=1.0)


def streamed_and_whole(model, song, tmp_path, edge=9000.0, pad=8192):
    """A 2-s ``ellip:order=8,cutoff=9000`` input enhanced in safe mode, streamed in blocks of 1024 samples
    (``enhance_file``: its summary), and what the whole signal, padded by ``pad`` zeros each side, adds
    through the crossover at ``edge`` (before the burst limit): (input, its file, summary, padded, added)."""
    x = plugins.degradations().create("ellip:order=8,cutoff=9000")(song[:, : SR * 2], SR).astype(np.float32)
    src = tmp_path / "in.wav"
    sf.write(src, x.T, SR, subtype="FLOAT")
    summary = enhance_file(
        model, checkpoint(model), src, tmp_path / "o.wav", subtype="FLOAT", chunk=1024, edge_hz=edge, progress=False
    )
    padded = np.pad(x, ((0, 0), (pad, pad)))  # beyond the ends the blocks see zeros, and the network's answer
    whole = enhance_array(model, padded, chunk=padded.shape[1], context=4096)
    added = keep_below_edge(np.zeros_like(padded), whole - padded, restoration_filter(edge, SR))
    return x, src, summary, padded, added


def test_safe_mode_blocks_join_without_seams(song, tmp_path):
    """Streamed with small blocks, safe mode equals the whole signal run at once and then crossed over."""
    model = random_model()
    edge, pad = 9000.0, 8192
    _, _, summary, padded, added = streamed_and_whole(model, song, tmp_path, edge, pad)
    streamed = sf.read(tmp_path / "o.wav", dtype="float32", always_2d=True)[0].T
    # the burst limit, with the reference enhance measured on the file's analysis excerpts
    assert summary["burst_reference_db"] is not None
    added = transients.limited(padded, added, edge, SR, summary["burst_reference_db"])
    reference = (padded + added)[:, pad:-pad]
    np.testing.assert_allclose(streamed, reference, rtol=0, atol=2e-6)


def test_enhance_reports_where_the_burst_limit_cut(song, tmp_path, monkeypatch):
    """Streamed in small blocks, the passages enhance reports as burst-limited are those the limit cuts
    when the whole signal is run at once; the CLI says so in one line."""
    monkeypatch.setattr(transients, "MARGIN_DB", 2.0)  # so that this untrained network's output gets cut
    model = random_model()
    edge, pad = 9000.0, 8192
    _, src, summary, padded, added = streamed_and_whole(model, song, tmp_path, edge, pad)
    gain = transients.gains(padded, added, edge, SR, summary["burst_reference_db"])[pad:-pad]
    spans = transients.cut_spans(gain)
    assert len(spans) >= 2 and summary["burst_passages"] == len(spans)  # several passages, none split by blocks
    cut = sum(b - a for a, b, _ in spans) / SR
    assert summary["burst_limited_seconds"] == pytest.approx(cut, abs=4 / SR) and 0.01 < cut < 1.9
    assert summary["burst_cut_db"] == pytest.approx(max(d for _, _, d in spans), abs=0.01)

    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, checkpoint(model))
    run = CliRunner().invoke(cli, ["enhance", str(ckpt), str(src), "-o", str(tmp_path / "c.flac"), "--edge", "9000"])
    assert run.exit_code == 0, run.output
    line = next(line for line in run.output.splitlines() if "burst limit" in line)
    assert line.startswith(f"{src}: the burst limit held the network down in ") and " dB), where it added" in line
    # raw mode, and safe mode that keeps the input, report no burst limit
    raw = enhance_file(model, checkpoint(model), src, tmp_path / "r.wav", mode="raw", progress=False)
    assert raw["burst_passages"] is None and raw["burst_cut_db"] is None


def test_cut_spans_and_their_tally_across_blocks():
    gain = np.ones(40)
    gain[5:9] = 0.5  # -6.02 dB
    gain[20] = 0.95  # -0.45 dB: less than CUT_DB, not counted
    gain[30:40] = 0.1
    assert transients.cut_spans(gain, offset=100) == [(105, 109, pytest.approx(6.0206)), (130, 140, 20.0)]
    tally = transients.BurstTally(chunk=10, context=2)
    blocks = np.stack([np.pad(gain[i : i + 10], 2, constant_values=0.01) for i in range(0, 40, 10)])
    tally.recorder(2)(blocks[:2])  # the context (0.01) is not the block's own: not counted
    tally.recorder(2)(blocks[2:])
    assert tally.summary(40, 10) == {"burst_passages": 2, "burst_limited_seconds": 1.4, "burst_cut_db": 20.0}
    assert tally.summary(35, 10) == {"burst_passages": 2, "burst_limited_seconds": 0.9, "burst_cut_db": 20.0}
    assert tally.summary(8, 10)["burst_passages"] == 1 and tally.summary(8, 10)["burst_cut_db"] == pytest.approx(6.0206)


def test_enhance_cli_says_what_it_restores_and_analyze_writes_nothing(song, tmp_path):
    model = random_model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, checkpoint(model))
    lowpassed = plugins.degradations().create("cheby1:order=10,cutoff=13000")(song, SR)
    sf.write(tmp_path / "lp.wav", lowpassed.T, SR, subtype="PCM_24")
    sf.write(tmp_path / "full.wav", song.T, SR, subtype="PCM_24")
    result = CliRunner().invoke(
        cli, ["enhance", str(ckpt), str(tmp_path / "lp.wav"), str(tmp_path / "full.wav"), "--analyze"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'lp.wav'}: band ends at 13.") and "restoring 13." in lines[0]
    assert lines[1] == f"{tmp_path / 'full.wav'}: full band (up to 22.05 kHz): nothing to restore, the input is kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.wav", "lp.wav", "m.pt"]  # --analyze wrote nothing
    given = CliRunner().invoke(cli, ["enhance", str(ckpt), str(tmp_path / "full.wav"), "--analyze", "--edge", "16000"])
    assert "band ends at 16.00 kHz: restoring 16.00–22.05 kHz (given by --edge)" in given.output
    full, out = str(tmp_path / "full.wav"), str(tmp_path / "g.flac")
    given_run = CliRunner().invoke(cli, ["enhance", str(ckpt), full, "-o", out, "--edge", "16000"])
    assert f"{tmp_path / 'full.wav'}: band ends at 16.00 kHz: restoring 16.00–22.05 kHz (given by --edge)\n" in (
        given_run.output
    )  # enhance says what --analyze says
    run = CliRunner().invoke(cli, ["enhance", str(ckpt), str(tmp_path / "lp.wav"), "-o", str(tmp_path / "o.flac")])
    assert run.exit_code == 0, run.output
    assert "lp.wav: band ends at 13." in run.output and (tmp_path / "o.flac").is_file()


def test_analyze_says_what_enhance_does_for_an_input_at_another_rate(song, tmp_path):
    """At another rate than the model's, enhance detects the edge as the network sees the input (after
    resampling); --analyze plans and prints the same, not the edge at the input's own rate."""
    import soxr

    model = random_model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, checkpoint(model))
    lowpassed = plugins.degradations().create("cheby1:order=10,cutoff=8000")(song, SR)
    sf.write(tmp_path / "lp.wav", soxr.resample(lowpassed.T, SR, 22050), 22050, subtype="FLOAT")
    analyzed = CliRunner().invoke(cli, ["enhance", str(ckpt), str(tmp_path / "lp.wav"), "--analyze"])
    enhanced = CliRunner().invoke(cli, ["enhance", str(ckpt), str(tmp_path / "lp.wav"), "-o", str(tmp_path / "o.wav")])
    assert analyzed.exit_code == enhanced.exit_code == 0, analyzed.output + enhanced.output
    said = next(line for line in enhanced.output.splitlines() if line.startswith(f"{tmp_path / 'lp.wav'}: band"))
    assert analyzed.output.strip().startswith(said), (analyzed.output, said)  # --analyze may add the side's edge


def test_trust_follows_the_shape_mismatch():
    from audioenh.evaluation.crossover import (
        MATCH_DB,
        MISMATCH_DB,
        MOVED_MATCH_DB,
        MOVED_MISMATCH_DB,
        trust_from_mismatch,
    )

    assert trust_from_mismatch(MATCH_DB) == 1.0 and trust_from_mismatch(0.0) == 1.0
    assert trust_from_mismatch((MATCH_DB + MISMATCH_DB) / 2) == pytest.approx(0.5)
    assert trust_from_mismatch(MISMATCH_DB) == 0.0 and trust_from_mismatch(float("inf")) == 0.0
    # a response moved from a range of band edges is held to the tighter match
    assert (MOVED_MATCH_DB, MOVED_MISMATCH_DB) == (3.0, 4.0) and (MATCH_DB, MISMATCH_DB) == (4.0, 5.0)
    assert trust_from_mismatch(3.5) == 1.0 and trust_from_mismatch(3.5, moved=True) == pytest.approx(0.5)
    assert trust_from_mismatch(MOVED_MISMATCH_DB, moved=True) == 0.0 < trust_from_mismatch(MOVED_MISMATCH_DB)


@pytest.mark.parametrize(
    "trained, given, trusted",
    [
        ("cheby1:6", "cheby1:6", True),  # its own filter
        ("cheby1:6", "butter:6", False),  # the paper's unseen filter: same edge, other shape
        ("cheby1:6", "cheby2:6", False),
        ("cheby1:6", "ellip:6", False),
        ("cheby1:6", "cheby1:order=8,cutoff=13000", False),  # another edge
        ("ellip:6", "ellip:6", True),
        ("cheby1:order=4..12,cutoff=8000..16000", "cheby1:order=8,cutoff=14000", True),  # a range: moved
        ("cheby1:order=4..12,cutoff=8000..16000", "brickwall:cutoff=14000", False),
        ("cheby1:order=4..12,cutoff=10000..12000", "cheby1:order=8,cutoff=16000", False),  # beyond the range
        ("bessel:6", "bessel:6", False),  # gentle: its slope cannot be told from the music's own
        ("paper-multi", "bessel:order=8,cutoff=13000", False),  # matched its Bessels within 3 dB before
    ],
)
def test_the_network_is_trusted_only_on_band_limits_shaped_like_its_training(song, trained, given, trusted):
    """The input's spectrum around its edge is compared with each training degradation's response
    (measured on noise) on top of the music's own trend: a match within 2.5 dB RMS is trusted."""
    from audioenh.evaluation.crossover import plan_restoration

    x = plugins.degradations().create(given)(song, SR)
    plan = plan_restoration(x, SR, SR, [trained])
    assert (plan.gain == 1.0) if trusted else (plan.gain == 0.0), (plan.mismatch_db, plan.matched)
    if trusted:
        assert plan.mismatch_db < 3.0 and plan.matched.split(":")[0] == trained.split(":")[0]


@pytest.mark.parametrize(
    "spec, gentle", [("bessel:6", True), ("bessel:order=12", True), ("cheby1:6", False), ("ellip:6", False)]
)
def test_gentle_training_responses_are_never_used_to_match(spec, gentle):
    """A response attenuating over more than GENTLE_SPAN_HZ below its edge (Bessel: about 12 kHz) is gentle;
    the steep ones attenuate within 1.6 kHz of their edge."""
    from audioenh.evaluation.crossover import GENTLE_SPAN_HZ, attenuation_start_hz, training_responses

    (response,) = training_responses((plugins.degradations().canonical(spec),), SR)
    span = response.edge_hz - attenuation_start_hz(response)
    assert response.gentle == gentle
    assert (span > 2 * GENTLE_SPAN_HZ) if gentle else (span < 1600), span


@pytest.mark.parametrize("slope_db_per_khz, matches", [(-1.5, True), (0.0, True), (1.5, True), (3.0, False)])
def test_the_music_trend_may_not_rise_fast(slope_db_per_khz, matches):
    """A spectrum that is exactly a trend plus the response matches (0 dB) unless the trend would have
    to rise faster than MAX_TREND_DB_PER_KHZ towards the edge: music does not."""
    from audioenh.evaluation.crossover import MAX_TREND_DB_PER_KHZ, shape_mismatch_db, training_responses

    response = training_responses(("cheby1:6",), SR)[0]
    trend = -40.0 + slope_db_per_khz * response.freqs / 1000
    level = np.maximum(trend + response.response_db, -150.0)
    mismatch = shape_mismatch_db(response.freqs, level, response.edge_hz, response)
    assert (mismatch < 0.5) if matches else (mismatch == float("inf")), mismatch
    assert (slope_db_per_khz <= MAX_TREND_DB_PER_KHZ) == matches


def test_a_model_that_made_its_own_validation_worse_is_not_used(song, tmp_path):
    """The checkpoint records the last validation; a model that lost SNR on its own training filter
    (an under-trained one) returns every input as it is, and enhance says why."""
    from audioenh.checkpoint import validated_gain_db
    from audioenh.evaluation.crossover import plan_restoration

    model = random_model()
    x = plugins.degradations().create("cheby1:6")(song, SR).astype(np.float32)
    assert plan_restoration(x, SR, SR, ["cheby1:6"], validated_gain_db=0.4).gain == 1.0
    assert plan_restoration(x, SR, SR, ["cheby1:6"], validated_gain_db=-0.09).gain == 0.0
    worse = {"seen": {"input": 18.5, "output": 18.41}, "butter:6": {"input": 19.0, "output": 19.1}}
    ckpt = {**checkpoint(model), "degradations": ["cheby1:6"], "validation": worse}
    assert validated_gain_db(ckpt) == pytest.approx(-0.09) and validated_gain_db(checkpoint(model)) is None
    src = tmp_path / "in.wav"
    sf.write(src, x.T, SR, subtype="FLOAT")
    save_checkpoint(tmp_path / "m.pt", ckpt)
    args = ["enhance", str(tmp_path / "m.pt"), str(src), "-o", str(tmp_path / "o.wav"), "--float"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "made its own validation audio worse (-0.09 dB): the input is kept as it is" in result.output
    np.testing.assert_array_equal(sf.read(tmp_path / "o.wav", dtype="float32", always_2d=True)[0].T, x)


def write_degraded(song, spec: str, path):
    """``song`` degraded by ``spec``, written to ``path`` as float WAV; returns the degraded samples."""
    x = plugins.degradations().create(spec)(song, SR).astype(np.float32)
    sf.write(path, x.T, SR, subtype="FLOAT")
    return x


def test_a_model_is_not_used_far_from_what_it_was_trained_on(song, tmp_path, self_test_passes):
    """Trained on cheby1:6 (an edge near 12 kHz), given a 16-kHz band: the input comes back as it is."""
    model = random_model()
    src = tmp_path / "in.wav"
    x = write_degraded(song, "ellip:order=12,cutoff=16000", src)
    ckpt = {**checkpoint(model), "degradations": ["cheby1:6"]}
    summary = enhance_file(model, ckpt, src, tmp_path / "o.wav", subtype="FLOAT", progress=False)
    out = sf.read(tmp_path / "o.wav", dtype="float32", always_2d=True)[0].T
    assert summary["trust"] == 0.0 and summary["restored_hz"] is None
    lo, hi = summary["trained_edges_hz"]
    assert 11000 < lo <= hi < 13000 and summary["matched"] is None
    np.testing.assert_array_equal(out, x)
    write_degraded(song, "cheby1:6", src)
    summary = enhance_file(model, ckpt, src, tmp_path / "o.wav", subtype="FLOAT", progress=False)
    assert summary["trust"] == 1.0 and summary["restored_hz"] is not None  # its own filter: used
    assert summary["mismatch_db"] < 3.0 and summary["matched"] == "cheby1:order=6,cutoff=11025.0,rp=0.05"


def test_raw_mode_reports_the_same_keys_with_nothing_planned(song, tmp_path):
    """enhance's summary has one shape in both modes: raw mode plans nothing (trust, match, training
    edges and, unless --edge gives it, the edge are None)."""
    model = random_model()
    src = tmp_path / "in.wav"
    write_degraded(song, "cheby1:6", src)
    ckpt = {**checkpoint(model), "degradations": ["cheby1:6"]}
    safe = enhance_file(model, ckpt, src, tmp_path / "s.wav", subtype="FLOAT", progress=False)
    raw = enhance_file(model, ckpt, src, tmp_path / "r.wav", subtype="FLOAT", progress=False, mode="raw")
    assert set(raw) == set(safe) and raw["mode"] == "raw"
    planned = set(safe) & {"trust", "trained_edges_hz", "mismatch_db", "matched", "fixed_match"}
    assert len(planned) == 5 and all(raw[key] is None for key in planned)
    assert raw["edge_hz"] is None and 11000 < safe["edge_hz"] < 13500


def test_test_command_scores_either_mode(song, tmp_path):
    """``audioenh test --mode safe``: a model trained near 12 kHz is not used on 16-kHz bands (ΔSNR 0
    exactly) while raw mode changes the songs; every result says its mode."""
    import json

    model = random_model()
    ckpt = tmp_path / "m.pt"
    save_checkpoint(ckpt, {**checkpoint(model), "degradations": ["cheby1:6"]})
    (tmp_path / "c" / "test").mkdir(parents=True)
    for i in range(2):
        sf.write(tmp_path / "c" / "test" / f"s{i}.flac", generate_song(30 + i, 3.0, SR).T, SR, subtype="PCM_24")
    args = ["test", str(ckpt), "-d", "ellip:order=12,cutoff=16000", "--data", str(tmp_path / "c"), "-m", "lsd"]
    args += ["--device", "cpu", "--json", "-q"]
    safe = CliRunner().invoke(cli, [*args, "--mode", "safe"])
    raw = CliRunner().invoke(cli, [*args, "--mode", "raw"])
    assert safe.exit_code == 0 and raw.exit_code == 0, safe.output + raw.output
    safe, raw = json.loads(safe.stdout), json.loads(raw.stdout)
    assert safe["mode"] == "safe" and raw["mode"] == "raw"
    assert safe["mean"]["delta"]["lsd"] == 0.0 and abs(raw["mean"]["delta"]["lsd"]) > 1e-3
    for row in safe["songs"]:
        assert row["trust"] == 0.0 and abs(row["edge_hz"] - 15700) < 400


def test_safe_mode_on_arrays_matches_the_streamed_files(song, tmp_path, self_test_passes):
    """test --mode safe (whole arrays) and enhance (streamed blocks) compute the same thing, away
    from the signal's ends (there only the crossover's view beyond the end differs)."""
    from audioenh.evaluation.crossover import enhance_array_safely

    model = random_model()
    x = plugins.degradations().create("cheby1:6")(song[:, : 3 * SR], SR).astype(np.float32)
    src = tmp_path / "in.wav"
    sf.write(src, x.T, SR, subtype="FLOAT")
    ckpt = {**checkpoint(model), "degradations": ["cheby1:6"]}
    summary = enhance_file(model, ckpt, src, tmp_path / "o.wav", subtype="FLOAT", chunk=4096, progress=False)
    streamed = sf.read(tmp_path / "o.wav", dtype="float32", always_2d=True)[0].T
    whole, info = enhance_array_safely(model, x, SR, ["cheby1:6"], chunk=4096)
    assert info["trust"] == pytest.approx(summary["trust"]) and info["trust"] > 0
    assert info["edge_hz"] == pytest.approx(summary["edge_hz"])
    margin = len(restoration_filter(info["edge_hz"], SR)) + transients.reach(SR)  # the crossover's and burst limit's
    assert info["burst_reference_db"] == pytest.approx(summary["burst_reference_db"], abs=0.01)
    np.testing.assert_allclose(streamed[:, margin:-margin], whole[:, margin:-margin], rtol=0, atol=1e-5)


def test_a_run_checkpoint_without_validation_takes_it_from_the_runs_records(tmp_path):
    """Checkpoints written before they kept their validation get it from metrics.jsonl, at their own
    iteration, so the validation gate also covers older runs; a bare checkpoint file has none."""
    import json

    from audioenh.checkpoint import load_checkpoint, validated_gain_db

    model = random_model()
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    save_checkpoint(run / "checkpoints" / "last.pt", {**checkpoint(model), "iteration": 500})
    records = [
        {"iteration": 250, "val": {"seen": {"input": 19.0, "output": 19.5}}},
        {"iteration": 500, "val": {"seen": {"input": 19.7, "output": 19.6}}},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + '{"iteration": 7')
    assert validated_gain_db(load_checkpoint(run)) == pytest.approx(-0.1)
    save_checkpoint(tmp_path / "bare.pt", {**checkpoint(model), "iteration": 500})
    assert validated_gain_db(load_checkpoint(tmp_path / "bare.pt")) is None


def level_limit_case(kind):
    """Long-term spectra (dB) around a band edge at 12 kHz: the music level at -60 dB, a matched response
    falling from 0 dB at 11 kHz to -80 dB at 14 kHz, the input the music through it, and the network's
    contribution for three kinds of input."""
    freqs = np.linspace(0, SR / 2, 4097)
    response = np.interp(freqs, [0, 11000, 14000, SR / 2], [0, 0, -80, -80])
    music = np.full_like(freqs, -60.0)
    inputs = music + response
    if kind == "noise floor":  # a codec's noise (or dither) at -110 dB: the network amplifies it by -response
        inputs = np.maximum(inputs, -110.0)
        contribution = inputs - response
    elif kind == "overshoot":  # the network restores 12 dB more than the music has
        contribution = music + 12.0
    else:  # the network restores the music exactly
        contribution = music.copy()
    return freqs, inputs, contribution, response


def test_the_level_limit_leaves_an_exact_restoration_alone():
    from audioenh.evaluation.crossover import contribution_gains, limiter_taps

    freqs, inputs, contribution, response = level_limit_case("exact")
    gains = contribution_gains(freqs, inputs, contribution, 12000.0, response)
    assert gains.min() > 0.99 and limiter_taps(freqs, np.ones_like(freqs), SR) is None


def test_the_level_limit_holds_an_overshoot_to_the_music_where_the_filter_attenuated():
    from audioenh.evaluation.crossover import LIMIT_MARGIN_DB, contribution_gains

    freqs, inputs, contribution, response = level_limit_case("overshoot")
    gains = contribution_gains(freqs, inputs, contribution, 12000.0, response)
    attenuated = (response < -15) & (freqs < 20000)
    np.testing.assert_allclose(gains[attenuated], 10 ** ((LIMIT_MARGIN_DB - 12.0) / 20), rtol=0.02)
    assert gains[freqs < 11000 - 200].min() > 0.99  # intact: not limited
    # where the filter did not attenuate, nothing is held back however loud the network is there
    flat = contribution_gains(freqs, inputs, contribution, 12000.0, np.zeros_like(freqs))
    assert flat.min() > 0.99


def test_the_level_limit_drops_an_amplified_noise_floor():
    from audioenh.evaluation.crossover import NOISE_EXCESS_DB, NOISE_FADE_DB, contribution_gains

    freqs, inputs, contribution, response = level_limit_case("noise floor")
    gains = contribution_gains(freqs, inputs, contribution, 12000.0, response)
    # the input lies above what the filter leaves of the music by -50 - response dB
    noisy = (-50 - response > NOISE_EXCESS_DB + NOISE_FADE_DB + 3) & (freqs < 20000)
    assert noisy.sum() > 100 and gains[noisy].max() < 0.01
    assert gains[freqs < 11000 - 200].min() > 0.99


def test_the_limiter_taps_have_the_gains():
    from audioenh.evaluation.crossover import limiter_taps

    freqs = np.linspace(0, SR / 2, 4097)
    gains = np.interp(freqs, [0, 12000, 13000, SR / 2], [1, 1, 0.25, 0.25])
    taps = limiter_taps(freqs, gains, SR)
    assert len(taps) % 2 == 1 and np.allclose(taps, taps[::-1])  # zero phase
    response = np.abs(np.fft.rfft(taps, 2 * (len(freqs) - 1)))
    away = (np.abs(freqs - 12000) > 300) & (np.abs(freqs - 13000) > 300)  # the corners are rounded (255 taps)
    np.testing.assert_allclose(response[away], gains[away], atol=0.02)


def test_the_limit_is_measured_on_at_most_twenty_seconds_spread_over_the_excerpts():
    from audioenh.evaluation.crossover import limit_excerpt

    rate = 1000
    audio = np.arange(60 * rate, dtype=np.float64)[None].repeat(2, axis=0)  # 60 s: the sample index
    part = limit_excerpt(audio, rate, seconds=20.0)
    assert part.shape == (2, 20 * rate - 2)  # three parts of 6.666 s
    pieces = np.split(part[0], 3)
    assert [int(p[0]) for p in pieces] == [6667, 26667, 46667]  # centred in each third
    assert all(np.all(np.diff(p) == 1) for p in pieces)
    short = audio[:, : 5 * rate]
    assert np.array_equal(limit_excerpt(short, rate), short)  # shorter: all of it


def test_the_level_limit_allows_for_how_far_the_music_strays_above_its_line():
    """A bumpy spectrum (±4 dB around its line below the edge) may be restored 90th-percentile higher."""
    from audioenh.evaluation.crossover import LIMIT_BELOW_EDGE_HZ, LIMIT_FIT_SPAN_HZ, contribution_gains

    freqs, inputs, contribution, response = level_limit_case("overshoot")
    smooth = contribution_gains(freqs, inputs, contribution, 12000.0, response)
    # even about the middle of the fitted span, whole periods: the line through them stays at -60 dB
    top = freqs[freqs <= 12000.0 - LIMIT_BELOW_EDGE_HZ].max()
    bumps = 4.0 * np.cos(2 * np.pi * (freqs - (top - LIMIT_FIT_SPAN_HZ / 2)) / 500.0)
    bumpy = contribution_gains(freqs, inputs + bumps, contribution, 12000.0, response)
    attenuated = (response < -15) & (freqs < 20000)
    raised = 20 * np.log10(bumpy[attenuated] / smooth[attenuated])
    assert 3.6 < raised.min() and raised.max() < 4.0  # 4 cos's 90th percentile: 3.80 dB


@pytest.mark.parametrize(
    ("limit_db", "said"),
    [
        (None, ""),
        (0.4, ""),
        (7.6, " (held to the music's level: up to 8 dB down where it restored too much)"),
        (100.0, " (held to the music's level; dropped where it would amplify noise)"),
    ],
)
def test_enhance_says_how_far_the_level_limit_cut(limit_db, said):
    from audioenh.commands.enhance import describe_restoration

    line = describe_restoration(12100.0, SR / 2, 1.0, (11000.0, 12600.0), 1.2, 2.0, limit_db)
    assert line == f"band ends at 12.10 kHz: restoring 12.10–22.05 kHz{said}"
