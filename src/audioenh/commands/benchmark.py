"""``audioenh benchmark``: how fast an architecture trains and infers here."""

from __future__ import annotations

import click

from ..training.config import default_workers
from .options import (
    batch_size_option,
    chunk_option,
    data_option,
    device_option,
    echo_json,
    json_option,
    one_line_errors,
    precision_option,
    range_group_option,
)


@click.command("benchmark")
@click.option(
    "-a", "--arch", "arch", required=True, metavar="SPEC", help="Architecture spec, e.g. resnet:preset=small."
)
@click.option(
    "-d",
    "--degrade",
    "degradation",
    metavar="SPEC",
    default=None,
    help="Also time training fed by the real data pipeline with this degradation (e.g. paper-multi).",
)
@data_option("builtin")
@device_option
@precision_option
@batch_size_option
@chunk_option
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Time each training measurement for at least this long; with --degrade the bare step, the fed step "
    "and the data alone alternate in 4 rounds, so that a machine whose speed drifts slows all alike.",
)
@click.option(
    "--audio-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds of audio enhanced for the runtime rate.",
)
@click.option(
    "--enhance-batch",
    type=click.IntRange(min=1),
    default=None,
    help="Blocks per forward pass for the runtime rate (enhance's --batch-size).  [default: enhance's]",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help=f"DataLoader worker processes for --degrade.  [default: {default_workers()}]",
)
@range_group_option
@click.option(
    "--layout",
    type=click.Choice(["auto", "pytorch", "channels-last"]),
    default="auto",
    show_default=True,
    help="Memory layout of the built-in networks' activations: auto, the measured rule (channels-last on "
    "the CPU up to a width and on CUDA under bf16 or fp16, PyTorch's elsewhere), or either one forced on any "
    "device, to measure a layout the rule has no figure for.",
)
@click.option(
    "--conv",
    type=click.Choice(["auto", "native", "gemm", "polyphase", "fft"]),
    default="auto",
    show_default=True,
    help="How the built-in networks compute convolutions of 17 taps or more (the U-Net's long kernels): "
    "auto, the rules (on CUDA under bf16 or fp16 polyphase in channels-last memory, gemm in PyTorch's layout; "
    "on a CPU in float32 fft for wide layers; PyTorch's own elsewhere), native "
    "(PyTorch's: cuDNN, oneDNN), gemm (the input unfolded, one matrix product), polyphase (a short "
    "kernel over the input's phases) or fft (overlap-save transforms as matrix products), to measure a "
    "formulation on a device; gemm applies to PyTorch's layout only, polyphase to either, fft to every "
    "convolution of 7 taps or more (the ResNet's too) in either layout.",
)
@json_option("Print JSON: every figure measured, with its settings.")
@one_line_errors
def benchmark(
    arch,
    degradation,
    data,
    device,
    precision,
    batch_size,
    chunk,
    seconds,
    audio_seconds,
    enhance_batch,
    workers,
    range_group,
    layout,
    conv,
    as_json,
):
    """Measure training steps per second, runtime rate, peak memory and achieved TFLOP/s.

    Runtime rate: seconds of compute per second of 44.1 kHz stereo audio through enhance's model
    path (blocks, context, overlap-save; no decoding or encoding); below 1 is faster than real
    time. See docs/performance.md for every definition and measured figures.
    """
    from ..benchmark import run_benchmark

    result = run_benchmark(
        arch,
        device=device,
        precision=precision,
        batch_size=batch_size,
        chunk=chunk,
        seconds=seconds,
        audio_seconds=audio_seconds,
        enhance_batch=enhance_batch,
        degradation=degradation,
        data=list(data) or None,
        workers=default_workers() if workers is None else workers,
        range_group=range_group,
        layout=layout,
        conv=conv,
    )
    if as_json:
        echo_json(result.to_dict())
        return
    r = result
    click.echo(f"architecture    {r.arch} ({r.parameters:,} parameters) on {r.device}, {r.precision}")
    click.echo(f"memory layout   {r.training_layout} in training, {r.inference_layout} in inference")
    if r.conv != "auto":
        from ..architectures.layers import FFT_MIN_KERNEL, GEMM_MIN_KERNEL

        taps = FFT_MIN_KERNEL if r.conv == "fft" else GEMM_MIN_KERNEL
        click.echo(f"convolutions    {r.conv} for kernels of {taps} taps or more")
    click.echo(
        f"training step   {r.bare_step_its:.2f} it/s on {r.batch_size} x 2 x {r.chunk} "
        f"({r.bare_step_tflops:.3f} TFLOP/s achieved)"
    )
    if r.pipeline_its is not None:
        share = r.pipeline_its / r.bare_step_its
        click.echo(
            f"with data       {r.pipeline_its:.2f} it/s from {', '.join(data) or 'builtin'} degraded by "
            f"{r.pipeline_degradation} ({r.pipeline_workers} workers; {share:.0%} of the bare step)"
        )
    if r.data_batches_per_s:
        click.echo(
            f"data alone      {r.data_batches_per_s:.1f} batches/s "
            f"({1000 / r.data_batches_per_s:.1f} ms per batch; the bare step takes {1000 / r.bare_step_its:.1f} ms)"
        )
    speed = f"{1 / r.runtime_rate:.1f}x real time" if r.runtime_rate > 0 else ""
    click.echo(
        f"runtime rate    {r.runtime_rate:.4f} s per s of audio ({speed}; {r.enhance_batch} blocks per pass; "
        f"{r.inference_tflops:.3f} TFLOP/s achieved)"
    )
    overhead = r.runtime_rate / r.bare_forward_rate - 1 if r.bare_forward_rate > 0 else float("nan")
    click.echo(
        f"bare forward    {r.bare_forward_rate:.4f} s per s of audio in one pass "
        f"(blocks and context cost {overhead:+.0%})"
    )
    label = "peak allocated" if r.device.startswith("cuda") else "peak process RSS"
    click.echo(f"memory          {r.peak_memory_bytes / 2**20:.0f} MiB {label}")
