"""``audioenh enhance``: streamed, exact-length, seamless enhancement of files with a checkpoint."""

from __future__ import annotations

import os
import pickle
import stat
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
import torch
from click.testing import CliRunner

from audioenh.audio_io import write_audio
from audioenh.checkpoint import save_checkpoint
from audioenh.commands.enhance import enhance
from audioenh.errors import AudioenhError, AudioFileError
from audioenh.evaluation.inference import enhance_array, overlap_save
from audioenh.evaluation.streaming import enhance_file
from audioenh.plugins import architectures

from .conftest import SR, music_like

ARCH = "resnet:preset=tiny"
SMALL = ["--block", "256", "--context", "64", "--batch-size", "3", "--precision", "fp32", "--mode", "raw"]


def tiny_model(seed: int = 0, bias: float | None = None) -> torch.nn.Module:
    """A tiny ResNet; with ``bias`` set its tail is zeroed, so output = input + bias exactly."""
    torch.manual_seed(seed)
    model = architectures().create(ARCH)
    if bias is not None:
        with torch.no_grad():
            model.tail.weight.zero_()
            model.tail.bias.fill_(bias)
    return model.eval()


def checkpoint_dict(model: torch.nn.Module) -> dict:
    return {
        "arch": ARCH,
        "sample_rate": SR,
        "audio_channels": 2,
        "degradations": ["cheby1:6"],
        "model": model.state_dict(),
    }


def write_checkpoint(path: Path, model: torch.nn.Module) -> Path:
    save_checkpoint(path, checkpoint_dict(model))
    return path


@pytest.fixture
def identity_ckpt(tmp_path):
    return write_checkpoint(tmp_path / "identity.pt", tiny_model(bias=0.0))


@pytest.fixture
def random_ckpt(tmp_path):
    return write_checkpoint(tmp_path / "random.pt", tiny_model(seed=3))


def run(*args):
    return CliRunner().invoke(enhance, [str(a) for a in args])


def assert_ok(result):
    assert result.exit_code == 0, result.output
    assert result.exception is None


def assert_one_line_error(result, fragment):
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def signal(n: int, channels: int = 2, sr: int = SR, seed: int = 0) -> np.ndarray:
    """(n, channels) float32 test audio of exactly n frames."""
    x = music_like(n / sr + 0.01, sr=sr, channels=channels, seed=seed)[:, :n].T * 0.8
    return np.ascontiguousarray(x, dtype=np.float32)


# -- exactness ----------------------------------------------------------------
@pytest.mark.parametrize("n", [100, 256, 256 * 37 + 101], ids=["short", "one-chunk", "many-chunks"])
def test_identity_reproduces_24bit_input_exactly(tmp_path, identity_ckpt, n):
    pcm = (signal(n) * 2**23).astype(np.int32) << 8
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, pcm, SR, subtype="PCM_24")
    assert_ok(run(identity_ckpt, src, "-o", dst, *SMALL))
    info = sf.info(dst)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (SR, 2, n, "PCM_24")
    out, _ = sf.read(dst, dtype="int32", always_2d=True)
    np.testing.assert_array_equal(out, pcm)


@pytest.mark.parametrize("n", [100, 256, 256 * 37 + 101], ids=["short", "one-chunk", "many-chunks"])
def test_identity_reproduces_float_input_exactly(tmp_path, identity_ckpt, n):
    x = signal(n, seed=2) * 1.5  # beyond [-1, 1]: float output is not clipped
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    assert_ok(run(identity_ckpt, src, "-o", dst, "--float", *SMALL))
    out, _ = sf.read(dst, dtype="float32", always_2d=True)
    assert sf.info(dst).subtype == "FLOAT"
    np.testing.assert_array_equal(out, x)


def test_pcm_output_is_clipped(tmp_path, identity_ckpt):
    x = signal(3000) * 3
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    assert_ok(run(identity_ckpt, src, "-o", dst, "--bits", "16", *SMALL))
    out, _ = sf.read(dst, always_2d=True)
    assert sf.info(dst).subtype == "PCM_16"
    assert out.max() <= 1 and out.min() >= -1 and np.abs(out).max() > 0.99


