"""Band-edge detection: against the same estimate on white noise through each degradation (over the
registry), the steep cut-offs within ±300 Hz, resampling within ±1 kHz, full band where nothing is cut."""

import numpy as np
import pytest

from audioenh import plugins
from audioenh.analysis.bandwidth import band_edge, band_edges, long_term_spectrum
from audioenh.data.builtin import generate_song

SR = 44100

plugins.reset()
DEGRADATIONS = plugins.degradations().names()
plugins.reset()


@pytest.fixture(scope="module")
def music():
    """Two 6-s songs of the built-in corpus (energy up to 20 kHz)."""
    return [generate_song(seed, 6.0, SR) for seed in (11, 12)]


@pytest.fixture(scope="module")
def white():
    return np.random.default_rng(0).standard_normal((2, 6 * SR)) * 0.1


def _apply(spec, audio):
    degrade = plugins.degradations().create(spec)
    return degrade(audio, SR, rng=np.random.default_rng(0))


def _steepness_db(audio, edge):
    """How far the white-noise spectrum falls across ±400 Hz around ``edge`` (dB)."""
    f, level = long_term_spectrum(audio.mean(axis=0), SR)
    below, above = np.searchsorted(f, edge - 400), np.searchsorted(f, edge + 400)
    return float(level[max(below, 0)] - level[min(above, len(f) - 1)])


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_every_degradation_against_white_noise(name, music, white):
    """The edge found in music is the degradation's edge (found in white noise passed through it):
    full band stays full band; steep cut-offs agree within 300 Hz; resampling and signal-dependent
    degradations (``local = False``: codecs, whose low-pass adapts to the signal) within 1 kHz;
    gentle roll-offs, whose edge depends on the music's own slope, within 2 kHz."""
    entry = plugins.degradations().get(name)
    spec = getattr(entry.factory, "example", "") or name
    reference_audio = _apply(spec, white)
    reference = band_edge(reference_audio.mean(axis=0), SR)
    for song in music:
        found = band_edges(_apply(spec, song), SR).edge
        if reference >= SR / 2:
            assert found == SR / 2, f"{spec} does not band-limit, yet the music's band ends at {found:.0f} Hz"
            continue
        steep = _steepness_db(reference_audio, reference) >= 30
        adaptive = name == "resample" or not getattr(plugins.degradations().create(spec), "local", True)
        tolerance = 1000 if adaptive else (300 if steep else 2000)
        assert abs(found - reference) <= tolerance, (spec, found, reference, steep)


@pytest.mark.parametrize("family,order", [("cheby1", 8), ("cheby1", 12), ("cheby2", 8), ("ellip", 8), ("ellip", 12)])
@pytest.mark.parametrize("cutoff", [8000, 11025, 13000, 16000])
def test_steep_low_passes_at_cutoffs_8_to_16_khz(music, white, family, order, cutoff):
    spec = f"{family}:order={order},cutoff={cutoff}"
    reference = band_edge(_apply(spec, white).mean(axis=0), SR)
    assert abs(reference - cutoff) < 1200  # the edge of the design is near its nominal cut-off
    for song in music:
        assert abs(band_edges(_apply(spec, song), SR).edge - reference) <= 300, spec


@pytest.mark.parametrize("spec", ["brickwall:cutoff=8000", "brickwall:cutoff=13000", "fir:cutoff=9000"])
def test_brickwall_and_fir_edges_are_their_cutoffs(music, spec):
    cutoff = float(spec.split("=")[1])
    for song in music:
        assert abs(band_edges(_apply(spec, song), SR).edge - cutoff) <= 300, spec


@pytest.mark.parametrize("rate", [16000, 22050, 32000])
def test_resampled_music_ends_below_the_new_nyquist(music, rate):
    for song in music:
        edge = band_edges(_apply(f"resample:{rate}", song), SR).edge
        assert rate / 2 - 1000 <= edge <= rate / 2, (rate, edge)


def test_full_band_music_silence_and_short_input(music):
    for song in music:
        edges = band_edges(song, SR)
        assert edges.full_band and edges.edge == SR / 2 and edges.side == SR / 2
    assert band_edge(np.zeros(SR), SR) == SR / 2
    assert band_edge(np.ones(100), SR) == SR / 2
    assert band_edges(music[0][:1], SR).side is None  # mono: mid only


def test_side_channel_of_a_joint_stereo_like_signal(music):
    """Mid kept to 16 kHz, side to 8 kHz, as joint-stereo encoders do: each edge is found."""
    song = music[0]
    mid, side = (song[0] + song[1]) / 2, (song[0] - song[1]) / 2
    mid = _apply("ellip:order=12,cutoff=16000", mid[None])[0]
    side = _apply("ellip:order=12,cutoff=8000", side[None])[0]
    edges = band_edges(np.stack([mid + side, mid - side]), SR)
    assert abs(edges.mid - 15700) <= 300 and abs(edges.side - 7750) <= 300
    assert edges.edge == edges.mid and not edges.full_band
    assert set(edges.to_dict()) >= {"mid", "side", "left", "right", "edge", "full_band"}


def test_bandwidth_command(music, tmp_path):
    import json

    import soundfile as sf
    from click.testing import CliRunner

    from audioenh.cli import cli

    sf.write(tmp_path / "full.wav", music[0].T, SR, subtype="PCM_24")
    sf.write(tmp_path / "cut.flac", _apply("ellip:order=12,cutoff=11025", music[0]).T, SR, subtype="PCM_24")
    result = CliRunner().invoke(cli, ["bandwidth", str(tmp_path / "full.wav"), str(tmp_path / "cut.flac")])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == f"{tmp_path / 'full.wav'}: full band (up to 22.05 kHz)"
    assert lines[1].startswith(f"{tmp_path / 'cut.flac'}: band ends at 10.") and "–22.05 kHz is missing" in lines[1]
    data = json.loads(CliRunner().invoke(cli, ["bandwidth", str(tmp_path / "cut.flac"), "--json"]).stdout)
    assert abs(data["edge"] - 10800) < 300 and data["full_band"] is False and data["sample_rate"] == SR
    missing = CliRunner().invoke(cli, ["bandwidth", str(tmp_path / "nope.wav")])
    assert missing.exit_code == 1 and missing.output.startswith("Error: cannot read")
