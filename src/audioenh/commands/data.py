"""``audioenh data``: make and inspect corpora."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import AudioenhError
from .options import one_line_errors, output_option, quiet_option, seed_option


@click.group("data")
def data():
    """Make and inspect corpora."""


@data.command("builtin")
@output_option("Folder to create; it must not exist or be empty.", file_okay=False)
@click.option(
    "--songs",
    default=24,
    show_default=True,
    type=click.IntRange(min=3),
    help="Number of songs (about 2/3 train, 1/6 val, 1/6 test; at least one each).",
)
@click.option(
    "--seconds",
    default=16.0,
    show_default=True,
    type=click.FloatRange(min=0.0, min_open=True),
    help="Length of each song in seconds.",
)
@seed_option("Corpus seed; song i is generated from (seed, i).")
@quiet_option
@one_line_errors
def builtin(output: Path, songs: int, seconds: float, seed: int, quiet: bool):
    """Generate the built-in procedural music corpus into OUTPUT.

    Writes OUTPUT/train, OUTPUT/val and OUTPUT/test with 44.1 kHz stereo 24-bit FLAC files
    (song-000.flac, ...) and OUTPUT/corpus.json describing them. The same settings always
    give the same audio.
    """
    from ..data.builtin import write_corpus

    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise AudioenhError(f"{str(output)!r} exists and is not empty; choose a new --output folder")
    manifest = write_corpus(output, songs=songs, seconds=seconds, seed=seed, progress=not quiet)
    counts = {name: len(files) for name, files in manifest["splits"].items()}
    click.echo(
        f"wrote {songs} songs ({counts['train']} train, {counts['val']} val, {counts['test']} test) "
        f"of {seconds:g} s to {output}"
    )