def test_constant_offset_has_no_seams(tmp_path):
    c = np.float32(0.01)
    ckpt = write_checkpoint(tmp_path / "offset.pt", tiny_model(bias=float(c)))
    x = signal(256 * 23 + 77, seed=4)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    assert_ok(run(ckpt, src, "-o", dst, "--float", *SMALL))
    out, _ = sf.read(dst, dtype="float32", always_2d=True)
    assert out.shape == x.shape
    np.testing.assert_array_equal(out, x + c)  # every sample, block borders included
    np.testing.assert_allclose(out.astype(np.float64) - x, 0.01, atol=1e-7)


@pytest.mark.parametrize("channels", [2, 1])
def test_random_model_streaming_equals_whole_signal(tmp_path, random_ckpt, channels):
    model = tiny_model(seed=3)
    x = signal(256 * 41 + 13, channels=channels, seed=5)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    assert_ok(run(random_ckpt, src, "-o", dst, "--float", *SMALL))
    out, _ = sf.read(dst, dtype="float32", always_2d=True)
    model_in = np.repeat(x.T, 2, axis=0) if channels == 1 else x.T
    ref = enhance_array(model, model_in, chunk=256, context=64, batch_size=3)
    if channels == 1:
        ref = ref.mean(axis=0, keepdims=True)
    assert out.shape == x.shape
    assert np.abs(out - x).max() > 1e-3  # the model does something
    np.testing.assert_allclose(out, ref.T, atol=1e-5)


def test_small_read_blocks_change_nothing(tmp_path):
    model = tiny_model(seed=3)
    x = signal(5000, seed=6)
    src = tmp_path / "in.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    ckpt = checkpoint_dict(model)
    outs = []
    for read_frames in (7, 1000, 65536):
        dst = tmp_path / f"out{read_frames}.wav"
        enhance_file(model, ckpt, src, dst, subtype="FLOAT", chunk=256, context=64, read_frames=read_frames, mode="raw")
        outs.append(sf.read(dst, dtype="float32")[0])
    np.testing.assert_array_equal(outs[0], outs[2])
    np.testing.assert_array_equal(outs[1], outs[2])


@pytest.mark.parametrize("channels", [2, 1])
def test_streamed_path_equals_enhance_array_sample_for_sample(tmp_path, channels):
    """One overlap-save implementation: odd read blocks, a length not a multiple of chunk, same samples."""
    model = tiny_model(seed=3)
    n = 256 * 13 + 77
    x = signal(n, channels=channels, seed=8)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    summary = enhance_file(
        model,
        checkpoint_dict(model),
        src,
        dst,
        subtype="FLOAT",
        chunk=256,
        context=64,
        batch_size=3,
        read_frames=333,
        mode="raw",
    )
    out, _ = sf.read(dst, dtype="float32", always_2d=True)
    model_in = np.repeat(x.T, 2, axis=0) if channels == 1 else x.T
    ref = enhance_array(model, model_in, chunk=256, context=64, batch_size=3)
    if channels == 1:
        ref = ref.mean(axis=0, keepdims=True)
    assert summary["frames_out"] == n and out.shape == (n, channels)
    np.testing.assert_array_equal(out, ref.T)


