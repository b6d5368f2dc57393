"""``audioenh train``: train a network on degraded music."""

from __future__ import annotations

from pathlib import Path

import click

from ..degradations.chain import expand_training_specs
from ..plugins import architectures
from ..training.config import TrainConfig, default_workers
from ..training.loop import train as run_training


@click.command()
@click.option("-a", "--arch", "arch", metavar="SPEC", help="Architecture spec, e.g. resnet or unet:dropout=0.5.")
@click.option(
    "-d",
    "--degrade",
    "specs",
    multiple=True,
    metavar="SPEC",
    help="Training degradation, e.g. cheby1:6, a chain cheby1:6+mp3:128, or ranges drawn per example "
    "cheby1:order=4..12,cutoff=9000..13000; repeat, or name a set such as paper-multi, for a random choice "
    "per training example.",
)
@click.option(
    "--unseen",
    "unseen",
    multiple=True,
    metavar="SPEC",
    help="Filter never trained on, validated at every record.  [default: butter:6]",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="D",
    help="Corpus: builtin, a folder with train/ val/ test/, dsd100:PATH or medleydb:PATH; repeat to "
    "combine.  [default: builtin]",
)
@click.option(
    "-o",
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Run directory (config.json, metrics.jsonl, checkpoints/).",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Stop after this many iterations.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--chunk", type=click.IntRange(min=1), default=8192, show_default=True, help="Samples per training example."
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=5e-4,
    show_default=True,
    help="Adam learning rate; halved after --patience records without a lower training loss.",
)
@click.option("--patience", type=click.IntRange(min=1), default=5, show_default=True)
@click.option(
    "--min-lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop once the learning rate falls below this.",
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
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda (auto picks CUDA when present).")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help=f"DataLoader worker processes degrading examples.  [default: {default_workers()}]",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def train(
    arch,
    specs,
    unseen,
    data,
    run_dir,
    iterations,
    batch_size,
    chunk,
    lr,
    patience,
    min_lr,
    record_every,
    val_offset,
    val_seconds,
    device,
    workers,
    seed,
    resume,
    quiet,
):
    """Train a network to restore what the degradation removes.

    Every record writes one JSON line to RUN/metrics.jsonl (mean training loss, lr, validation
    SNR of input and output for the seen filter(s) and each unseen filter) and replaces
    RUN/checkpoints/last.pt atomically. With --resume, only --iterations, --min-lr, --device and
    --workers may change; everything else comes from RUN/config.json.
    """
    ctx = click.get_current_context()

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT

    if resume:
        fixed = [
            p
            for p in (
                "arch",
                "specs",
                "unseen",
                "data",
                "batch_size",
                "chunk",
                "lr",
                "patience",
                "record_every",
                "val_offset",
                "val_seconds",
                "seed",
            )
            if given(p)
        ]
        if fixed:
            names = ", ".join("--" + ("degrade" if p == "specs" else p.replace("_", "-")) for p in fixed)
            raise click.UsageError(f"{names} cannot change when resuming; they come from the run's config.json")
        overrides = {"device": device}
        if given("iterations"):
            overrides["iterations"] = iterations
        if given("min_lr"):
            overrides["min_lr"] = min_lr
        if workers is not None:
            overrides["workers"] = workers
        config = None
    else:
        if not arch or not specs:
            raise click.UsageError("a new run needs --arch and at least one --degrade")
        architectures().bind(arch)
        expanded = expand_training_specs(specs)  # sets expanded; bad specs fail before any work
        expand_training_specs(unseen or ["butter:6"])
        overrides = None
        config = TrainConfig(
            arch=architectures().canonical(arch),
            degradations=expanded,
            data=list(data or ["builtin"]),
            unseen=list(unseen or ["butter:6"]),
            iterations=iterations,
            batch_size=batch_size,
            chunk=chunk,
            lr=lr,
            patience=patience,
            min_lr=min_lr,
            record_every=record_every,
            val_offset=val_offset,
            val_seconds=val_seconds,
            device=device,
            workers=default_workers() if workers is None else workers,
            seed=seed,
        )
    last = run_training(
        config, run_dir, resume=resume, overrides=overrides, progress=not quiet, echo=lambda m: click.echo(m, err=True)
    )
    if last:
        seen = last["val"]["seen"]
        click.echo(
            f"iteration {last['iteration']}: loss {last['loss']:.3e}, validation SNR (seen) "
            f"{seen['input']:.2f} -> {seen['output']:.2f} dB; checkpoint {run_dir / 'checkpoints' / 'last.pt'}",
            err=True,
        )
