"""Run the generalization grid ({U-Net, ResNet} x {baseline, DA, BN, DO}), test it, time it.

Every run lives in ``DIR/runs/<arch>-<variant>`` (a :class:`~audioenh.training.run.Run`);
re-running resumes unfinished runs and reuses finished ones (their test results are cached by the
run, keyed by the checkpoint's iteration), so nothing is ever trained or tested twice. Everything
the report shows, Fig. 4's audio excerpts included, is computed in one pass over the runs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..architectures import count_macs, count_parameters
from ..checkpoint import training_degradations, validated_gain_db, validated_ranges
from ..data.corpus import resolve_corpus
from ..degradations.chain import resolve_degradations
from ..errors import AudioenhError, SpecError, UnknownNameError
from ..evaluation.crossover import SAFE_MODE_RULE
from ..evaluation.inference import enhance_array, select_device
from ..evaluation.matrix import MatrixModel, centred_excerpt, merge_matrices, score_matrix
from ..evaluation.testing import DegradedSong, degraded_songs, evaluate_songs
from ..plugins import architectures
from ..precision import resolve_precision
from ..training.config import TrainConfig, default_workers
from ..training.loop import train
from ..training.run import Run
from .presets import DEFAULT_METRICS, MULTI, RECIPE, SEEN, UNSEEN, VARIANTS, Preset


def probe_metrics(specs: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split metric specs into those that work here and ``{spec: reason}`` for the unavailable ones.

    A metric is unavailable when creating it or scoring a short test signal raises an
    :class:`~audioenh.errors.AudioenhError` (a missing optional package or weights file); unknown
    names and malformed specs are the user's mistake and are raised.
    """
    from ..plugins import metrics

    available, unavailable = [], {}
    probe = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float64) * 0.1
    for spec in dict.fromkeys(["snr", *specs]):
        metrics().bind(spec)
        try:
            metrics().create(spec)(probe, 0.9 * probe, 44100)
        except (SpecError, UnknownNameError):
            raise
        except AudioenhError as exc:
            unavailable[spec] = str(exc)
            continue
        available.append(spec)
    return available, unavailable


def training_budget(preset: Preset, device: torch.device) -> tuple[Preset, str]:
    """``preset`` as it trains on ``device``, and why its budget is reduced there ("" when it is not):
    on a CPU without bf16 hardware every run gets ``iterations_without_bf16`` (the same for every run;
    the preset's own budget would not fit its time)."""
    from ..precision import cpu_has_native_bf16

    reduced = preset.without_bf16()
    if reduced is preset or device.type != "cpu" or cpu_has_native_bf16():
        return preset, ""
    return reduced, "this CPU has no bf16 hardware (neither AMX nor AVX-512 BF16)"


def run_name(arch: str, variant: str) -> str:
    return f"{arch.lower().replace('-', '')}-{variant.lower()}"


def _config(
    preset: Preset, arch: str, variant: str, data: list[str], device: str, precision: str = "auto"
) -> TrainConfig:
    training = VARIANTS[variant][1]
    return TrainConfig(
        arch=preset.arch_spec(arch, variant),
        degradations=[d.text for d in resolve_degradations([training])],
        data=data,
        unseen=[UNSEEN],
        iterations=preset.iterations_for(arch, variant),
        batch_size=preset.batch_size,
        chunk=preset.chunk,
        lr=preset.lr,
        record_every=preset.record_every,
        patience=preset.patience,
        min_lr=preset.min_lr,
        val_offset=preset.val_offset,
        val_seconds=preset.val_seconds,
        infer_chunk=preset.infer_chunk,
        device=device,
        precision=resolve_precision(precision, select_device(device), preset.arch_spec(arch, variant)),
        workers=default_workers(),
        seed=0,
    ).resolve()


