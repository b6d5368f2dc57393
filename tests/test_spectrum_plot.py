"""Spectrum plots (``bandwidth --plot``, ``enhance --plot``): what is drawn is the detection's own
spectrum and edge, relative to the band's level, written only to image files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from audioenh import plugins
from audioenh.analysis.bandwidth import GATE_DB, band_edges, long_term_spectrum
from audioenh.analysis.spectrum_plot import Curve, band_level_db, plot_paths, spectrum_plot
from audioenh.cli import cli
from audioenh.errors import AudioenhError

from .conftest import SR, music_like

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lowpassed():
    song = music_like(3.0, sr=SR, channels=2, seed=4) * 0.5
    return plugins.degradations().create("cheby1:order=8,cutoff=11025")(song, SR).astype(np.float32)


def test_draws_the_detections_spectrum_and_edge_relative_to_the_band(tmp_path, lowpassed):
    edges = band_edges(lowpassed, SR)
    drawn = spectrum_plot(
        tmp_path / "p.png",
        [Curve("mid", lowpassed, SR), Curve("side", (lowpassed[0] - lowpassed[1]) / 2, SR)],
        {"mid": edges.mid, "side": edges.side},
        "title",
        restored_hz=(edges.mid, SR / 2),
    )
    assert (tmp_path / "p.png").read_bytes()[:8] == PNG_MAGIC
    f, level = long_term_spectrum((lowpassed[0].astype(np.float64) + lowpassed[1]) / 2, SR)
    reference = band_level_db(f, level, edges.mid)
    assert drawn["reference_db"] == pytest.approx(reference)
    khz, relative = drawn["curves"]["mid"]
    np.testing.assert_allclose(khz, f / 1000)
    np.testing.assert_allclose(relative, level - reference)
    band = (khz >= 1) & (khz < edges.mid / 1000)
    assert np.median(relative[band]) == pytest.approx(0, abs=1e-9)  # 0 dB is the band's level
    assert np.all(relative[khz > edges.mid / 1000 + 2] < -GATE_DB)  # the cut band under the gate
    assert drawn["edges_khz"] == {"mid": edges.mid / 1000, "side": edges.side / 1000}
    assert drawn["restored_khz"] == (edges.mid / 1000, SR / 2000)
    assert 11.0 < edges.mid / 1000 < 12.5


def test_plot_files_are_images_and_never_clash(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "sub" / "a.wav"
    assert plot_paths([a], tmp_path / "x.svg") == [tmp_path / "x.svg"]
    assert plot_paths([a, tmp_path / "b.flac"], tmp_path / "plots") == [
        tmp_path / "plots/a.png",
        tmp_path / "plots/b.png",
    ]
    assert plot_paths([a], tmp_path, names=["out.flac"]) == [tmp_path / "out.png"]  # an existing folder
    with pytest.raises(AudioenhError, match="use a .png, .svg, .pdf file name"):
        plot_paths([a], tmp_path / "song.flac")  # would have overwritten audio
    with pytest.raises(AudioenhError, match="share one plot"):
        plot_paths([a, b], tmp_path / "plots")
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(AudioenhError, match="is a file; with several inputs --plot must be a folder"):
        plot_paths([a, b], tmp_path / "file.png")


def test_bandwidth_plot_from_the_command_line(tmp_path, lowpassed):
    song = tmp_path / "song.wav"
    sf.write(song, lowpassed.T, SR, subtype="FLOAT")
    result = CliRunner().invoke(cli, ["bandwidth", str(song), "--plot", str(tmp_path / "s.png"), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["plot"] == str(tmp_path / "s.png") and (tmp_path / "s.png").read_bytes()[:8] == PNG_MAGIC
    bad = CliRunner().invoke(cli, ["bandwidth", str(song), "--plot", str(tmp_path / "s.flac")])
    assert bad.exit_code == 1 and bad.output.strip().splitlines() == [
        f"Error: cannot write plot {str(tmp_path / 's.flac')!r}: use a .png, .svg, .pdf file name"
    ]
    assert not (tmp_path / "s.flac").exists()


def test_enhance_plots_input_and_output_and_the_band_restored(tmp_path, lowpassed):
    song = tmp_path / "song.wav"
    sf.write(song, lowpassed.T, SR, subtype="FLOAT")
    out, picture = tmp_path / "out.flac", tmp_path / "out.png"
    result = CliRunner().invoke(cli, ["enhance", str(song), "-o", str(out), "--plot", str(picture), "-q"])
    assert result.exit_code == 0, result.output
    assert out.exists() and picture.read_bytes()[:8] == PNG_MAGIC
    analysed = CliRunner().invoke(cli, ["enhance", str(song), "--analyze", "--plot", str(tmp_path / "a.svg")])
    assert analysed.exit_code == 0, analysed.output
    assert b"<svg" in (tmp_path / "a.svg").read_bytes()[:500]
    refused = CliRunner().invoke(cli, ["enhance", str(song), "-o", str(tmp_path / "x.flac"), "--plot", str(out)])
    assert refused.exit_code == 1 and "use a .png, .svg, .pdf file name" in refused.output
    assert not (tmp_path / "x.flac").exists()  # refused before any work


def test_curves_at_different_rates_are_drawn_at_one_frequency_resolution(tmp_path):
    """A tone resampled from 8 to 44.1 kHz reads at the same level in both curves (Welch frames scaled
    by the rate: the same Hz per bin), where frames of one length put the 44.1-kHz tone 7.4 dB lower."""
    import soxr

    t = np.arange(4 * 8000) / 8000
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t) + 0.001 * np.random.default_rng(0).standard_normal(t.size)
    up = soxr.resample(tone, 8000, 44100)
    drawn = spectrum_plot(tmp_path / "t.png", [Curve("8k", tone, 8000), Curve("44k", up, 44100)], {}, "tone")
    (khz_a, a), (khz_b, b) = drawn["curves"]["8k"], drawn["curves"]["44k"]
    assert khz_a[1] == pytest.approx(khz_b[1], rel=1e-3)  # the same Hz per bin
    peak_a, peak_b = a[np.argmin(abs(khz_a - 1))], b[np.argmin(abs(khz_b - 1))]
    assert peak_a == pytest.approx(peak_b, abs=1.0)
    plain = long_term_spectrum(up, 44100)[1]  # the detection's own frames: another resolution
    assert peak_a - plain[np.argmin(abs(long_term_spectrum(up, 44100)[0] - 1000))] > 5
