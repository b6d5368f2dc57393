"""``audioenh matrix``: score trained models on a set of degradations (the generalization matrix)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click
from tqdm.auto import tqdm

from ..degradations.chain import resolve_degradations
from ..errors import AudioenhError
from ..plugins import metrics
from ..precision import resolve_precision
from .options import (
    data_option,
    device_option,
    echo_json,
    json_option,
    metric_option,
    mode_option,
    one_line_errors,
    output_option,
    precision_option,
    quiet_option,
)


def _model_label(text: str) -> tuple[str, Path]:
    """``NAME=PATH`` or ``PATH`` (named after the run folder, or the checkpoint file's stem)."""
    name, sep, path = text.partition("=")
    if sep and name and not Path(text).exists():
        return name, Path(path)
    p = Path(text)
    return (p.name if p.is_dir() else p.stem) or text, p


@click.command("matrix")
@click.argument("model_texts", metavar="[NAME=]MODEL...", nargs=-1, required=True)
@click.option(
    "-s",
    "--set",
    "cells",
    multiple=True,
    default=("matrix-quick",),
    show_default=True,
    metavar="SPEC",
    help="Degradation set or spec scored as the matrix's columns; repeat for several. `matrix` is the full "
    "set (every low-pass family at orders 4-12 and cut-offs 8-16 kHz, resampling, codecs when the codecs "
    "plugin is installed, chains); `matrix-quick` the quick report's subset.",
)
@data_option("the first model's training data")
@click.option("--split", default="test", show_default=True, type=click.Choice(["train", "val", "test"]))
@click.option("--songs", type=click.IntRange(min=1), help="Score only the first N songs of the split.")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.5),
    help="Score a centred excerpt of this many seconds of each song (default: whole songs).",
)
@mode_option(
    "both",
    "raw: the network's output (the paper's measure); safe: enhance's default do-no-harm output.",
    both=True,
    dest="modes",
)
@metric_option(
    ("snr",), "Metrics besides lsd-edge (the LSD above each input's band edge, always computed); SNR always."
)
@click.option(
    "--oracle",
    is_flag=True,
    help="Add the row 'oracle': the original song above each input's detected band edge, the input below "
    "it. The most any model can gain in safe mode.",
)
@device_option
@precision_option
@output_option("Folder for matrix.json, matrix.md, matrix.html and the heatmaps.", required=False, file_okay=False)
@json_option("Print the whole matrix as JSON.")
@quiet_option
@one_line_errors
def matrix(
    model_texts,
    cells,
    data,
    split,
    songs,
    seconds,
    modes,
    metric_specs,
    oracle,
    device,
    precision,
    output,
    as_json,
    quiet,
):
    """Score each model on every degradation of a set, in raw and safe mode: the generalization matrix.

    Each model is a run folder, a checkpoint or a bundled model's name, optionally named
    (``DA=runs/resnet-da``); a bundled bank (auto) is one row that uses, per song and cell, the
    model enhance would pick. Every song is
    degraded once per cell and enhanced once per model; safe mode's score comes from the same network
    output through enhance's crossover, trust and level limit, so it equals ``enhance --mode safe``. Prints the
    summary (worst and mean ΔSNR, cells that lose more than 0.05 dB) and, with -o, writes the tables
    and heatmaps.
    """
    from ..checkpoint import load_model, training_degradations, validated_gain_db, validated_ranges
    from ..data.corpus import resolve_corpus
    from ..evaluation.inference import select_device
    from ..evaluation.matrix import MODES, ORACLE, MatrixModel, score_matrix
    from ..pretrained import model_name, resolve_models
    from ..reports.matrix import summary_table, write_matrix

    resolved = resolve_degradations(list(cells))
    for spec in metric_specs:
        metrics().create(spec)
    torch_device = select_device(device)
    rows, first_checkpoint = [], None
    for text in model_texts:
        name, path = _model_label(text)
        members = []
        for source in resolve_models(path):  # a bank: several, its fallback first
            model, checkpoint = load_model(source, torch_device)
            first_checkpoint = first_checkpoint or checkpoint
            members.append(
                MatrixModel(
                    model_name(source),
                    model,
                    training_degradations(checkpoint),
                    int(checkpoint["sample_rate"]),
                    resolve_precision(precision, torch_device, checkpoint["arch"]),
                    validated_gain_db(checkpoint),
                    validated_ranges(checkpoint),
                )
            )
        rows.append(MatrixModel.bank(name, members) if len(members) > 1 else replace(members[0], name=name))
    if oracle and ORACLE in {m.name for m in rows}:
        raise AudioenhError(f"a model is named {ORACLE!r}, the name of --oracle's row; name it NAME=PATH")
    if len({m.name for m in rows}) != len(rows):
        raise AudioenhError(f"two models share a name ({', '.join(m.name for m in rows)}); name them NAME=PATH")
    if len({m.sample_rate for m in rows}) > 1:
        rates = ", ".join(f"{m.name} {m.sample_rate} Hz" for m in rows)
        raise AudioenhError(f"the models run at different sample rates ({rates}); score them in separate matrices")
    data_specs = list(data) or list(first_checkpoint.get("config", {}).get("data", []) or ["builtin"])
    corpus = resolve_corpus(
        data_specs, echo=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)), progress=not quiet
    )
    chosen = corpus.split(split)[:songs]
    if not chosen:
        raise AudioenhError(f"the {split} split of {', '.join(data_specs)} holds no songs")
    with tqdm(total=len(resolved) * len(chosen), unit="song", leave=False, disable=quiet) as bar:
        result = score_matrix(
            rows,
            chosen,
            list(cells),
            metric_specs,
            device=torch_device,
            seconds=seconds,
            modes=MODES if modes == "both" else (modes,),
            on_step=lambda _cell: bar.update(1),
            oracle=oracle,
        )
    result.update(data=", ".join(data_specs), split=split, checkpoints=dict(zip([r.name for r in rows], model_texts)))
    if output is not None:
        write_matrix(output, result)
    if as_json:
        echo_json(result)
        return
    header, table = summary_table(result)
    click.echo(f"{len(resolved)} degradations x {len(chosen)} {split} songs:")
    for row in table:
        click.echo(f"  {row[0]}: " + "; ".join(f"{h.split(':')[0]} {v}" for h, v in zip(header[2:], row[2:])))
    if output is not None:
        click.echo(f"wrote {output / 'matrix.html'}")
