"""Models shipped inside the package: ``audioenh enhance INPUT -o OUT`` needs no checkpoint.

Each bundled model is an inference checkpoint (:func:`audioenh.checkpoint.inference_checkpoint`:
weights, architecture, training degradations and validation, no optimizer state) stored as
package data next to this file, and loaded like any checkpoint (``weights_only``, no code runs).
Its ``card`` entry says how it was trained, on what data and under which licence
(``audioenh model-info NAME``, docs/model.md). ``tools/train_bundled_model.py`` rebuilds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CheckpointError

if TYPE_CHECKING:
    from ..checkpoint import Traversable

#: file suffixes taken for PyTorch checkpoints (``enhance``'s optional first argument, ``--model``)
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


@dataclass(frozen=True)
class BundledModel:
    """A model in the package: its name (what ``--model`` takes) and file."""

    name: str
    filename: str
    summary: str

    @property
    def resource(self) -> Traversable:
        """The packaged checkpoint file."""
        return resources.files(__name__) / self.filename


#: every bundled model, by name
BUNDLED: dict[str, BundledModel] = {
    m.name: m
    for m in (
        BundledModel(
            "resnet-da",
            "resnet-da.pt",
            "small ResNet (16 channels, 6 blocks) trained on the paper's eight filters (paper-multi) at 11025 Hz",
        ),
        BundledModel(
            "resnet-11k-cheby1",
            "resnet-11k-cheby1.pt",
            "small ResNet trained on Chebyshev I (orders 6-12) and steep Butterworth low-passes at 11025 Hz",
        ),
        BundledModel(
            "resnet-11k-cheby2",
            "resnet-11k-cheby2.pt",
            "small ResNet trained on Chebyshev II and elliptic low-passes (orders 4-12) at 11025 Hz",
        ),
        BundledModel("resnet-8k", "resnet-8k.pt", "small ResNet trained on steep low-passes of four families at 8 kHz"),
        BundledModel(
            "resnet-12k", "resnet-12k.pt", "small ResNet trained on steep low-passes of four families at 12 kHz"
        ),
        BundledModel(
            "resnet-13k", "resnet-13k.pt", "small ResNet trained on steep low-passes of four families at 13 kHz"
        ),
        BundledModel(
            "resnet-14k", "resnet-14k.pt", "small ResNet trained on steep low-passes of four families at 14.5 kHz"
        ),
        BundledModel(
            "resnet-16k", "resnet-16k.pt", "small ResNet trained on Chebyshev I and elliptic low-passes at 16 kHz"
        ),
        BundledModel(
            "resnet-16k-cheby2",
            "resnet-16k-cheby2.pt",
            "small ResNet trained on Chebyshev II low-passes (orders 4-12) at 16 kHz",
        ),
        BundledModel(
            "resnet-gentle",
            "resnet-gentle.pt",
            "small ResNet trained on gentle low-passes (Butterworth 4-6, Chebyshev I 4-5) at 8-16 kHz",
        ),
    )
}


@dataclass(frozen=True)
class BundledBank:
    """Several bundled models used as one (``--model NAME``): per input, the one safe mode trusts most
    (:mod:`audioenh.evaluation.selection`); the first is used when none is trusted."""

    name: str
    members: tuple[str, ...]
    summary: str


#: every bundled bank, by name
BANKS: dict[str, BundledBank] = {
    b.name: b
    for b in (
        BundledBank(
            "auto",
            (
                "resnet-11k-cheby1",
                "resnet-11k-cheby2",
                "resnet-8k",
                "resnet-12k",
                "resnet-13k",
                "resnet-14k",
                "resnet-16k",
                "resnet-16k-cheby2",
                "resnet-gentle",
            ),
            "per input, the bundled model whose training band limits match the input's best",
        ),
    )
}
#: what ``enhance`` uses when no model is named
DEFAULT = "auto"


def bundled(name: str) -> BundledModel:
    """The bundled model called ``name``; unknown names (or a model missing from the install) fail in one line."""
    model = BUNDLED.get(name)
    if model is None:
        raise CheckpointError(f"no bundled model is called {name!r}; bundled: {', '.join(BUNDLED)}")
    if not model.resource.is_file():
        raise CheckpointError(
            f"the bundled model {name!r} is missing from this installation ({model.filename}); reinstall audioenh"
        )
    return model


def bank(reference: str | os.PathLike | None) -> BundledBank | None:
    """The bundled bank ``reference`` names: ``None`` → the default (:data:`DEFAULT`); a bank's name,
    unless a file or folder of that name exists (a path wins); otherwise ``None``."""
    if reference is None:
        return BANKS[DEFAULT]
    text = os.fspath(reference)
    return None if Path(text).exists() else BANKS.get(text)


def resolve_models(reference: str | os.PathLike | None) -> list[Path | Traversable]:
    """What ``--model`` names, as the models to choose from per input: ``None`` → the default
    (:data:`DEFAULT`); a bundled bank → its models, its fallback first; a bundled model's name, a
    checkpoint file or a run folder → that one (a path that exists wins over a bundled name)."""
    group = bank(reference)
    if group is not None:
        return [bundled(member).resource for member in group.members]
    return [resolve_model(reference)]


def resolve_model(reference: str | os.PathLike | None) -> Path | Traversable:
    """One model: ``None`` → the default bank's fallback model; a bundled model's name; else a
    checkpoint file or run folder (a path that exists wins over a bundled name). A bank's name
    fails in one line naming its models: commands that score one model need one."""
    group = bank(reference)
    if reference is None:
        return bundled(group.members[0]).resource
    text = os.fspath(reference)
    if group is not None:
        raise CheckpointError(
            f"{text!r} is a bank of bundled models ({', '.join(group.members)}) that picks one per "
            "input; this command takes one model: name one of them"
        )
    if text in BUNDLED and not Path(text).exists():
        return bundled(text).resource
    if not Path(text).exists() and not _path_like(text):  # a bundled name, mistyped
        import difflib

        names = [*BANKS, *BUNDLED]
        close = difflib.get_close_matches(text, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise CheckpointError(
            f"no model {text!r}: not a checkpoint file, a training run folder or a bundled model; "
            f"{hint}bundled: {', '.join(names)} (audioenh list models)"
        )
    from ..checkpoint import resolve_checkpoint  # PyTorch: only once a model is wanted

    return resolve_checkpoint(text)


def _path_like(text: str) -> bool:
    """``text`` names a file or folder rather than a bundled model: it has a folder or a checkpoint suffix."""
    return os.sep in text or "/" in text or Path(text).suffix.lower() in CHECKPOINT_SUFFIXES


def bundled_name(source: Path | Traversable) -> str | None:
    """The name of the bundled model whose packaged file ``source`` is (``None``: not a bundled one)."""
    for model in BUNDLED.values():
        if source == model.resource:  # a Path where the package lies on disk
            return model.name
    return None


def model_name(source: Path | Traversable) -> str:
    """A short name for a model: the bundled name, a run folder's name or a checkpoint file's stem."""
    name = bundled_name(source)
    if name is not None:
        return name
    if isinstance(source, Path) and source.is_dir():
        return source.name
    if isinstance(source, Path) and source.parent.name == "checkpoints":  # a run's RUN/checkpoints/last.pt
        return source.parent.parent.name
    name = source.name
    return name.rsplit(".", 1)[0] if "." in name else name


def model_label(source: Path | Traversable) -> str:
    """How messages name a model: ``bundled model NAME`` or the path."""
    name = bundled_name(source)
    if name is not None:
        return f"bundled model {name}"
    return str(source) if isinstance(source, Path) else source.name


def looks_like_checkpoint(path: str | os.PathLike) -> bool:
    """True for a training run folder or a PyTorch checkpoint file (``.pt``/``.pth``/``.ckpt``, or a
    file starting like torch.save's zip archive): ``enhance``'s optional first argument."""
    p = Path(path)
    if p.is_dir():
        return True
    if p.suffix.lower() in CHECKPOINT_SUFFIXES:
        return True
    try:
        with open(p, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def describe_bundled() -> list[dict]:
    """Name, default flag, summary, architecture, sample rate (Hz), training degradations and file size
    (bytes) of every bundled model present in this installation; then each bank (``members``: the
    names of its models, its fallback first; ``bytes``: their total)."""
    from ..checkpoint import load_checkpoint

    rows = []
    for model in BUNDLED.values():
        if not model.resource.is_file():
            continue
        checkpoint = load_checkpoint(model.resource)
        rows.append(
            {
                "name": model.name,
                "default": model.name == DEFAULT,
                "summary": model.summary,
                "arch": checkpoint["arch"],
                "sample_rate": int(checkpoint["sample_rate"]),
                "degradations": list(checkpoint.get("degradations") or []),
                "bytes": len(model.resource.read_bytes()),
            }
        )
    present = {row["name"]: row for row in rows}
    for group in BANKS.values():
        members = [present[m] for m in group.members if m in present]
        if len(members) != len(group.members):
            continue
        rows.append(
            {
                "name": group.name,
                "default": group.name == DEFAULT,
                "summary": group.summary,
                "arch": members[0]["arch"],
                "sample_rate": members[0]["sample_rate"],
                "degradations": [d for m in members for d in m["degradations"]],
                "bytes": sum(m["bytes"] for m in members),
                "members": list(group.members),
            }
        )
    return rows
