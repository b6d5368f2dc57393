"""Self-describing checkpoints: how to rebuild the model, its weights, and training state.

A checkpoint is a ``torch.save`` dict holding only tensors, numbers, strings, lists and
dicts, so it loads with ``torch.load(weights_only=True)`` — no pickled code is executed.
It is written atomically (temporary file, fsync, rename): a crash leaves the previous
checkpoint intact.

Keys: ``format`` (:data:`FORMAT`), ``arch`` (canonical architecture spec), ``sample_rate`` (Hz),
``audio_channels``, ``degradations`` (training specs), ``model`` (state dict), and for training
runs ``optimizer``, ``schedule``, ``iteration``, ``rng`` and ``config``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError

FORMAT = "audioenh-checkpoint-1"
LAST = "last.pt"


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = {"format": FORMAT, **payload}
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(data, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A checkpoint file, or the last checkpoint of a run directory."""
    p = Path(path)
    if p.is_dir():
        candidate = p / "checkpoints" / LAST
        if not candidate.exists():
            raise CheckpointError(f"{str(p)!r} is a directory without checkpoints/{LAST}; is it a training run?")
        return candidate
    if not p.exists():
        raise CheckpointError(f"cannot read checkpoint {str(p)!r}: no such file or run directory")
    return p


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); a corrupt or foreign file gives one clear line."""
    p = resolve_checkpoint(path)
    try:
        data = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, pickled code, ...
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise CheckpointError(
            f"cannot load checkpoint {str(p)!r}: not a valid audioenh checkpoint ({reason})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(
            f"cannot load checkpoint {str(p)!r}: not an audioenh checkpoint (format {FORMAT} expected)"
        )
    for key in ("arch", "model", "sample_rate"):
        if key not in data:
            raise CheckpointError(f"cannot load checkpoint {str(p)!r}: missing {key!r}")
    return data


def build_model(checkpoint: dict[str, Any]) -> torch.nn.Module:
    """Rebuild the checkpoint's model from its architecture spec and load its weights (eval mode)."""
    from .plugins import architectures

    model = architectures().create(checkpoint["arch"])
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint weights do not fit architecture {checkpoint['arch']!r}: {first}") from None
    return model.eval()


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load a checkpoint (file or run directory) and return ``(model on device, checkpoint dict)``."""
    checkpoint = load_checkpoint(path)
    model = build_model(checkpoint).to(device)
    return model, checkpoint