@pytest.mark.parametrize("pieces", [[10000], [1, 2, 3, 4, 990, 9000], [333] * 30 + [10]])
def test_overlap_save_is_exact_for_any_read_blocks(pieces):
    """Blocks with enough context give exactly a whole-signal FIR, however the input is cut."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, sum(pieces))).astype(np.float32)
    kernel = rng.standard_normal(9).astype(np.float32)  # radius 4 <= context

    def run(blocks):
        assert blocks.shape[0] <= 3 and blocks.shape[2] == 100 + 2 * 8
        return np.stack([[np.convolve(ch, kernel, mode="same") for ch in b] for b in blocks]).astype(np.float32)

    cuts = np.cumsum([0, *pieces])
    stream = (x[:, a:b] for a, b in zip(cuts[:-1], cuts[1:]))
    out = np.concatenate(list(overlap_save(stream, run, 2, chunk=100, context=8, batch_size=3)), axis=1)
    whole = np.stack([np.convolve(ch, kernel, mode="same") for ch in x])
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, whole, atol=1e-5)
    again = np.concatenate(list(overlap_save([x], run, 2, chunk=100, context=8, batch_size=3)), axis=1)
    np.testing.assert_array_equal(out, again)


def test_enhance_array_progress_counts_every_sample():
    steps = []
    x = signal(256 * 7 + 5).T
    out = enhance_array(tiny_model(bias=0.0), x, chunk=256, context=64, batch_size=3, progress=steps.append)
    np.testing.assert_array_equal(out, x)
    assert steps == [3 * 256, 3 * 256, 256 + 5]


# -- atomic writes --------------------------------------------------------------
@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield 0o666 & ~0o022
    finally:
        os.umask(old)


def test_written_files_get_the_umask_mode(tmp_path, umask_022):
    model = tiny_model(bias=0.0)
    src = tmp_path / "in.wav"
    sf.write(src, signal(1000), SR, subtype="FLOAT")
    enhance_file(
        model,
        checkpoint_dict(model),
        tmp_path / "in.wav",
        tmp_path / "enhanced.flac",
        chunk=256,
        context=64,
        mode="raw",
    )
    write_audio(tmp_path / "written.wav", signal(1000).T, SR)
    for name in ("enhanced.flac", "written.wav"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == umask_022 == 0o644, name
    assert leftovers(tmp_path, {"in.wav", "enhanced.flac", "written.wav"}) == []


def test_failing_writes_leave_no_temporary_file(tmp_path, monkeypatch, umask_022):
    from audioenh.evaluation import streaming

    model = tiny_model()
    src, dst, other = tmp_path / "in.wav", tmp_path / "out.wav", tmp_path / "other.wav"
    sf.write(src, signal(5000), SR, subtype="FLOAT")
    for p in (dst, other):
        p.write_bytes(b"old output")

    def broken(model, blocks, device, precision="fp32", input_gain=1.0):
        raise RuntimeError("the model broke")

    monkeypatch.setattr(streaming, "enhance_blocks", broken)
    with pytest.raises(RuntimeError, match="the model broke"):
        enhance_file(model, checkpoint_dict(model), src, dst, chunk=256, context=64, read_frames=512, mode="raw")
    with pytest.raises(AudioFileError, match="cannot write"):
        write_audio(other, signal(1000).T, 0)  # no such sample rate
    assert dst.read_bytes() == other.read_bytes() == b"old output"  # old outputs untouched
    assert leftovers(tmp_path, {"in.wav", "out.wav", "other.wav"}) == []


# -- sample rates and channels ------------------------------------------------
def test_48k_input_stays_at_48k_and_model_rate_gives_44k1(tmp_path, random_ckpt):
    """The output keeps a 48 kHz input's rate by default (raw mode: the network's output resampled
    back); --model-rate writes the network's output at its own rate."""
    n = 48000 + 123
    x = signal(n, sr=48000, seed=7)
    src = tmp_path / "in48.wav"
    sf.write(src, x, 48000, subtype="FLOAT")
    resampled = soxr.resample(x, 48000, SR)[: round(n * SR / 48000)]
    ref = enhance_array(tiny_model(seed=3), resampled.T, chunk=256, context=64, batch_size=3).T

    result = run(random_ckpt, src, "-o", tmp_path / "o44.wav", "--float", "--model-rate", *SMALL)
    assert_ok(result)
    assert "resampling 48000 Hz -> 44100 Hz (soxr); the output is at 44100 Hz" in result.output
    assert "44100 Hz (the input is at 48000 Hz)" in result.output
    info = sf.info(tmp_path / "o44.wav")
    assert (info.samplerate, info.channels, info.frames) == (SR, 2, round(n * SR / 48000))
    np.testing.assert_allclose(sf.read(tmp_path / "o44.wav", dtype="float32")[0], ref, atol=1e-5)

    result = run(random_ckpt, src, "-o", tmp_path / "o48.wav", "--float", *SMALL)
    assert_ok(result)
    assert "resampling 48000 Hz -> 44100 Hz -> 48000 Hz (soxr)" in result.output
    assert "(the input is at" not in result.output
    info = sf.info(tmp_path / "o48.wav")
    assert (info.samplerate, info.channels, info.frames) == (48000, 2, n)
    out = sf.read(tmp_path / "o48.wav", dtype="float32")[0]
    np.testing.assert_allclose(out, soxr.resample(ref, SR, 48000)[:n], atol=1e-5)


