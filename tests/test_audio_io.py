"""One output-format policy (``output_format``) and atomic audio writes (``write_audio``)."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import soundfile as sf

from audioenh.audio_io import output_format, write_audio
from audioenh.errors import AudioFileError

from .conftest import SR, music_like


@pytest.mark.parametrize(
    "name, expected",
    [
        ("x.wav", ("WAV", "PCM_24")),
        ("x.flac", ("FLAC", "PCM_24")),
        ("x.aif", ("AIFF", "PCM_24")),
        ("x.ogg", ("OGG", "VORBIS")),
        ("x.opus", ("OGG", "OPUS")),
        ("x.mp3", ("MP3", "MPEG_LAYER_III")),
    ],
)
def test_default_is_24_bit_else_the_formats_own(name, expected):
    assert output_format(name) == expected


@pytest.mark.parametrize(
    "name, subtype, expected",
    [("x.wav", "float", "FLOAT"), ("x.wav", "PCM_16", "PCM_16"), ("x.flac", "PCM_16", "PCM_16")],
)
def test_explicit_subtype_that_fits(name, subtype, expected):
    assert output_format(name, subtype)[1] == expected


@pytest.mark.parametrize(
    "name, subtype, fragment",
    [
        ("x.flac", "FLOAT", "the FLAC format cannot hold it (it holds 16-bit PCM, 24-bit PCM)"),
        ("x.ogg", "PCM_24", "the OGG format cannot hold it (it holds Vorbis, Opus)"),
        ("x.opus", "VORBIS", "(it holds Opus)"),
    ],
)
def test_explicit_subtype_that_does_not_fit_is_one_line(name, subtype, fragment):
    with pytest.raises(AudioFileError) as info:
        output_format(name, subtype)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "name, keep, expected",
    [
        ("x.flac", "PCM_16", "PCM_16"),  # 16-bit WAV degraded to FLAC stays 16-bit
        ("x.wav", "FLOAT", "FLOAT"),  # float in, float out
        ("x.wav", "DOUBLE", "DOUBLE"),
        ("x.flac", "FLOAT", "PCM_24"),  # FLAC has no float: 24-bit
        ("x.ogg", "PCM_16", "VORBIS"),
        ("x.ogg", "OPUS", "OPUS"),
        ("x.opus", "VORBIS", "OPUS"),  # .opus is Opus only
        ("x.wav", "MPEG_LAYER_III", "PCM_24"),  # an mp3 input degraded to WAV
    ],
)
def test_keep_where_the_format_holds_it(name, keep, expected):
    assert output_format(name, keep=keep)[1] == expected


def test_explicit_subtype_wins_over_keep():
    assert output_format("x.wav", "PCM_16", keep="FLOAT")[1] == "PCM_16"


def test_unknown_extension_is_refused():
    with pytest.raises(AudioFileError, match=r"unknown audio extension \.xyz"):
        output_format("x.xyz")


@pytest.mark.parametrize(
    "name, subtype, written",
    [
        ("a.wav", "PCM_16", "PCM_16"),
        ("b.flac", "PCM_16", "PCM_16"),
        ("c.wav", "FLOAT", "FLOAT"),
        ("d.flac", None, "PCM_24"),
    ],
)
def test_write_audio_keeps_the_wanted_subtype_where_it_can(tmp_path, name, subtype, written):
    x = music_like(0.05) * 0.5
    assert write_audio(tmp_path / name, x, SR, subtype) == written
    info = sf.info(tmp_path / name)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (SR, 2, x.shape[1], written)


def test_write_audio_clips_pcm_only(tmp_path):
    x = np.full((1, 100), 1.5)
    write_audio(tmp_path / "pcm.wav", x, SR)
    write_audio(tmp_path / "float.wav", x, SR, "FLOAT")
    assert sf.read(tmp_path / "pcm.wav")[0].max() <= 1.0
    assert sf.read(tmp_path / "float.wav")[0].max() == 1.5


def test_write_audio_is_atomic_with_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "out.wav"
        write_audio(target, music_like(0.05), SR)
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~0o022
        target.write_bytes(b"previous")
        with pytest.raises(AudioFileError, match="cannot write"):
            write_audio(target, music_like(0.05), 0)  # libsndfile refuses a zero sample rate
        assert target.read_bytes() == b"previous"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]
    finally:
        os.umask(old)


def test_write_audio_refuses_a_missing_folder_or_a_folder(tmp_path):
    with pytest.raises(AudioFileError, match="does not exist"):
        write_audio(tmp_path / "nope" / "x.wav", music_like(0.01), SR)
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(AudioFileError, match="it is a directory"):
        write_audio(tmp_path / "d.wav", music_like(0.01), SR)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.wav"]
