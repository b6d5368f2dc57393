"""Safe mode's training responses kept on disk between processes.

Measuring a model's training degradations on white noise
(:func:`~audioenh.evaluation.crossover.training_responses`) takes about 0.4 s per model (3 s for
the bundled bank of nine), on every ``enhance`` call. The result is a pure function of the specs,
the sample rate and the code, so it is stored under ``$AUDIOENH_CACHE/responses/`` (see
:mod:`audioenh.cache`), keyed by a hash of the specs, the sample rate, the source of the installed
audioenh package, the installed plugin distributions and the numpy and scipy versions: any code
change measures anew. A missing, unreadable or corrupt entry is measured again; a cache that
cannot be written is not an error.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import cache_subdir
from ..fileio import atomic_path

FORMAT = "audioenh-responses-1"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every ``.py`` file of the audioenh package, the plugin distributions loaded and the
    numpy and scipy versions."""
    import scipy

    from .. import plugins

    plugins.get_plugin_manager()  # fills the plugin distributions
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    extra = [np.__version__, scipy.__version__, *sorted(str(d) for d in plugins._DISTS.values())]
    digest.update(json.dumps(extra).encode())
    return digest.hexdigest()


def entry_path(specs: Sequence[str], sample_rate: int, settings: dict[str, Any]) -> Path:
    """The cache file of one ``training_responses`` call."""
    key = json.dumps([FORMAT, list(specs), int(sample_rate), settings, code_fingerprint()], sort_keys=True)
    return cache_subdir("responses") / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".npz")


def load(path: Path, build: Callable[..., Any]) -> tuple | None:
    """The responses stored at ``path`` (``build(spec, freqs, response_db, edge_hz, edge_range_hz)``
    makes each), or ``None`` when there is no readable entry."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                return None
            freqs = data["freqs"]
            return tuple(
                build(str(spec), freqs, response, float(edge), (float(low), float(high)))
                for spec, response, edge, (low, high) in zip(
                    data["specs"], data["responses"], data["edges"], data["edge_ranges"]
                )
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None


def store(path: Path, responses: Sequence[Any]) -> None:
    """Write ``responses`` (objects with ``spec``, ``freqs``, ``response_db``, ``edge_hz`` and
    ``edge_range_hz``) to ``path`` atomically; a cache that cannot be written is skipped."""
    if not responses:
        return
    try:
        with atomic_path(path, fsync=False) as temporary, open(temporary, "wb") as out:
            np.savez(
                out,
                format=np.array(FORMAT),
                freqs=responses[0].freqs,
                specs=np.array([r.spec for r in responses]),
                responses=np.stack([r.response_db for r in responses]),
                edges=np.array([r.edge_hz for r in responses], dtype=np.float64),
                edge_ranges=np.array([r.edge_range_hz for r in responses], dtype=np.float64),
            )
    except OSError:
        pass
