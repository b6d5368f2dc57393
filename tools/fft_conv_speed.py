"""Where overlap-save FFT convolutions beat PyTorch's on this CPU: a grid of widths and kernel lengths.

For each (channels, taps) it times one stride-1 "same" convolution (channels -> channels) computed by
PyTorch (``conv1d`` in its layout, ``conv2d`` in channels-last memory, whichever the networks would
use at that width: :func:`audioenh.architectures.layers.use_channels_last`) and by
:func:`audioenh.architectures.fft_conv.conv1d_as_fft`, forward only (inference) and forward plus
backward (training), alternating the two in each round, and prints the speed-ups and the largest
relative difference of their outputs. The rule in ``layers.conv_implementation`` comes from it
(docs/performance.md).

    python tools/fft_conv_speed.py                       # the grid, about 5 min on 2 cores
    python tools/fft_conv_speed.py --channels 512 --taps 7,65 --samples 8192 --batch 1
"""

from __future__ import annotations

import argparse
import functools
import time

import torch
import torch.nn.functional as F

from audioenh.architectures.fft_conv import conv1d_as_fft
from audioenh.architectures.layers import (
    CHANNELS_LAST_INFERENCE_MAX_CHANNELS,
    CHANNELS_LAST_TRAINING_MAX_CHANNELS,
    to_channels_last,
)


def native(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, padding: int) -> torch.Tensor:
    if x.dim() == 4:
        return F.conv2d(x, weight.unsqueeze(2), bias, padding=(0, padding))
    return F.conv1d(x, weight, bias, padding=padding)


def run(conv, x, weight, bias, padding: int, backward: bool) -> torch.Tensor:
    """One convolution by ``conv``; with ``backward``, its backward pass too (a training step's part)."""
    if not backward:
        with torch.no_grad():
            return conv(x, weight, bias, padding)
    out = conv(x, weight, bias, padding)
    out.square().mean().backward()
    return out.detach()


def timed(function, rounds: int) -> list[float]:
    function()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def measure(channels: int, taps: int, batch: int, samples: int, rounds: int) -> dict[str, float]:
    """Speed-ups (PyTorch's time / FFT's, best of ``rounds``) for inference and training, and the error."""
    torch.manual_seed(0)
    x = torch.randn(batch, channels, samples)
    weight = (torch.randn(channels, channels, taps) * channels**-0.5).requires_grad_()
    bias = torch.zeros(channels, requires_grad=True)
    pad = (taps - 1) // 2
    result = {}
    for mode, limit in (
        ("inference", CHANNELS_LAST_INFERENCE_MAX_CHANNELS),
        ("training", CHANNELS_LAST_TRAINING_MAX_CHANNELS),
    ):
        form = to_channels_last(x) if channels <= limit else x
        if mode == "training":
            form = form.detach().requires_grad_()
        times = {"native": [], "fft": []}
        for _ in range(rounds):
            for name, conv in (("native", native), ("fft", conv1d_as_fft)):
                times[name] += timed(functools.partial(run, conv, form, weight, bias, pad, mode == "training"), 1)
        result[mode] = min(times["native"]) / min(times["fft"])
        result[f"{mode}_native_ms"] = 1e3 * min(times["native"])
    with torch.no_grad():
        reference = native(x, weight, bias, pad)
        result["error"] = float((conv1d_as_fft(x, weight, bias, pad) - reference).abs().max() / reference.abs().max())
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", default="32,64,128,256,512,1024", help="widths (comma-separated)")
    parser.add_argument("--taps", default="7,9,17,33,65", help="kernel lengths (comma-separated)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (default 8; halved from 512 channels)")
    parser.add_argument("--samples", type=int, default=2048, help="samples per batch item (default 2048)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best of each is kept")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, fp32; speed-up = PyTorch's time / FFT's")
    print(f"{'channels':>8} {'taps':>4} {'inference':>10} {'training':>9} {'PyTorch ms (inf/train)':>23} {'error':>8}")
    for channels in (int(c) for c in args.channels.split(",")):
        batch = args.batch if channels < 512 else max(1, args.batch // 2)
        for taps in (int(t) for t in args.taps.split(",")):
            r = measure(channels, taps, batch, args.samples, args.rounds)
            print(
                f"{channels:>8} {taps:>4} {r['inference']:>9.2f}x {r['training']:>8.2f}x "
                f"{r['inference_native_ms']:>11.1f} / {r['training_native_ms']:<9.1f} {r['error']:>8.1e}",
                flush=True,
            )


if __name__ == "__main__":
    main()
