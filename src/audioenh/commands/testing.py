"""``audioenh test``: score a trained model on whole songs of a corpus split."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from tqdm.auto import tqdm

from ..degradations.chain import resolve_degradations
from ..errors import AudioenhError
from ..fileio import atomic_open
from ..plugins import metrics
from ..precision import resolve_precision
from .options import (
    block_option,
    context_option,
    data_option,
    degrade_option,
    deprecated_alias,
    device_option,
    echo_json,
    json_option,
    metric_option,
    mode_option,
    one_line_errors,
    precision_option,
    quiet_option,
)


def write_csv(path: Path, results: list[dict]) -> None:
    """One row per (degradation, song, metric): input, output and delta (output - input); written atomically."""
    with atomic_open(path, "w", newline="", encoding="utf-8") as f:
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


@click.command("test")
@click.argument("checkpoint_path", metavar="MODEL", type=click.Path(path_type=Path))
@degrade_option(
    "Degradation applied to each whole song, e.g. cheby1:6 (seen) or butter:6 (unseen). Repeat "
    "for several; a set such as paper-multi tests each member.",
)
@data_option("the run's training data")
@click.option("--split", default="test", show_default=True, type=click.Choice(["train", "val", "test"]))
@metric_option(("snr", "lsd"), "Metric spec; repeat for several.")
@device_option
@precision_option
@block_option()
@context_option
@mode_option(
    "raw",
    "raw: the network's output as it is (what the paper measures). safe: enhance's default do-no-harm "
    "output (the network only adds the band above each song's edge, as far as its training allows).",
)
@json_option("Print JSON: one object per degradation (an array when several).")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write per-song results to this CSV file.",
)
@deprecated_alias("--out", "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path))
@quiet_option
@one_line_errors
def test(
    checkpoint_path, specs, data, split, metric_specs, device, precision, block, context, mode, as_json, csv_path, quiet
):
    """Degrade whole songs, enhance them with MODEL (a run folder, a checkpoint file or a bundled
    model's name) and score input and output against the originals.

    Songs are processed block-wise with context on both sides (no seams, every sample kept);
    metrics are computed per song and averaged over songs, as in the paper.
    """
    from ..checkpoint import load_model, training_degradations, validated_gain_db, validated_ranges
    from ..data.corpus import resolve_corpus
    from ..evaluation.inference import select_device
    from ..evaluation.testing import evaluate_songs
    from ..pretrained import resolve_model

    resolved = resolve_degradations(specs)
    for spec in metric_specs:
        metrics().create(spec)
    path = resolve_model(checkpoint_path)
    torch_device = select_device(device)
    model, checkpoint = load_model(path, torch_device)
    precision = resolve_precision(precision, torch_device, checkpoint["arch"])
    data_specs = list(data) or list(checkpoint.get("config", {}).get("data", []) or ["builtin"])
    corpus = resolve_corpus(
        data_specs, echo=(lambda m: None) if quiet else (lambda m: click.echo(m, err=True)), progress=not quiet
    )
    songs = corpus.split(split)
    if not songs:
        raise AudioenhError(f"the {split} split of {', '.join(data_specs)} holds no songs")
    results = []
    with tqdm(total=len(songs) * len(resolved), unit="song", leave=False, disable=quiet) as bar:
        for degradation in resolved:
            result = evaluate_songs(
                model,
                songs,
                degradation.canonical,
                metric_specs,
                device=torch_device,
                sample_rate=int(checkpoint["sample_rate"]),
                chunk=block,
                context=context,
                precision=precision,
                mode=mode,
                trained_specs=training_degradations(checkpoint),
                validated_gain_db=validated_gain_db(checkpoint),
                validated_ranges=validated_ranges(checkpoint),
                on_song=lambda _name: bar.update(1),
            )
            results.append(
                {
                    "checkpoint": str(path),
                    "degradation": degradation.text,
                    "mode": mode,
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
        click.echo(f"{result['degradation']} on {len(result['songs'])} {split} songs, {mode} mode ({path}):")
        for m in metric_specs:
            mean = result["mean"]
            click.echo(
                f"  {m:<10} input {mean['input'][m]:9.3f}  output {mean['output'][m]:9.3f}  "
                f"delta {mean['delta'][m]:+8.3f}"
            )