@pytest.mark.parametrize("channels", [1, 2])
def test_keep_rate_gives_input_rate_and_length(tmp_path, identity_ckpt, channels):
    n = 48000 + 77
    t = np.arange(n)[:, None] / 48000
    x = sum(0.2 * np.sin(2 * np.pi * f * t + np.arange(channels)) for f in (220.0, 3000.0, 9000.0, 15000.0))
    src, dst = tmp_path / "in48.wav", tmp_path / "out.wav"
    sf.write(src, x, 48000, subtype="PCM_24")
    assert_ok(run(identity_ckpt, src, "-o", dst, "--keep-rate", "-q", *SMALL))
    info = sf.info(dst)
    assert (info.samplerate, info.channels, info.frames) == (48000, channels, n)
    out, _ = sf.read(dst, always_2d=True)
    middle = slice(2000, n - 2000)  # identity model: a resampling round trip of band-limited tones
    err = out[middle] - x[middle]
    assert 10 * np.log10(np.sum(x[middle] ** 2) / np.sum(err**2)) > 60


def test_mono_in_mono_out(tmp_path, identity_ckpt):
    x = signal(1000, channels=1)
    src, dst = tmp_path / "mono.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    assert_ok(run(identity_ckpt, src, "-o", dst, "--float", *SMALL))
    out, _ = sf.read(dst, dtype="float32", always_2d=True)
    assert sf.info(dst).channels == 1
    np.testing.assert_array_equal(out, x)


# -- refusals -----------------------------------------------------------------
def test_refuses_to_overwrite_the_input(tmp_path, identity_ckpt):
    src = tmp_path / "in.wav"
    sf.write(src, signal(1000), SR, subtype="PCM_24")
    before = src.read_bytes()
    assert_one_line_error(run(identity_ckpt, src, "-o", tmp_path / "." / "in.wav"), "refusing to overwrite")
    assert src.read_bytes() == before
    assert leftovers(tmp_path, {"in.wav", "identity.pt"}) == []


def test_refuses_six_channels(tmp_path, identity_ckpt):
    src, dst = tmp_path / "x.wav", tmp_path / "out.wav"
    sf.write(src, np.zeros((1000, 6), np.float32), SR)
    assert_one_line_error(run(identity_ckpt, src, "-o", dst), "has 6 channels; enhance takes mono or stereo")
    assert not dst.exists()


def test_nan_mid_stream_leaves_nothing(tmp_path, identity_ckpt):
    x = signal(SR * 3)
    x[int(2.5 * SR), 1] = np.nan  # far past the first read block: found while output is being written
    src, out_dir = tmp_path / "nan.wav", tmp_path / "out"
    out_dir.mkdir()
    sf.write(src, x, SR, subtype="FLOAT")
    result = run(identity_ckpt, src, "-o", out_dir / "out.wav", "--block", "1024", "--context", "64")
    assert_one_line_error(result, "contains NaN or infinite samples (first at 2.500 s)")
    assert list(out_dir.iterdir()) == []


def test_interrupt_leaves_nothing(tmp_path, monkeypatch):
    from audioenh.evaluation import streaming

    model = tiny_model()
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, signal(20000), SR, subtype="FLOAT")
    calls = []

    def interrupted(model, blocks, device, precision="fp32", input_gain=1.0):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return blocks

    monkeypatch.setattr(streaming, "enhance_blocks", interrupted)
    with pytest.raises(KeyboardInterrupt):
        enhance_file(
            model, checkpoint_dict(model), src, dst, chunk=256, context=64, batch_size=2, read_frames=512, mode="raw"
        )
    assert leftovers(tmp_path, {"in.wav"}) == []


