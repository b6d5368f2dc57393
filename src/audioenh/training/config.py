"""The full configuration of a training run, stored as ``RUN/config.json``."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import AudioenhError

CONFIG_FILE = "config.json"


def default_workers() -> int:
    """DataLoader worker processes: one less than the CPU count, at most 4 (0 on a single core)."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass
class TrainConfig:
    """Everything that defines a training run (the paper's protocol by default)."""

    arch: str  # canonical architecture spec
    degradations: list[str]  # training degradation specs (sets expanded); one is drawn per sample
    data: list[str] = field(default_factory=lambda: ["builtin"])
    unseen: list[str] = field(default_factory=lambda: ["butter:6"])
    iterations: int = 200_000
    batch_size: int = 8
    chunk: int = 8192  # samples per training example
    lr: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    record_every: int = 2500  # iterations between records (loss, lr, validation, checkpoint)
    patience: int = 5  # records without a lower training loss before the lr is halved
    min_lr: float | None = None  # stop once the lr falls below this
    seed: int = 0
    device: str = "auto"
    workers: int = field(default_factory=default_workers)
    val_offset: float = 8.0  # seconds into each validation song
    val_seconds: float = 8.0  # excerpt length, seconds
    infer_chunk: int = 32768  # samples per block for validation/test inference
    sample_rate: int = 44100

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
        if "betas" in data:
            data["betas"] = tuple(data["betas"])
        return cls(**data)

    def save(self, run_dir: Path) -> None:
        path = Path(run_dir) / CONFIG_FILE
        tmp = path.with_suffix(".json.part")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, run_dir: Path) -> TrainConfig:
        path = Path(run_dir) / CONFIG_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise AudioenhError(f"{str(run_dir)!r} has no {CONFIG_FILE}; is it a training run?") from None
        except (json.JSONDecodeError, TypeError) as exc:
            raise AudioenhError(f"cannot read {str(path)!r}: {exc}") from None
