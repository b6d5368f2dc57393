"""``audioenh matrix-compare``: what changed between two generalization matrices, cell by cell."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import AudioenhError
from .options import echo_json, json_option, one_line_errors, output_option


def _pair(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old or not new:
        raise AudioenhError(f"--pair {text!r}: expected BEFORE_NAME=AFTER_NAME")
    return old, new


@click.command("matrix-compare")
@click.argument("before", type=click.Path(exists=True, path_type=Path))
@click.argument("after", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--pair",
    "pair_texts",
    multiple=True,
    metavar="BEFORE=AFTER",
    help="Compare the before matrix's model BEFORE with the after matrix's AFTER (repeatable). Default: the "
    "models both hold by name, or the only model of each.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0),
    default=0.05,
    show_default=True,
    help="A cell counts as better or worse when its Δ changed by more than this (dB for SNR).",
)
@click.option(
    "--metric",
    default="snr",
    show_default=True,
    help="The metric compared (snr, lsd-edge or another the matrices scored with -m).",
)
@output_option(
    "Folder for compare.json, compare.md, compare.html and the heatmap of the changes.",
    required=False,
    file_okay=False,
)
@json_option("Print the whole comparison as JSON.")
@one_line_errors
def matrix_compare(before, after, pair_texts, threshold, metric, output, as_json):
    """Compare two generalization matrices (BEFORE and AFTER: matrix.json, report.json or their folders).

    Pairs the models (by name, or --pair) and the degradations both matrices scored, and prints per mode
    and model the mean and worst ΔSNR before and after, the cells that lose more than 0.05 dB in each,
    how many cells got better or worse by more than --threshold, and which cells crossed that harm line.
    Both must have scored the same songs and excerpts. With -o, writes the tables and a heatmap of the
    changes.
    """
    from ..reports.matrix_compare import compare_matrices, load_matrix, summary_lines, write_comparison

    comparison = compare_matrices(
        load_matrix(before),
        load_matrix(after),
        pairs=[_pair(t) for t in pair_texts] or None,
        threshold_db=threshold,
        metric=metric,
    )
    if output is not None:
        write_comparison(output, comparison)
    if as_json:
        echo_json(comparison)
        return
    click.echo(
        f"{len(comparison['cells'])} degradations x {len(comparison['songs'])} songs, "
        f"Δ{metric} before → after (change):"
    )
    for line in summary_lines(comparison):
        click.echo(f"  {line}")
    if output is not None:
        click.echo(f"wrote {output / 'compare.html'}")
