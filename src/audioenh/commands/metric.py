"""``audioenh metric``: score an estimate against its reference."""

from __future__ import annotations

from pathlib import Path

import click

from ..audio_io import read_audio
from ..errors import AudioenhError
from ..plugins import metrics
from .options import echo_json, json_option


@click.command()
@click.argument("reference", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("estimate", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-m",
    "--metric",
    "specs",
    multiple=True,
    default=("snr",),
    show_default=True,
    metavar="SPEC",
    help="Metric spec, e.g. snr, lsd or lsd-hf:cutoff=11025. Repeat for several.",
)
@json_option("Print JSON: {metric spec: value}; infinite values are null.")
def metric(reference: Path, estimate: Path, specs: tuple[str, ...], as_json: bool):
    """Compare ESTIMATE with REFERENCE (same sample rate, channels and length)."""
    registry = metrics()
    scorers = {spec: registry.create(spec) for spec in specs}
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
    if as_json:
        echo_json(results)
        return
    for spec, value in results.items():
        unit = scorers[spec].unit
        direction = "higher is better" if scorers[spec].higher_is_better else "lower is better"
        click.echo(f"{spec:<12} {value:10.4f} {unit}  ({direction})")
