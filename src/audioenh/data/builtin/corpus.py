"""Built-in corpora on disk: song seeds, the train/val/test split, writing and caching.

:func:`write_corpus` renders songs with :func:`.song.generate_song` (in one process per core: each
song depends on its own seed only) into ``out_dir``/{train,val,test}/song-NNN.flac (44.1 kHz stereo,
24-bit FLAC) plus ``corpus.json``;
:func:`ensure_builtin_corpus` keeps one such corpus per setting under the cache folder
(:func:`audioenh.cache.default_cache_dir`).
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import soundfile as sf

from ...cache import cache_subdir
from ...errors import AudioenhError
from ...fileio import atomic_path, write_json
from ...parallel import usable_cores
from .song import GENERATOR_VERSION, SAMPLE_RATE, generate_song

#: corpora with less audio than this (s, all songs together) are rendered in the calling process
PARALLEL_MIN_SECONDS = 60.0


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
        jobs = [(song_seed(seed, i), float(seconds), tmp / rel) for i, rel in enumerate(files)]
        workers = render_processes(len(jobs), float(seconds))
        with tqdm(total=len(jobs), desc="built-in corpus", unit="song", disable=not progress, file=sys.stderr) as bar:
            if workers == 1:
                for job in jobs:
                    render_song_file(*job)
                    bar.update(1)
            else:  # songs are independent (each from its own seed): the same files, in parallel
                with ProcessPoolExecutor(workers, mp_context=_process_context()) as pool:
                    for _ in pool.map(render_song_file, *zip(*jobs)):
                        bar.update(1)
        write_json(tmp / "corpus.json", manifest)
    return manifest


def render_processes(songs: int, seconds: float) -> int:
    """Processes :func:`write_corpus` renders ``songs`` songs of ``seconds`` s with: one per usable core
    (at most one per song), or 1 for corpora under :data:`PARALLEL_MIN_SECONDS` of audio, where
    starting processes costs more than it saves."""
    if songs * seconds < PARALLEL_MIN_SECONDS:
        return 1
    return max(1, min(songs, usable_cores()))


def _process_context():
    """Forked processes where the platform has them (Linux: no second import, and a script that builds
    the corpus needs no ``if __name__ == "__main__"`` guard; PyTorch's DataLoader forks alike),
    spawned ones elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and sys.platform == "linux" else "spawn")


def render_song_file(song_seed: int, seconds: float, path: Path) -> None:
    """Render the song of ``song_seed`` (``seconds`` s) to ``path`` as 44.1 kHz stereo 24-bit FLAC."""
    audio = generate_song(song_seed, seconds, SAMPLE_RATE)
    sf.write(path, audio.T, SAMPLE_RATE, format="FLAC", subtype="PCM_24")


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
