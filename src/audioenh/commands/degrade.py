"""``audioenh degrade``: apply degradations to an audio file."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..audio_io import read_audio, same_file, write_audio
from ..degradations.chain import DegradationSampler
from ..errors import AudioenhError, SpecError
from ..plugins import degradations


def build_samplers(specs: tuple[str, ...]) -> list[DegradationSampler]:
    """One sampler per ``--degrade`` (each may be a chain ``a+b`` or hold ranges); sets are refused here."""
    registry = degradations()
    samplers = []
    for text in specs:
        name = text.split(":", 1)[0].split("+", 1)[0].strip().lower()
        if name in registry.sets():
            raise SpecError(
                f"{name!r} is a set of alternatives ({', '.join(registry.sets()[name])}) used for training; "
                "'degrade' applies one chain, give its members one by one"
            )
        samplers.append(DegradationSampler(text))
    return samplers


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file; its extension picks the format. Never the input file.",
)
@click.option(
    "-d",
    "--degrade",
    "specs",
    required=True,
    multiple=True,
    metavar="SPEC",
    help="Degradation spec, e.g. cheby1:6 or butter:order=6,cutoff=11025. Repeat (or join with +) to chain "
    "in order; ranges such as order=4..12 are drawn with --seed.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed for random degradations and ranges."
)
def degrade(input_path: Path, output_path: Path, specs: tuple[str, ...], seed: int):
    """Degrade INPUT and write the result to OUTPUT.

    The output keeps the input's sample rate, channel count and sample format
    (float in, float out) where the output format allows it.
    """
    if same_file(input_path, output_path):
        raise AudioenhError(f"refusing to overwrite the input {str(input_path)!r}; choose another --output")
    samplers = build_samplers(specs)
    audio, sample_rate, info = read_audio(input_path)
    rng = np.random.default_rng(seed)
    applied = []
    try:
        for sampler in samplers:
            audio, concrete = sampler.degrade(audio, sample_rate, rng)
            applied.append(concrete)
    except ValueError as exc:
        raise AudioenhError(f"cannot degrade {str(input_path)!r}: {exc}") from None
    write_audio(output_path, audio, sample_rate, subtype=info.subtype)
    click.echo(
        f"wrote {output_path} ({info.channels} ch, {sample_rate} Hz, {audio.shape[-1]} samples; {'+'.join(applied)})",
        err=True,
    )
