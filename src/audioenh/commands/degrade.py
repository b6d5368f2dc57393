"""``audioenh degrade``: apply degradations to an audio file."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ..audio_io import probe_audio, read_audio, same_file, write_audio
from ..degradations.chain import DegradationSampler, resolve_degradations
from ..errors import AudioenhError
from .options import degrade_option, one_line_errors, output_option, seed_option


def build_samplers(specs: tuple[str, ...], sample_rate: int = 44100) -> list[DegradationSampler]:
    """One sampler per ``--degrade`` (each may be a chain ``a+b`` or hold ranges), checked at
    ``sample_rate`` (Hz); sets are refused here."""
    resolved = resolve_degradations(specs, sample_rate, allow_sets=False)
    return [DegradationSampler(d.text, sample_rate) for d in resolved]


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@output_option("Output file; its extension picks the format. Never the input file.", dir_okay=False)
@degrade_option(
    "Degradation spec, e.g. cheby1:6 or butter:order=6,cutoff=11025. Repeat (or join with +) to chain "
    "in order; ranges such as order=4..12 are drawn with --seed.",
)
@seed_option()
@one_line_errors
def degrade(input_path: Path, output: Path, specs: tuple[str, ...], seed: int):
    """Degrade INPUT and write the result to OUTPUT.

    The output keeps the input's sample rate, channel count and sample format
    (float in, float out) where the output format allows it.
    """
    if same_file(input_path, output):
        raise AudioenhError(f"refusing to overwrite the input {str(input_path)!r}; choose another --output")
    samplers = build_samplers(specs, probe_audio(input_path).sample_rate)
    audio, sample_rate, info = read_audio(input_path)
    rng = np.random.default_rng(seed)
    applied = []
    try:
        for sampler in samplers:
            audio, concrete = sampler.degrade(audio, sample_rate, rng)
            applied.append(concrete)
    except ValueError as exc:
        raise AudioenhError(f"cannot degrade {str(input_path)!r}: {exc}") from None
    write_audio(output, audio, sample_rate, subtype=info.subtype)
    frames = f"{audio.shape[-1]} sample{'' if audio.shape[-1] == 1 else 's'}"
    click.echo(f"wrote {output} ({info.channels} ch, {sample_rate} Hz, {frames}; {'+'.join(applied)})", err=True)
