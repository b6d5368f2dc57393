"""The level a network runs at (``input_level_db``): one gain per input in, the same gain out, so a
model that names a level restores a quiet song exactly as it restores the same song louder."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from audioenh import pretrained
from audioenh.checkpoint import build_model, load_checkpoint
from audioenh.data.builtin import generate_song
from audioenh.degradations.chain import DegradationSampler
from audioenh.evaluation.inference import enhance_array
from audioenh.evaluation.level import LEVEL_KEY, MAX_GAIN_DB, input_level_db, level_gain, rms_db
from audioenh.evaluation.streaming import enhance_file
from tests.conftest import tool_module
from tests.test_do_no_harm import SR, checkpoint, random_model


def test_level_gain_by_hand():
    audio = np.full((2, 1000), 0.1)  # RMS 0.1: -20 dBFS
    assert rms_db(audio) == pytest.approx(-20.0)
    assert level_gain(audio, -16.0) == pytest.approx(10 ** (4 / 20))
    assert level_gain(audio, -26.0) == pytest.approx(10 ** (-6 / 20))
    assert level_gain(audio, None) == 1.0
    assert level_gain(np.zeros((2, 1000)), -16.0) == 1.0  # silence runs as it is
    assert level_gain(np.full((2, 10), 1e-5), -16.0) == pytest.approx(10 ** (MAX_GAIN_DB / 20))  # -100 dBFS: capped
    assert rms_db(np.zeros((2, 0))) == float("-inf")


def test_checkpoints_name_the_level_and_models_carry_it():
    model = random_model()
    plain = checkpoint(model)
    assert input_level_db(plain) is None and getattr(build_model(plain), LEVEL_KEY) is None
    assert getattr(build_model({**plain, LEVEL_KEY: -16}), LEVEL_KEY) == -16.0


def leveled(level_db=-16.0):
    model = build_model({**checkpoint(random_model()), LEVEL_KEY: level_db})
    return model, {**checkpoint(model), LEVEL_KEY: level_db}


@pytest.fixture(scope="module")
def lowpassed():
    song = generate_song(22, 2.0, SR).astype(np.float32)
    return np.asarray(DegradationSampler("cheby1:6", SR).degrade(song, SR, np.random.default_rng(0))[0], np.float32)


def test_a_leveled_model_restores_a_quiet_song_as_the_loud_one(lowpassed):
    model, _ = leveled()
    loud = enhance_array(model, lowpassed)
    for scale in (0.25, 0.05, 3.0):  # within the 40-dB cap of the gain
        np.testing.assert_allclose(enhance_array(model, lowpassed * scale) / scale, loud, atol=2e-5)
    gain = level_gain(lowpassed, -16.0)
    assert abs(20 * np.log10(gain)) > 1  # the song is not at -16 dBFS already: the gain does something
    setattr(model, LEVEL_KEY, None)  # the same network at the input's own level is not scale-equivariant
    np.testing.assert_allclose(enhance_array(model, lowpassed, input_gain=gain), loud, atol=1e-6)
    quiet = enhance_array(model, lowpassed * 0.05) / 0.05
    assert np.max(np.abs(quiet - enhance_array(model, lowpassed))) > 1e-3


@pytest.mark.parametrize("mode", ["raw", "safe"])
def test_streamed_enhance_runs_a_file_at_the_models_level(lowpassed, tmp_path, mode):
    """enhance_file: one gain for the file (its analysis excerpts: here the whole 2-s file), so the output
    equals the whole array enhanced at that level, and a quiet copy comes back as quiet as it went in."""
    from audioenh.evaluation.crossover import enhance_array_safely

    model, ck = leveled()
    outs = {}
    for name, scale in (("loud", 1.0), ("quiet", 0.05)):
        src = tmp_path / f"{name}.wav"
        sf.write(src, (lowpassed * scale).T, SR, subtype="FLOAT")
        dst = tmp_path / f"{name}-out.wav"
        enhance_file(model, ck, src, dst, subtype="FLOAT", progress=False, verbose=False, mode=mode)
        outs[name] = sf.read(dst, dtype="float32", always_2d=True)[0].T / scale
    if mode == "raw":
        expected = enhance_array(model, lowpassed)
    else:
        expected, info = enhance_array_safely(model, lowpassed, SR, [])  # no training record: trusted
        assert info["trust"] == 1.0
    middle = slice(SR // 4, -SR // 4)  # streamed blocks see the network's answer to zeros past the ends
    np.testing.assert_allclose(outs["loud"][:, middle], expected[:, middle], atol=2e-5)
    np.testing.assert_allclose(outs["quiet"], outs["loud"], atol=5e-5)


def test_every_bundled_model_runs_at_the_tools_level():
    with tool_module("train_bundled_model") as tool:
        level = tool.INPUT_LEVEL_DB
    for name in pretrained.BUNDLED:
        assert input_level_db(load_checkpoint(pretrained.bundled(name).resource)) == level, name


def test_model_info_shows_the_level():
    from click.testing import CliRunner

    from audioenh.cli import cli

    result = CliRunner().invoke(cli, ["model-info", "resnet-16k"])
    assert result.exit_code == 0, result.output
    assert "input level    -16 dBFS RMS (each input is scaled to it and back)" in result.output.splitlines()
    result = CliRunner().invoke(cli, ["model-info", "resnet-16k", "--json"])
    assert '"input_level_db": -16.0' in result.output


def test_training_level_is_the_mean_of_the_songs_middles(tmp_path):
    """``audioenh train``'s level: the mean RMS (dBFS) of 30 s from the middle of each training song."""
    from audioenh.data.corpus import Song
    from audioenh.evaluation.level import LEVEL_EXCERPT_SECONDS, training_level_db

    songs, levels = [], []
    for i, (scale, seconds) in enumerate(((0.05, 40.0), (0.2, 3.0), (0.0, 2.0))):  # the silent one is skipped
        t = np.arange(int(seconds * SR)) / SR
        envelope = np.where(t < seconds / 2, 0.5, 1.0)  # louder in the second half: which part is measured shows
        audio = (scale * envelope * np.sin(2 * np.pi * 440 * t))[None].repeat(2, 0)
        path = tmp_path / f"s{i}.wav"
        sf.write(path, audio.T, SR, subtype="FLOAT")
        songs.append(Song.from_file(path, "train", cache_dir=tmp_path / "cache"))
        half = int(LEVEL_EXCERPT_SECONDS * SR / 2)
        middle = audio.shape[1] // 2
        levels.append(rms_db(audio[:, max(0, middle - half) : middle + half]))
    assert training_level_db(songs) == pytest.approx(np.mean(levels[:2]), abs=1e-4)
    assert training_level_db(songs[2:]) is None


@pytest.mark.parametrize(
    "request_, expected", [("auto", "auto"), ("NONE", "none"), ("-20", "-20"), ("-19.5", "-19.5"), ("0", "0")]
)
def test_input_level_requests(request_, expected):
    from audioenh.evaluation.level import check_input_level

    assert check_input_level(request_) == expected


@pytest.mark.parametrize("bad", ["loud", "5", "-100", "nan", ""])
def test_bad_input_level_requests_fail_in_one_line(bad):
    from audioenh.errors import AudioenhError
    from audioenh.evaluation.level import check_input_level

    with pytest.raises(AudioenhError, match="--input-level must be auto, none or a level in dBFS from -80 to 0"):
        check_input_level(bad)
