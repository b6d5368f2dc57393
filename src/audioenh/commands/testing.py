"""``audioenh test``: score a trained model on whole songs of a corpus split."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import click
from tqdm.auto import tqdm

from ..checkpoint import load_model, resolve_checkpoint
from ..data.corpus import resolve_corpus
from ..degradations.chain import expand_training_specs
from ..errors import AudioenhError
from ..evaluation.inference import DEFAULT_CHUNK, DEFAULT_CONTEXT, select_device
from ..evaluation.testing import evaluate_songs
from ..plugins import metrics
from .options import echo_json


def write_csv(path: Path, results: list[dict]) -> None:
    """One row per (degradation, song, metric): input, output and delta (output - input)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    with os.fdopen(fd, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["degradation", "song", "metric", "input", "output", "delta"])
        for result in results:
            for row in result["songs"]:
                for m, value in row["input"].items():
                    writer.writerow(
                        [result["degradation"], row["name"], m, value, row["output"][m], row["output"][m] - value]
                    )
            for m, value in result["mean"]["input"].items():
                writer.writerow(
                    [result["degradation"], "MEAN", m, value, result["mean"]["output"][m], result["mean"]["delta"][m]]
                )
    os.replace(tmp, path)


@click.command("test")
@click.argument("checkpoint_path", metavar="RUN_OR_CHECKPOINT", type=click.Path(path_type=Path))
@click.option(
    "-d",
    "--degrade",
    "specs",
    required=True,
    multiple=True,
    metavar="SPEC",
    help="Degradation applied to each whole song, e.g. cheby1:6 (seen) or butter:6 (unseen). Repeat "
    "for several; a set such as paper-multi tests each member.",
)
@click.option(
    "--data", "data", multiple=True, metavar="D", help="Corpus (as for train).  [default: the run's training data]"
)
@click.option("--split", default="test", show_default=True, type=click.Choice(["train", "val", "test"]))
@click.option(
    "-m",
    "--metric",
    "metric_specs",
    multiple=True,
    default=("snr", "lsd"),
    show_default=True,
    metavar="SPEC",
    help="Metric spec; repeat for several.",
)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option(
    "--chunk", type=click.IntRange(min=1), default=DEFAULT_CHUNK, show_default=True, help="Samples per inference block."
)
@click.option(
    "--context",
    type=click.IntRange(min=0),
    default=DEFAULT_CONTEXT,
    show_default=True,
    help="Samples of context on each side of a block.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: one object per degradation (an array when several).")
@click.option(
    "--out",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write per-song results to this CSV file.",
)
def test(checkpoint_path, specs, data, split, metric_specs, device, chunk, context, as_json, csv_path):
    """Degrade whole songs, enhance them and score input and output against the originals.

    Songs are processed block-wise with context on both sides (no seams, every sample kept);
    metrics are computed per song and averaged over songs, as in the paper.
    """
    specs = expand_training_specs(specs)
    for spec in metric_specs:
        metrics().create(spec)
    path = resolve_checkpoint(checkpoint_path)
    torch_device = select_device(device)
    model, checkpoint = load_model(path, torch_device)
    data_specs = list(data) or list(checkpoint.get("config", {}).get("data", []) or ["builtin"])
    corpus = resolve_corpus(data_specs, echo=lambda m: click.echo(m, err=True))
    songs = corpus.split(split)
    if not songs:
        raise AudioenhError(f"the {split} split of {', '.join(data_specs)} holds no songs")
    results = []
    with tqdm(total=len(songs) * len(specs), unit="song", leave=False) as bar:
        for spec in specs:
            result = evaluate_songs(
                model,
                songs,
                spec,
                metric_specs,
                device=torch_device,
                sample_rate=int(checkpoint["sample_rate"]),
                chunk=chunk,
                context=context,
                on_song=lambda _name: bar.update(1),
            )
            results.append(
                {
                    "checkpoint": str(path),
                    "degradation": spec,
                    "split": split,
                    "songs": result["songs"],
                    "mean": result["mean"],
                }
            )
    if csv_path is not None:
        write_csv(csv_path, results)
    if as_json:
        echo_json(results[0] if len(results) == 1 else results)
        return
    for result in results:
        click.echo(f"{result['degradation']} on {len(result['songs'])} {split} songs ({path}):")
        for m in metric_specs:
            mean = result["mean"]
            click.echo(
                f"  {m:<10} input {mean['input'][m]:9.3f}  output {mean['output'][m]:9.3f}  "
                f"delta {mean['delta'][m]:+8.3f}"
            )
