"""``audioenh enhance``: run a trained checkpoint over audio files, streaming (any length, constant memory)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

from ..audio_io import is_audio_file_name, output_format, same_file
from ..containers import needs_decoding, readable
from ..errors import AudioenhError
from ..evaluation.blocks import CUDA_BATCH, DEFAULT_BATCH
from ..precision import resolve_precision
from ..pretrained import DEFAULT
from .options import (
    block_option,
    context_option,
    device_option,
    mode_option,
    one_line_errors,
    output_option,
    plot_option,
    precision_option,
    quiet_option,
)

if TYPE_CHECKING:  # PyTorch and the models load in the functions that use them: `enhance --help` is fast
    import torch

    from ..checkpoint import Traversable
    from ..evaluation.crossover import Restoration


def plan_outputs(inputs: tuple[Path, ...], output: Path) -> list[tuple[Path, Path]]:
    """Pair each input with its output file; refuses clashes before any work.

    One input: ``output`` is the file to write, or an existing folder to write into. Several
    inputs: ``output`` is a folder (created if missing), each output named like its input.
    """
    if len(inputs) == 1 and not output.is_dir():
        pairs = [(inputs[0], output)]
    else:
        if output.exists() and not output.is_dir():
            raise AudioenhError(f"{str(output)!r} is a file; with several inputs --output must be a folder")
        if not output.exists() and is_audio_file_name(output):  # a mistake, not a folder to create
            raise AudioenhError(
                f"{len(inputs)} inputs but --output {str(output)!r} names one audio file; "
                "give a folder for their outputs (it is created), or one input"
            )
        pairs = [(p, output / p.name) for p in inputs]
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        key = dst.resolve()
        if key in seen:
            raise AudioenhError(f"{str(seen[key])!r} and {str(src)!r} would both be written to {str(dst)!r}")
        seen[key] = src
        for other in inputs:
            if same_file(other, dst):
                raise AudioenhError(f"refusing to overwrite the input {str(other)!r}; choose another --output")
    return pairs


@click.command()
@click.argument(
    "paths", metavar="[RUN_OR_CHECKPOINT] INPUT...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option(
    "--model",
    "model_ref",
    metavar="RUN|FILE|NAME",
    default=None,
    help=f"The model: a training run folder, a checkpoint file or a bundled model's name "
    f"(audioenh list models; a bank of them picks one per input). Default: the bundled {DEFAULT!r}, or "
    "RUN_OR_CHECKPOINT when given first.",
)
@output_option(
    "Output file (one INPUT) or folder (several INPUTs; created if missing, files keep their "
    "input's name). The extension picks the format. Never an input.",
    required=False,
)
@mode_option(
    "safe",
    "safe: do no harm: the network only adds the band above the input's band edge; below it the "
    "output is the input, and a full-band input comes back unchanged. raw: the network's output as is.",
)
@click.option(
    "--edge",
    "edge_hz",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="HZ",
    help="Band edge of the inputs in Hz (safe mode), instead of detecting it (docs/bandwidth.md).",
)
@click.option(
    "--analyze",
    is_flag=True,
    help="Print each input's detected band edge and what would be restored; write nothing.",
)
@plot_option(
    "Also draw each input's and output's long-term spectra with the band edge and the band restored "
    "(with --analyze: the input's and what would be restored): a .png, .svg or .pdf file for one INPUT, "
    "a folder for several (named like the outputs, .png)."
)
@click.option(
    "--keep-rate",
    is_flag=True,
    help="Write at exactly the input's sample rate and length, even when it is below the checkpoint's "
    "(the restored band above its Nyquist frequency is then lost). Default: the higher of the input's "
    "rate and the checkpoint's: a 48 or 96 kHz input keeps its rate, a 22.05 kHz one is written at 44.1 kHz.",
)
@click.option(
    "--model-rate",
    "at_model_rate",
    is_flag=True,
    help="Write at the checkpoint's sample rate (the network's output as it runs), whatever the input's.",
)
@click.option("--float", "as_float", is_flag=True, help="Write 32-bit float samples (no clipping).")
@click.option(
    "--bits",
    type=click.Choice(["16", "24"]),
    default=None,
    help="Write 16- or 24-bit PCM, clipped to [-1, 1]. Default: 24-bit where the format has it.",
)
@device_option
@precision_option
@block_option()
@context_option
@click.option(
    "--batch-size",
    default=None,
    type=click.IntRange(min=1),
    help=f"Blocks per forward pass (memory grows with block x batch size).  [default: {DEFAULT_BATCH} on a CPU, "
    f"{CUDA_BATCH} on a GPU]",
)
@quiet_option
@one_line_errors
def enhance(
    paths: tuple[Path, ...],
    model_ref: str | None,
    output: Path,
    mode: str,
    edge_hz: float | None,
    analyze: bool,
    plot: Path | None,
    keep_rate: bool,
    at_model_rate: bool,
    as_float: bool,
    bits: str | None,
    device: str,
    precision: str,
    block: int,
    context: int,
    batch_size: int,
    quiet: bool,
):
    """Enhance each INPUT and write the result to OUTPUT.

    The model is the bundled one (audioenh list models; docs/model.md) unless --model names another,
    or the first argument is a checkpoint file or a training run folder (its last checkpoint is
    used). The default, auto, is a bank of bundled models, each trained on other band limits: each
    input is enhanced by the one whose training band limits its own matches best. Checkpoints are
    loaded safely (weights only, no code runs). Files of any length are streamed in blocks with
    context on both sides: memory does not grow with the length, and the result equals enhancing
    the whole file at once, every sample kept.

    The network runs at the checkpoint's sample rate; inputs at another rate are resampled to it
    (soxr). The output keeps the input's rate, or the checkpoint's where that is higher (a 48 kHz
    input stays 48 kHz, a 22.05 kHz one becomes 44.1 kHz); --keep-rate and --model-rate choose one
    of the two. At the input's own rate, safe mode adds only the network's correction, resampled, to
    the input's own samples: what the model does not restore is the input's. Mono inputs are
    duplicated for a stereo model and the two outputs averaged back to mono; more than two channels
    are refused.
    The output is written to a temporary file and renamed when complete: nothing is left
    behind on errors, NaN samples or Ctrl-C.

    \b
    Text tags (title, artist, album, ...) are copied where the output's format holds them.
    AAC/M4A (and ALAC, WMA) inputs, which libsndfile cannot decode, are read with PyAV when it is
    installed (pip install 'audioenh[aac]'); otherwise they are refused with a hint.

    \b
    Examples:
      audioenh enhance song.mp3 -o song.flac
      audioenh enhance --model runs/resnet-da a.wav b.wav -o enhanced/ --float
      audioenh enhance runs/resnet-da song.flac -o song-enhanced.flac
    """
    from ..analysis.spectrum_plot import plot_paths
    from ..checkpoint import load_model
    from ..evaluation.inference import select_device
    from ..evaluation.streaming import check_input, enhance_file
    from ..pretrained import model_label

    sources, inputs = split_model_argument(paths, model_ref)
    if keep_rate and at_model_rate:
        raise AudioenhError("--keep-rate and --model-rate exclude each other; give one of them")
    rate = "input" if keep_rate else "model" if at_model_rate else "auto"
    if analyze:
        plots = plot_paths(inputs, plot) if plot is not None else None
        _analyze(sources, inputs, edge_hz, mode, select_device(device), precision, plots, rate)
        return
    if output is None:
        raise click.UsageError("Missing option '-o' / '--output'.")
    if as_float and bits:
        raise click.UsageError("--float and --bits exclude each other")
    subtype = "FLOAT" if as_float else (f"PCM_{bits}" if bits else None)
    torch_device = select_device(device)
    pairs = plan_outputs(inputs, output)
    plots = plot_paths(inputs, plot, [dst.name for _, dst in pairs]) if plot is not None else [None] * len(pairs)
    for src, dst in pairs:  # cheap checks of every file before any work
        if not needs_decoding(src):  # (files PyAV decodes are checked as they are decoded)
            check_input(src)
        output_format(dst, subtype)
    loaded = [load_model(source, torch_device) for source in sources]
    if len({int(ckpt["sample_rate"]) for _, ckpt in loaded}) > 1:
        raise AudioenhError("the models of a bank must run at one sample rate")
    if len(pairs) > 1:
        output.mkdir(parents=True, exist_ok=True)
    for (src, dst), plot_path in zip(pairs, plots):
        with readable(src) as source:  # AAC/M4A and the like: decoded by PyAV into a temporary WAV
            failures: list[tuple[int, Restoration]] = []
            chosen, plan, excerpt = (
                choose_model(loaded, source, edge_hz, mode, torch_device, precision, failures)
                if len(loaded) > 1
                else (0, None, None)
            )
            handed_down = describe_hand_down(failures, chosen, sources)
            if handed_down and not quiet:
                click.echo(f"{src}: {handed_down}", err=True)
            model, ckpt = loaded[chosen]
            summary = enhance_file(
                model,
                ckpt,
                source,
                dst,
                rate=rate,
                subtype=subtype,
                chunk=block,
                context=context,
                batch_size=batch_size,
                device=torch_device,
                precision=resolve_precision(precision, torch_device, ckpt["arch"]),
                mode=mode,
                edge_hz=edge_hz,
                plan=plan if mode == "safe" else None,
                excerpt=excerpt,
                progress=not quiet,
                verbose=not quiet,
            )
            if plot_path is not None:
                _plot_enhanced(plot_path, src, source, dst, summary, excerpt, quiet, edge_hz is not None)
        if not quiet:
            label = model_label(sources[chosen])
            if len(sources) > 1 and mode == "safe" and plan.skip:  # the input came back as it was
                label = f"bundled bank {model_ref or DEFAULT!s}, no model used"
            elif len(sources) > 1:
                label += f" (picked from {model_ref or DEFAULT!s})"
            _report(src, dst, summary, label, edge_given=edge_hz is not None)


def choose_model(
    loaded: list[tuple],
    path: Path,
    edge_hz: float | None,
    mode: str,
    device: torch.device,
    precision: str,
    failures: list[tuple[int, Restoration]] | None = None,
) -> tuple[int, Restoration, tuple[np.ndarray, int]]:
    """Which of the ``loaded`` ``(model, checkpoint)`` pairs (a bank) enhances the file at ``path``,
    safe mode's plan with it (:func:`plan_with_bank` on the excerpts band-edge detection reads), and
    those excerpts with their rate."""
    from ..analysis.bandwidth import file_excerpts
    from ..evaluation.streaming import check_input

    check_input(path)
    excerpt, rate = file_excerpts(path)
    chosen, plan = plan_with_bank(loaded, excerpt, rate, edge_hz, mode, device, precision, failures)
    return chosen, plan, (excerpt, rate)


def plan_with_bank(
    loaded: list[tuple],
    excerpt: np.ndarray,
    rate: int,
    edge_hz: float | None,
    mode: str,
    device: torch.device,
    precision: str,
    failures: list[tuple[int, Restoration]] | None = None,
) -> tuple[int, Restoration]:
    """Which of the ``loaded`` ``(model, checkpoint)`` pairs enhances an input with analysis ``excerpt``
    (channels, samples at ``rate`` Hz), and safe mode's plan with it: the models ranked by
    :func:`~audioenh.evaluation.selection.ranked_restorations`, the first whose network passes the
    self-test, its plan finished (:func:`~audioenh.evaluation.streaming.finish_plan`), so that a model
    failing on this music hands the input to the next one trusted with its band limit (``failures``
    receives those that failed). Raw mode runs the model safe mode would pick (for one model: that
    one, untested)."""
    from ..evaluation.selection import Candidate, first_passing, ranked_restorations
    from ..evaluation.streaming import finish_plan

    model_rate = int(loaded[0][1]["sample_rate"])
    ranked = ranked_restorations(excerpt, rate, model_rate, [Candidate.of(ckpt) for _, ckpt in loaded], edge_hz)
    if mode != "safe" and len(loaded) == 1:
        return ranked[0]

    def test(index: int, plan: Restoration) -> Restoration:
        model, ckpt = loaded[index]
        return finish_plan(plan, model, ckpt, excerpt, rate, device, resolve_precision(precision, device, ckpt["arch"]))

    return first_passing(ranked, test, failures)


def describe_hand_down(
    failures: list[tuple[int, Restoration]], chosen: int, sources: list[Path | Traversable]
) -> str | None:
    """One line saying which of a bank's models failed their self-test on an input before the ``chosen``
    one took it (``None`` when none failed, or when every trusted one failed and none took it)."""
    from ..pretrained import model_label

    if not failures or any(index == chosen for index, _ in failures):
        return None
    failed = ", ".join(f"{model_label(sources[i])} ({plan.self_test_db:+.2f} dB)" for i, plan in failures)
    return f"failed the self-test on this music: {failed}; handed to {model_label(sources[chosen])}"


def split_model_argument(
    paths: tuple[Path, ...], model_ref: str | None
) -> tuple[list[Path | Traversable], tuple[Path, ...]]:
    """The models (several for a bank, its fallback first) and the inputs from ``enhance``'s
    arguments: ``--model`` if given, else the first argument when it is a checkpoint or run folder
    and inputs follow, else the bundled default."""
    from ..checkpoint import RUN_CHECKPOINT
    from ..pretrained import looks_like_checkpoint, resolve_models

    folder = next((p for p in paths if p.is_dir() and not (p / RUN_CHECKPOINT).is_file()), None)
    if folder is not None:  # not a training run either: a folder of songs, most likely
        raise AudioenhError(
            f"{str(folder)!r} is a folder, not an audio file or a training run (no {RUN_CHECKPOINT.as_posix()}); "
            f"give the files in it (e.g. {folder / '*.flac'} -o OUTPUT_FOLDER)"
        )
    if model_ref is not None:
        return resolve_models(model_ref), paths
    if looks_like_checkpoint(paths[0]):
        if len(paths) == 1:
            raise click.UsageError(f"{str(paths[0])!r} is a model; give the INPUT files to enhance after it")
        return resolve_models(paths[0]), paths[1:]
    return resolve_models(None), paths


def _khz(hz: float) -> str:
    return f"{hz / 1000:.2f} kHz"


def beyond_model(model_rate: float, input_rate: float, output_rate: float) -> str:
    """What a line about an input at ``input_rate`` (Hz) written at ``output_rate`` adds when both reach
    beyond ``model_rate``'s Nyquist frequency: the band is analysed and restored as the model sees it,
    and what lies above is the input's own."""
    if min(input_rate, output_rate) <= model_rate:
        return ""
    return f"; above {_khz(model_rate / 2)}, the model's limit, the {input_rate / 1000:g}-kHz input is kept as it is"


