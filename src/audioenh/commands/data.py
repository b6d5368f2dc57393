"""``audioenh data``: make and inspect corpora."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import AudioenhError


@click.group("data")
def data():
    """Make and inspect corpora."""


@data.command("builtin")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to create; it must not exist or be empty.",
)
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
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Corpus seed; song i is generated from (seed, i).",
)
def builtin(out_dir: Path, songs: int, seconds: float, seed: int):
    """Generate the built-in procedural music corpus into OUT.

    Writes OUT/train, OUT/val and OUT/test with 44.1 kHz stereo 24-bit FLAC files
    (song-000.flac, ...) and OUT/corpus.json describing them. The same settings always
    give the same audio.
    """
    from ..data.builtin import write_corpus

    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise AudioenhError(f"{str(out_dir)!r} exists and is not empty; choose a new --out directory")
    manifest = write_corpus(out_dir, songs=songs, seconds=seconds, seed=seed, progress=True)
    counts = {name: len(files) for name, files in manifest["splits"].items()}
    click.echo(
        f"wrote {songs} songs ({counts['train']} train, {counts['val']} val, {counts['test']} test) "
        f"of {seconds:g} s to {out_dir}"
    )
