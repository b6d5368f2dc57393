"""Speed of an architecture where it runs: training steps, the real training pipeline, inference.

Definitions (also in docs/performance.md):

- **bare step** (it/s): one Adam step on a random (batch, 2, chunk) batch, data already on the device.
- **pipeline** (it/s): the same step fed by the real training pipeline (``TrainingChunks`` of a
  corpus and a degradation, DataLoader workers), as ``audioenh train`` runs it, validation excluded.
- **runtime rate**: seconds of compute per second of 44.1 kHz stereo audio through ``enhance``'s
  model path (``enhance_array``: blocks, context, overlap-save; no decoding or encoding). Below 1
  is faster than real time.
- **bare forward rate**: the same, for one forward pass over the whole excerpt at once (no blocks,
  no context): what the block-wise path is compared with.
- **achieved TFLOP/s**: 2 FLOP per multiply-accumulate of :func:`~audioenh.architectures.count_macs`;
  a training step counts 3 forward passes (forward, and a backward pass of about twice its cost).
- **peak memory**: on CUDA the peak of allocated tensor memory; on the CPU the process's peak
  resident set size (everything the process ever held, the model and the corpus included).
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from .architectures import count_macs, count_parameters
from .evaluation.blocks import default_enhance_batch
from .evaluation.inference import enhance_array, select_device
from .plugins import architectures
from .precision import autocast, resolve_precision
from .training.step import adam, train_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measuring_device(name: str) -> torch.device:
    """The device (:func:`~audioenh.evaluation.inference.select_device`) a timing runs on; on CUDA with
    cuDNN's autotuner on, which times kernels for each new shape on its first call (warm up first)."""
    device = select_device(name)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return device


