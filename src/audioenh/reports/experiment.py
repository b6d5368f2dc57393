"""Run the generalization grid ({U-Net, ResNet} x {baseline, DA, BN, DO}), test it, time it.

Every run lives in ``DIR/runs/<arch>-<variant>``; re-running resumes unfinished runs and
reuses finished ones (their test results are cached in ``test.json`` next to the checkpoint,
keyed by the checkpoint's iteration), so nothing is ever trained or tested twice.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..architectures import count_macs, count_parameters
from ..checkpoint import load_model
from ..data.corpus import resolve_corpus
from ..errors import AudioenhError, SpecError, UnknownNameError
from ..evaluation.inference import enhance_array, select_device
from ..evaluation.testing import evaluate_songs
from ..plugins import architectures, degradations
from ..training.config import TrainConfig, default_workers
from ..training.loop import read_records, train
from .presets import MULTI, SEEN, UNSEEN, VARIANTS, Preset

#: Metrics of the report unless ``--metric`` says otherwise (SNR is always computed: the finding uses it).
DEFAULT_METRICS = ("snr", "lsd", "lsd-hf")


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


def run_name(arch: str, variant: str) -> str:
    return f"{arch.lower().replace('-', '')}-{variant.lower()}"


def _config(preset: Preset, arch: str, variant: str, data: list[str], device: str) -> TrainConfig:
    training = VARIANTS[variant][1]
    return TrainConfig(
        arch=architectures().canonical(preset.arch_spec(arch, variant)),
        degradations=degradations().expand([training]),
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
        workers=default_workers(),
        seed=0,
    )


_COMPARED = (
    "arch",
    "degradations",
    "data",
    "unseen",
    "batch_size",
    "chunk",
    "lr",
    "record_every",
    "patience",
    "val_offset",
    "val_seconds",
    "seed",
)


def train_grid(
    preset: Preset, out_dir: Path, data: list[str], device: str, *, progress: bool, echo: Callable[[str], None]
) -> dict[str, dict[str, Path]]:
    """Train (or resume, or reuse) every run of the grid; returns ``{arch: {variant: run_dir}}``."""
    runs: dict[str, dict[str, Path]] = {}
    for arch in preset.archs:
        for variant in VARIANTS:
            run_dir = out_dir / "runs" / run_name(arch, variant)
            config = _config(preset, arch, variant, data, device)
            if (run_dir / "config.json").exists():
                stored = TrainConfig.load(run_dir)
                diff = [k for k in _COMPARED if getattr(stored, k) != getattr(config, k)]
                if diff:
                    raise AudioenhError(
                        f"{run_dir} was trained with other settings ({', '.join(diff)}); use a new --out"
                    )
                train(
                    None,
                    run_dir,
                    resume=True,
                    progress=progress,
                    echo=echo,
                    overrides={"iterations": config.iterations, "min_lr": config.min_lr, "device": device},
                )
            else:
                echo(f"training {arch} {variant}: {config.arch} on {', '.join(VARIANTS[variant][1:])}")
                train(config, run_dir, progress=progress, echo=echo)
            runs.setdefault(arch, {})[variant] = run_dir
    return runs


def _cached_test(run_dir: Path, key: str, compute: Callable[[], dict]) -> dict:
    cache_path = run_dir / "test.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    iteration = read_records(run_dir)[-1]["iteration"]
    entry = cache.get(key)
    if entry is None or entry.get("iteration") != iteration:
        entry = {"iteration": iteration, "result": compute()}
        cache[key] = entry
        tmp = cache_path.with_suffix(".json.part")
        tmp.write_text(json.dumps(cache, indent=1))
        os.replace(tmp, cache_path)
    return entry["result"]


def runtime_rate(model: torch.nn.Module, device: torch.device, seconds: float, sample_rate: int = 44100) -> float:
    """Seconds of compute per second of stereo audio (enhance_array on noise; one warm-up pass)."""
    audio = (np.random.default_rng(0).standard_normal((2, int(seconds * sample_rate))) * 0.1).astype(np.float32)
    enhance_array(model, audio[:, : sample_rate // 2], device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    enhance_array(model, audio, device=device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / seconds


def run_experiment(
    preset: Preset,
    out_dir: Path,
    data: list[str] | None = None,
    device: str = "auto",
    *,
    metric_specs: Sequence[str] = DEFAULT_METRICS,
    progress: bool = True,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train and test the grid; returns everything the report shows (the ``report.json`` content)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = list(data or [preset.data])
    torch_device = select_device(device)
    metric_list, unavailable = probe_metrics(metric_specs)
    for spec, reason in unavailable.items():
        echo(f"metric {spec} is unavailable and left out: {reason}")
    metric_key = ",".join(metric_list)
    corpus = resolve_corpus(data, echo=echo)
    corpus.require("train", "val", "test")
    runs = train_grid(preset, out_dir, data, device, progress=progress, echo=echo)

    rows, sample_overfitting, models, curves = [], [], [], {}
    for arch, variants in runs.items():
        curves[arch] = {}
        for variant, run_dir in variants.items():
            curves[arch][variant] = read_records(run_dir)
            model, checkpoint = load_model(run_dir, torch_device)
            for spec, seen in ((SEEN, True), (UNSEEN, False)):
                result = _cached_test(
                    run_dir,
                    f"test/{spec}/{metric_key}",
                    lambda spec=spec, model=model: evaluate_songs(
                        model, corpus.test, spec, metric_list, device=torch_device, chunk=preset.infer_chunk
                    ),
                )
                rows.append(
                    {
                        "arch": arch,
                        "variant": variant,
                        "degradation": spec,
                        "seen": seen,
                        "run": str(run_dir.relative_to(out_dir)),
                        **result["mean"],
                    }
                )
            if variant == "baseline":
                train_songs = corpus.train[: preset.overfit_train_songs] if preset.overfit_train_songs else corpus.train
                for split, songs in (("train", train_songs), ("test", corpus.test)):
                    result = _cached_test(
                        run_dir,
                        f"{split}/{SEEN}/{len(songs)}/{metric_key}",
                        lambda songs=songs, model=model: evaluate_songs(
                            model, songs, SEEN, metric_list, device=torch_device, chunk=preset.infer_chunk
                        ),
                    )
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
                spec = checkpoint["arch"]
                with torch.device("meta"):
                    params = count_parameters(architectures().create(spec))
                models.append(
                    {
                        "arch": arch,
                        "spec": spec,
                        "params": params,
                        "macs": count_macs(lambda spec=spec: architectures().create(spec)),
                        "runtime_rate": runtime_rate(model, torch_device, preset.runtime_seconds),
                        "device": str(torch_device),
                    }
                )
    return {
        "preset": preset.name,
        "preset_settings": preset.to_dict(),
        "data": data,
        "device": str(torch_device),
        "seen": SEEN,
        "unseen": UNSEEN,
        "multi": degradations().expand([MULTI]),
        "metrics": metric_list,
        "unavailable_metrics": unavailable,
        "rows": rows,
        "sample_overfitting": sample_overfitting,
        "models": models,
        "curves": curves,
        "finding": finding(rows),
        "runs": {arch: {v: str(p.relative_to(out_dir)) for v, p in vs.items()} for arch, vs in runs.items()},
    }


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


def excerpt_panels(
    out_dir: Path, runs: dict[str, dict[str, str]], data: list[str], seconds: float, device: str = "auto"
) -> dict[str, np.ndarray]:
    """Fig. 4's panels: a test excerpt's target, its unseen-filter input, and baseline and DA outputs."""
    torch_device = select_device(device)
    corpus = resolve_corpus(data, echo=lambda _m: None)
    song = corpus.test[0]
    audio = song.read()
    degraded = degradations().create(UNSEEN)(audio, 44100)
    length = min(int(seconds * 44100), audio.shape[-1])
    start = max(0, (audio.shape[-1] - length) // 2)
    panels = {"target": audio[:, start : start + length], f"input ({UNSEEN})": degraded[:, start : start + length]}
    for arch, variants in runs.items():
        for variant in ("baseline", "DA"):
            model, _ = load_model(out_dir / variants[variant], torch_device)
            enhanced = enhance_array(model, degraded, device=torch_device)
            panels[f"{arch} {variant}"] = enhanced[:, start : start + length]
    return panels