def train_grid(
    preset: Preset,
    out_dir: Path,
    data: list[str],
    device: str,
    *,
    precision: str = "auto",
    progress: bool,
    echo: Callable[[str], None],
) -> dict[str, dict[str, Run]]:
    """Train (or resume, or reuse) every run of the grid; returns ``{arch: {variant: run}}``.

    An existing run keeps the precision it was started with unless ``precision`` names one, its
    ``range_group`` (runs written before it existed drew ranges per example) and its ``input_level``
    (runs written before it existed ran at each input's own level)."""
    runs: dict[str, dict[str, Run]] = {}
    for arch in preset.archs:
        for variant in VARIANTS:
            run = Run(out_dir / "runs" / run_name(arch, variant))
            config = _config(preset, arch, variant, data, device, precision)
            if run.exists():
                if precision == "auto":
                    config.precision = run.load_config().precision
                config.range_group = run.load_config().range_group
                config.input_level = run.load_config().input_level
                # e.g. a variant's training set redefined since (the recipe): the run is the report's own
                run.check_same_settings(config, f"delete {run.path} to train it again, or report into another --output")
                train(
                    None,
                    run.path,
                    resume=True,
                    progress=progress,
                    echo=echo,
                    overrides={"iterations": config.iterations, "min_lr": config.min_lr, "device": device},
                )
            else:
                echo(f"training {arch} {variant}: {config.arch} on {', '.join(VARIANTS[variant][1:])}")
                train(config, run.path, progress=progress, echo=echo)
            runs.setdefault(arch, {})[variant] = run
    return runs