LIMIT_DROPPED_DB = 40.0  # a level-limit cut this deep (dB) is reported as dropping the contribution


def describe_restoration(
    edge: float,
    nyquist: float,
    gain: float,
    trained: tuple[float, float] | None,
    mismatch_db: float | None = None,
    validated_gain_db: float | None = None,
    limit_db: float | None = None,
    validated_responses: int | None = None,
    self_test_db: float | None = None,
) -> str:
    """What safe mode does with an input whose band ends at ``edge`` (Hz), in one line; ``limit_db``:
    the level limit's largest cut (dB), named from 1 dB on; ``validated_responses``: how many training
    band limits the model was validated to restore (``None``: not validated); ``self_test_db``: the
    self-test's gain (dB; ``None``: not run)."""
    from ..evaluation.crossover import nothing_to_restore
    from ..evaluation.self_test import MIN_GAIN_DB, UNTESTABLE_DB

    if nothing_to_restore(edge, 2 * nyquist):
        return f"full band (up to {_khz(nyquist)}): nothing to restore, the input is kept"
    head = f"band ends at {_khz(edge)}"
    if validated_gain_db is not None and validated_gain_db <= 0:
        return (
            f"{head}, but the model made its own validation audio worse ({validated_gain_db:+.2f} dB): "
            "the input is kept as it is"
        )
    if validated_responses == 0:
        return (
            f"{head}, but the model restored none of its training band limits on its own validation songs: "
            "the input is kept as it is"
        )
    closest = "the closest the model was trained on" if validated_responses is None else "the closest it restores"
    if trained is None:
        scope = ""
    elif mismatch_db is None:
        scope = (
            f"its band limit is unlike any the model was trained on (edges {trained[0] / 1000:.2f}–{_khz(trained[1])})"
        )
    else:
        scope = f"its band limit differs by {mismatch_db:.1f} dB from {closest}"
    if gain <= 0 and self_test_db is not None and self_test_db <= MIN_GAIN_DB:
        if self_test_db <= UNTESTABLE_DB:
            return f"{head}, too close to {_khz(nyquist)} for the model's self-test: the input is kept as it is"
        return (
            f"{head}, but the model failed its self-test on this music ({self_test_db:+.2f} dB on a "
            "pitched-up copy): the input is kept as it is"
        )
    if gain <= 0:
        return f"{head}, but {scope}: the input is kept as it is"
    share = "" if gain >= 1 else f" (the network at {gain:.0%}: {scope})"
    if limit_db is not None and limit_db >= LIMIT_DROPPED_DB:
        share += " (held to the music's level; dropped where it would amplify noise)"
    elif limit_db is not None and limit_db >= 1:
        share += f" (held to the music's level: up to {limit_db:.0f} dB down where it restored too much)"
    return f"{head}: restoring {edge / 1000:.2f}–{_khz(nyquist)}{share}"


