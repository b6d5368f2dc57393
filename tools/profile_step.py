"""Where does a training step's time go? ``torch.profiler`` over a few bare training steps of one
architecture (an Adam step on a random batch x channels x chunk batch, as ``audioenh benchmark``'s
bare step), printing the operators and kernels that take the most device time.

    python tools/profile_step.py --arch unet:preset=paper --device cuda --precision bf16 --rows 25
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch.profiler import ProfilerActivity, profile

from audioenh.architectures.layers import forced_conv, forced_layout
from audioenh.benchmark import measuring_device
from audioenh.plugins import architectures
from audioenh.precision import resolve_precision
from audioenh.training.step import adam, train_step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--chunk", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rows", type=int, default=25)
    parser.add_argument("--conv", default="auto", help="long kernels: auto, native, gemm or polyphase (forced_conv)")
    parser.add_argument("--layout", default="auto", help="activations: auto, pytorch or channels-last (forced_layout)")
    args = parser.parse_args(argv)
    device = measuring_device(args.device)
    precision = resolve_precision(args.precision, device, args.arch)
    registry = architectures()
    torch.manual_seed(0)
    model = registry.create(args.arch).to(device).train()
    optimizer = adam(model.parameters(), device, lr=1e-5)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    channels = int(getattr(model, "audio_channels", 2))
    x = 0.1 * torch.randn(args.batch_size, channels, args.chunk, device=device)
    with forced_conv(args.conv), forced_layout(args.layout):
        _profile(model, optimizer, scaler, x, precision, device, args)
    return 0


def _profile(model, optimizer, scaler, x, precision, device, args) -> None:
    channels = x.shape[1]
    for _ in range(3):  # warm-up: cuDNN's autotuner, the allocator
        train_step(model, optimizer, x, x, precision, device, scaler)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(args.steps):
            train_step(model, optimizer, x, x, precision, device, scaler)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(f"{args.arch}, {device}, {precision}, conv {args.conv}, layout {args.layout}")
    print(f"batch {args.batch_size} x {channels} x {args.chunk}, {args.steps} steps")
    print(prof.key_averages().table(sort_by=key, row_limit=args.rows, max_name_column_width=70))


if __name__ == "__main__":
    sys.exit(main())
