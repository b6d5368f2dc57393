"""``audioenh metric``: score an estimate against its reference."""

from __future__ import annotations

from pathlib import Path

import click

from ..audio_io import read_audio
from ..errors import AudioenhError
from ..plugins import metrics
from .options import echo_json, json_option, metric_option


@click.command()
@click.argument("reference", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("estimate", type=click.Path(dir_okay=False, path_type=Path))
@metric_option(("snr",), "Metric spec, e.g. snr, lsd or lsd-hf:cutoff=11025. Repeat for several.")
@click.option(
    "--edges",
    "show_edges",
    is_flag=True,
    help="Also estimate where each file's band ends (as `audioenh bandwidth`); JSON gains "
    '"band_edges": {"reference": {...}, "estimate": {...}} in Hz.',
)
@json_option("Print JSON: {metric spec: value}; infinite values are null.")
def metric(reference: Path, estimate: Path, metric_specs: tuple[str, ...], show_edges: bool, as_json: bool):
    """Compare ESTIMATE with REFERENCE (same sample rate, channels and length)."""
    registry = metrics()
    scorers = {spec: registry.create(spec) for spec in metric_specs}
    ref, ref_rate, ref_info = read_audio(reference)
    est, est_rate, est_info = read_audio(estimate)
    if ref_rate != est_rate:
        raise AudioenhError(f"sample rates differ: reference {ref_rate} Hz, estimate {est_rate} Hz")
    if ref_info.channels != est_info.channels:
        raise AudioenhError(f"channel counts differ: reference {ref_info.channels}, estimate {est_info.channels}")
    if ref.shape[-1] != est.shape[-1]:
        raise AudioenhError(f"lengths differ: reference {ref.shape[-1]} samples, estimate {est.shape[-1]} samples")
    results = {}
    for spec, scorer in scorers.items():
        try:
            results[spec] = scorer(ref, est, ref_rate)
        except ValueError as exc:
            raise AudioenhError(f"metric {spec!r}: {exc}") from None
    edges = {}
    if show_edges:
        from ..analysis.bandwidth import band_edges

        edges = {"reference": band_edges(ref, ref_rate).to_dict(), "estimate": band_edges(est, est_rate).to_dict()}
    if as_json:
        echo_json({**results, **({"band_edges": edges} if edges else {})})
        return
    for spec, value in results.items():
        unit = scorers[spec].unit
        direction = "higher is better" if scorers[spec].higher_is_better else "lower is better"
        click.echo(f"{spec:<12} {value:10.4f} {unit}  ({direction})")
    for name, found in edges.items():
        edge = "full band" if found["full_band"] else f"{found['edge'] / 1000:.2f} kHz"
        click.echo(
            f"{'band edge':<12} {edge:>14}  ({name}; side {found['side'] / 1000:.2f} kHz)"
            if found.get("side") is not None
            else f"{'band edge':<12} {edge:>14}  ({name})"
        )