def runtime_rate(
    model: torch.nn.Module, device: torch.device, seconds: float, sample_rate: int = 44100, precision: str = "fp32"
) -> float:
    """Seconds of compute per second of stereo audio (enhance_array on noise; one warm-up pass)."""
    audio = (np.random.default_rng(0).standard_normal((2, int(seconds * sample_rate))) * 0.1).astype(np.float32)
    enhance_array(model, audio[:, : sample_rate // 2], device=device, precision=precision)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    enhance_array(model, audio, device=device, precision=precision)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / seconds


class PhaseTimes:
    """Wall-clock seconds (s) the report spent in each named phase, summed over its calls:
    ``with phases("training"): ...``. Kept in report.json as ``phase_seconds``, in the order first entered."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - start


@dataclass
class Experiment:
    """Everything the report shows: ``report`` (the content of report.json) and Fig. 4's excerpts."""

    report: dict[str, Any]
    panels: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (channels, samples), unseen filter
    sample_rate: int = 44100  # Hz, of the panels and clips
    #: the Fig. 4 excerpt to listen to: {filter spec: {"input" or "ARCH VARIANT": audio}}, plus "target"
    clips: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def run_experiment(
    preset: Preset,
    out_dir: Path,
    data: list[str] | None = None,
    device: str = "auto",
    *,
    metric_specs: Sequence[str] = DEFAULT_METRICS,
    precision: str = "auto",
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> Experiment:
    """Train and test the grid, in one pass over the runs; returns everything the report shows."""
    started = time.monotonic()
    phases = PhaseTimes()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = list(data or [preset.data])
    torch_device = select_device(device)
    full_iterations = preset.iterations
    preset, budget_note = training_budget(preset, torch_device)
    if budget_note:
        echo(
            f"{budget_note}: every run trains {preset.iterations} iterations instead of the {preset.name} "
            f"preset's {full_iterations}, to keep to its time (docs/results.md)"
        )
    metric_list, unavailable = probe_metrics(metric_specs)
    for spec, reason in unavailable.items():
        echo(f"metric {spec} is unavailable and left out: {reason}")
    metric_key = ",".join(metric_list)
    with phases("corpus"):
        corpus = resolve_corpus(data, echo=echo, progress=progress)
        corpus.require("train", "val", "test")
    with phases("training"):
        runs = train_grid(preset, out_dir, data, device, precision=precision, progress=progress, echo=echo)

    filters = {spec: resolve_degradations([spec])[0].canonical for spec in (SEEN, UNSEEN)}
    excerpt_song = corpus.test[0].read()
    clips: dict[str, dict[str, np.ndarray]] = {}
    rows, sample_overfitting, models, curves = [], [], [], {}
    matrix_parts = []
    matrix_key = (
        f"matrix/{','.join(preset.matrix_cells)}/{preset.matrix_seconds}/{len(corpus.test)}/snr/{SAFE_MODE_RULE}"
    )
    panels: dict[str, np.ndarray] = {}
    sample_rate = 44100
    # the songs of each (split, degradation) degraded and their inputs scored once for all the runs
    shared: dict[tuple, list[DegradedSong]] = {}

    def inputs(songs, spec: str, sr: int) -> list[DegradedSong]:
        key = (tuple(str(song.path) for song in songs), spec, sr)
        if key not in shared:
            shared[key] = degraded_songs(songs, spec, metric_list, sr)
        return shared[key]

    for arch, variants in runs.items():
        curves[arch] = {}
        for variant, run in variants.items():
            echo(f"testing {arch} {variant}: {SEEN}, {UNSEEN} and the matrix ({', '.join(preset.matrix_cells)})")
            curves[arch][variant] = run.records()
            with phases("tables"):
                model, checkpoint = run.load_model(torch_device)
            sample_rate = int(checkpoint["sample_rate"])
            run_precision = run.load_config().precision  # tested as trained

            def scores(
                key: str, songs, spec: str, model=model, run=run, sr=sample_rate, pr=run_precision
            ) -> dict[str, Any]:
                """Mean metrics of ``model`` on ``songs`` degraded by ``spec``, cached by the run."""
                return run.cached_result(
                    f"{key}/{metric_key}",
                    lambda: evaluate_songs(
                        model,
                        songs,
                        spec,
                        metric_list,
                        device=torch_device,
                        sample_rate=sr,
                        chunk=preset.infer_chunk,
                        precision=pr,
                        inputs=inputs(songs, spec, sr),
                    ),
                )

            with phases("matrix"):
                matrix_parts.append(
                    run.cached_result(
                        matrix_key,
                        lambda model=model, ck=checkpoint, sr=sample_rate, pr=run_precision, name=f"{arch} {variant}": (
                            score_matrix(
                                [
                                    MatrixModel(
                                        name,
                                        model,
                                        training_degradations(ck),
                                        sr,
                                        pr,
                                        validated_gain_db(ck),
                                        validated_ranges(ck),
                                    )
                                ],
                                corpus.test,
                                list(preset.matrix_cells),
                                ["snr"],  # and lsd-edge, which the matrix always computes
                                device=torch_device,
                                seconds=preset.matrix_seconds,
                                chunk=preset.infer_chunk,
                            )
                        ),
                    )
                )
            for spec, seen in ((SEEN, True), (UNSEEN, False)):
                with phases("tables"):
                    result = scores(f"test/{spec}", corpus.test, spec)
                rows.append(
                    {
                        "arch": arch,
                        "variant": variant,
                        "degradation": spec,
                        "seen": seen,
                        "run": str(run.path.relative_to(out_dir)),
                        "iterations": run.last_iteration(),
                        **result["mean"],
                    }
                )
            if variant in ("baseline", "DA"):
                window = centred_excerpt(excerpt_song, preset.excerpt_seconds, sample_rate)
                if not clips:
                    clips["target"] = {"target": excerpt_song[:, window]}
                for spec, canonical in filters.items():
                    with phases("listening"):
                        degraded = resolve_and_apply(canonical, excerpt_song, sample_rate)
                        enhanced = enhance_array(model, degraded, device=torch_device, precision=run_precision)
                    clips.setdefault(spec, {"input": degraded[:, window]})[f"{arch} {variant}"] = enhanced[:, window]
                panels = {
                    "target": clips["target"]["target"],
                    f"input ({UNSEEN})": clips[UNSEEN]["input"],
                    **{k: v for k, v in clips[UNSEEN].items() if k != "input"},
                }
            if variant == "baseline":
                train_songs = corpus.train[: preset.overfit_train_songs] if preset.overfit_train_songs else corpus.train
                for split, songs in (("train", train_songs), ("test", corpus.test)):
                    with phases("tables"):
                        result = scores(f"{split}/{SEEN}/{len(songs)}", songs, SEEN)
                    sample_overfitting.append(
                        {
                            "arch": arch,
                            "split": split,
                            "songs": len(songs),
                            "input": result["mean"]["input"],
                            "output": result["mean"]["output"],
                            "delta": result["mean"]["delta"],
                        }
                    )
                spec = checkpoint.get("architecture") or checkpoint["arch"]
                with phases("speed"):
                    with torch.device("meta"):
                        params = count_parameters(architectures().create(spec))
                    models.append(
                        {
                            "arch": arch,
                            "spec": checkpoint["arch"],
                            "params": params,
                            "macs": count_macs(lambda spec=spec: architectures().create(spec)),
                            "runtime_rate": runtime_rate(
                                model, torch_device, preset.runtime_seconds, sample_rate, run_precision
                            ),
                            "device": str(torch_device),
                            "precision": run_precision,
                        }
                    )
    report = {
        "preset": preset.name,
        "preset_settings": preset.to_dict(),
        "budget_note": budget_note,  # why the runs train fewer iterations than the preset's own
        "preset_iterations": full_iterations,
        "data": data,
        "device": str(torch_device),
        "seen": SEEN,
        "unseen": UNSEEN,
        "multi": [d.text for d in resolve_degradations([MULTI])],
        "recipe": RECIPE,
        "recipe_members": [d.text for d in resolve_degradations([RECIPE])],
        "matrix": dict(merge_matrices(matrix_parts), data=", ".join(data), split="test"),
        "metrics": metric_list,
        "unavailable_metrics": unavailable,
        "rows": rows,
        "sample_overfitting": sample_overfitting,
        "models": models,
        "curves": curves,
        "finding": finding(rows),
        "runs": {arch: {v: str(r.path.relative_to(out_dir)) for v, r in vs.items()} for arch, vs in runs.items()},
        "wall_seconds": time.monotonic() - started,
        "phase_seconds": phases.seconds,
    }
    return Experiment(report, panels, sample_rate, clips)


def resolve_and_apply(spec: str, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """``audio`` degraded by ``spec`` (whole signal; random parts drawn as ``test`` draws them for song 0)."""
    from ..degradations.chain import DegradationSampler

    return DegradationSampler(spec, sample_rate).degrade(audio, sample_rate, np.random.default_rng([0, 0]))[0]


def _delta(rows: list[dict], arch: str, variant: str, spec: str) -> float:
    for r in rows:
        if (r["arch"], r["variant"], r["degradation"]) == (arch, variant, spec):
            return float(r["delta"]["snr"])
    return float("nan")


def finding(rows: list[dict], arch: str = "ResNet") -> dict[str, Any]:
    """The paper's finding, checked: the baseline gains on the seen filter (>= 1 dB), loses at least
    2 dB of that gain on the unseen filter, and multi-filter training keeps a higher unseen gain."""
    seen = _delta(rows, arch, "baseline", SEEN)
    unseen = _delta(rows, arch, "baseline", UNSEEN)
    da_unseen = _delta(rows, arch, "DA", UNSEEN)
    return {
        "arch": arch,
        "baseline_seen_delta_snr": seen,
        "baseline_unseen_delta_snr": unseen,
        "da_unseen_delta_snr": da_unseen,
        "seen_gain_at_least_1db": bool(seen >= 1.0),
        "unseen_loses_at_least_2db": bool(seen - unseen >= 2.0),
        "da_beats_baseline_on_unseen": bool(da_unseen > unseen),
        "shown": bool(seen >= 1.0 and seen - unseen >= 2.0 and da_unseen > unseen),
    }
