"""The full configuration of a training run, stored as ``RUN/config.json`` by :class:`~audioenh.training.run.Run`.

Which settings may change when a run is resumed is declared here, once, as field metadata
(``resume=True``); everything else is fixed by the run's first start.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from ..errors import AudioenhError


def default_workers() -> int:
    """DataLoader worker processes: one less than the CPU count, at most 4; none (examples made in
    the training process) on 2 cores or fewer, where a worker process slows training by taking CPU
    from the network (measured: docs/performance.md)."""
    cores = os.cpu_count() or 1
    return 0 if cores <= 2 else min(4, cores - 1)


#: ``train --compile``: eager (off) or a ``torch.compile`` mode
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")

#: consecutive training examples that share each range's draw (:class:`~audioenh.data.chunks.TrainingChunks`)
RANGE_GROUP = 8


def _setting(default: Any = None, *, resume: bool = False, factory=None, help: str = "", legacy: Any = MISSING) -> Any:
    """A config field; ``resume=True`` marks a setting that may change when the run is resumed;
    ``legacy`` is its value in configs written before the field existed (what those runs used)."""
    metadata = {"resume": resume, "help": help, "legacy": legacy}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """Everything that defines a training run (the paper's protocol by default).

    ``arch``, ``degradations`` and ``unseen`` are the specs as the user gave them (sets expanded),
    which tables and messages show; the ``resolved_*`` fields hold the same with every argument
    written out (architecture presets expanded), which is what training builds and what a resume
    compares. :meth:`resolve` fills them.
    """

    arch: str = field(metadata={"resume": False, "help": "architecture spec as given"})
    degradations: list[str] = field(
        metadata={"resume": False, "help": "training degradation chains; one is drawn per example"}
    )
    data: list[str] = _setting(factory=lambda: ["builtin"])
    unseen: list[str] = _setting(factory=lambda: ["butter:6"])
    iterations: int = _setting(200_000, resume=True)
    batch_size: int = _setting(8)
    chunk: int = _setting(8192, help="samples per training example")
    lr: float = _setting(5e-4)
    betas: tuple[float, float] = _setting((0.9, 0.999))
    record_every: int = _setting(2500, help="iterations between records (loss, lr, validation, checkpoint)")
    patience: int = _setting(5, help="records without a lower training loss before the lr is halved")
    min_lr: float | None = _setting(None, resume=True, help="stop once the lr falls below this")
    lr_decay: int = _setting(
        0, resume=True, legacy=0, help="last iterations over which the lr decays to 0 along a cosine (0: none)"
    )
    bn_batches: int = _setting(
        25,
        resume=True,
        legacy=0,
        help="BatchNorm statistics recomputed at each record from the last N training batches (0: running averages)",
    )
    seed: int = _setting(0)
    device: str = _setting("auto", resume=True)
    workers: int = _setting(factory=default_workers, resume=True)
    compile_mode: str = _setting(
        "off",
        resume=True,
        legacy="off",
        help="torch.compile mode of the trained network (off: eager; default, reduce-overhead, max-autotune)",
    )
    val_offset: float = _setting(8.0, help="seconds into each validation song")
    val_seconds: float = _setting(8.0, help="validation excerpt length, seconds")
    infer_chunk: int = _setting(32768, resume=True, help="samples per block for validation inference")
    sample_rate: int = _setting(44100, help="Hz")
    precision: str = _setting("fp32", help="fp32, bf16 or fp16 (resolved from auto when the run starts)")
    world_size: int = _setting(1, help="training processes (torchrun); each takes batch_size examples a step")
    range_group: int = _setting(
        RANGE_GROUP, legacy=1, help="consecutive examples sharing each range's draw (its filter is designed once)"
    )
    loss_split_hz: float | None = _setting(
        None, legacy=None, help="the loss weighs the error below this frequency (Hz) by loss_below_weight"
    )
    loss_below_weight: float = _setting(1.0, legacy=1.0, help="weight of the error below loss_split_hz (1: the MSE)")
    input_level: str = _setting(
        "auto",
        legacy="none",
        help="RMS level (dBFS) the network runs its inputs at, in validation and in every checkpoint: auto "
        "(the training songs' mean), none (each input's own, as the paper) or a number",
    )
    resolved_arch: str = _setting("", help="arch with every constructor argument written out")
    resolved_degradations: list[str] = _setting(factory=list, help="degradations in canonical form")
    resolved_unseen: list[str] = _setting(factory=list, help="unseen in canonical form")

    def resolve(self) -> TrainConfig:
        """Fill the ``resolved_*`` fields from the specs (checking every name and argument); returns self."""
        from ..degradations.chain import resolve_degradations
        from ..evaluation.level import check_input_level
        from ..plugins import architectures

        self.input_level = check_input_level(self.input_level)
        self.resolved_arch = architectures().resolve(self.arch)
        self.resolved_degradations = [d.canonical for d in resolve_degradations(self.degradations, self.sample_rate)]
        self.resolved_unseen = [d.canonical for d in resolve_degradations(self.unseen, self.sample_rate)]
        return self

    @property
    def is_resolved(self) -> bool:
        return bool(self.resolved_arch) and len(self.resolved_degradations) == len(self.degradations)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["betas"] = list(self.betas)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise AudioenhError(f"unknown keys in training config: {', '.join(sorted(unknown))}")
        data = dict(data)
        for f in fields(cls):  # settings added later: what runs written before them used
            if f.name not in data and f.metadata.get("legacy", MISSING) is not MISSING:
                data[f.name] = f.metadata["legacy"]
        if "betas" in data:
            data["betas"] = tuple(data["betas"])
        missing = [
            f.name for f in fields(cls) if f.name not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise AudioenhError(f"incomplete training config: no {', '.join(missing)}")
        return cls(**data)


def resumable_settings() -> tuple[str, ...]:
    """Settings that may change when a run is resumed (stopping criteria and where it runs)."""
    return tuple(f.name for f in fields(TrainConfig) if f.metadata.get("resume"))


def fixed_settings() -> tuple[str, ...]:
    """Settings fixed by a run's first start (everything not in :func:`resumable_settings`)."""
    return tuple(f.name for f in fields(TrainConfig) if not f.metadata.get("resume"))


def differing_settings(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Fixed settings in which two configs differ; specs are compared in their resolved form."""
    shown = {"arch": "resolved_arch", "degradations": "resolved_degradations", "unseen": "resolved_unseen"}
    out = []
    for name in fixed_settings():
        if name in shown.values():
            continue
        key = shown.get(name, name)
        if getattr(a, key) != getattr(b, key):
            out.append(name)
    return out
