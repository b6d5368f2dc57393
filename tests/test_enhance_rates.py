"""``audioenh enhance`` keeps the input's sample rate by default, and what the model does not
restore stays the input's own (safe mode adds the network's resampled correction to its samples)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch
from click.testing import CliRunner
from scipy import signal

from audioenh import plugins
from audioenh.checkpoint import save_checkpoint
from audioenh.commands.enhance import enhance
from audioenh.data.builtin import generate_song
from audioenh.errors import AudioenhError
from audioenh.evaluation.streaming import enhance_file, output_rate

SR = 44100  # the model's rate
ARCH = "resnet:preset=tiny,width=8"


def random_model(seed: int = 3) -> torch.nn.Module:
    """A tiny ResNet whose output differs from its input in every band, the restored one included."""
    torch.manual_seed(seed)
    model = plugins.architectures().create(ARCH)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


def checkpoint(model: torch.nn.Module, degradations: list[str] | None = None) -> dict:
    ckpt = {"arch": ARCH, "sample_rate": SR, "audio_channels": 2, "model": model.state_dict()}
    return ckpt if degradations is None else {**ckpt, "degradations": degradations}


@pytest.fixture(scope="module")
def model():
    return random_model()


def level_db(x) -> float:
    return 10 * np.log10(np.sum(np.asarray(x, np.float64) ** 2) + 1e-300)


def filtered(x: np.ndarray, sr: int, hz: float, btype: str) -> np.ndarray:
    """A steep zero-phase elliptic low- or high-pass (120 dB stop band)."""
    sos = signal.ellip(12, 0.01, 120, hz, btype=btype, fs=sr, output="sos")
    return signal.sosfiltfilt(sos, np.asarray(x, np.float64), axis=-1)


def band_db(x, sr: int, lo: float, hi: float) -> float:
    """Power of ``x`` between ``lo`` and ``hi`` Hz (dB; Welch, Blackman-Harris window: 92 dB side lobes)."""
    f, p = signal.welch(np.asarray(x, np.float64), fs=sr, window="blackmanharris", nperseg=8192, axis=-1)
    return 10 * np.log10(p[..., (f >= lo) & (f < hi)].sum() * (f[1] - f[0]) + 1e-300)


def read(path) -> np.ndarray:
    return sf.read(path, dtype="float32", always_2d=True)[0].T


def run(*args):
    return CliRunner().invoke(enhance, [str(a) for a in args])


def test_the_default_rate_is_the_higher_of_input_and_model():
    assert output_rate(48000, SR) == 48000 and output_rate(96000, SR) == 96000
    assert output_rate(22050, SR) == SR and output_rate(32000, SR) == SR and output_rate(SR, SR) == SR
    assert output_rate(22050, SR, "input") == 22050 and output_rate(96000, SR, "model") == SR
    with pytest.raises(AudioenhError, match="unknown output rate"):
        output_rate(48000, SR, "fast")


@pytest.fixture(scope="module")
def cheby_48k(tmp_path_factory):
    """A 48 kHz stereo song band-limited by cheby1:6 (edge near 12.5 kHz), as a float WAV."""
    x = generate_song(21, 3.0, 48000)
    y = plugins.degradations().create("cheby1:6")(x, 48000).astype(np.float32)
    path = tmp_path_factory.mktemp("cheby") / "in48.wav"
    sf.write(path, y.T, 48000, subtype="FLOAT")
    return path, y


def test_48k_input_stays_48k_and_keeps_its_own_band(model, cheby_48k, tmp_path, self_test_passes):
    """Safe mode at 48 kHz: below the band edge the output is the input's own signal, above the
    model's Nyquist frequency nothing is added, and what is added equals the model-rate correction."""
    src, y = cheby_48k
    ckpt = checkpoint(model, ["cheby1:6"])
    summary = enhance_file(model, ckpt, src, tmp_path / "out.wav", subtype="FLOAT", progress=False)
    assert (summary["input_rate"], summary["output_rate"], summary["model_rate"]) == (48000, 48000, SR)
    assert summary["frames_out"] == summary["frames_in"] == y.shape[1]
    assert summary["trust"] > 0.5 and summary["restored_hz"] is not None  # the network is used
    info = sf.info(tmp_path / "out.wav")
    assert (info.samplerate, info.channels, info.frames) == (48000, 2, y.shape[1])
    out = read(tmp_path / "out.wav")
    edge = summary["edge_hz"]
    assert 11500 < edge < 13500

    # below where cheby1:6 starts to attenuate (11.2 kHz; the crossover's stop band is 600 Hz lower)
    # the output is the input (raw mode, resampled, is not)
    enhance_file(model, ckpt, src, tmp_path / "raw.wav", subtype="FLOAT", progress=False, mode="raw")
    raw = read(tmp_path / "raw.wav")
    assert raw.shape == y.shape
    below_in = filtered(y, 48000, 10000, "low")
    assert level_db(filtered(out, 48000, 10000, "low") - below_in) - level_db(below_in) < -60
    assert level_db(filtered(raw, 48000, 10000, "low") - below_in) - level_db(below_in) > -40

    # above the model's Nyquist frequency the input has (almost) nothing, and nothing was added
    above_in = band_db(y, 48000, 22100, 24000)
    assert above_in - band_db(y, 48000, 0, 24000) < -100
    assert abs(band_db(out, 48000, 22100, 24000) - above_in) < 0.5
    assert band_db(out - y, 48000, 22100, 24000) < above_in - 20

    # what is added is what safe mode adds at the model's rate (--model-rate), resampled
    s44 = enhance_file(model, ckpt, src, tmp_path / "o44.wav", subtype="FLOAT", progress=False, rate="model")
    out44 = read(tmp_path / "o44.wav")
    assert s44["output_rate"] == SR and out44.shape[1] == round(y.shape[1] * SR / 48000)
    y44 = soxr.resample(y.T, 48000, SR).T[:, : out44.shape[1]]
    added = band_db(out - y, 48000, edge + 1000, 21000)
    assert added > band_db(y, 48000, edge + 1000, 21000) - 20  # the network restores something
    assert abs(added - band_db(out44 - y44, SR, edge + 1000, 21000)) < 0.5
    correction = soxr.resample((out44 - y44).T, SR, 48000).T[:, : y.shape[1]]
    middle = slice(4800, -4800)
    diff = level_db((out - y - correction)[:, middle]) - level_db((out - y)[:, middle])
    assert diff < -50, diff