def _peak_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` measured (rates in it/s, runtime rate in s per s of audio)."""

    arch: str
    device: str
    precision: str
    batch_size: int
    chunk: int
    parameters: int
    macs_per_step: float  # forward MACs of one training batch
    bare_step_its: float
    bare_step_tflops: float
    runtime_rate: float
    bare_forward_rate: float
    inference_tflops: float
    peak_memory_bytes: int
    pipeline_its: float | None = None
    pipeline_degradation: str | None = None
    pipeline_workers: int | None = None
    #: training batches per second the data pipeline makes on its own (no network), with ``pipeline_its``
    data_batches_per_s: float | None = None
    #: memory layout of the activations: "channels-last" or "pytorch" (batch, channels, samples)
    training_layout: str = "pytorch"
    inference_layout: str = "pytorch"
    #: how long-kernel convolutions ran: "auto" (the rule), "native", "gemm", "polyphase" or "fft" (forced_conv)
    conv: str = "auto"
    #: blocks per forward pass in the runtime rate (enhance's --batch-size)
    enhance_batch: int = 4

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _timed_steps(step, device: torch.device, seconds: float, minimum: int) -> tuple[int, float]:
    """Calls of ``step()`` and the seconds they took: at least ``minimum`` calls and ``seconds``."""
    count, start = 0, time.perf_counter()
    while count < minimum or time.perf_counter() - start < seconds:
        step()
        count += 1
    _sync(device)
    return count, time.perf_counter() - start


def _bare_step(model: torch.nn.Module, device: torch.device, precision: str, batch_size: int, chunk: int):
    """An Adam step on random data already on ``device``, as a function (two warm-up steps done)."""
    model.train()
    optimizer = adam(model.parameters(), device, lr=1e-5)
    channels = int(getattr(model, "audio_channels", 2))
    x = 0.1 * torch.randn(batch_size, channels, chunk, device=device)

    def step() -> None:
        train_step(model, optimizer, x, x, precision, device)

    return _warmed(step, device, 2)


def _warmed(step, device: torch.device, times: int):
    """``step`` after calling it ``times`` times (workers start, caches fill, kernels are chosen)."""
    for _ in range(times):
        step()
    _sync(device)
    return step


def bare_step_rate(
    model: torch.nn.Module, device: torch.device, precision: str, batch_size: int, chunk: int, seconds: float
) -> float:
    """Adam steps per second on random data already on ``device`` (two warm-up steps first)."""
    count, elapsed = _timed_steps(_bare_step(model, device, precision, batch_size, chunk), device, seconds, 3)
    return count / elapsed


def _training_stream(
    chunk: int,
    batch_size: int,
    degradation: str,
    data: list[str],
    workers: int,
    range_group: int,
    device: torch.device,
    start: int = 0,
):
    """``audioenh.data.chunks.batches`` of the training pipeline for ``degradation``, from iteration
    ``start``, made for ``device`` as ``audioenh train`` makes them (in page-locked memory for a GPU)."""
    from .data.chunks import TrainingChunks, batches
    from .data.corpus import resolve_corpus
    from .degradations.chain import resolve_degradations

    corpus = resolve_corpus(data, echo=lambda _m: None, progress=False).require("train")
    specs = [d.canonical for d in resolve_degradations([degradation])]
    dataset = TrainingChunks(corpus.train, specs, chunk=chunk, seed=0, range_group=range_group)
    return batches(dataset, batch_size, start_iteration=start, workers=workers, pin_memory=device.type == "cuda")


def _pipeline_step(
    model: torch.nn.Module,
    device: torch.device,
    precision: str,
    batch_size: int,
    chunk: int,
    degradation: str,
    data: list[str],
    workers: int,
    range_group: int = 1,
):
    """A step fed by the real training pipeline, as a function (five warm-up steps done)."""
    optimizer = adam(model.parameters(), device, lr=1e-5)
    model.train()
    stream = _training_stream(chunk, batch_size, degradation, data, workers, range_group, device)

    def step() -> None:
        _, degraded, target = next(stream)
        degraded, target = degraded.to(device, non_blocking=True), target.to(device, non_blocking=True)
        train_step(model, optimizer, degraded, target, precision, device)

    return _warmed(step, device, 5)


#: where the data-alone stream starts: far from the fed steps' iterations, so it draws its own filters
_DATA_ALONE_START = 1_000_000


def _data_step(
    device: torch.device, batch_size: int, chunk: int, degradation: str, data: list[str], workers: int, range_group: int
):
    """The next training batch made and moved to ``device``, no network: what the data pipeline alone
    costs per step (five warm-up batches done)."""
    stream = _training_stream(chunk, batch_size, degradation, data, workers, range_group, device, _DATA_ALONE_START)

    def step() -> None:
        _, degraded, target = next(stream)
        degraded.to(device, non_blocking=True), target.to(device, non_blocking=True)

    return _warmed(step, device, 5)


#: rounds of bare and pipeline steps, alternating, when both are timed: a machine whose speed drifts
#: (a shared VM's) then slows both alike, so their ratio holds
ROUNDS = 4


def interleaved_rates(steps: dict[str, Any], device: torch.device, seconds: float, rounds: int = ROUNDS):
    """Steps per second of each of ``steps`` (name -> step function), timed in ``rounds`` alternating
    slices of ``seconds / rounds`` each (at least 3 calls per slice); totals over the rounds."""
    totals = {name: [0, 0.0] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            count, elapsed = _timed_steps(step, device, seconds / rounds, 3)
            totals[name][0] += count
            totals[name][1] += elapsed
    return {name: count / elapsed for name, (count, elapsed) in totals.items()}


def inference_rate(
    model: torch.nn.Module,
    device: torch.device,
    precision: str,
    audio_seconds: float,
    sample_rate: int = 44100,
    batch_size: int | None = None,
) -> float:
    """Runtime rate: seconds of compute per second of stereo audio through ``enhance_array`` with
    ``batch_size`` blocks per forward pass (``None``: enhance's default there; one warm-up:
    :func:`_warm_up_length`)."""
    channels = int(getattr(model, "audio_channels", 2))
    audio = (np.random.default_rng(0).standard_normal((channels, int(audio_seconds * sample_rate))) * 0.1).astype(
        np.float32
    )
    warm_up = audio[:, : _warm_up_length(device, audio.shape[-1], sample_rate)]
    enhance_array(model, warm_up, device=device, precision=precision, batch_size=batch_size)
    _sync(device)
    start = time.perf_counter()
    enhance_array(model, audio, device=device, precision=precision, batch_size=batch_size)
    _sync(device)
    return (time.perf_counter() - start) / audio_seconds


def _warm_up_length(device: torch.device, samples: int, sample_rate: int) -> int:
    """Samples of the untimed warm-up pass before an inference timing: on CUDA all ``samples``, as
    cuDNN's autotuner (``cudnn.benchmark``) times kernels for every new shape on its first call (a
    shorter warm-up left that search inside the timing: 0.47 instead of 0.0027 s per s for the
    paper U-Net on an H200); elsewhere half a second, enough to fill the caches."""
    return samples if device.type == "cuda" else min(samples, sample_rate // 2)


@torch.no_grad()
def bare_forward_rate(
    model: torch.nn.Module, device: torch.device, precision: str, audio_seconds: float, sample_rate: int = 44100
) -> float:
    """Seconds of compute per second of audio for one forward pass over the whole excerpt (one
    warm-up: :func:`_warm_up_length`)."""
    channels = int(getattr(model, "audio_channels", 2))
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    n = -(-int(audio_seconds * sample_rate) // multiple) * multiple
    x = 0.1 * torch.randn(1, channels, n, device=device)
    with autocast(precision, device):
        model(x[..., : -(-_warm_up_length(device, n, sample_rate) // multiple) * multiple])
        _sync(device)
        start = time.perf_counter()
        model(x)
        _sync(device)
    return (time.perf_counter() - start) / (n / sample_rate)


def memory_layout(model: torch.nn.Module, device: torch.device, training: bool, precision: str = "fp32") -> str:
    """How the built-in networks hold their activations there in ``precision`` (``channels-last`` on the
    CPU up to the widths measured faster and on CUDA under bf16 or fp16, docs/performance.md), else
    ``pytorch``; plugin architectures that do not declare a ``widest`` layer: ``pytorch``."""
    from .architectures.layers import use_channels_last

    widest = getattr(model, "widest", None)
    if widest is None:
        return "pytorch"
    with torch.set_grad_enabled(training), autocast(precision, device):
        return "channels-last" if use_channels_last(torch.empty(1, 1, 1, device=device), int(widest)) else "pytorch"


def run_benchmark(
    arch: str,
    *,
    device: str = "auto",
    precision: str = "auto",
    batch_size: int = 8,
    chunk: int = 8192,
    seconds: float = 5.0,
    audio_seconds: float = 10.0,
    enhance_batch: int | None = None,
    degradation: str | None = None,
    data: list[str] | None = None,
    workers: int = 0,
    range_group: int = 1,
    layout: str = "auto",
    conv: str = "auto",
) -> BenchmarkResult:
    """Measure ``arch`` on ``device`` in ``precision`` (``auto`` resolved as training would); the
    built-in networks' activations in ``layout`` (:func:`~audioenh.architectures.layers.forced_layout`),
    their long-kernel convolutions computed as ``conv`` (:func:`~audioenh.architectures.layers.forced_conv`)."""
    from .architectures.layers import forced_conv, forced_layout

    with forced_layout(layout), forced_conv(conv):
        registry = architectures()
        registry.bind(arch)
        torch_device = measuring_device(device)
        resolved = resolve_precision(precision, torch_device, arch)
        if torch_device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(torch_device)
        torch.manual_seed(0)
        model = registry.create(arch).to(torch_device)
        macs = count_macs(lambda: registry.create(arch), batch=batch_size, samples=chunk)
        pipeline = data_alone = None
        # bare, fed and data alone in alternating rounds, so that their ratio survives a drifting machine
        if degradation:
            corpus = data or ["builtin"]
            steps = {
                "bare": _bare_step(model, torch_device, resolved, batch_size, chunk),
                "pipeline": _pipeline_step(
                    model, torch_device, resolved, batch_size, chunk, degradation, corpus, workers, range_group
                ),
                "data": _data_step(torch_device, batch_size, chunk, degradation, corpus, workers, range_group),
            }
            rates = interleaved_rates(steps, torch_device, seconds)
            bare, pipeline, data_alone = rates["bare"], rates["pipeline"], rates["data"]
        else:
            bare = bare_step_rate(model, torch_device, resolved, batch_size, chunk, seconds)
        enhance_batch = enhance_batch or default_enhance_batch(torch_device)
        rate = inference_rate(model.eval(), torch_device, resolved, audio_seconds, batch_size=enhance_batch)
        forward = bare_forward_rate(model, torch_device, resolved, audio_seconds)
        macs_per_audio_second = macs / (batch_size * chunk) * 44100
        return BenchmarkResult(
            arch=arch,
            device=str(torch_device),
            precision=resolved,
            batch_size=batch_size,
            chunk=chunk,
            parameters=count_parameters(model),
            macs_per_step=macs,
            bare_step_its=bare,
            bare_step_tflops=3 * 2 * macs * bare / 1e12,
            runtime_rate=rate,
            bare_forward_rate=forward,
            inference_tflops=2 * macs_per_audio_second / rate / 1e12,
            peak_memory_bytes=_peak_memory_bytes(torch_device),
            pipeline_its=pipeline,
            pipeline_degradation=degradation,
            pipeline_workers=workers if degradation else None,
            data_batches_per_s=data_alone,
            training_layout=memory_layout(model, torch_device, training=True, precision=resolved),
            inference_layout=memory_layout(model, torch_device, training=False, precision=resolved),
            enhance_batch=enhance_batch,
            conv=conv,
        )