@pytest.mark.parametrize("kind", ["zero-frames", "zero-bytes", "not-audio"])
def test_refuses_empty_or_unreadable_input(tmp_path, identity_ckpt, kind):
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    if kind == "zero-frames":
        sf.write(src, np.zeros((0, 2), np.float32), SR)
    elif kind == "zero-bytes":
        src.write_bytes(b"")
    else:
        src.write_text("not audio at all\n" * 10)
    fragment = {"zero-frames": "contains no samples", "zero-bytes": "the file is empty", "not-audio": "not a readable"}
    assert_one_line_error(run(identity_ckpt, src, "-o", dst), fragment[kind])
    assert not dst.exists()


def test_refuses_float_into_flac_before_work(tmp_path, identity_ckpt):
    src, dst = tmp_path / "in.wav", tmp_path / "out.flac"
    sf.write(src, signal(1000), SR)
    assert_one_line_error(run(identity_ckpt, src, "-o", dst, "--float"), "FLAC format cannot hold it")
    assert leftovers(tmp_path, {"in.wav", "identity.pt"}) == []


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("kind", ["corrupt", "pickle", "missing"])
def test_refuses_bad_checkpoints(tmp_path, kind):
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, signal(1000), SR)
    ckpt, marker = tmp_path / "model.pt", tmp_path / "code-ran"
    if kind == "corrupt":
        ckpt.write_bytes(np.random.default_rng(0).bytes(4096))
    elif kind == "pickle":
        ckpt.write_bytes(pickle.dumps(_Evil(marker)))
    result = run(ckpt, src, "-o", dst)
    assert_one_line_error(result, "no such file" if kind == "missing" else "cannot load checkpoint")
    assert not marker.exists(), "unpickling ran code"
    assert not dst.exists()


