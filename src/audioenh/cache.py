"""Where audioenh caches what it generates or downloads: corpora, resampled audio, weights.

The cache root is ``$AUDIOENH_CACHE`` when set, else ``~/.cache/audioenh``; each user of the
cache keeps its files in a named sub-folder (or file) of that root.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The cache root: ``$AUDIOENH_CACHE`` or ``~/.cache/audioenh`` (``~`` expanded; not created)."""
    return Path(os.environ.get("AUDIOENH_CACHE", str(Path.home() / ".cache" / "audioenh"))).expanduser()


def cache_subdir(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``/``name``, with ``cache_dir`` defaulting to :func:`default_cache_dir` (not created)."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / name
