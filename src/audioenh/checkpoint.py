"""Self-describing checkpoints: how to rebuild the model, its weights, and training state.

A checkpoint is a ``torch.save`` dict holding only tensors, numbers, strings, lists and
dicts, so it loads with ``torch.load(weights_only=True)`` — no pickled code is executed.
It is written atomically (:mod:`audioenh.fileio`): a crash leaves the previous checkpoint intact.

Keys (built by :func:`make_checkpoint`, the one place that knows them):

- ``format``: :data:`FORMAT` (older checkpoints say ``audioenh-checkpoint-1`` and still load)
- ``architecture``: the architecture spec with every constructor argument written out (presets
  expanded), what :func:`build_model` rebuilds; ``arch``: the spec as the user gave it (shown in
  tables and messages; checkpoints of format 1 hold only this, partly resolved)
- ``sample_rate`` (Hz), ``audio_channels``
- ``degradations``, ``unseen``: training and unseen degradation chains as given;
  ``resolved_degradations``: the training chains in canonical form
- ``input_level_db`` (optional): the RMS level (dBFS) the network's input is scaled to
  (:mod:`audioenh.evaluation.level`; the bundled models); absent: the input's own level
- ``versions``: ``{"audioenh": version, "plugins": [plugin (package version), ...]}`` of the
  code that wrote it, for information only (loading needs just the architecture's plugin)
- ``model``: the state dict; for training runs also ``optimizer``, ``schedule``, ``iteration``,
  ``rng`` and ``config``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError
from .fileio import atomic_path

try:
    from importlib.resources.abc import Traversable
except ImportError:  # Python 3.10
    from importlib.abc import Traversable

FORMAT = "audioenh-checkpoint-2"
READABLE_FORMATS = ("audioenh-checkpoint-1", FORMAT)
LAST = "last.pt"
RUN_CHECKPOINT = Path("checkpoints") / LAST

#: A checkpoint: a file or run folder path, or a packaged resource (``importlib.resources.files(...)``).
CheckpointSource = str | os.PathLike | Traversable


def make_checkpoint(
    *,
    arch: str,
    architecture: str,
    model: torch.nn.Module,
    sample_rate: int,
    degradations: list[str],
    resolved_degradations: list[str],
    unseen: list[str],
    plugins: list[str],
    **training_state: Any,
) -> dict[str, Any]:
    """The checkpoint dict of ``model`` (see the module docstring); ``training_state`` adds
    ``optimizer``, ``schedule``, ``iteration``, ``rng`` and ``config`` for training runs."""
    from . import __version__

    return {
        "format": FORMAT,
        "arch": arch,
        "architecture": architecture,
        "sample_rate": int(sample_rate),
        "audio_channels": int(getattr(model, "audio_channels", 2)),
        "degradations": list(degradations),
        "resolved_degradations": list(resolved_degradations),
        "unseen": list(unseen),
        "versions": {"audioenh": __version__, "plugins": sorted(set(plugins))},
        "model": model.state_dict(),
        **training_state,
    }


#: training-only entries that an inference checkpoint leaves out
TRAINING_STATE = ("optimizer", "schedule", "rng")


def inference_checkpoint(checkpoint: dict[str, Any], card: dict[str, Any] | None = None) -> dict[str, Any]:
    """``checkpoint`` without its optimizer, schedule and random state (a third of the size for Adam;
    it can no longer be resumed), the model's weights in float32; ``card`` (plain data: how it was
    made, its data's licence, ...) is stored as ``card``."""
    out = {k: v for k, v in checkpoint.items() if k not in TRAINING_STATE}
    out["model"] = {k: v.detach().float().clone() if v.is_floating_point() else v for k, v in out["model"].items()}
    if card is not None:
        out["card"] = dict(card)
    return out


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the format tag, if missing) to ``path`` atomically."""
    data = {"format": FORMAT, **payload}
    with atomic_path(path) as tmp:
        torch.save(data, tmp)


def resolve_checkpoint(source: CheckpointSource) -> Path | Traversable:
    """A checkpoint file, the last checkpoint of a run folder, or a packaged resource."""
    if isinstance(source, Traversable) and not isinstance(source, Path):
        if not source.is_file():
            raise CheckpointError(f"cannot read packaged checkpoint {source.name!r}: it is not in the package")
        return source
    p = Path(source)
    if p.is_dir():
        candidate = p / RUN_CHECKPOINT
        if not candidate.exists():
            raise CheckpointError(f"{str(p)!r} is a directory without checkpoints/{LAST}; is it a training run?")
        return candidate
    if not p.exists():
        raise CheckpointError(f"cannot read checkpoint {str(p)!r}: no such file or run directory")
    return p


def _describe(source: Path | Traversable) -> str:
    return str(source) if isinstance(source, Path) else f"package resource {source.name}"


def load_checkpoint(source: CheckpointSource, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); a corrupt or foreign file gives one clear line."""
    p = resolve_checkpoint(source)
    where = _describe(p)
    try:
        handle = p if isinstance(p, Path) else io.BytesIO(p.read_bytes())
        data = torch.load(handle, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt zip, truncated file, pickled code, ...
        reason = _why_unloadable(p, exc)
        raise CheckpointError(f"cannot load checkpoint {where!r}: not a valid audioenh checkpoint: {reason}") from None
    if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
        raise CheckpointError(
            f"cannot load checkpoint {where!r}: not an audioenh checkpoint (format {FORMAT} expected)"
        )
    for key in ("arch", "model", "sample_rate"):
        if key not in data:
            raise CheckpointError(f"cannot load checkpoint {where!r}: missing {key!r}")
    if "validation" not in data and isinstance(p, Path) and p.parent.name == RUN_CHECKPOINT.parent.name:
        recorded = _recorded_validation(p.parent.parent, data.get("iteration"))
        if recorded is not None:  # a run's checkpoint written before checkpoints kept their validation
            data["validation"] = recorded
    return data


def _recorded_validation(run_dir: Path, iteration: int | None) -> dict[str, Any] | None:
    """The validation scores the run in ``run_dir`` recorded (``metrics.jsonl``) at ``iteration``."""
    from .training.run import Run  # (the run module builds on this one)

    if iteration is None:
        return None
    found = None
    for record in Run(run_dir).records():
        if isinstance(record, dict) and record.get("iteration") == iteration and isinstance(record.get("val"), dict):
            found = record["val"]
    return found


_AUDIO_MAGIC = {b"RIFF": "a WAV", b"fLaC": "a FLAC", b"OggS": "an Ogg", b"ID3": "an MP3", b"FORM": "an AIFF"}


def _why_unloadable(source: Path | Traversable, exc: Exception) -> str:
    """Why ``torch.load`` failed, in words a user can act on (never the internal exception text)."""
    try:
        with source.open("rb") as f:
            head = f.read(4)
    except OSError:
        head = b""
    for magic, kind in _AUDIO_MAGIC.items():
        if head.startswith(magic):
            return f"it is {kind} audio file; give a checkpoint (.pt) or a training run folder"
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "it is an MP3 audio file; give a checkpoint (.pt) or a training run folder"
    if not head.startswith(b"PK"):
        return "the file is not a PyTorch checkpoint"
    if "weights only" in str(exc).lower() or "weights_only" in str(exc).lower():
        return "it holds Python objects, which audioenh never loads (only tensors and plain data are safe)"
    return "the file is damaged or incomplete (an unreadable PyTorch archive)"


def training_degradations(checkpoint: dict[str, Any]) -> list[str]:
    """The degradations the checkpoint's model was trained on (canonical where recorded; may be empty)."""
    return list(checkpoint.get("resolved_degradations") or checkpoint.get("degradations") or [])


def validated_gain_db(checkpoint: dict[str, Any]) -> float | None:
    """The model's ΔSNR (dB) on its validation audio degraded by its training degradations, as last
    recorded in training (``None`` in checkpoints from before it was recorded)."""
    seen = (checkpoint.get("validation") or {}).get("seen")
    if not seen or seen.get("input") is None or seen.get("output") is None:
        return None
    return float(seen["output"]) - float(seen["input"])


def validated_ranges(checkpoint: dict[str, Any]) -> tuple | None:
    """The edge ranges of the training responses the model was validated to restore
    (:mod:`audioenh.evaluation.response_validation`); ``None`` in checkpoints never validated."""
    from .evaluation.response_validation import ranges_of

    return ranges_of(checkpoint.get("response_validation"))


def architecture_of(checkpoint: dict[str, Any]) -> str:
    """The architecture spec to rebuild: the fully resolved one, or ``arch`` in older checkpoints."""
    return str(checkpoint.get("architecture") or checkpoint["arch"])


def build_model(checkpoint: dict[str, Any]) -> torch.nn.Module:
    """Rebuild the checkpoint's model from its architecture spec and load its weights (eval mode); the
    level its input is scaled to, where the checkpoint names one, is its attribute ``input_level_db``
    (:mod:`audioenh.evaluation.level`)."""
    from .evaluation.level import LEVEL_KEY, input_level_db
    from .plugins import architectures

    spec = architecture_of(checkpoint)
    model = architectures().create(spec)
    try:
        model.load_state_dict(checkpoint["model"])
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint weights do not fit architecture {checkpoint['arch']!r}: {first}") from None
    setattr(model, LEVEL_KEY, input_level_db(checkpoint))
    return model.eval()


def load_model(source: CheckpointSource, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load a checkpoint (file, run folder or packaged resource); returns ``(model on device, checkpoint)``."""
    checkpoint = load_checkpoint(source)
    model = build_model(checkpoint).to(device)
    return model, checkpoint
