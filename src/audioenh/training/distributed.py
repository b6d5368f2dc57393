"""Training on several processes: ``torchrun --nproc-per-node N -m audioenh train ...``.

torchrun starts N copies of the command and tells each its place through the environment
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``). Each process trains
the same model wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` on its own share of
every iteration's examples (:func:`~audioenh.data.chunks.batches` with ``rank``/``world_size``);
gradients are averaged across processes. Process 0 alone writes the run folder (config, records,
checkpoint) and validates; the others wait for it. The backend is NCCL on CUDA GPUs (one GPU per
process, ``cuda:LOCAL_RANK``) and gloo on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist

from ..errors import AudioenhError


@dataclass(frozen=True)
class Distributed:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_environment() -> Distributed:
    """The place torchrun gave this process (``WORLD_SIZE`` unset or 1: a single process)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise AudioenhError("WORLD_SIZE, RANK and LOCAL_RANK must be integers (as torchrun sets them)") from None
    if world < 1 or not 0 <= rank < world:
        raise AudioenhError(f"RANK {rank} is not within WORLD_SIZE {world}")
    return Distributed(rank, world, local)


def start(place: Distributed, device: torch.device) -> torch.device:
    """Join the process group (NCCL on CUDA, gloo on the CPU); returns this process's device."""
    if not place.enabled:
        return device
    if device.type == "cuda":
        if torch.cuda.device_count() <= place.local_rank:
            raise AudioenhError(
                f"process {place.rank} needs GPU {place.local_rank} but PyTorch sees {torch.cuda.device_count()}"
            )
        device = torch.device("cuda", place.local_rank)
        torch.cuda.set_device(device)
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(
            backend="nccl" if device.type == "cuda" else "gloo", rank=place.rank, world_size=place.world_size
        )
    return device


def stop(place: Distributed) -> None:
    """Leave the process group (if this process joined one)."""
    if place.enabled and torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def barrier(place: Distributed) -> None:
    """Wait until every process reaches this point."""
    if place.enabled:
        torch_dist.barrier()


def mean(value: float, place: Distributed, device: torch.device) -> float:
    """The mean of ``value`` over the processes (the value itself for one process)."""
    if not place.enabled:
        return float(value)
    tensor = torch.tensor([float(value)], dtype=torch.float64, device=device)
    torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
    return float(tensor.item()) / place.world_size


def wrap(model: torch.nn.Module, place: Distributed, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (itself for one process)."""
    if not place.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
