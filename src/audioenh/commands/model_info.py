"""``audioenh model-info``: parameters and multiply-accumulates of an architecture."""

from __future__ import annotations

import click
import torch

from ..architectures import count_macs, count_parameters
from ..plugins import architectures
from .options import echo_json, json_option


@click.command("model-info")
@click.option(
    "-a", "--arch", "spec", required=True, metavar="SPEC", help="Architecture spec, e.g. unet or resnet:dropout=0.5."
)
@click.option("--batch", default=8, show_default=True, type=click.IntRange(min=1), help="Batch size for the MAC count.")
@click.option(
    "--samples",
    default=8192,
    show_default=True,
    type=click.IntRange(min=1),
    help="Samples per channel for the MAC count.",
)
@click.option("--channels", default=2, show_default=True, type=click.IntRange(min=1), help="Audio channels.")
@json_option('Print JSON: {"params": int, "macs": float}.')
def model_info(spec: str, batch: int, samples: int, channels: int, as_json: bool):
    """Parameter count and MACs of one forward pass over BATCH x CHANNELS x SAMPLES.

    MACs count convolution multiply-accumulates without bias additions (the paper's Table IV:
    415.3 G for the U-Net and 3608.3 G for the ResNet on 8 x 2 x 8192).
    """
    registry = architectures()
    registry.bind(spec)  # unknown names and bad arguments fail here, before any work
    with torch.device("meta"):
        params = count_parameters(_build(registry, spec, channels))
    macs = count_macs(lambda: _build(registry, spec, channels), batch=batch, channels=channels, samples=samples)
    if as_json:
        echo_json({"params": params, "macs": macs})
        return
    per_second = macs / (batch * samples) * 44100
    click.echo(f"architecture   {registry.canonical(spec)}")
    click.echo(f"parameters     {params:,}")
    click.echo(f"MACs           {macs / 1e9:.1f} G for {batch} x {channels} x {samples} samples")
    click.echo(f"MACs / second  {per_second / 1e9:.1f} G per second of 44.1 kHz audio")


def _build(registry, spec: str, channels: int):
    if channels != 2:
        return registry.create(spec, audio_channels=channels)
    return registry.create(spec)
