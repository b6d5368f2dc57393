"""``audioenh bandwidth``: where each file's band ends."""

from __future__ import annotations

from pathlib import Path

import click

from .options import echo_json, json_option, one_line_errors, plot_option


def _khz(hz: float) -> str:
    return f"{hz / 1000:.2f} kHz" if hz % 1000 else f"{hz / 1000:.0f} kHz"


@click.command("bandwidth")
@click.argument("inputs", metavar="FILE...", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option("Print JSON: one object per file with the edges (Hz) of mid, side, left and right.")
@plot_option(
    "Also draw each file's long-term spectrum (mid and side) with its band edges: a .png, .svg or "
    ".pdf file for one FILE, a folder for several (FILE's name .png in it)."
)
@one_line_errors
def bandwidth(inputs: tuple[Path, ...], as_json: bool, plot: Path | None):
    """Estimate where each FILE's band ends (its band edge) from its long-term spectrum.

    The edge is where the spectrum falls fastest below a point above which everything lies at least
    30 dB under the band (docs/bandwidth.md); per mid and side, and per channel, since joint-stereo
    codecs narrow the side. "Full band" means nothing is cut below the Nyquist frequency.
    """
    from ..analysis.bandwidth import band_edges
    from ..analysis.spectrum_plot import plot_paths
    from ..audio_io import read_audio

    plots = plot_paths(inputs, plot) if plot is not None else [None] * len(inputs)
    results = []
    for path, plot_path in zip(inputs, plots):
        audio, sample_rate, _ = read_audio(path)
        edges = band_edges(audio, sample_rate)
        results.append({"file": str(path), **edges.to_dict()})
        nyquist = sample_rate / 2
        if edges.full_band:
            head = f"full band (up to {_khz(nyquist)})"
        else:
            head = f"band ends at {_khz(edges.edge)}: {_khz(edges.edge)}–{_khz(nyquist)} is missing"
        if plot_path is not None:
            _plot(plot_path, path, audio, sample_rate, edges, head)
            results[-1]["plot"] = str(plot_path)
        if as_json:
            continue
        others = {name: getattr(edges, name) for name in ("side", "left", "right") if getattr(edges, name)}
        if edges.full_band:  # only what is not full band is worth a word
            others = {name: hz for name, hz in others.items() if hz < nyquist}
        parts = [f"{name} {_khz(hz)}" for name, hz in others.items()]
        click.echo(f"{path}: {head}" + (f" ({', '.join(parts)})" if parts else ""))
    if as_json:
        echo_json(results[0] if len(results) == 1 else results)


def _plot(plot_path: Path, path: Path, audio, sample_rate: int, edges, head: str) -> None:
    """One file's mid (and side) spectrum with its band edges."""
    from ..analysis.spectrum_plot import Curve, spectrum_plot

    curves = [Curve("mid", audio, sample_rate, color="C0")]
    marked = {"mid": edges.mid}
    if audio.shape[0] == 2:
        curves.append(Curve("side", (audio[0] - audio[1]) / 2, sample_rate, color="C1"))
        marked["side"] = edges.side
    spectrum_plot(plot_path, curves, marked, f"{path.name}: {head}")
    click.echo(f"plotted {path} to {plot_path}", err=True)