def _analyze(
    sources: list[Path | Traversable],
    inputs: tuple[Path, ...],
    edge_hz: float | None,
    mode: str,
    device: torch.device,
    precision: str,
    plots: list[Path] | None = None,
    output_rate_choice: str = "auto",
) -> None:
    """``--analyze``: the band edge of each input and what safe mode would restore (with which of a
    bank's models, and how far the level limit would hold it down: the chosen network runs on 20 s
    of the excerpts); no audio written (with ``plots``, each input's spectrum drawn to them)."""
    from ..analysis.bandwidth import band_edges, file_excerpts
    from ..checkpoint import load_model
    from ..evaluation.streaming import check_input, output_rate
    from ..pretrained import model_label

    loaded = [load_model(source, device) for source in sources]
    model_rate = int(loaded[0][1]["sample_rate"])
    for k, src in enumerate(inputs):
        with readable(src) as source:
            check_input(source)
            excerpt, rate = file_excerpts(source)
        edges = band_edges(excerpt, rate)
        side = f" (side {_khz(edges.side)})" if edges.side is not None and edges.side < edges.edge else ""
        failures: list[tuple[int, Restoration]] = []
        chosen, plan = plan_with_bank(loaded, excerpt, rate, edge_hz, mode, device, precision, failures)
        edge = plan.edge_hz  # as enhance uses it: at another rate, detected as the network will see it
        if mode == "safe":
            what = describe_plan(plan.info(), model_rate / 2)
        else:
            what = "raw mode: the network's output as is"
        given = " (given by --edge)" if edge_hz is not None else ""
        which = ""
        if len(sources) > 1 and not plan.skip:
            handed_down = describe_hand_down(failures, chosen, sources)
            which = f" [{handed_down or model_label(sources[chosen])}]"
        elif len(sources) > 1 and plan.mismatch_db is not None and np.isfinite(plan.mismatch_db):
            which = f" [closest: {model_label(sources[chosen])}]"
        beyond = ""  # raw mode writes the network's output, resampled: nothing of the input is kept
        if mode == "safe":
            beyond = beyond_model(model_rate, rate, output_rate(rate, model_rate, output_rate_choice))
        click.echo(f"{src}: {what}{given}{side}{which}{beyond}")
        if plots is not None:
            from ..analysis.spectrum_plot import Curve, spectrum_plot

            restored = None if mode != "safe" or plan.skip else (plan.edge_hz, model_rate / 2)
            curves = [Curve("input", excerpt, rate, color="0.45")]
            spectrum_plot(plots[k], curves, {"input": edge}, _title(src, what), restored_hz=restored)
            click.echo(f"plotted {src} to {plots[k]}", err=True)


