"""A training run folder: the one object that knows its files and their rules.

Layout::

    RUN/config.json           the full TrainConfig
    RUN/metrics.jsonl         one JSON object per record (loss, lr, validation)
    RUN/checkpoints/last.pt   model, optimizer, schedule, iteration and RNG state (atomic)
    RUN/test.json             cached test results, keyed by what was tested and valid for one iteration

``train``, ``test``, ``enhance`` and the report reach these files only through :class:`Run`.
Each record first appends its line to ``metrics.jsonl`` and then replaces the checkpoint; a
resumed run drops any line newer than the checkpoint, so a kill at any moment loses at most
one record's work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..checkpoint import RUN_CHECKPOINT, load_checkpoint, load_model, make_checkpoint, save_checkpoint
from ..errors import AudioenhError
from ..fileio import dumps_json, write_json, write_text
from .config import TrainConfig, differing_settings, resumable_settings

CONFIG_FILE = "config.json"
CURVES_FILE = "curves.png"  # the loss and validation curves `audioenh train` draws when it ends
METRICS_FILE = "metrics.jsonl"
RESULTS_FILE = "test.json"


class Run:
    """The run folder at ``path`` (it may not exist yet)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def checkpoint_path(self) -> Path:
        return self.path / RUN_CHECKPOINT

    @property
    def curves_path(self) -> Path:
        return self.path / CURVES_FILE

    def exists(self) -> bool:
        """True when the folder holds a training run (its config.json)."""
        return self.config_path.is_file()

    def has_checkpoint(self) -> bool:
        return self.checkpoint_path.is_file()

    # -- configuration -------------------------------------------------------
    def load_config(self) -> TrainConfig:
        """The stored configuration, with its resolved specs filled in (older runs lack them)."""
        try:
            data = json.loads(self.config_path.read_text())
        except FileNotFoundError:
            raise AudioenhError(f"{str(self.path)!r} has no {CONFIG_FILE}; is it a training run?") from None
        except json.JSONDecodeError as exc:
            raise AudioenhError(
                f"cannot read {str(self.config_path)!r}: not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from None
        except UnicodeDecodeError:
            raise AudioenhError(f"cannot read {str(self.config_path)!r}: not a text file") from None
        if not isinstance(data, dict):
            raise AudioenhError(f"cannot read {str(self.config_path)!r}: not a training configuration")
        config = TrainConfig.from_dict(data)
        return config if config.is_resolved else config.resolve()

    def save_config(self, config: TrainConfig) -> None:
        write_json(self.config_path, config.to_dict())

    def create(self, config: TrainConfig) -> TrainConfig:
        """Start a new run here with ``config`` (resolved now); the folder must be new or empty."""
        if self.exists() or (self.path.exists() and any(self.path.iterdir())):
            raise AudioenhError(f"{str(self.path)!r} already holds files; use --resume to continue it or another --out")
        if not config.is_resolved:
            config.resolve()
        self.path.mkdir(parents=True, exist_ok=True)
        self.save_config(config)
        return config

    def resume(self, overrides: dict[str, Any] | None = None) -> TrainConfig:
        """The stored config with ``overrides`` applied; only :func:`resumable_settings` may change."""
        if not self.exists():
            raise AudioenhError(f"cannot resume: {str(self.path)!r} holds no training run")
        config = self.load_config()
        allowed = resumable_settings()
        for key, value in (overrides or {}).items():
            if key not in allowed:
                raise AudioenhError(f"{key} cannot change when resuming (only {', '.join(allowed)})")
            setattr(config, key, value)
        self.save_config(config)
        return config

    def check_same_settings(self, config: TrainConfig, hint: str = "train into another --output") -> None:
        """Refuse to continue this run with ``config`` when a fixed setting differs; the error ends with
        ``hint`` (what to do instead)."""
        if not config.is_resolved:
            config.resolve()
        diff = differing_settings(self.load_config(), config)
        if diff:
            raise AudioenhError(f"{self.path} was trained with other settings ({', '.join(diff)}); {hint}")

    # -- records ---------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """The records of ``metrics.jsonl`` (an unfinished last line is ignored)."""
        path = self.path / METRICS_FILE
        if not path.exists():
            return []
        records = []
        for line in path.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
        return records

    def last_iteration(self) -> int:
        records = self.records()
        return int(records[-1]["iteration"]) if records else 0

    def append_record(self, record: dict[str, Any]) -> None:
        """Append one record and flush it to disk (before the checkpoint that follows it)."""
        with open(self.path / METRICS_FILE, "a", encoding="utf-8") as f:
            f.write(dumps_json(record, indent=None) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def truncate_records(self, iteration: int) -> None:
        """Drop records newer than ``iteration`` (work lost with a kill after the last checkpoint)."""
        kept = [r for r in self.records() if r["iteration"] <= iteration]
        write_text(self.path / METRICS_FILE, "".join(dumps_json(r, indent=None) + "\n" for r in kept))

    # -- checkpoints -------------------------------------------------------------
    def save_checkpoint(self, config: TrainConfig, model: torch.nn.Module, **training_state: Any) -> None:
        """Replace ``checkpoints/last.pt`` with ``model`` and the training state, atomically."""
        save_checkpoint(
            self.checkpoint_path,
            make_checkpoint(
                arch=config.arch,
                architecture=config.resolved_arch,
                model=model,
                sample_rate=config.sample_rate,
                degradations=config.degradations,
                resolved_degradations=config.resolved_degradations,
                unseen=config.unseen,
                plugins=plugins_used(config),
                config=config.to_dict(),
                **training_state,
            ),
        )

    def load_checkpoint(self, map_location: str | torch.device = "cpu") -> dict[str, Any]:
        return load_checkpoint(self.checkpoint_path, map_location=map_location)

    def load_model(self, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
        """The trained model (eval mode, on ``device``) and its checkpoint."""
        return load_model(self.path, device)

    # -- cached results ------------------------------------------------------------
    def cached_result(self, key: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``compute()``'s result for ``key``, computed once per checkpoint iteration and kept in test.json."""
        path = self.path / RESULTS_FILE
        try:
            cache = json.loads(path.read_text()) if path.exists() else {}
        except json.JSONDecodeError:
            cache = {}  # a damaged cache is only a cache
        iteration = self.last_iteration()
        entry = cache.get(key)
        if entry is None or entry.get("iteration") != iteration:
            entry = {"iteration": iteration, "result": compute()}
            cache[key] = entry
            write_json(path, cache, indent=1)
        return entry["result"]


def plugins_used(config: TrainConfig) -> list[str]:
    """The plugins (with package versions) whose entries a run uses, built-ins left out."""
    from ..plugins import architectures, degradations
    from ..spec import parse_chain, parse_spec

    origins = {architectures().get(parse_spec(config.arch).name).plugin}
    registry = degradations()
    for chain in [*config.degradations, *config.unseen]:
        origins.update(registry.get(s.name).plugin for s in parse_chain(chain))
    return sorted(o for o in origins if o != "audioenh")
