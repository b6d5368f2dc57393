"""``audioenh train``: train a network on degraded music."""

from __future__ import annotations

import click

from ..degradations.chain import resolve_degradations
from ..plugins import architectures
from ..precision import resolve_precision
from ..spec import format_spec, parse_spec
from ..training.config import COMPILE_MODES, TrainConfig, default_workers, fixed_settings, resumable_settings
from .options import (
    batch_size_option,
    block_option,
    chunk_option,
    data_option,
    degrade_option,
    device_option,
    one_line_errors,
    output_option,
    precision_option,
    quiet_option,
    range_group_option,
    seed_option,
)

#: Command-line spelling of each config field that has an option here.
_OPTION_OF = {
    "degradations": "--degrade",
    "infer_chunk": "--block",
    "loss_split_hz": "--loss-split",
    "compile_mode": "--compile",
}
#: Click parameter name of each config field (where they differ).
_PARAM_OF = {"infer_chunk": "block", "degradations": "specs"}


@click.command()
@click.option("-a", "--arch", "arch", metavar="SPEC", help="Architecture spec, e.g. resnet or unet:dropout=0.5.")
@degrade_option(
    "Training degradation, e.g. cheby1:6, a chain cheby1:6+mp3:128, or ranges drawn per example "
    "cheby1:order=4..12,cutoff=9000..13000; repeat, or name a set such as paper-multi, for a random choice "
    "per training example.",
    required=False,
)
@click.option(
    "--unseen",
    "unseen",
    multiple=True,
    metavar="SPEC",
    help="Degradation never trained on, validated at every record; repeat for several.  [default: butter:6]",
)
@data_option("builtin")
@output_option("Run folder (config.json, metrics.jsonl, checkpoints/).", file_okay=False)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Stop after this many iterations.",
)
@batch_size_option
@chunk_option
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=5e-4,
    show_default=True,
    help="Adam learning rate; halved after --patience records without a lower training loss.",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Records without a lower training loss before the learning rate is halved.",
)
@click.option(
    "--min-lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop once the learning rate falls below this.",
)
@click.option(
    "--lr-decay",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Decay the learning rate to 0 along a cosine over the last N iterations (0: no decay).",
)
@click.option(
    "--bn-batches",
    type=click.IntRange(min=0),
    default=25,
    show_default=True,
    metavar="N",
    help="Models with BatchNorm: at each record, recompute its statistics from the last N training "
    "batches with the current weights (0: keep the running averages).",
)
@click.option(
    "--loss-split",
    "loss_split_hz",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="HZ",
    help="Weigh the error below this frequency by --loss-below-weight in the loss (the band safe mode "
    "keeps; docs/recipes.md). Default: the plain MSE.",
)
@click.option(
    "--loss-below-weight",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    metavar="W",
    help="Weight of the error below --loss-split in the loss.",
)
@click.option(
    "--input-level",
    default="auto",
    show_default=True,
    metavar="auto|none|DB",
    help="RMS level (dBFS) the trained network runs its inputs at, in validation and wherever its "
    "checkpoint is used (each input scaled to it by one gain and back): auto, the training songs' mean; "
    "none, each input's own level (the paper's code); or a number from -80 to 0.",
)
@click.option(
    "--record-every",
    type=click.IntRange(min=1),
    default=2500,
    show_default=True,
    help="Iterations between records (mean loss, lr, validation SNR, checkpoint).",
)
@click.option(
    "--val-offset",
    type=click.FloatRange(min=0),
    default=8.0,
    show_default=True,
    help="Validation excerpts start this many seconds into each song.",
)
@click.option(
    "--val-seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=8.0,
    show_default=True,
    help="Validation excerpt length in seconds.",
)
@block_option(legacy_chunk=False)
@device_option
@precision_option
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help=f"DataLoader worker processes degrading examples.  [default: {default_workers()}]",
)
@range_group_option
@click.option(
    "--compile",
    "compile_mode",
    type=click.Choice(COMPILE_MODES),
    default="off",
    show_default=True,
    help="torch.compile the trained network (validation stays eager): reduce-overhead adds CUDA graphs on a "
    "GPU. Slower on the CPUs measured; measure your own with metrics.jsonl's train_its (docs/performance.md).",
)
@click.option(
    "--conv",
    type=click.Choice(["auto", "native"]),
    default="auto",
    show_default=True,
    help="How the built-in networks compute their convolutions in this invocation: auto, the measured rules "
    "(on a CPU in float32 overlap-save FFTs for wide layers: the paper U-Net's training step 4x faster, the "
    "paper ResNet's 1.4x, but with up to 2.6x the memory), or native, PyTorch's own everywhere (less memory). "
    "The same function to float rounding either way; not stored in the run (docs/performance.md).",
)
@seed_option("Seed of the run: initial weights, training examples and their random degradations.")
@click.option("--resume", is_flag=True, help="Continue the run in --output from its last checkpoint.")
@quiet_option
@one_line_errors
def train(
    arch,
    specs,
    unseen,
    data,
    output,
    iterations,
    batch_size,
    chunk,
    lr,
    patience,
    min_lr,
    lr_decay,
    bn_batches,
    loss_split_hz,
    loss_below_weight,
    input_level,
    record_every,
    val_offset,
    val_seconds,
    block,
    device,
    precision,
    workers,
    range_group,
    compile_mode,
    conv,
    seed,
    resume,
    quiet,
):
    """Train a network to restore what the degradation removes.

    Every record writes one JSON line to RUN/metrics.jsonl (mean training loss, lr, validation
    SNR of input and output for the seen filter(s) and each unseen filter) and replaces
    RUN/checkpoints/last.pt atomically. With --resume, only --iterations, --min-lr, --lr-decay,
    --bn-batches, --block, --device, --workers, --compile and --conv may change; everything else comes
    from RUN/config.json.
    """
    from ..architectures.layers import forced_conv
    from ..evaluation.inference import select_device
    from ..training.distributed import from_environment
    from ..training.loop import train as run_training
    from ..training.run import Run

    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT

    if resume:
        options = {name: _PARAM_OF.get(name, name) for name in fixed_settings()}
        fixed = [name for name, param in options.items() if param in ctx.params and given(param)]
        if fixed:
            names = ", ".join(_OPTION_OF.get(f, "--" + f.replace("_", "-")) for f in fixed)
            fixes = "it" if len(fixed) == 1 else "them"
            raise click.UsageError(f"{names} cannot change when resuming: the run's config.json fixes {fixes}")
        overrides = {"device": device}  # where it runs now, given or not
        for name in resumable_settings():
            param = _PARAM_OF.get(name, name)
            if name != "device" and given(param):
                overrides[name] = ctx.params[param]
        config = None
    else:
        if not arch or not specs:
            raise click.UsageError("a new run needs --arch and at least one --degrade")
        if loss_below_weight != 1.0 and loss_split_hz is None:
            raise click.UsageError("--loss-below-weight needs --loss-split HZ: the frequency below which it applies")
        architectures().bind(arch)
        resolve_degradations(unseen or ["butter:6"])  # bad specs fail before any work
        overrides = None
        config = TrainConfig(
            arch=format_spec(parse_spec(arch)),
            degradations=[d.text for d in resolve_degradations(specs)],
            data=list(data or ["builtin"]),
            unseen=[d.text for d in resolve_degradations(unseen or ["butter:6"])],
            iterations=iterations,
            batch_size=batch_size,
            chunk=chunk,
            lr=lr,
            patience=patience,
            min_lr=min_lr,
            lr_decay=lr_decay,
            bn_batches=bn_batches,
            loss_split_hz=loss_split_hz,
            loss_below_weight=loss_below_weight,
            input_level=input_level,
            record_every=record_every,
            val_offset=val_offset,
            val_seconds=val_seconds,
            infer_chunk=block,
            device=device,
            precision=resolve_precision(precision, select_device(device), arch),
            workers=default_workers() if workers is None else workers,
            range_group=range_group,
            compile_mode=compile_mode,
            seed=seed,
        ).resolve()
    with forced_conv(conv):
        last = run_training(
            config,
            output,
            resume=resume,
            overrides=overrides,
            progress=not quiet,
            echo=lambda m: click.echo(m, err=True),
        )
    if last and from_environment().is_main:
        seen = last["val"]["seen"]
        click.echo(
            f"iteration {last['iteration']}: loss {last['loss']:.3e}, validation SNR (seen) "
            f"{seen['input']:.2f} -> {seen['output']:.2f} dB; checkpoint {Run(output).checkpoint_path}",
            err=True,
        )
        from ..reports.figures import training_curves

        run = Run(output)
        training_curves(run.curves_path, run.records(), run.name)
        click.echo(f"curves: {run.curves_path}", err=True)
