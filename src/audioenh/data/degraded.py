"""Whole songs degraded once, kept on disk, and cut into training chunks.

A training chunk of a fixed degradation (no ranges, nothing random: e.g. ``cheby1:6`` or
``ellip:12``) is the same samples of the whole degraded song, exactly as at test time. Degrading
each chunk with its context costs far more than the chunk: ``ellip:12`` needs about 70,000 samples
of context on each side of a 2048-sample chunk. So each (song, degradation) pair is degraded once,
whole, written to the cache as a float32 ``.npy`` file (atomically; several DataLoader workers may
race to make the same file, and the last complete one wins), and memory-mapped by every worker.
The operating system's page cache shares it between workers and runs.

The file name depends on the song's identity (path, size, modification time), the degradation's
canonical spec and :data:`CACHE_VERSION`; bump the version when a degradation's output changes.
Disk use is bounded by :func:`cache_budget_bytes`: a run caches no more than that (beyond it, chunks
are degraded one by one), and before a new file is written the least recently used files of
earlier runs are deleted until the whole folder fits it too (:func:`make_room`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import __version__
from ..fileio import atomic_path
from .corpus import SAMPLE_RATE, Song, _cache_root

CACHE_VERSION = 1
FOLDER = "degraded"  # the cache root's sub-folder of degraded songs
BUDGET_ENV = "AUDIOENH_DEGRADED_CACHE_GB"
DEFAULT_BUDGET_GB = 16.0


def cache_budget_bytes() -> int:
    """Disk the degraded-song cache may use, for one training run and in all:
    ``$AUDIOENH_DEGRADED_CACHE_GB`` (GB; 0 turns the cache off), else 16 GB."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    try:
        gigabytes = float(text) if text else DEFAULT_BUDGET_GB
    except ValueError:
        gigabytes = DEFAULT_BUDGET_GB
    return int(max(gigabytes, 0.0) * 1e9)


def song_bytes(song: Song) -> int:
    """Bytes of one degraded copy of ``song`` (stereo float32 at 44.1 kHz)."""
    return int(song.frames_at_rate) * 2 * 4


def degraded_path(song: Song, spec: str) -> Path:
    """Where ``song`` degraded by the canonical ``spec`` is cached."""
    st = song.path.stat()
    key = "|".join(
        str(v) for v in (song.path.resolve(), st.st_size, st.st_mtime_ns, SAMPLE_RATE, spec, __version__, CACHE_VERSION)
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", song.path.stem)[:60] or "song"
    return _cache_root(song.cache_dir) / FOLDER / f"{stem}-{digest}.npy"


#: the files this process has opened: never deleted by it to make room
_in_use: set[str] = set()


@functools.lru_cache(maxsize=512)  # e.g. 16 songs x 30 drawn filters
def _open(path: str) -> np.ndarray:
    _in_use.add(path)
    with contextlib.suppress(OSError):  # marks it used for make_room (best effort: a read-only cache)
        os.utime(path)
    return np.load(path, mmap_mode="r")


def make_room(folder: Path, incoming: int, budget: int | None = None) -> int:
    """Delete the least recently used cached songs in ``folder`` (oldest modification time first;
    opening one marks it used) that this process has not opened, until the folder's ``.npy`` files
    and ``incoming`` bytes fit ``budget`` (default :func:`cache_budget_bytes`). Files another process
    deletes meanwhile, or that cannot be deleted, are skipped. Returns the bytes freed."""
    budget = cache_budget_bytes() if budget is None else budget
    files = []
    for path in folder.glob("*.npy"):
        with contextlib.suppress(OSError):
            st = path.stat()
            files.append((st.st_mtime_ns, st.st_size, path))
    excess = sum(size for _, size, _ in files) + incoming - budget
    freed = 0
    for _, size, path in sorted(files, key=lambda f: f[0]):
        if freed >= excess:
            break
        if str(path) in _in_use:
            continue
        try:
            path.unlink()
        except OSError:
            continue
        freed += size
    return freed


def degraded_song(song: Song, spec: str, degrade: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """``song`` degraded whole by ``degrade`` (a deterministic chain whose canonical spec is ``spec``),
    as a read-only (samples, 2) float32 memory map; made on first use."""
    path = degraded_path(song, spec)
    if not path.is_file():
        make_room(path.parent, song_bytes(song))
        audio = song.read()
        out = np.ascontiguousarray(degrade(audio, SAMPLE_RATE).T, dtype=np.float32)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, out)
    return _open(str(path))
