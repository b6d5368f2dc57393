"""The built-in procedural corpus: bandwidth, determinism, layout, caching and the ``data builtin`` command."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from scipy import signal

from audioenh.commands.data import data
from audioenh.data.builtin import (
    GENERATOR_VERSION,
    default_cache_dir,
    ensure_builtin_corpus,
    generate_song,
    song_seed,
    split_counts,
    write_corpus,
)
from audioenh.data.builtin import corpus as builtin_corpus
from audioenh.errors import AudioenhError

SR = 44100
SONGS, SECONDS = 6, 6.0


def spectrum_stats(audio: np.ndarray, sr: int = SR) -> tuple[float, float]:
    """(share of energy above 11025 Hz, dB from the PSD peak down to the PSD maximum at >= 18 kHz).

    Welch PSD with 4096-sample segments, both channels' PSDs summed.
    """
    freqs, psd = signal.welch(audio, fs=sr, nperseg=4096, axis=-1)
    psd = psd.sum(axis=0)
    share = psd[freqs > 11025].sum() / psd.sum()
    drop_db = 10 * np.log10(psd.max() / psd[freqs >= 18000].max())
    return float(share), float(drop_db)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("builtin") / "corpus"
    manifest = write_corpus(out, songs=SONGS, seconds=SECONDS, seed=0, progress=False)
    return out, manifest


def test_every_song_has_realistic_high_band(corpus):
    out, manifest = corpus
    files = sorted(out.glob("*/*.flac"))
    assert len(files) == SONGS
    for path in files:
        audio, sr = sf.read(path, always_2d=True)
        assert sr == SR
        share, drop_db = spectrum_stats(audio.T)
        assert drop_db <= 60.0, f"{path.name}: PSD above 18 kHz is {drop_db:.1f} dB below the peak"
        assert 0.0005 <= share <= 0.05, f"{path.name}: {100 * share:.3f} % of the energy above 11025 Hz"


def test_files_are_24_bit_stereo_flac(corpus):
    out, _ = corpus
    info = sf.info(next(out.glob("train/*.flac")))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("FLAC", "PCM_24", 2, SR)
    assert info.frames == int(SECONDS * SR)


def test_split_layout_and_manifest(corpus):
    out, manifest = corpus
    assert json.loads((out / "corpus.json").read_text()) == manifest
    assert manifest["songs"] == SONGS and manifest["seconds"] == SECONDS and manifest["seed"] == 0
    assert manifest["sample_rate"] == SR and manifest["generator_version"] == GENERATOR_VERSION
    splits = manifest["splits"]
    assert [len(splits[k]) for k in ("train", "val", "test")] == [4, 1, 1]
    for name, files in splits.items():
        assert sorted(p.relative_to(out).as_posix() for p in (out / name).iterdir()) == sorted(files)
    everything = [f.split("/")[1] for k in ("train", "val", "test") for f in splits[k]]
    assert everything == [f"song-{i:03d}.flac" for i in range(SONGS)]
    assert not [p for p in out.parent.iterdir() if p.name != "corpus"]  # no temporary directory left


def test_split_counts():
    assert split_counts(24) == (16, 4, 4)
    assert split_counts(3) == (1, 1, 1)
    assert split_counts(7) == (5, 1, 1)
    with pytest.raises(ValueError):
        split_counts(2)


def test_song_seeds_do_not_depend_on_the_count():
    assert [song_seed(0, i) for i in range(3)] == [song_seed(0, i) for i in range(6)][:3]
    assert song_seed(0, 1) != song_seed(1, 1) != song_seed(1, 0)


def test_generate_song_is_deterministic():
    a = generate_song(1234, 2.0)
    b = generate_song(1234, 2.0)
    c = generate_song(1235, 2.0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == c.shape and not np.array_equal(a, c)


@pytest.mark.parametrize("seed", [0, 7])
def test_song_shape_dtype_peak_and_stereo(seed):
    audio = generate_song(seed, 1.5)
    assert audio.shape == (2, int(1.5 * SR)) and audio.dtype == np.float32
    assert np.all(np.isfinite(audio))
    peak = np.abs(audio).max()
    assert 0.0 < peak <= 1.0 and 0.5 <= peak <= 0.9
    left, right = audio
    assert not np.allclose(left, right)  # instruments are panned and the reverb is decorrelated
    assert np.abs(left - right).max() > 0.01


def test_generate_song_rejects_bad_arguments():
    with pytest.raises(ValueError):
        generate_song(-1, 1.0)
    with pytest.raises(ValueError):
        generate_song(0, 0.0)


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    calls = []

    def failing(seed, seconds, sample_rate=SR):
        calls.append(seed)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return np.zeros((2, int(seconds * sample_rate)), dtype=np.float32)

    monkeypatch.setattr(builtin_corpus, "generate_song", failing)
    with pytest.raises(KeyboardInterrupt):
        write_corpus(tmp_path / "c", songs=3, seconds=0.1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_songs_rendered_in_parallel_processes_are_the_same_files(tmp_path, monkeypatch):
    write_corpus(tmp_path / "serial", songs=3, seconds=1.0, seed=4, progress=False)
    monkeypatch.setattr(builtin_corpus, "usable_cores", lambda: 2)
    monkeypatch.setattr(builtin_corpus, "PARALLEL_MIN_SECONDS", 0.0)
    assert builtin_corpus.render_processes(3, 1.0) == 2
    write_corpus(tmp_path / "parallel", songs=3, seconds=1.0, seed=4, progress=False)
    files = sorted(p.relative_to(tmp_path / "serial") for p in (tmp_path / "serial").rglob("*") if p.is_file())
    assert len(files) == 4  # three songs and the manifest
    for rel in files:
        assert (tmp_path / "parallel" / rel).read_bytes() == (tmp_path / "serial" / rel).read_bytes(), rel


@pytest.mark.skipif(sys.platform != "linux", reason="elsewhere processes are spawned: scripts need the guard")
def test_a_script_without_a_main_guard_can_render_in_parallel(tmp_path):
    """Rendering processes are forked, not spawned: a script that builds the corpus at its top level
    is not run again by each of them."""
    script = tmp_path / "build.py"
    script.write_text(
        "from audioenh.data.builtin import corpus\n"
        "corpus.PARALLEL_MIN_SECONDS = 0.0\n"
        "corpus.usable_cores = lambda: 2\n"
        f"corpus.write_corpus({str(tmp_path / 'c')!r}, songs=3, seconds=0.5, progress=False)\n"
        "print('built')\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("built") == 1
    assert len(list((tmp_path / "c").glob("*/*.flac"))) == 3


def test_small_corpora_are_rendered_in_this_process(monkeypatch):
    monkeypatch.setattr(builtin_corpus, "usable_cores", lambda: 8)
    assert builtin_corpus.render_processes(3, 2.0) == 1  # 6 s of audio: starting processes costs more
    assert builtin_corpus.render_processes(24, 16.0) == 8
    assert builtin_corpus.render_processes(4, 30.0) == 4  # at most one process per song


def test_write_corpus_refuses_a_non_empty_directory(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("mine")
    with pytest.raises(AudioenhError):
        write_corpus(tmp_path / "c", songs=3, seconds=0.1, progress=False)
    assert (tmp_path / "c" / "keep.txt").read_text() == "mine"


def test_ensure_builtin_corpus_caches(tmp_path, monkeypatch):
    path = ensure_builtin_corpus(songs=3, seconds=0.5, seed=2, cache_dir=tmp_path)
    assert path == tmp_path / f"builtin-v{GENERATOR_VERSION}-s2-n3-t0.5"
    assert json.loads((path / "corpus.json").read_text())["songs"] == 3
    assert len(list(path.glob("*/*.flac"))) == 3

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cached corpus was regenerated")

    monkeypatch.setattr(builtin_corpus, "write_corpus", must_not_run)
    assert ensure_builtin_corpus(songs=3, seconds=0.5, seed=2, cache_dir=tmp_path) == path


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOENH_CACHE", str(tmp_path / "cache"))
    assert default_cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("AUDIOENH_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "audioenh")


def test_cli_builtin_writes_a_corpus(tmp_path):
    out = tmp_path / "c"
    result = CliRunner().invoke(data, ["builtin", "--output", str(out), "--songs", "3", "--seconds", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 songs (1 train, 1 val, 1 test)" in result.stdout
    assert len(list(out.glob("*/*.flac"))) == 3
    manifest = json.loads((out / "corpus.json").read_text())
    assert manifest["seconds"] == 2.0 and manifest["songs"] == 3


def test_cli_builtin_refuses_a_non_empty_directory(tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / "x").write_text("")
    result = CliRunner().invoke(data, ["builtin", "--output", str(out), "--songs", "3", "--seconds", "1"])
    assert result.exit_code == 1  # a one-line error, also outside the audioenh group
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "not empty" in lines[0]


@pytest.mark.parametrize("args", [["--songs", "2"], ["--seconds", "0"], ["--seconds", "-1"], ["--seed", "-1"]])
def test_cli_builtin_validates_options(tmp_path, args):
    result = CliRunner().invoke(data, ["builtin", "--output", str(tmp_path / "c"), *args])
    assert result.exit_code == 2
    assert not (tmp_path / "c").exists()


def test_quiet_corpus_generation_shows_no_progress_bar(tmp_path, capsys):
    from audioenh.data.corpus import resolve_corpus

    resolve_corpus(["builtin:songs=3,seconds=0.5"], cache_dir=tmp_path / "quiet", progress=False)
    assert "built-in corpus" not in capsys.readouterr().err
    resolve_corpus(["builtin:songs=3,seconds=0.5"], cache_dir=tmp_path / "loud", progress=True)
    assert "built-in corpus" in capsys.readouterr().err
