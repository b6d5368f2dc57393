"""``audioenh generalization-report``: the paper's experiments end to end."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..reports import figures, render
from ..reports.experiment import DEFAULT_METRICS, excerpt_panels, run_experiment
from ..reports.presets import PRESETS


@click.command("generalization-report")
@click.option(
    "--preset",
    type=click.Choice(list(PRESETS)),
    default="quick",
    show_default=True,
    help="smoke: a pipeline check in under a minute; quick: sized for 2 CPU cores; paper: the paper's "
    "protocol and models (GPU).",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="D",
    help="Corpus (builtin, a folder, dsd100:PATH, medleydb:PATH; repeat to combine).  "
    "[default: the preset's built-in corpus]",
)
@click.option(
    "-m",
    "--metric",
    "metric_specs",
    multiple=True,
    default=DEFAULT_METRICS,
    show_default=True,
    metavar="SPEC",
    help="Metrics of Table II (SNR always). A metric that cannot run here (missing extra or weights) is "
    "reported as unavailable, with the reason, and the others still run.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report directory; re-running resumes unfinished runs and reuses finished ones.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def generalization_report(preset, data, metric_specs, device, out_dir, quiet):
    """Train {U-Net, ResNet} x {baseline, DA, BN, DO}, test on the seen and unseen filters, and report.

    Writes DIR/report.md, DIR/report.html (self-contained), DIR/report.json and the figures
    DIR/fig2_filters.png, DIR/fig3_validation.png and DIR/fig4_spectrograms.png; the runs
    live in DIR/runs/.
    """
    settings = PRESETS[preset]
    started = time.monotonic()

    def echo(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    report = run_experiment(
        settings, out_dir, list(data) or None, device, metric_specs=metric_specs, progress=not quiet, echo=echo
    )
    figures.filter_responses(out_dir / render.FIGURES["fig2"][0], report["multi"], [report["unseen"]])
    figures.validation_curves(out_dir / render.FIGURES["fig3"][0], report["curves"], report["unseen"])
    panels = excerpt_panels(out_dir, report["runs"], report["data"], settings.excerpt_seconds, device)
    figures.spectrograms(out_dir / render.FIGURES["fig4"][0], panels, "target")
    report["machine"] = render.machine()
    report["wall_seconds"] = time.monotonic() - started
    render.write_json(out_dir / "report.json", report)
    render.write_markdown(out_dir / "report.md", report)
    render.write_html(out_dir / "report.html", report, out_dir)
    click.echo(render.finding_text(report).replace("**", ""))
    click.echo(f"wrote {out_dir / 'report.html'}, report.md and report.json")
