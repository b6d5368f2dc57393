"""How much does a precision cost a trained model's result? ΔSNR of models on filtered built-in songs
under each precision, beside float32.

For each (model, degradation) pair, a built-in song (seed, seconds) is degraded and enhanced with one
bare forward pass per precision on ``--device``; printed: the ΔSNR (dB) against the clean song and how
close the network's correction (output minus input) stays to the float32 one (dB: its energy over the
energy of the difference). ``tf32-emulated`` rounds every convolution's input and weight to TF32's 10
significant bits (round to nearest) in float32 on any device: what cuDNN's TF32 tensor cores compute,
up to their accumulation order, so that a CPU shows TF32's effect (docs/performance.md, "TF32");
``tf32-emulated-inputs`` and ``tf32-emulated-weights`` round only the one or the other.

    python tools/precision_accuracy.py --device cpu --precisions fp32,bf16,tf32-emulated
    python tools/precision_accuracy.py --device cuda --precisions fp32,tf32,tf32-emulated,bf16,fp16 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

import numpy as np
import torch

from audioenh.benchmark import measuring_device
from audioenh.checkpoint import load_model
from audioenh.data.builtin.song import generate_song
from audioenh.degradations.chain import DegradationSampler
from audioenh.precision import autocast, resolve_precision
from audioenh.pretrained import resolve_model

SAMPLE_RATE = 44100
#: bundled models and a degradation each was trained to undo (the steep Chebyshev I inversions are the
#: most sensitive to rounding, docs/performance.md)
DEFAULT_PAIRS = (
    "resnet-11k-cheby1=cheby1:order=8,cutoff=11025",
    "resnet-11k-cheby2=cheby2:order=8,cutoff=11025",
    "resnet-16k=cheby1:order=8,cutoff=16000",
    "resnet-8k=cheby1:order=8,cutoff=8000",
    "resnet-da=butter:order=6,cutoff=11025",
)


def tf32_round(t: torch.Tensor) -> torch.Tensor:
    """``t`` (float32) rounded to nearest at TF32's 10 stored significand bits (ties away from zero)."""
    bits = t.float().contiguous().view(torch.int32)
    return ((bits + 0x1000) & ~0x1FFF).view(torch.float32)


@contextlib.contextmanager
def emulated_tf32(model: torch.nn.Module, inputs: bool = True, weights: bool = True):
    """Every convolution of ``model`` rounds its input and/or weight to TF32 inside the block."""
    convs = [m for m in model.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    saved = [m.weight.data for m in convs]
    hooks = []
    if inputs:
        hooks = [m.register_forward_pre_hook(lambda _m, args: (tf32_round(args[0]), *args[1:])) for m in convs]
    for m in convs if weights else []:
        m.weight.data = tf32_round(m.weight.data)
    try:
        yield
    finally:
        for m, weight in zip(convs, saved):
            m.weight.data = weight
        for hook in hooks:
            hook.remove()


def _snr(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    return float(10 * torch.log10(reference.square().sum() / (reference - estimate).square().sum()))


@torch.no_grad()
def measure(pair: str, precisions: list[str], device: torch.device, seconds: float, seed: int) -> dict:
    name, degradation = pair.split("=", 1)
    model, checkpoint = load_model(resolve_model(name), device)
    model.eval()
    clean = generate_song(seed, seconds, SAMPLE_RATE)
    degraded = DegradationSampler(degradation, SAMPLE_RATE).build(degradation)(
        clean, SAMPLE_RATE, np.random.default_rng(seed)
    )
    x = torch.tensor(np.ascontiguousarray(degraded)[None], dtype=torch.float32, device=device)
    target = torch.tensor(np.ascontiguousarray(clean)[None], dtype=torch.float32, device=device)
    baseline = _snr(target, x)
    outputs = {}
    for precision in precisions:
        if precision.startswith("tf32-emulated"):
            part = precision.removeprefix("tf32-emulated")
            with emulated_tf32(model, part != "-weights", part != "-inputs"), autocast("fp32", device):
                outputs[precision] = model(x).float()
        else:
            with autocast(resolve_precision(precision, device, checkpoint["arch"]), device):
                outputs[precision] = model(x).float()
    reference = outputs.get("fp32")
    rows = {}
    for precision, y in outputs.items():
        rows[precision] = {"delta_snr_db": _snr(target, y) - baseline}
        if reference is not None and precision != "fp32":
            rows[precision]["correction_agreement_db"] = _snr(reference - x, y - x)
    return {"model": name, "degradation": degradation, "seconds": seconds, "seed": seed, "results": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precisions", default="fp32,bf16,tf32-emulated", help="comma-separated; fp32 first")
    parser.add_argument("--pairs", default=";".join(DEFAULT_PAIRS), help="MODEL=SPEC;...")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", default=None, help="also write the results here (JSON)")
    args = parser.parse_args(argv)
    device = measuring_device(args.device)
    precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
    results = []
    print(f"device {device}, torch {torch.__version__}; ΔSNR dB (correction's agreement with fp32, dB)")
    for pair in [p for p in args.pairs.split(";") if p]:
        row = measure(pair, precisions, device, args.seconds, args.seed)
        results.append(row)
        cells = []
        for precision, values in row["results"].items():
            agreement = values.get("correction_agreement_db")
            cells.append(
                f"{precision} {values['delta_snr_db']:+.3f}" + ("" if agreement is None else f" ({agreement:.1f})")
            )
        print(f"{row['model']:18s} {row['degradation']:28s} " + " | ".join(cells), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(device), "torch": torch.__version__, "rows": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
