"""The training loop: Adam + MSE, records every ``record_every`` iterations, atomic checkpoints, resume.

Run directory layout::

    RUN/config.json           the full TrainConfig
    RUN/metrics.jsonl         one JSON object per record
    RUN/checkpoints/last.pt   model, optimizer, schedule, iteration and RNG state (atomic)

Each record first appends its line to ``metrics.jsonl`` and then replaces the checkpoint; a
resumed run drops any line newer than the checkpoint, so a kill at any moment loses at most
one record's work, and the resumed loss curve continues exactly where it left off (training
examples are a pure function of (seed, index), and the torch RNG state is restored).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..checkpoint import LAST, load_checkpoint, save_checkpoint
from ..data.chunks import TrainingChunks, batches
from ..data.corpus import resolve_corpus
from ..errors import AudioenhError
from ..evaluation.inference import select_device
from ..plugins import architectures
from .config import TrainConfig
from .schedule import PlateauHalving
from .validation import Validator

METRICS_FILE = "metrics.jsonl"


def read_records(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl`` (an unfinished last line is ignored)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return records


def _truncate_records(run_dir: Path, iteration: int) -> None:
    kept = [r for r in read_records(run_dir) if r["iteration"] <= iteration]
    path = run_dir / METRICS_FILE
    tmp = path.with_suffix(".jsonl.part")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
    os.replace(tmp, path)


def _append_record(run_dir: Path, record: dict[str, Any]) -> None:
    with open(run_dir / METRICS_FILE, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


#: What may change when a run is resumed (stopping criteria and where it runs).
RESUME_OVERRIDES = ("iterations", "min_lr", "device", "workers")


def prepare_run_dir(
    run_dir: Path, config: TrainConfig | None, resume: bool, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """Create ``run_dir`` for a new run, or check it holds a run to resume; returns the config to use."""
    has_run = (run_dir / "config.json").exists()
    if resume:
        if not has_run:
            raise AudioenhError(f"cannot resume: {str(run_dir)!r} holds no training run")
        stored = TrainConfig.load(run_dir)
        for key, value in (overrides or {}).items():
            if key not in RESUME_OVERRIDES:
                raise AudioenhError(f"{key} cannot change when resuming (only {', '.join(RESUME_OVERRIDES)})")
            setattr(stored, key, value)
        stored.save(run_dir)
        return stored
    if has_run or (run_dir.exists() and any(run_dir.iterdir())):
        raise AudioenhError(f"{str(run_dir)!r} already holds files; use --resume to continue it or another --out")
    if config is None:
        raise AudioenhError("no configuration for a new run")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir)
    return config


def train(
    config: TrainConfig | None,
    run_dir: str | os.PathLike,
    *,
    resume: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Train a new run (``config``) or resume the one in ``run_dir``; returns the last record.

    ``overrides`` changes the keys in :data:`RESUME_OVERRIDES` of a resumed run.

    ``stop_after`` stops early after that iteration (used to simulate an interruption in tests).
    """
    run_dir = Path(run_dir)
    config = prepare_run_dir(run_dir, config, resume, overrides)
    device = select_device(config.device)
    say = echo or (lambda msg: None)

    corpus = resolve_corpus(config.data, echo=say)
    corpus.require("train", "val")
    torch.manual_seed(config.seed)
    model = architectures().create(config.arch).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=tuple(config.betas))
    schedule = PlateauHalving(config.lr, config.patience)
    iteration = 0

    checkpoint_path = run_dir / "checkpoints" / LAST
    if resume and checkpoint_path.exists():
        state = load_checkpoint(checkpoint_path, map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        iteration = int(state["iteration"])
        _set_rng_state({k: (v.cpu() if k == "torch" else v) for k, v in state["rng"].items()})
        _truncate_records(run_dir, iteration)
        say(f"resuming {run_dir} from iteration {iteration}")
    elif resume:
        _truncate_records(run_dir, 0)

    records = read_records(run_dir)
    last = records[-1] if records else {}
    if iteration >= config.iterations or (config.min_lr is not None and schedule.lr < config.min_lr):
        say(f"{run_dir} is already finished at iteration {iteration}")
        return last

    validator = Validator(
        corpus.val,
        config.degradations,
        config.unseen,
        offset_seconds=config.val_offset,
        seconds=config.val_seconds,
        sample_rate=config.sample_rate,
        infer_chunk=config.infer_chunk,
    )
    dataset = TrainingChunks(
        corpus.train, config.degradations, chunk=config.chunk, seed=config.seed, sample_rate=config.sample_rate
    )
    model.train()
    loss_sum, loss_count = 0.0, 0
    started = time.monotonic()
    bar = tqdm(
        total=config.iterations,
        initial=iteration,
        disable=not progress,
        unit="it",
        dynamic_ncols=True,
        desc=run_dir.name,
    )
    try:
        for it, degraded, target in batches(
            dataset, config.batch_size, start_iteration=iteration, workers=config.workers
        ):
            degraded = degraded.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            for group in optimizer.param_groups:
                group["lr"] = schedule.lr
            loss = torch.nn.functional.mse_loss(model(degraded), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise AudioenhError(f"training diverged at iteration {it + 1} (loss {value}); try a lower --lr")
            loss_sum += value
            loss_count += 1
            iteration = it + 1
            bar.update(1)
            finished = iteration >= config.iterations
            if iteration % config.record_every == 0 or finished:
                lr_used = schedule.lr
                mean_loss = loss_sum / loss_count
                new_lr = schedule.step(mean_loss)
                validation = validator.evaluate(model, device)
                model.train()
                last = {
                    "iteration": iteration,
                    "loss": mean_loss,
                    "lr": lr_used,
                    "next_lr": new_lr,
                    "seconds": round(time.monotonic() - started, 3),
                    "val": validation,
                }
                _append_record(run_dir, last)
                save_checkpoint(
                    checkpoint_path,
                    {
                        "arch": config.arch,
                        "sample_rate": config.sample_rate,
                        "audio_channels": 2,
                        "degradations": list(config.degradations),
                        "unseen": list(config.unseen),
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(),
                        "iteration": iteration,
                        "rng": _rng_state(),
                        "config": config.to_dict(),
                    },
                )
                loss_sum, loss_count = 0.0, 0
                seen = validation["seen"]
                bar.set_postfix_str(
                    f"loss {mean_loss:.2e} lr {lr_used:.1e} val {seen['output'] - seen['input']:+.2f} dB"
                )
                if finished or (config.min_lr is not None and new_lr < config.min_lr):
                    break
            if stop_after is not None and iteration >= stop_after:
                break
    finally:
        bar.close()
    return last
