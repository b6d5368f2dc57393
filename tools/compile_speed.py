"""Does ``torch.compile`` pay? Eager against compiled, for one architecture, device and precision.

Measures the bare training step (an Adam step on a random batch x channels x chunk batch, it/s) and
the bare forward pass (seconds of compute per second of 44.1 kHz audio over ``--audio-seconds``), eager
and compiled, alternating in ``--rounds`` rounds so that a machine whose speed drifts slows both
alike. Shapes stay fixed, so compiled code is built once, in the warm-up (its time is reported).
``audioenh`` has no ``--compile`` option until a figure from this says it pays (docs/performance.md).

    python tools/compile_speed.py --arch resnet:preset=paper --device cuda --precision bf16 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from audioenh.benchmark import measuring_device
from audioenh.plugins import architectures
from audioenh.precision import autocast, resolve_precision
from audioenh.training.step import adam, train_step

SAMPLE_RATE = 44100


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _steps(model, device, precision, batch_size, chunk, audio_samples):
    """A training step and a forward pass of ``model`` as functions of no argument, fixed shapes."""
    optimizer = adam(model.parameters(), device, lr=1e-5)
    channels = int(getattr(model, "audio_channels", 2))
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    x = 0.1 * torch.randn(batch_size, channels, chunk, device=device)
    n = -(-audio_samples // multiple) * multiple
    audio = 0.1 * torch.randn(1, channels, n, device=device)

    def train() -> None:
        model.train()
        train_step(model, optimizer, x, x, precision, device)

    @torch.no_grad()
    def forward() -> None:
        model.eval()
        with autocast(precision, device):
            model(audio)

    return train, forward, n


def _timed(step, device, seconds: float) -> float:
    """Seconds per call of ``step``, at least 3 calls and ``seconds`` long."""
    _sync(device)
    start, count = time.perf_counter(), 0
    while count < 3 or time.perf_counter() - start < seconds:
        step()
        count += 1
    _sync(device)
    return (time.perf_counter() - start) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=8192)
    parser.add_argument("--seconds", type=float, default=3.0, help="time each figure for this long per round")
    parser.add_argument("--audio-seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--mode", default="default", help="torch.compile mode (default, max-autotune, ...)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)

    device = measuring_device(args.device)
    precision = resolve_precision(args.precision, device, args.arch)
    registry = architectures()
    torch.manual_seed(0)
    eager = registry.create(args.arch).to(device)
    torch.manual_seed(0)
    plain = registry.create(args.arch).to(device)
    compiled = torch.compile(plain, mode=args.mode)
    samples = int(args.audio_seconds * SAMPLE_RATE)
    steps = {"eager": _steps(eager, device, precision, args.batch_size, args.chunk, samples)}
    steps["compiled"] = _steps(compiled, device, precision, args.batch_size, args.chunk, samples)
    n = steps["eager"][2]
    compile_s = {}
    for name, (train, forward, _) in steps.items():  # warm-up: kernels chosen, compiled code built
        start = time.perf_counter()
        for _ in range(2):
            train()
            forward()
        _sync(device)
        compile_s[name] = time.perf_counter() - start
    totals = {name: {"train": 0.0, "forward": 0.0} for name in steps}
    for _ in range(args.rounds):
        for name, (train, forward, _) in steps.items():
            totals[name]["train"] += _timed(train, device, args.seconds)
            totals[name]["forward"] += _timed(forward, device, args.seconds)
    result = {
        "arch": args.arch,
        "device": str(device),
        "torch": torch.__version__,
        "precision": precision,
        "mode": args.mode,
        "batch_size": args.batch_size,
        "chunk": args.chunk,
        "rounds": args.rounds,
        "warmup_s": compile_s,
    }
    for name in steps:
        result[f"{name}_train_its"] = args.rounds / totals[name]["train"]
        result[f"{name}_forward_rate"] = totals[name]["forward"] / args.rounds / (n / SAMPLE_RATE)
    result["train_speedup"] = result["compiled_train_its"] / result["eager_train_its"]
    result["forward_speedup"] = result["eager_forward_rate"] / result["compiled_forward_rate"]
    print(json.dumps(result))
    if args.json_path:
        with open(args.json_path, "a") as f:
            f.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
