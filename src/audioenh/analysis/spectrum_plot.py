"""Long-term spectra with their band edges, as an image: what ``bandwidth --plot`` and ``enhance --plot``
draw, so that where a band ends, and what was restored above it, can be seen at a glance.

Each curve is :func:`~audioenh.analysis.bandwidth.long_term_spectrum` (Welch, median-smoothed; the
spectrum band-edge detection measures) in dB relative to the band's level: the median of the first
curve from 1 kHz up to its edge, so 0 dB is the band and the dotted line at -30 dB is the detection's
gate (:data:`~audioenh.analysis.bandwidth.GATE_DB`): a band ends where everything above lies under it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AudioenhError
from .bandwidth import FRAME, GATE_DB, long_term_spectrum

#: the file types a plot may be written as (matplotlib's writers), by extension
PLOT_SUFFIXES = (".png", ".svg", ".pdf")
DPI = 110
BAND_FROM_HZ = 1000.0  # the band's level is measured from here up to the edge (as the detection does)


@dataclass(frozen=True)
class Curve:
    """One long-term spectrum to draw: ``audio`` (one channel, or (channels, samples) mixed to mid)."""

    label: str
    audio: np.ndarray
    sample_rate: int
    style: str = "-"  # matplotlib's line style
    color: str | None = None

    def spectrum(self, resolution_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies (Hz) and level (dB) of the curve's mid signal, at the frequency resolution the
        detection's frames have at ``resolution_rate`` (Hz; the curve's own rate: the detection's
        spectrum), so that curves at different rates resolve alike (a tone reads the same in each)."""
        x = np.atleast_2d(np.asarray(self.audio, dtype=np.float64))
        mid = x[0] if x.shape[0] == 1 else (x[0] + x[1]) / 2
        frame = max(256, round(FRAME * self.sample_rate / resolution_rate))
        return long_term_spectrum(mid, self.sample_rate, frame)


def band_level_db(frequencies: np.ndarray, level_db: np.ndarray, edge_hz: float) -> float:
    """The band's level (dB): the median of ``level_db`` from 1 kHz up to ``edge_hz``."""
    inside = (frequencies >= BAND_FROM_HZ) & (frequencies < edge_hz)
    return float(np.median(level_db[inside] if inside.any() else level_db))


def check_plot_path(path: Path) -> None:
    """Refuse a plot file whose extension is not an image type matplotlib writes (so that a typo such
    as ``--plot song.flac`` never overwrites audio)."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise AudioenhError(f"cannot write plot {str(path)!r}: use a {', '.join(PLOT_SUFFIXES)} file name")


def plot_paths(inputs: Sequence[Path], plot: Path, names: Sequence[str] | None = None) -> list[Path]:
    """The plot file of each input: ``plot`` itself for one input (unless it is a folder), else
    ``plot/NAME.png`` in a folder (created when written), ``NAME`` the stem of ``names`` (default: the
    inputs' names); refuses clashes and non-image names before any work."""
    names = [Path(n).stem for n in (names or [p.name for p in inputs])]
    if len(inputs) == 1 and not plot.is_dir():
        paths = [plot]
    else:
        if plot.exists() and not plot.is_dir():
            raise AudioenhError(f"{str(plot)!r} is a file; with several inputs --plot must be a folder")
        paths = [plot / f"{name}.png" for name in names]
    if len(set(p.resolve() for p in paths)) < len(paths):
        raise AudioenhError("two inputs of the same name would share one plot; plot them one at a time")
    for path in paths:
        check_plot_path(path)
    return paths


def spectrum_plot(
    path: Path,
    curves: Sequence[Curve],
    edges_hz: dict[str, float],
    title: str,
    *,
    restored_hz: tuple[float, float] | None = None,
) -> dict:
    """Draw ``curves`` (the first sets the 0-dB band level, up to the first of ``edges_hz`` below its
    Nyquist frequency), a dashed vertical line per band edge
    (``edges_hz``: label -> Hz; an edge at or above a curve's Nyquist frequency is not drawn) and, when
    given, the ``restored_hz`` span shaded; write it to ``path`` (PNG, SVG or PDF by extension).
    Returns what was drawn (kHz and dB), for tests and JSON."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_plot_path(path)
    nyquist = max(c.sample_rate for c in curves) / 2
    spectra = [c.spectrum(curves[0].sample_rate) for c in curves]  # the first curve's frequency resolution
    first_nyquist = curves[0].sample_rate / 2
    band_edge = next((hz for hz in edges_hz.values() if hz < first_nyquist), first_nyquist)  # the first edge given
    reference = band_level_db(*spectra[0], band_edge)
    drawn: dict = {"reference_db": reference, "curves": {}, "edges_khz": {}, "restored_khz": None}
    fig, ax = plt.subplots(figsize=(9, 4.2), constrained_layout=True)
    for curve, (f, level) in zip(curves, spectra):
        relative = level - reference
        ax.plot(f / 1000, relative, curve.style, lw=1.3, color=curve.color, label=curve.label)
        drawn["curves"][curve.label] = (f / 1000, relative)
    ax.axhline(-GATE_DB, ls=":", lw=1, color="0.4", label=f"{GATE_DB:.0f} dB under the band (the edge's gate)")
    for (label, hz), color in zip(edges_hz.items(), ("C3", "C4", "C5", "C6")):
        if hz >= nyquist:
            continue
        ax.axvline(hz / 1000, ls="--", lw=1.2, color=color, label=f"band edge, {label}: {hz / 1000:.2f} kHz")
        drawn["edges_khz"][label] = hz / 1000
    if restored_hz is not None:
        low, high = (hz / 1000 for hz in restored_hz)
        ax.axvspan(low, high, color="C2", alpha=0.12, label=f"restored: {low:.2f}–{high:.2f} kHz")
        drawn["restored_khz"] = (low, high)
    lowest = min(float(np.percentile(relative, 1)) for _, relative in drawn["curves"].values())
    ax.set(
        xlim=(0, nyquist / 1000),
        ylim=(max(min(lowest - 5, -GATE_DB - 10), -150), 15),
        xlabel="frequency (kHz)",
        ylabel="level re the band (dB)",
    )
    ax.set_title(title, fontsize=9.5)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return drawn