def test_96k_input_keeps_its_ultrasonic_band_bit_for_bit(model, tmp_path):
    """A 96 kHz band-limited input with content above 22.05 kHz: the model restores its band up to
    22.05 kHz and everything above is the input's own, exactly where the correction has nothing."""
    x = generate_song(22, 2.0, 96000)
    y = plugins.degradations().create("cheby1:6")(x, 96000)
    t = np.arange(y.shape[1]) / 96000
    y = (y + 0.05 * np.sin(2 * np.pi * 30000 * t)).astype(np.float32)  # an ultrasonic tone
    src = tmp_path / "in96.wav"
    sf.write(src, y.T, 96000, subtype="FLOAT")
    ckpt = checkpoint(model)  # no training degradations recorded: trusted on any band limit
    summary = enhance_file(model, ckpt, src, tmp_path / "out.wav", subtype="FLOAT", progress=False, edge_hz=12500)
    assert summary["output_rate"] == 96000 and summary["frames_out"] == y.shape[1] and summary["trust"] == 1.0
    out = read(tmp_path / "out.wav")
    assert out.shape == y.shape
    ultrasonic = band_db(y, 96000, 22100, 48000)
    assert abs(band_db(out, 96000, 22100, 48000) - ultrasonic) < 0.01
    assert band_db(out - y, 96000, 22100, 48000) - ultrasonic < -120
    below = filtered(y, 96000, 11500, "low")
    assert level_db(filtered(out, 96000, 11500, "low") - below) - level_db(below) < -60
    assert band_db(out - y, 96000, 13500, 21000) > band_db(y, 96000, 13500, 21000) - 20  # the restored band