class _Evil:
    """Unpickling this (without weights_only) would create ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_float_and_bits_exclude_each_other(tmp_path, identity_ckpt):
    src = tmp_path / "in.wav"
    sf.write(src, signal(100), SR)
    result = run(identity_ckpt, src, "-o", tmp_path / "o.wav", "--float", "--bits", "16")
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_enhance_file_refuses_same_file_directly(tmp_path):
    model = tiny_model()
    src = tmp_path / "in.wav"
    sf.write(src, signal(100), SR)
    with pytest.raises(AudioenhError, match="refusing to overwrite"):
        enhance_file(model, checkpoint_dict(model), src, src)


# -- several inputs -----------------------------------------------------------
def test_several_inputs_into_a_new_folder(tmp_path, identity_ckpt):
    a, b = tmp_path / "a.wav", tmp_path / "b.flac"
    xa, xb = signal(3000, seed=1), signal(2000, channels=1, sr=48000, seed=2)
    sf.write(a, xa, SR, subtype="PCM_24")
    sf.write(b, xb, 48000, subtype="PCM_16")
    out_dir = tmp_path / "enhanced" / "deeper"
    result = run(identity_ckpt, a, b, "-o", out_dir, *SMALL)
    assert_ok(result)
    assert sorted(p.name for p in out_dir.iterdir()) == ["a.wav", "b.flac"]
    np.testing.assert_array_equal(sf.read(out_dir / "a.wav", dtype="int32")[0], sf.read(a, dtype="int32")[0])
    info = sf.info(out_dir / "b.flac")  # a 48 kHz input keeps its rate and length
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (48000, 1, 2000, "PCM_24")
    assert result.output.count("wrote ") == 2


def test_several_inputs_refuse_an_input_as_output(tmp_path, identity_ckpt):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    for p in (a, b):
        sf.write(p, signal(500), SR)
    assert_one_line_error(run(identity_ckpt, a, b, "-o", tmp_path), "refusing to overwrite the input")
    clash = tmp_path / "sub"
    clash.mkdir()
    sf.write(clash / "a.wav", signal(500), SR)
    assert_one_line_error(run(identity_ckpt, a, clash / "a.wav", "-o", tmp_path / "o"), "would both be written")
    assert not (tmp_path / "o").exists()
    # several inputs and an audio file's name (a shell glob that matched more than meant): refused, no
    # folder named like a file is made
    assert_one_line_error(
        run(identity_ckpt, a, b, "-o", tmp_path / "out.flac"), "2 inputs but --output '" + str(tmp_path / "out.flac")
    )
    assert not (tmp_path / "out.flac").exists()


# -- memory -------------------------------------------------------------------
def test_memory_does_not_grow_with_length(tmp_path):
    model = tiny_model()
    ckpt = checkpoint_dict(model)
    rng = np.random.default_rng(0)
    peaks = {}
    for seconds in (6, 60):
        src = tmp_path / f"in{seconds}.wav"
        with sf.SoundFile(src, "w", SR, 2, "FLOAT") as f:
            for _ in range(seconds):
                f.write((0.1 * rng.standard_normal((SR, 2))).astype(np.float32))
        tracemalloc.start()
        try:
            summary = enhance_file(
                model, ckpt, src, tmp_path / "out.wav", chunk=16384, context=64, progress=False, mode="raw"
            )
            peaks[seconds] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert summary["frames_out"] == seconds * SR
    whole_file = 60 * SR * 2 * 4  # the 60-s signal as float32
    assert peaks[60] < 2 * peaks[6], peaks
    assert peaks[60] < whole_file / 3, peaks


def test_old_chunk_spelling_still_works_with_a_note(identity_ckpt, stereo_wav, tmp_path):
    """--chunk was renamed --block; scripts that use it keep working and are told the new name."""
    out = tmp_path / "old.wav"
    result = run(identity_ckpt, stereo_wav, "-o", out, "--chunk", "512", "--context", "64", "-q")
    assert result.exit_code == 0, result.output
    assert "--chunk is now --block" in result.output and out.exists()
    both = run(identity_ckpt, stereo_wav, "-o", tmp_path / "b.wav", "--chunk", "512", "--block", "512")
    assert both.exit_code == 2 and "same option" in both.output


def test_progress_counts_seconds_of_audio(identity_ckpt, tmp_path):
    """The bar of a file longer than a few seconds counts seconds of audio, as a person thinks of a file."""
    src = tmp_path / "long.wav"
    sf.write(src, (0.1 * np.random.default_rng(0).standard_normal((6 * SR, 2))).astype(np.float32), SR)
    result = run(identity_ckpt, src, "-o", tmp_path / "out.wav", "--block", "65536", "--context", "0")
    assert result.exit_code == 0, result.output
    assert "s of audio" in result.output and "frame" not in result.output
    assert "/6 s of audio" in result.output


def test_clipped_samples_are_counted_and_reported(tmp_path):
    """A PCM output must clip what goes beyond full scale: enhance counts it and says how to keep it."""
    model = tiny_model(bias=0.6)  # output = input + 0.6
    x = np.full((SR // 2, 2), 0.5, dtype=np.float32)
    x[::2] = -0.5  # half the samples reach 1.1
    src = tmp_path / "in.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    summary = enhance_file(model, checkpoint_dict(model), src, tmp_path / "o.wav", subtype="PCM_16", mode="raw")
    assert summary["clipped_samples"] == x.size // 2
    assert summary["clipped_samples"] and np.max(sf.read(tmp_path / "o.wav")[0]) <= 1.0
    kept = enhance_file(model, checkpoint_dict(model), src, tmp_path / "f.wav", subtype="FLOAT", mode="raw")
    assert kept["clipped_samples"] == 0
    ckpt = write_checkpoint(tmp_path / "m.pt", model)
    result = run(ckpt, src, "-o", tmp_path / "c.wav", "--bits", "16", "--mode", "raw")
    assert result.exit_code == 0, result.output
    assert f"{x.size // 2} samples went beyond full scale and were clipped; write --float to keep them" in result.output
