"""``audioenh bandwidth``: where each file's band ends."""

from __future__ import annotations

from pathlib import Path

import click

from .options import echo_json, json_option, one_line_errors


def _khz(hz: float) -> str:
    return f"{hz / 1000:.2f} kHz" if hz % 1000 else f"{hz / 1000:.0f} kHz"


@click.command("bandwidth")
@click.argument("inputs", metavar="FILE...", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@json_option("Print JSON: one object per file with the edges (Hz) of mid, side, left and right.")
@one_line_errors
def bandwidth(inputs: tuple[Path, ...], as_json: bool):
    """Estimate where each FILE's band ends (its band edge) from its long-term spectrum.

    The edge is where the spectrum falls fastest below a point above which everything lies at least
    30 dB under the band (docs/bandwidth.md); per mid and side, and per channel, since joint-stereo
    codecs narrow the side. "Full band" means nothing is cut below the Nyquist frequency.
    """
    from ..analysis.bandwidth import band_edges
    from ..audio_io import read_audio

    results = []
    for path in inputs:
        audio, sample_rate, _ = read_audio(path)
        edges = band_edges(audio, sample_rate)
        results.append({"file": str(path), **edges.to_dict()})
        if as_json:
            continue
        nyquist = sample_rate / 2
        if edges.full_band:
            head = f"full band (up to {_khz(nyquist)})"
        else:
            head = f"band ends at {_khz(edges.edge)}: {_khz(edges.edge)}–{_khz(nyquist)} is missing"
        others = {name: getattr(edges, name) for name in ("side", "left", "right") if getattr(edges, name)}
        if edges.full_band:  # only what is not full band is worth a word
            others = {name: hz for name, hz in others.items() if hz < nyquist}
        parts = [f"{name} {_khz(hz)}" for name, hz in others.items()]
        click.echo(f"{path}: {head}" + (f" ({', '.join(parts)})" if parts else ""))
    if as_json:
        echo_json(results[0] if len(results) == 1 else results)