@pytest.mark.parametrize("rate", [96000, 48000])
def test_full_band_input_comes_back_bit_identical(model, tmp_path, rate):
    """Safe mode keeps a full-band input: no resampling round trip at all, 24-bit samples identical."""
    x = generate_song(23, 1.5, rate)
    pcm = np.round(np.clip(x.T, -1, 1) * (2**23 - 1)).astype(np.int32) << 8
    src = tmp_path / "full.wav"
    sf.write(src, pcm, rate, subtype="PCM_24")
    dst = tmp_path / "out.wav"
    result = run(_save(tmp_path, model), src, "-o", dst, "--device", "cpu", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "resampling" not in result.output and "nothing to restore" in result.output
    # the band is analysed up to the model's Nyquist frequency: the line says the rest is the input's own
    assert (
        f"the input is kept; above 22.05 kHz, the model's limit, the {rate // 1000}-kHz input is kept" in result.output
    )
    info = sf.info(dst)
    assert (info.samplerate, info.frames, info.subtype) == (rate, pcm.shape[0], "PCM_24")
    np.testing.assert_array_equal(sf.read(dst, dtype="int32")[0], pcm)


def test_lines_name_the_model_limit_only_where_the_input_reaches_beyond_it(model, cheby_48k, tmp_path):
    """``--analyze`` and enhance say that a 48 kHz input keeps its band above 22.05 kHz, except where
    the output is written at the model's rate (``--model-rate``) or in raw mode, which keep nothing of
    it; a 44.1 kHz input gets no such note."""
    from audioenh.commands.enhance import beyond_model

    assert beyond_model(SR, SR, SR) == "" and beyond_model(SR, 48000, SR) == "" and beyond_model(SR, 22050, SR) == ""
    assert beyond_model(SR, 96000, 96000) == "; above 22.05 kHz, the model's limit, the 96-kHz input is kept as it is"
    src, _ = cheby_48k
    ckpt = _save(tmp_path, model)
    note = "above 22.05 kHz, the model's limit, the 48-kHz input is kept as it is"
    analyzed = run(ckpt, src, "--analyze", "--device", "cpu", "--precision", "fp32", "--edge", "12000")
    assert analyzed.exit_code == 0, analyzed.output
    assert "band ends at 12.00 kHz: restoring 12.00–22.05 kHz (given by --edge); " + note in analyzed.output
    for args, said in (([], True), (["--model-rate"], False), (["--mode", "raw"], False)):
        analyzed = run(ckpt, src, "--analyze", "--device", "cpu", "--precision", "fp32", *args)
        assert analyzed.exit_code == 0 and (note in analyzed.output) == said, (args, analyzed.output)
    written = run(ckpt, src, "-o", tmp_path / "o.wav", "--device", "cpu", "--precision", "fp32", "--edge", "12000")
    assert written.exit_code == 0 and note in written.output, written.output
    written = run(ckpt, src, "-o", tmp_path / "m.wav", "--device", "cpu", "--precision", "fp32", "--model-rate")
    assert written.exit_code == 0 and "above 22.05 kHz" not in written.output, written.output


def test_untrusted_48k_input_comes_back_bit_identical(model, tmp_path):
    """Trust 0 (a band limit unlike the training one): the input, exactly, at its own rate."""
    x = generate_song(24, 2.0, 48000)
    y = plugins.degradations().create("ellip:order=12,cutoff=16000")(x, 48000).astype(np.float32)
    src = tmp_path / "in.wav"
    sf.write(src, y.T, 48000, subtype="FLOAT")
    ckpt = checkpoint(model, ["cheby1:6"])
    summary = enhance_file(model, ckpt, src, tmp_path / "out.wav", subtype="FLOAT", progress=False)
    assert summary["trust"] == 0.0 and summary["output_rate"] == 48000
    np.testing.assert_array_equal(read(tmp_path / "out.wav"), y)


def _save(folder, model, degradations=None):
    path = folder / "m.pt"
    save_checkpoint(path, checkpoint(model, degradations))
    return path


def test_streamed_correction_does_not_depend_on_read_blocks(model, cheby_48k, tmp_path):
    src, y = cheby_48k
    ckpt = checkpoint(model, ["cheby1:6"])
    outs = []
    for read_frames in (1001, 65536):
        dst = tmp_path / f"o{read_frames}.wav"
        summary = enhance_file(
            model, ckpt, src, dst, subtype="FLOAT", chunk=2048, progress=False, read_frames=read_frames
        )
        assert summary["frames_out"] == y.shape[1]
        outs.append(read(dst))
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=1e-6)


@pytest.mark.parametrize("n", [22050 + 7, 1000])
def test_22k_input_is_written_at_the_model_rate(model, tmp_path, n):
    x = generate_song(25, 1.1, 22050)[:, :n]
    src = tmp_path / "in22.wav"
    sf.write(src, x.T, 22050, subtype="FLOAT")
    result = run(_save(tmp_path, model, ["cheby1:6"]), src, "-o", tmp_path / "o.wav", "--device", "cpu")
    assert result.exit_code == 0, result.output
    info = sf.info(tmp_path / "o.wav")
    assert (info.samplerate, info.channels, info.frames) == (SR, 2, round(n * SR / 22050))
    assert f"{SR} Hz (the input is at 22050 Hz)" in result.output