def _title(src: Path, line: str, width: int = 120) -> str:
    """A plot's title: the file's name and what was done, wrapped."""
    import textwrap

    return "\n".join(textwrap.wrap(f"{src.name}: {line}", width))


def describe_plan(info: dict, nyquist: float) -> str:
    """:func:`describe_restoration` of a plan's :meth:`~audioenh.evaluation.crossover.Restoration.info`
    (or a summary of :func:`~audioenh.evaluation.streaming.enhance_file`, which holds its keys)."""
    trained = info["trained_edges_hz"]
    return describe_restoration(
        info["edge_hz"],
        nyquist,
        info["trust"],
        tuple(trained) if trained else None,
        info.get("mismatch_db"),
        info.get("validated_gain_db"),
        info.get("limit_db"),
        info.get("validated_responses"),
        info.get("self_test_db"),
    )


def describe_bursts(summary: dict) -> str:
    """What safe mode's burst limit did to a file (:func:`~audioenh.evaluation.streaming.enhance_file`'s
    ``burst_*`` keys), in one line."""
    n = summary["burst_passages"]
    return (
        f"the burst limit held the network down in {n} short passage{'' if n == 1 else 's'} "
        f"({summary['burst_limited_seconds']:.2f} s in all, by up to {summary['burst_cut_db']:.0f} dB), "
        "where it added far more than the music below the band edge carries"
    )


