"""Testing as in the paper, without its seams: whole songs degraded, enhanced block-wise with context.

Each song is degraded whole, enhanced with :func:`enhance_array` (every sample kept), and
scored with each metric against the full-band original for both the degraded input and the
output; the result holds per-song values and the mean over songs (and the delta output - input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..data.corpus import Song
from ..degradations.chain import DegradationSampler
from ..plugins import metrics
from .crossover import enhance_array_safely
from .inference import DEFAULT_CHUNK, DEFAULT_CONTEXT, enhance_array


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def evaluate_songs(
    model: torch.nn.Module,
    songs: Sequence[Song],
    degradation: str,
    metric_specs: Sequence[str],
    *,
    device: torch.device,
    sample_rate: int = 44100,
    chunk: int = DEFAULT_CHUNK,
    context: int | None = DEFAULT_CONTEXT,
    precision: str = "fp32",
    mode: str = "raw",
    trained_specs: Sequence[str] = (),
    validated_gain_db: float | None = None,
    validated_ranges: tuple | None = None,
    on_song: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Per-song and mean metrics for one degradation: ``{"degradation", "mode", "songs", "mean"}``.

    ``mode="raw"`` scores the network's output as it is (the paper's measure); ``"safe"`` scores
    ``enhance``'s default do-no-harm output, trusting the network as far as ``trained_specs`` (the
    model's training degradations) allow (:mod:`audioenh.evaluation.crossover`); each song's row
    then also holds its band edge and the trust used."""
    if mode not in ("raw", "safe"):
        raise ValueError(f"mode must be raw or safe, got {mode!r}")
    sampler = DegradationSampler(degradation, sample_rate)
    scorers = {spec: metrics().create(spec) for spec in metric_specs}
    rows = []
    for i, song in enumerate(songs):
        target = song.read()
        rng = np.random.default_rng([0, i])  # ranges and random degradations: fixed per song
        degraded, _ = sampler.degrade(target, sample_rate, rng)
        extra: dict[str, Any] = {}
        if mode == "safe":
            enhanced, extra = enhance_array_safely(
                model,
                degraded,
                sample_rate,
                list(trained_specs),
                chunk=chunk,
                context=context,
                device=device,
                precision=precision,
                validated_gain_db=validated_gain_db,
                validated_ranges=validated_ranges,
            )
        else:
            enhanced = enhance_array(model, degraded, chunk=chunk, context=context, device=device, precision=precision)
        scores = {m: s.score_many(target, [degraded, enhanced], sample_rate) for m, s in scorers.items()}
        row = {
            "name": song.name,
            **extra,
            "input": {m: pair[0] for m, pair in scores.items()},
            "output": {m: pair[1] for m, pair in scores.items()},
        }
        rows.append(row)
        if on_song is not None:
            on_song(song.name)
    mean_in = {m: _mean([r["input"][m] for r in rows]) for m in scorers}
    mean_out = {m: _mean([r["output"][m] for r in rows]) for m in scorers}
    return {
        "degradation": degradation,
        "mode": mode,
        "songs": rows,
        "mean": {"input": mean_in, "output": mean_out, "delta": {m: mean_out[m] - mean_in[m] for m in scorers}},
    }
