"""Runtime rate (seconds of compute per second of 44.1 kHz stereo audio through enhance's model path)
at several blocks per forward pass (enhance's --batch-size), in one process, rounds alternating: the
measurement behind ``audioenh.evaluation.blocks.CUDA_BATCH`` (docs/performance.md).

    python tools/enhance_batch_speed.py --arch unet:preset=paper --device cuda --batches 4,8,16,32
    python tools/enhance_batch_speed.py --model resnet-11k-cheby1 --device cuda --batches 4,16
Prints one JSON object per line: model, device, precision, batch, runtime rate of each round.
"""

from __future__ import annotations

import argparse
import json

import torch

from audioenh.benchmark import inference_rate, measuring_device
from audioenh.checkpoint import load_model
from audioenh.plugins import architectures
from audioenh.precision import resolve_precision
from audioenh.pretrained import resolve_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--arch", help="architecture spec, random weights (e.g. unet:preset=paper)")
    source.add_argument("--model", help="a bundled model's name or a checkpoint (e.g. resnet-11k-cheby1)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batches", default="4,8,16,32", help="blocks per forward pass, comma-separated")
    parser.add_argument("--audio-seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    device = measuring_device(args.device)
    if args.arch:
        torch.manual_seed(0)
        model, arch, name = architectures().create(args.arch).to(device), args.arch, args.arch
    else:
        model, checkpoint = load_model(resolve_model(args.model), device)
        arch, name = checkpoint["arch"], args.model
    precision = resolve_precision(args.precision, device, arch)
    batches = [int(b) for b in args.batches.split(",")]
    rates: dict[int, list[float]] = {b: [] for b in batches}
    for _ in range(args.rounds):
        for batch in batches:
            rates[batch].append(inference_rate(model.eval(), device, precision, args.audio_seconds, batch_size=batch))
    for batch in batches:
        record = dict(model=name, device=str(device), precision=precision, batch=batch, runtime_rate=rates[batch])
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
