"""The training loop: Adam + MSE, records every ``record_every`` iterations, atomic checkpoints, resume.

The run folder's files and their rules belong to :class:`~audioenh.training.run.Run`. A resumed
run continues the loss curve exactly where it left off: training examples are a pure function of
(seed, index), and the torch RNG state is restored from the checkpoint.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..data.chunks import TrainingChunks, batches
from ..data.corpus import resolve_corpus
from ..errors import AudioenhError
from ..evaluation.inference import select_device
from ..plugins import architectures
from .config import TrainConfig
from .run import Run
from .schedule import PlateauHalving
from .validation import Validator


def read_records(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl`` (an unfinished last line is ignored)."""
    return Run(run_dir).records()


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


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

    ``overrides`` changes settings of a resumed run that may change (see
    :func:`~audioenh.training.config.resumable_settings`).

    ``stop_after`` stops early after that iteration (used to simulate an interruption in tests).
    """
    run_dir = Path(run_dir)
    run = Run(run_dir)
    if resume:
        config = run.resume(overrides)
    elif config is None:
        raise AudioenhError("no configuration for a new run")
    else:
        config = run.create(config)
    device = select_device(config.device)
    say = echo or (lambda msg: None)

    corpus = resolve_corpus(config.data, echo=say)
    corpus.require("train", "val")
    torch.manual_seed(config.seed)
    model = architectures().create(config.resolved_arch).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, betas=tuple(config.betas))
    schedule = PlateauHalving(config.lr, config.patience)
    iteration = 0

    if resume and run.has_checkpoint():
        state = run.load_checkpoint(map_location=device)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        iteration = int(state["iteration"])
        _set_rng_state({k: (v.cpu() if k == "torch" else v) for k, v in state["rng"].items()})
        run.truncate_records(iteration)
        say(f"resuming {run_dir} from iteration {iteration}")
    elif resume:
        run.truncate_records(0)

    records = run.records()
    last = records[-1] if records else {}
    if iteration >= config.iterations or (config.min_lr is not None and schedule.lr < config.min_lr):
        say(f"{run_dir} is already finished at iteration {iteration}")
        return last

    validator = Validator(
        corpus.val,
        config.resolved_degradations,
        dict(zip(config.unseen, config.resolved_unseen)),
        offset_seconds=config.val_offset,
        seconds=config.val_seconds,
        sample_rate=config.sample_rate,
        infer_chunk=config.infer_chunk,
    )
    dataset = TrainingChunks(
        corpus.train, config.resolved_degradations, chunk=config.chunk, seed=config.seed, sample_rate=config.sample_rate
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
                run.append_record(last)
                run.save_checkpoint(
                    config,
                    model,
                    optimizer=optimizer.state_dict(),
                    schedule=schedule.state_dict(),
                    iteration=iteration,
                    rng=_rng_state(),
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