@pytest.mark.parametrize("mode", ["safe", "raw"])
def test_keep_rate_and_model_rate_give_the_rates_they_promise(model, tmp_path, mode):
    ckpt = _save(tmp_path, model, ["cheby1:6"])
    x22 = generate_song(26, 1.0, 22050)[:, :20001]
    x48 = plugins.degradations().create("cheby1:6")(generate_song(26, 1.0, 48000), 48000)[:, :40001]
    sf.write(tmp_path / "in22.wav", x22.T, 22050, subtype="FLOAT")
    sf.write(tmp_path / "in48.wav", x48.T, 48000, subtype="FLOAT")
    common = ["--mode", mode, "--device", "cpu", "-q"]
    cases = [
        ("in22.wav", ["--keep-rate"], 22050, 20001),
        ("in48.wav", ["--model-rate"], SR, round(40001 * SR / 48000)),
        ("in48.wav", ["--keep-rate"], 48000, 40001),
        ("in48.wav", [], 48000, 40001),
        ("in22.wav", ["--model-rate"], SR, 40002),
    ]
    for i, (name, flags, rate, frames) in enumerate(cases):
        dst = tmp_path / f"o{i}.wav"
        result = run(ckpt, tmp_path / name, "-o", dst, *flags, *common)
        assert result.exit_code == 0, result.output
        info = sf.info(dst)
        assert (info.samplerate, info.frames) == (rate, frames), (name, flags)


def test_keep_rate_and_model_rate_exclude_each_other(model, tmp_path):
    src = tmp_path / "in.wav"
    sf.write(src, np.zeros((100, 2), np.float32), 48000)
    result = run(_save(tmp_path, model), src, "-o", tmp_path / "o.wav", "--keep-rate", "--model-rate")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == ["Error: --keep-rate and --model-rate exclude each other; give one of them"]
    assert not (tmp_path / "o.wav").exists()
    with pytest.raises(AudioenhError, match="exclude each other"):
        enhance_file(model, checkpoint(model), src, tmp_path / "o.wav", keep_rate=True, rate="model")


def test_memory_does_not_grow_with_length_at_the_input_rate(model, tmp_path, monkeypatch):
    """The input's samples wait for their correction in a queue as long as the pipeline's delay only."""
    from audioenh.analysis import bandwidth

    excerpts = bandwidth.file_excerpts  # reads files up to a minute whole: one second is enough here
    monkeypatch.setattr(bandwidth, "file_excerpts", lambda path: excerpts(path, excerpts=1, seconds=1.0))
    ckpt = checkpoint(model)
    rng = np.random.default_rng(0)
    peaks = {}
    for seconds in (4, 40):
        src = tmp_path / f"in{seconds}.wav"
        with sf.SoundFile(src, "w", 48000, 2, "FLOAT") as f:
            for _ in range(seconds):
                f.write((0.1 * rng.standard_normal((48000, 2))).astype(np.float32))
        tracemalloc.start()
        try:
            summary = enhance_file(
                model, ckpt, src, tmp_path / "out.wav", chunk=16384, progress=False, verbose=False, edge_hz=12000
            )
            peaks[seconds] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert summary["frames_out"] == seconds * 48000 and summary["trust"] == 1.0
    whole_file = 40 * 48000 * 2 * 4  # the 40-s signal as float32
    assert peaks[40] - peaks[4] < whole_file / 10, peaks


def test_mono_48k_input_gets_the_correction_at_its_own_rate(model, tmp_path):
    """A mono input (duplicated for the stereo model, outputs averaged) takes the same path."""
    x = generate_song(27, 2.0, 48000)[:1]
    y = plugins.degradations().create("cheby1:6")(x, 48000).astype(np.float32)
    src = tmp_path / "mono48.wav"
    sf.write(src, y.T, 48000, subtype="FLOAT")
    summary = enhance_file(model, checkpoint(model), src, tmp_path / "o.wav", subtype="FLOAT", progress=False)
    out = read(tmp_path / "o.wav")
    assert summary["output_rate"] == 48000 and out.shape == y.shape and summary["trust"] == 1.0
    edge = summary["edge_hz"]
    below = filtered(y, 48000, edge - 1000, "low")
    assert level_db(filtered(out, 48000, edge - 1000, "low") - below) - level_db(below) < -60
    assert band_db(out - y, 48000, edge + 1000, 21000) > band_db(y, 48000, edge + 1000, 21000) - 20
