"""``audioenh degrade``: apply degradations to an audio file."""

from __future__ import annotations

from pathlib import Path

import click

from ..audio_io import read_audio, same_file, write_audio
from ..degradations import apply_chain
from ..errors import AudioenhError, SpecError
from ..plugins import degradations


def build_chain(specs: tuple[str, ...]):
    """Create the degradations named by ``specs`` (applied in order); sets are refused here."""
    registry = degradations()
    chain = []
    for text in specs:
        name = text.split(":", 1)[0].strip().lower()
        if name in registry.sets():
            raise SpecError(
                f"{name!r} is a set of alternatives ({', '.join(registry.sets()[name])}) used for training; "
                "'degrade' applies one chain, give its members one by one"
            )
        chain.append(registry.create(text))
    return chain


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
    help="Degradation spec, e.g. cheby1:6 or butter:order=6,cutoff=11025. Repeat to chain in order.",
)
def degrade(input_path: Path, output_path: Path, specs: tuple[str, ...]):
    """Degrade INPUT and write the result to OUTPUT.

    The output keeps the input's sample rate, channel count and sample format
    (float in, float out) where the output format allows it.
    """
    if same_file(input_path, output_path):
        raise AudioenhError(f"refusing to overwrite the input {str(input_path)!r}; choose another --output")
    chain = build_chain(specs)
    audio, sample_rate, info = read_audio(input_path)
    try:
        out = apply_chain(chain, audio, sample_rate)
    except ValueError as exc:
        raise AudioenhError(f"cannot degrade {str(input_path)!r}: {exc}") from None
    write_audio(output_path, out, sample_rate, subtype=info.subtype)
    click.echo(f"wrote {output_path} ({info.channels} ch, {sample_rate} Hz, {out.shape[-1]} samples)", err=True)
