"""Corpora: data specs, the paper's DSD100/MedleyDB split, reading any file as stereo 44.1 kHz float32."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from audioenh.data import corpus as corpus_mod
from audioenh.data.corpus import Corpus, Song, resolve_corpus, validation_excerpt
from audioenh.errors import AudioenhError, AudioFileError

from .conftest import SR, music_like


def write(path, seconds=1.0, sr=SR, channels=2, subtype="PCM_16", seed=0, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = 0.5 * music_like(seconds, sr=sr, channels=channels, seed=seed)
    sf.write(path, audio.T, sr, subtype=subtype, format=fmt)
    return audio


def make_folder(root, counts=(3, 2, 1), seconds=1.0):
    for split, n in zip(("train", "val", "test"), counts):
        for i in range(n):
            write(root / split / f"{split}-{i}.wav", seconds, seed=i)
    return root


@pytest.fixture
def messages():
    return []


def resolve(specs, tmp_path, messages, **kwargs):
    return resolve_corpus(specs, cache_dir=tmp_path / "cache", echo=messages.append, **kwargs)


def test_folder_layout(tmp_path, messages):
    root = make_folder(tmp_path / "data")
    (root / "train" / "notes.txt").write_text("not audio")
    corpus = resolve([str(root)], tmp_path, messages)
    assert [s.name for s in corpus.train] == ["train-0", "train-1", "train-2"]
    assert [s.name for s in corpus.val] == ["val-0", "val-1"] and len(corpus.test) == 1
    assert corpus.split("val") is corpus.val and all(s.split == "val" for s in corpus.val)
    song = corpus.train[0]
    assert (song.sample_rate, song.frames, song.channels, song.frames_at_rate) == (SR, SR, 2, SR)
    assert messages == []  # nothing to resample
    assert resolve([f"folder:{root}"], tmp_path, messages).summary() == "3 train, 2 val, 1 test songs"


def test_dsd100_split_as_in_the_paper(tmp_path, messages):
    root = tmp_path / "DSD100"
    for i in range(10):
        write(root / "Mixtures" / "Dev" / f"{i:03d} - Dev Song" / "mixture.wav", 0.2, seed=i)
    for i in range(3):
        write(root / "Mixtures" / "Test" / f"{i:03d} - Test Song" / "mixture.wav", 0.2, seed=i)
    corpus = resolve([f"dsd100:{root}"], tmp_path, messages)
    assert [s.name for s in corpus.train] == ["000 - Dev Song", "001 - Dev Song"]
    assert [s.name for s in corpus.val] == [f"{i:03d} - Dev Song" for i in range(2, 10)]
    assert len(corpus.test) == 3 and corpus.test[0].path.name == "mixture.wav"


def test_medleydb_and_combined_specs(tmp_path, messages):
    medley = tmp_path / "MedleyDB"
    for name in ("BSong_Two", "ASong_One"):
        write(medley / "Audio" / name / f"{name}_MIX.wav", 0.2)
        write(medley / "Audio" / name / f"{name}_STEMS" / "stem.wav", 0.1)  # ignored
    alone = resolve([f"medleydb:{medley}"], tmp_path, messages)
    assert [s.name for s in alone.train] == ["ASong_One", "BSong_Two"] and not alone.val and not alone.test

    folder = make_folder(tmp_path / "data", counts=(1, 1, 0))
    both = resolve([str(folder), f"medleydb:{medley}"], tmp_path, messages)
    assert [s.name for s in both.train] == ["train-0", "ASong_One", "BSong_Two"]
    assert len(both.val) == 1 and both.test == []
    both.require("train", "val")
    with pytest.raises(AudioenhError, match="no test songs"):
        both.require("test")
    with pytest.raises(AudioenhError, match="no val songs"):
        resolve([f"medleydb:{medley}"], tmp_path, messages, require=("train", "val"))


def test_missing_split_provided_by_another_spec(tmp_path, messages):
    only_train = make_folder(tmp_path / "a", counts=(2, 0, 0))
    only_eval = make_folder(tmp_path / "b", counts=(0, 1, 1))
    corpus = resolve([str(only_train), str(only_eval)], tmp_path, messages, require=("train", "val", "test"))
    assert corpus.summary() == "2 train, 1 val, 1 test songs"
    with pytest.raises(AudioenhError, match="no val and no test songs"):
        resolve([str(only_train)], tmp_path, messages).require("train", "val", "test")


def test_resampled_mono_24bit_and_float_inputs(tmp_path, messages):
    root = tmp_path / "data"
    a48 = write(root / "train" / "a48k.flac", 1.5, sr=48000, subtype="PCM_24")
    mono = write(root / "train" / "b_mono.wav", 1.0, channels=1, subtype="PCM_24")
    flt = write(root / "val" / "c_float.wav", 1.0, subtype="FLOAT")
    write(root / "val" / "d48k_mono.wav", 0.5, sr=48000, channels=1, subtype="PCM_16")
    corpus = resolve([str(root)], tmp_path, messages)
    assert messages == ["resampling 2 songs from 48000 Hz to 44100 Hz with soxr"]

    song48, song_mono = corpus.train
    assert song48.frames_at_rate == int(round(1.5 * 48000 * SR / 48000)) == 66150
    x = song48.read()
    assert x.shape == (2, 66150) and x.dtype == np.float32
    # the resampled song keeps the original's level and waveform (compare away from the edges)
    ref = signal.resample_poly(a48, 147, 160, axis=-1)  # 44100 / 48000 = 147 / 160
    assert np.sqrt(np.mean((x[:, 1000:-1000] - ref[:, 1000:-1000]) ** 2)) < 0.03 * np.sqrt(np.mean(ref**2))
    np.testing.assert_array_equal(song48.read(1000, 1500), x[:, 1000:1500])

    y = song_mono.read()
    assert y.shape == (2, SR) and y.dtype == np.float32
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_allclose(y[0], mono[0], atol=2**-22)  # 24-bit PCM, normalised to [-1, 1)
    np.testing.assert_allclose(corpus.val[0].read(), flt.astype(np.float32), atol=1e-7)  # float as stored
    d = corpus.val[1].read()
    assert d.shape == (2, corpus.val[1].frames_at_rate) == (2, 22050)
    np.testing.assert_array_equal(d[0], d[1])

    # reads are clipped to the song
    assert song_mono.read(SR - 10, SR + 10).shape == (2, 10)
    assert song_mono.read(2 * SR, 3 * SR).shape == (2, 0)
    assert song_mono.read(-5, 5).shape == (2, 5)

    # the cache is a memory map, reused (not regenerated) next time
    cached = song48.cache_path()
    assert cached.is_file() and str(cached).startswith(str(tmp_path / "cache" / "resampled"))
    assert isinstance(np.load(cached, mmap_mode="r"), np.memmap)
    stamp = cached.stat().st_mtime_ns
    messages.clear()
    again = resolve([str(root)], tmp_path, messages)
    assert messages == [] and cached.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(again.train[0].read(), x)


def test_ogg_is_decoded_once_into_the_cache(tmp_path, messages):
    audio = write(tmp_path / "d" / "train" / "s.ogg", 1.0, subtype="VORBIS", fmt="OGG")
    song = resolve([str(tmp_path / "d")], tmp_path, messages).train[0]
    assert song.needs_cache and len(messages) == 1 and messages[0].startswith("decoding 1 OGG song into the cache")
    whole = song.read()
    assert whole.shape == audio.shape
    np.testing.assert_array_equal(song.read(30000, 34096), whole[:, 30000:34096])


def test_six_channels_refused(tmp_path, messages):
    path = tmp_path / "d" / "train" / "surround.wav"
    path.parent.mkdir(parents=True)
    sf.write(path, np.zeros((1000, 6)), SR)
    with pytest.raises(AudioFileError, match="surround.wav' has 6 channels; only mono and stereo") as info:
        resolve([str(tmp_path / "d")], tmp_path, messages)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "build, spec, pattern",
    [
        (None, "nosuch:{tmp}", "unknown data spec prefix 'nosuch'"),
        (None, "dsd10:{tmp}", "did you mean 'dsd100'"),
        (None, "{tmp}/missing", "data folder '.*missing' .*does not exist"),
        (None, "biultin", "does not exist; did you mean 'builtin'"),
        (None, "{tmp}", "holds no audio files"),
        ("loose", "{tmp}", "has 1 audio files but none in train/, val/ or test/"),
        ("bad", "{tmp}", "cannot read '.*broken.wav'"),
        (None, "dsd100:{tmp}", "does not look like DSD100"),
        ("dsd-nomix", "dsd100:{tmp}", "DSD100 song folder .* has no mixture.wav"),
        (None, "medleydb:{tmp}", "does not look like MedleyDB"),
        (None, "builtin:songs=3,colour=red", "bad data spec 'builtin:songs=3,colour=red'.*accepted: builtin:songs="),
        ("empty", "{tmp}", "contains no samples"),
    ],
)
def test_error_one_liners(tmp_path, messages, build, spec, pattern):
    data = tmp_path / "data"
    data.mkdir()
    if build == "loose":
        write(data / "song.wav", 0.1)
    elif build == "bad":
        (data / "train").mkdir()
        (data / "train" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage" * 4)
    elif build == "dsd-nomix":
        (data / "Mixtures" / "Dev" / "001 - X").mkdir(parents=True)
    elif build == "empty":
        (data / "val").mkdir()
        sf.write(data / "val" / "empty.wav", np.zeros((0, 2)), SR)
    with pytest.raises(AudioenhError, match=pattern) as info:
        resolve([spec.format(tmp=data)], tmp_path, messages)
    assert "\n" not in str(info.value)


def test_no_specs_and_unknown_split(tmp_path, messages):
    with pytest.raises(AudioenhError, match="no data spec"):
        resolve([], tmp_path, messages)
    with pytest.raises(AudioenhError, match="unknown split 'dev'"):
        Corpus().split("dev")


def test_validation_excerpt(tmp_path):
    long_audio = write(tmp_path / "long.wav", 3.0, subtype="FLOAT")
    long = Song.from_file(tmp_path / "long.wav", "val")
    ex = validation_excerpt(long, offset_seconds=1.0, seconds=1.5)
    np.testing.assert_allclose(ex, long_audio[:, SR : SR + int(1.5 * SR)], atol=1e-7)
    # too short for offset + seconds: the last `seconds`
    np.testing.assert_array_equal(validation_excerpt(long, 2.5, 1.0), long.read(2 * SR, 3 * SR))
    # shorter than `seconds`: the whole song
    assert validation_excerpt(long, 8.0, 8.0).shape == (2, 3 * SR)


def test_builtin_spec(tmp_path, messages):
    if importlib.util.find_spec("audioenh.data.builtin") is None:
        pytest.skip("audioenh.data.builtin is not available")
    corpus = resolve(["builtin:songs=3,seconds=2"], tmp_path, messages)
    assert corpus.summary() == "1 train, 1 val, 1 test songs"
    song = corpus.train[0]
    assert str(song.path).startswith(str(tmp_path / "cache")) and song.frames_at_rate == 2 * SR
    assert song.read(0, 100).shape == (2, 100)


def test_songs_pickle_without_their_data(tmp_path):
    import pickle

    write(tmp_path / "s.wav", 0.2, sr=22050)
    song = Song.from_file(tmp_path / "s.wav", "train", cache_dir=tmp_path / "cache")
    song.read()
    assert len(pickle.dumps(song)) < 1000
    assert corpus_mod.SAMPLE_RATE == SR


def test_whole_songs_are_decoded_once_per_process(tmp_path, monkeypatch):
    """A whole read is kept for the next (testing reads each test song once per model and
    degradation); each read gets its own copy; an edited file is decoded afresh; excerpts and songs
    over the budget are read from the file every time."""
    path = tmp_path / "a.flac"
    write(path, 1.0, subtype="PCM_24")
    expected = sf.read(path, dtype="float32", always_2d=True)[0].T
    song = Song.from_file(path, "test", cache_dir=tmp_path / "cache")
    decoded = []
    plain = Song._read
    monkeypatch.setattr(Song, "_read", lambda self, *a: decoded.append(self.name) or plain(self, *a))
    first = song.read()
    first[:] = 0  # the caller's copy
    second = song.read()
    assert len(decoded) == 1
    np.testing.assert_array_equal(second, expected)
    song.read(100, 200)
    assert len(decoded) == 2  # excerpts: from the file
    write(path, 1.5, subtype="PCM_24", seed=1)  # edited: another size
    edited = Song.from_file(path, "test", cache_dir=tmp_path / "cache")
    assert edited.read().shape == (2, int(1.5 * SR)) and len(decoded) == 3
    monkeypatch.setattr(corpus_mod._DECODED, "budget", 1000)
    write(tmp_path / "b.flac", 1.0)
    fresh = Song.from_file(tmp_path / "b.flac", "test", cache_dir=tmp_path / "cache")
    fresh.read()
    fresh.read()
    assert len(decoded) == 5  # over the budget: not kept
