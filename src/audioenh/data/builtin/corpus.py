"""Built-in corpora on disk: song seeds, the train/val/test split, writing and caching.

:func:`write_corpus` renders songs with :func:`.song.generate_song` into
``out_dir``/{train,val,test}/song-NNN.flac (44.1 kHz stereo, 24-bit FLAC) plus ``corpus.json``;
:func:`ensure_builtin_corpus` keeps one such corpus per setting under the cache folder
(:func:`audioenh.cache.default_cache_dir`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from ...cache import cache_subdir
from ...errors import AudioenhError
from ...fileio import atomic_path, write_json
from .song import GENERATOR_VERSION, SAMPLE_RATE, generate_song


def song_seed(seed: int, index: int) -> int:
    """The seed of song ``index`` of the corpus of ``seed``: independent of how many songs the corpus has."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)[0] >> 1)


def split_counts(songs: int) -> tuple[int, int, int]:
    """(train, val, test) song counts: about 2/3, 1/6, 1/6 with at least one each (24 -> 16, 4, 4)."""
    if songs < 3:
        raise ValueError(f"a corpus needs at least 3 songs (one per split), got {songs}")
    val = test = max(1, round(songs / 6))
    return songs - val - test, val, test


def write_corpus(out_dir, songs: int = 24, seconds: float = 16.0, seed: int = 0, progress: bool = True) -> dict:
    """Generate ``songs`` songs of ``seconds`` s into ``out_dir``/{train,val,test}/song-NNN.flac.

    Files are 44.1 kHz stereo FLAC (PCM_24). Songs 0..train-1 go to train, the next ones to val,
    the last ones to test (see :func:`split_counts`); song i uses :func:`song_seed` (seed, i).
    Everything, corpus.json last, is built in a temporary sibling directory renamed into place at
    the end (:func:`audioenh.fileio.atomic_path`), so an interrupted run leaves no partial corpus.
    ``out_dir`` must not exist or be an empty directory. Returns the manifest also written to
    ``out_dir``/corpus.json.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AudioenhError(f"{str(out)!r} already exists and is not an empty directory")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    counts = split_counts(int(songs))
    names = ("train", "val", "test")
    bounds = np.cumsum((0,) + counts)
    splits = {
        name: [f"{name}/song-{i:03d}.flac" for i in range(bounds[k], bounds[k + 1])] for k, name in enumerate(names)
    }
    manifest = {
        "generator": "audioenh.data.builtin",
        "generator_version": GENERATOR_VERSION,
        "songs": int(songs),
        "seconds": float(seconds),
        "seed": int(seed),
        "sample_rate": SAMPLE_RATE,
        "channels": 2,
        "format": "FLAC",
        "subtype": "PCM_24",
        "splits": splits,
        "song_seeds": {f"song-{i:03d}": song_seed(seed, i) for i in range(int(songs))},
    }
    with atomic_path(out, directory=True) as tmp:
        for name in names:
            (tmp / name).mkdir()
        files = [f for name in names for f in splits[name]]
        bar = tqdm(files, desc="built-in corpus", unit="song", disable=not progress, file=sys.stderr)
        for i, rel in enumerate(bar):
            audio = generate_song(song_seed(seed, i), seconds, SAMPLE_RATE)
            sf.write(tmp / rel, audio.T, SAMPLE_RATE, format="FLAC", subtype="PCM_24")
        write_json(tmp / "corpus.json", manifest)
    return manifest


def ensure_builtin_corpus(
    songs: int = 24, seconds: float = 16.0, seed: int = 0, cache_dir=None, progress: bool = True
) -> Path:
    """Return the cached built-in corpus directory for these settings, generating it on first use.

    The directory is ``cache_dir``/builtin-v{GENERATOR_VERSION}-s{seed}-n{songs}-t{seconds:g}
    (``cache_dir`` defaults to :func:`audioenh.cache.default_cache_dir`); it counts as present
    once its corpus.json exists (written last, then renamed into place).
    """
    path = cache_subdir(f"builtin-v{GENERATOR_VERSION}-s{seed}-n{songs}-t{seconds:g}", cache_dir)
    if (path / "corpus.json").is_file():
        return path
    if path.is_dir() and not (path / "corpus.json").exists() and not any(path.iterdir()):
        path.rmdir()
    try:
        write_corpus(path, songs=songs, seconds=seconds, seed=seed, progress=progress)
    except (AudioenhError, OSError):
        if (path / "corpus.json").is_file():  # another process finished it first
            return path
        raise
    return path
