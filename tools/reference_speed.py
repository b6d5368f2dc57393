"""The paper's reference models against audioenh's, side by side in one process: the performance issue's
CPU and GPU tables in one command.

The reference code (GPL-3) is never copied: its models are imported from a checkout you name, at run
time, and timed with the same functions as audioenh's (``audioenh.benchmark``), alternating model by
model in each round so that a machine whose speed drifts slows both alike.

    git clone https://github.com/serkansulun/deep-music-enhancer /tmp/ref   # or an offline copy
    python tools/reference_speed.py --reference /tmp/ref                     # CPU, paper sizes, auto
    python tools/reference_speed.py --reference /tmp/ref --device cuda --json out.json

Figures (per model and round): training in seconds of 44.1 kHz audio per second (an Adam step on a
random batch x 2 x chunk batch, the reference always in float32 as its code runs it: on a CUDA GPU with
PyTorch's default TF32 convolutions (``tf32``), which audioenh's ``fp32`` turns off; audioenh in
``--precision``), inference as
the bare forward rate (seconds of compute per second of stereo audio, one forward pass over
``--audio-seconds``) and, for audioenh, the runtime rate (``enhance``'s model path: blocks, context,
overlap-save). The summary gives audioenh / reference ratios (speed-ups: above 1 is faster) from the
totals over the rounds. Paper-size models are slow on a small CPU: on 2 cores one ResNet step of
1 x 8192 samples takes about 15 s in fp32, so the defaults there take about 15 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from audioenh.benchmark import bare_forward_rate, bare_step_rate, inference_rate, measuring_device
from audioenh.plugins import architectures
from audioenh.precision import resolve_precision

SAMPLE_RATE = 44100
#: the issue's batch sizes: on the CPU the U-Net at 8 and the paper ResNet at 1 (its step alone takes
#: seconds), on a GPU 8 for both; chunks of 8192 samples
CPU_BATCH = {"unet": 8, "resnet": 1}
GPU_BATCH = 8
#: the reference U-Net halves its length six times: inputs must be multiples of this
REFERENCE_LENGTH_MULTIPLE = {"unet": 64, "resnet": 1}


def reference_model(checkout: Path, arch: str) -> torch.nn.Module:
    """The reference repository's ``models.<arch>.Model()`` (its paper settings), imported from
    ``checkout/src``; one clear line when the checkout is not one."""
    src = checkout / "src"
    if not (src / "models" / f"{arch}.py").is_file():
        raise SystemExit(f"error: {checkout} is not a checkout of the reference code (no src/models/{arch}.py)")
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    module = __import__(f"models.{arch}", fromlist=["Model"])
    model = module.Model()
    model.length_multiple = REFERENCE_LENGTH_MULTIPLE[arch]  # what audioenh.benchmark pads to
    model.audio_channels = 2
    return model


def measure(args: argparse.Namespace) -> dict:
    device = measuring_device(args.device)
    results: dict = {"device": str(device), "torch": torch.__version__, "threads": torch.get_num_threads()}
    if device.type == "cuda":
        results["device_name"] = torch.cuda.get_device_name(device)
    if args.audio_seconds is None:  # the paper ResNet takes about 20 s per second of audio on 2 CPU cores
        args.audio_seconds = 10.0 if device.type == "cuda" else 2.0
    for arch in args.arch:
        precision = resolve_precision(args.precision, device, args.spec or arch)
        batch = args.batch_size or (GPU_BATCH if device.type == "cuda" else CPU_BATCH[arch])
        models = {
            # as the reference's own code runs: PyTorch's defaults, TF32 convolutions on CUDA GPUs
            "reference": (
                reference_model(args.reference, arch).to(device),
                "tf32" if device.type == "cuda" else "fp32",
            ),
            "audioenh": (architectures().create(args.spec or arch).to(device), precision),
        }
        rows = {name: {"train_audio_s_per_s": [], "forward_rate": [], "runtime_rate": []} for name in models}
        for round_ in range(args.rounds):
            for name, (model, model_precision) in models.items():
                its = bare_step_rate(model, device, model_precision, batch, args.chunk, args.seconds)
                row = rows[name]
                row["train_audio_s_per_s"].append(its * batch * args.chunk / SAMPLE_RATE)
                row["forward_rate"].append(bare_forward_rate(model, device, model_precision, args.audio_seconds))
                if name == "audioenh":
                    row["runtime_rate"].append(inference_rate(model, device, model_precision, args.audio_seconds))
                print(
                    f"round {round_ + 1} {arch} {name} ({model_precision}): training "
                    f"{row['train_audio_s_per_s'][-1]:.4g} s of audio per s (batch {batch} x {args.chunk}), "
                    f"bare forward {row['forward_rate'][-1]:.4g} s per s of audio"
                    + (f", runtime rate {row['runtime_rate'][-1]:.4g}" if row["runtime_rate"] else ""),
                    file=sys.stderr,
                    flush=True,
                )
        ref, ours = rows["reference"], rows["audioenh"]
        results[arch] = {
            "precision": precision,
            "batch_size": batch,
            "chunk": args.chunk,
            "rounds": rows,
            # training: more audio per second is faster; inference: fewer seconds per second is faster
            "training_speedup": sum(ours["train_audio_s_per_s"]) / sum(ref["train_audio_s_per_s"]),
            "forward_speedup": sum(ref["forward_rate"]) / sum(ours["forward_rate"]),
            "runtime_speedup": sum(ref["forward_rate"]) / sum(ours["runtime_rate"]),
        }
    return results


def table(results: dict) -> str:
    """The summary as a Markdown table."""
    lines = [
        f"device {results.get('device_name', results['device'])}, torch {results['torch']}, "
        f"{results['threads']} threads",
        "",
        "| model | audioenh precision | training: reference → audioenh (s of audio per s) | speed-up "
        "| inference, bare forward: reference → audioenh (s per s of audio) | speed-up | audioenh runtime rate "
        "| speed-up over the reference's bare forward |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for arch in ("unet", "resnet"):
        if arch not in results:
            continue
        r = results[arch]
        ref, ours = r["rounds"]["reference"], r["rounds"]["audioenh"]

        def figures(values):
            return ", ".join(f"{v:.4g}" for v in values)

        lines.append(
            f"| {arch} (batch {r['batch_size']} × {r['chunk']}) | {r['precision']} "
            f"| {figures(ref['train_audio_s_per_s'])} → {figures(ours['train_audio_s_per_s'])} "
            f"| {r['training_speedup']:.2f}× | {figures(ref['forward_rate'])} → {figures(ours['forward_rate'])} "
            f"| {r['forward_speedup']:.2f}× | {figures(ours['runtime_rate'])} | {r['runtime_speedup']:.2f}× |"
        )
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="a checkout of the paper's reference code")
    parser.add_argument("--arch", action="append", choices=("unet", "resnet"), help="default: both")
    parser.add_argument("--spec", help="audioenh's architecture spec (default: the paper's size of --arch)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument(
        "--precision", default="auto", help="audioenh's: auto, fp32, tf32, bf16 or fp16 (default: auto)"
    )
    parser.add_argument("--batch-size", type=int, help="default: 8 (CPU: U-Net 8, ResNet 1)")
    parser.add_argument("--chunk", type=int, default=8192, help="samples per training example (default 8192)")
    parser.add_argument("--seconds", type=float, default=5.0, help="least time per training measurement")
    parser.add_argument(
        "--audio-seconds", type=float, help="audio per inference measurement (default: 10 on a GPU, 2 on the CPU)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    args.arch = args.arch or ["unet", "resnet"]
    if args.spec and len(args.arch) != 1:
        parser.error("--spec needs exactly one --arch")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    results = measure(args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


if __name__ == "__main__":
    main()
