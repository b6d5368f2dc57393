"""The training loop: Adam + MSE, records every ``record_every`` iterations, atomic checkpoints, resume.

The run folder's files and their rules belong to :class:`~audioenh.training.run.Run`. A resumed
run continues the loss curve exactly where it left off: training examples are a pure function of
(seed, index), and the torch RNG state is restored from the checkpoint.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from ..data.chunks import TrainingChunks, batches
from ..data.corpus import resolve_corpus
from ..errors import AudioenhError
from ..evaluation.inference import select_device
from ..evaluation.level import LEVEL_KEY, resolve_input_level
from ..evaluation.response_validation import validate_on_songs
from ..plugins import architectures
from . import distributed
from .batchnorm import batchnorm_layers, recompute_batchnorm_statistics
from .config import COMPILE_MODES, TrainConfig
from .run import Run
from .schedule import PlateauHalving, decay_factor
from .step import adam, load_adam_state, train_step
from .validation import Validator

#: steps between reads of the summed training loss (to stop a diverged run): reading it waits for the
#: device, which on a GPU left it idle while the next step was queued
LOSS_CHECK_EVERY = 32


def read_records(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a run's ``metrics.jsonl`` (an unfinished last line is ignored)."""
    return Run(run_dir).records()


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _grad_scaler(device: torch.device, enabled: bool):
    """Loss scaling for fp16 training (a pass-through when not ``enabled``)."""
    try:
        return torch.amp.GradScaler(device.type, enabled=enabled)
    except (AttributeError, TypeError):  # torch < 2.3
        return torch.cuda.amp.GradScaler(enabled=enabled)


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

    Under torchrun (``WORLD_SIZE`` > 1) every process calls this; process 0 writes the run folder
    and validates, the others train on their own share of each iteration's examples
    (:mod:`audioenh.training.distributed`).
    """
    place = distributed.from_environment()
    try:
        return _train(config, Path(run_dir), place, resume, overrides, progress, echo, stop_after)
    finally:
        distributed.stop(place)


def _open_run(
    run: Run, config: TrainConfig | None, place: distributed.Distributed, resume: bool, overrides
) -> TrainConfig:
    """Create or resume the run folder (process 0 only; the others read what it wrote)."""
    if place.is_main:
        if resume:
            config = run.resume(overrides)
            if config.world_size != place.world_size:
                raise AudioenhError(
                    f"{run.path} was trained by {config.world_size} process(es); resume it with as many "
                    f"(torchrun --nproc-per-node {config.world_size}, or no torchrun for 1)"
                )
        elif config is None:
            raise AudioenhError("no configuration for a new run")
        else:
            config.world_size = place.world_size
            config = run.create(config)
    distributed.barrier(place)
    return config if place.is_main else run.load_config()


def _remove_unstarted_run(run: Run, keep_folder: bool) -> None:
    """Undo :meth:`Run.create` for a run that failed before its first step: its config, and its folder
    unless the folder was there (empty) before."""
    run.config_path.unlink(missing_ok=True)
    if not keep_folder and run.path.is_dir() and not any(run.path.iterdir()):
        run.path.rmdir()


def _train(config, run_dir: Path, place, resume, overrides, progress, echo, stop_after) -> dict[str, Any]:
    run = Run(run_dir)
    if (overrides or {}).get("device"):
        wanted = overrides["device"]
    elif config is not None:
        wanted = config.device
    else:
        wanted = run.load_config().device if run.exists() else "auto"
    device = distributed.start(place, select_device(wanted))
    # a new run whose data or network cannot be set up leaves no run folder behind (retrying with the
    # mistake fixed would otherwise find "a run" there and refuse to start); Run.create, in _open_run,
    # takes only a new or empty folder
    folder_was_there = run.path.exists()
    config = _open_run(run, config, place, resume, overrides)
    say = (echo or (lambda msg: None)) if place.is_main else (lambda msg: None)
    progress = progress and place.is_main

    try:
        corpus = resolve_corpus(config.data, echo=say, progress=progress)
        corpus.require("train", "val")
        torch.manual_seed(config.seed)
        model = architectures().create(config.resolved_arch).to(device)
    except BaseException:
        if not resume and place.is_main:  # the run this process created
            _remove_unstarted_run(run, folder_was_there)
        raise
    # the level the network runs its inputs at (validation here, every checkpoint later): the same
    # songs give the same level on every start and in every process
    level = resolve_input_level(config.input_level, corpus.train)
    setattr(model, LEVEL_KEY, level)
    optimizer = adam(model.parameters(), device, lr=config.lr, betas=config.betas)
    schedule = PlateauHalving(config.lr, config.patience)
    scaler = _grad_scaler(device, enabled=config.precision == "fp16")
    iteration = 0

    if resume and run.has_checkpoint():
        state = run.load_checkpoint(map_location=device)
        model.load_state_dict(state["model"])
        load_adam_state(optimizer, state["optimizer"], device)
        schedule.load_state_dict(state["schedule"])
        if "scaler" in state:
            scaler.load_state_dict(state["scaler"])
        iteration = int(state["iteration"])
        _set_rng_state({k: (v.cpu() if k == "torch" else v) for k, v in state["rng"].items()})
        if place.is_main:
            run.truncate_records(iteration)
        say(f"resuming {run_dir} from iteration {iteration}")
    elif resume and place.is_main:
        run.truncate_records(0)
    if place.rank > 0:  # dropout masks differ between processes; the weights are rank 0's (DDP broadcasts them)
        torch.manual_seed(config.seed * 1_000_003 + place.rank * 7919 + iteration)
    distributed.barrier(place)

    records = run.records()
    last = records[-1] if records else {}
    if iteration >= config.iterations or (config.min_lr is not None and schedule.lr < config.min_lr):
        say(f"{run_dir} is already finished at iteration {iteration}")
        return last

    validator = (
        None
        if not place.is_main
        else Validator(
            corpus.val,
            config.resolved_degradations,
            dict(zip(config.unseen, config.resolved_unseen)),
            offset_seconds=config.val_offset,
            seconds=config.val_seconds,
            sample_rate=config.sample_rate,
            infer_chunk=config.infer_chunk,
            precision=config.precision,
        )
    )
    dataset = TrainingChunks(
        corpus.train,
        config.resolved_degradations,
        chunk=config.chunk,
        seed=config.seed,
        sample_rate=config.sample_rate,
        range_group=config.range_group,
    )
    trained = distributed.wrap(model, place, device)
    if config.compile_mode not in COMPILE_MODES:
        raise AudioenhError(f"unknown compile mode {config.compile_mode!r}; use {', '.join(COMPILE_MODES)}")
    if config.compile_mode != "off":  # the training steps only: validation and checkpoints use `model`
        trained = torch.compile(trained, mode=None if config.compile_mode == "default" else config.compile_mode)
    trained.train()
    # the last training batches since the previous record, for the BatchNorm statistics (batchnorm.py;
    # process 0 validates and saves)
    keep = min(config.bn_batches, config.record_every) if place.is_main and batchnorm_layers(model) else 0
    recent = deque(maxlen=keep) if keep else None
    loss_sum, loss_count = torch.zeros((), device=device), 0
    started = interval_started = time.monotonic()
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
            dataset,
            config.batch_size,
            start_iteration=iteration,
            workers=config.workers,
            rank=place.rank,
            world_size=place.world_size,
            pin_memory=device.type == "cuda",
        ):
            degraded = degraded.to(device, non_blocking=True)
            target = target.to(device, non_blocking=True)
            if recent is not None:
                recent.append(degraded)
            step_lr = schedule.lr * decay_factor(it, config.iterations, config.lr_decay)
            for group in optimizer.param_groups:
                group["lr"] = step_lr
            loss = train_step(
                trained,
                optimizer,
                degraded,
                target,
                config.precision,
                device,
                scaler,
                sample_rate=config.sample_rate,
                loss_split_hz=config.loss_split_hz,
                loss_below_weight=config.loss_below_weight,
            )
            loss_sum += loss.detach().float()  # on the device: no wait for the GPU at every step
            loss_count += 1
            iteration = it + 1
            bar.update(1)
            finished = iteration >= config.iterations
            recording = iteration % config.record_every == 0 or finished
            if recording or iteration % LOSS_CHECK_EVERY == 0:
                total = float(loss_sum)
                if not math.isfinite(total):
                    first = iteration - loss_count + 1
                    raise AudioenhError(
                        f"training diverged within iterations {first}-{iteration} (loss {total}); try a lower --lr"
                    )
            if recording:
                # steps per second since the previous record: data, forward, backward and update only
                train_its = loss_count / max(time.monotonic() - interval_started, 1e-9)
                lr_used = step_lr
                mean_loss = distributed.mean(total / loss_count, place, device)  # the same on every process
                new_lr = schedule.step(mean_loss)
                stopping = finished or (config.min_lr is not None and new_lr < config.min_lr)
                loss_sum, loss_count = torch.zeros((), device=device), 0
                if not place.is_main:
                    distributed.barrier(place)  # while process 0 validates and saves
                    if stopping:
                        break
                    continue
                if recent:
                    recompute_batchnorm_statistics(model, recent, config.precision, device)
                    recent.clear()
                validation = validator.evaluate(model, device)
                final = {}
                if stopping:  # which training band limits it restores, for safe mode (response_validation)
                    final["response_validation"] = validate_on_songs(
                        model,
                        config.resolved_degradations,
                        corpus.val,
                        config.sample_rate,
                        device,
                        config.precision,
                        progress,
                    )
                trained.train()
                last = {
                    "iteration": iteration,
                    "loss": mean_loss,
                    "lr": lr_used,
                    "next_lr": new_lr,
                    "seconds": round(time.monotonic() - started, 3),
                    "train_its": round(train_its, 3),
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
                    validation=validation,
                    **({"scaler": scaler.state_dict()} if scaler.is_enabled() else {}),
                    **({LEVEL_KEY: level} if level is not None else {}),
                    **final,
                )
                distributed.barrier(place)
                seen = validation["seen"]
                bar.set_postfix_str(
                    f"loss {mean_loss:.2e} lr {lr_used:.1e} val {seen['output'] - seen['input']:+.2f} dB"
                )
                if stopping:
                    break
                interval_started = time.monotonic()  # after validating and saving
            if stop_after is not None and iteration >= stop_after:
                break
    finally:
        bar.close()
    return last
