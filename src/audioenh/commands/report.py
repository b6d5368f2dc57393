"""``audioenh generalization-report``: the paper's experiments end to end."""

from __future__ import annotations

import click

from ..reports.presets import DEFAULT_METRICS, PRESETS
from .options import (
    data_option,
    device_option,
    metric_option,
    one_line_errors,
    output_option,
    precision_option,
    quiet_option,
)


@click.command("generalization-report")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="quick",
    show_default=True,
    help="smoke: a pipeline check in under a minute; quick: sized for 2 CPU cores (fewer iterations where "
    "the CPU lacks bf16 hardware); paper: the paper's protocol and models (GPU).",
)
@data_option("the preset's built-in corpus")
@metric_option(
    DEFAULT_METRICS,
    "Metrics of Table II (SNR always). A metric that cannot run here (missing extra or weights) is "
    "reported as unavailable, with the reason, and the others still run.",
)
@device_option
@precision_option
@output_option("Report folder; re-running resumes unfinished runs and reuses finished ones.", file_okay=False)
@quiet_option
@one_line_errors
def generalization_report(preset, data, metric_specs, device, precision, output, quiet):
    """Train {U-Net, ResNet} x {baseline, DA, BN, DO}, test on the seen and unseen filters, and report.

    Writes DIR/report.md, DIR/report.html (self-contained), DIR/report.json and the figures
    DIR/fig2_filters.png, DIR/fig3_validation.png and DIR/fig4_spectrograms.png; the runs
    live in DIR/runs/.
    """
    from ..reports import render
    from ..reports.experiment import run_experiment

    def echo(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    experiment = run_experiment(
        PRESETS[preset],
        output,
        list(data) or None,
        device,
        precision=precision,
        metric_specs=metric_specs,
        progress=not quiet,
        echo=echo,
    )
    report = render.write_report(output, experiment)
    click.echo(render.finding_text(report).replace("**", ""))
    click.echo(f"wrote {output / 'report.html'}, report.md and report.json")