def _describe(summary: dict, edge_given: bool = False) -> str:
    """:func:`describe_plan` of what :func:`~audioenh.evaluation.streaming.enhance_file` did (saying so
    when ``--edge`` gave the edge, as ``--analyze`` does)."""
    given = " (given by --edge)" if edge_given else ""
    beyond = beyond_model(summary["model_rate"], summary["input_rate"], summary["output_rate"])
    return describe_plan(summary, summary["model_rate"] / 2) + given + beyond


def _plot_enhanced(
    plot_path: Path,
    src: Path,
    source: Path,
    dst: Path,
    summary: dict,
    excerpt: tuple | None,
    quiet: bool,
    edge_given: bool = False,
) -> None:
    """The input's and the written output's long-term spectra (the excerpts band-edge detection reads,
    at the same places of both), the band edge and the band restored."""
    from ..analysis.bandwidth import file_excerpts, recording_edge
    from ..analysis.spectrum_plot import Curve, spectrum_plot

    audio_in, rate_in = excerpt if excerpt is not None else file_excerpts(source)
    audio_out, rate_out = file_excerpts(dst)
    edge = summary.get("edge_hz")
    if edge is None:  # raw mode: nothing was detected on the way
        edge = recording_edge(audio_in, rate_in)
    line = _describe(summary, edge_given) if summary["mode"] == "safe" else "raw mode: the network's output as is"
    restored = summary.get("restored_hz")
    curves = [Curve("input", audio_in, rate_in, color="0.45"), Curve("output", audio_out, rate_out, color="C0")]
    spectrum_plot(
        plot_path, curves, {"input": edge}, _title(src, line), restored_hz=tuple(restored) if restored else None
    )
    if not quiet:
        click.echo(f"plotted {src} and {dst} to {plot_path}", err=True)


def _report(src: Path, dst: Path, summary: dict, model: str, edge_given: bool = False) -> None:
    """What enhance did with one file, on stderr."""
    if summary["mode"] == "safe":
        click.echo(f"{src}: {_describe(summary, edge_given)}", err=True)
    if summary.get("burst_passages"):
        click.echo(f"{src}: {describe_bursts(summary)}", err=True)
    if summary["clipped_samples"]:
        click.echo(
            f"{dst}: {summary['clipped_samples']} samples went beyond full scale and were clipped; "
            "write --float to keep them",
            err=True,
        )
    rate = f"{summary['output_rate']} Hz"
    if summary["output_rate"] != summary["input_rate"]:
        rate += f" (the input is at {summary['input_rate']} Hz)"
    frames = f"{summary['frames_out']} sample{'' if summary['frames_out'] == 1 else 's'}"
    click.echo(
        f"wrote {dst} with {model} ({summary['channels']} ch, {rate}, {frames}, "
        f"{summary['seconds']:.1f} s of audio in {summary['elapsed']:.1f} s)",
        err=True,
    )
