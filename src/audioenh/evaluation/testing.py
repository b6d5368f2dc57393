"""Testing as in the paper, without its seams: whole songs degraded, enhanced block-wise with context.

Each song is degraded whole, enhanced with :func:`enhance_array` (every sample kept), and
scored with each metric against the full-band original for both the degraded input and the
output; the result holds per-song values and the mean over songs (and the delta output - input).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class DegradedSong:
    """A song as :func:`evaluate_songs` tests it: the full-band original (target), the degraded input
    and, where already scored, the input's metrics against the target (``None``: not yet)."""

    name: str
    target: np.ndarray
    degraded: np.ndarray
    input_scores: dict[str, float] | None = None


def _degrade_each(songs: Sequence[Song], degradation: str, sample_rate: int) -> Iterator[DegradedSong]:
    """Each song read and degraded whole, its ranges and random degradations fixed per song index."""
    sampler = DegradationSampler(degradation, sample_rate)
    for i, song in enumerate(songs):
        target = song.read()
        degraded, _ = sampler.degrade(target, sample_rate, np.random.default_rng([0, i]))
        yield DegradedSong(song.name, target, degraded)


def degraded_songs(
    songs: Sequence[Song], degradation: str, metric_specs: Sequence[str], sample_rate: int = 44100
) -> list[DegradedSong]:
    """``songs`` degraded and their inputs scored once, in memory, for testing several models on them
    (``evaluate_songs(..., inputs=...)``: the same figures as degrading and scoring them per model,
    each metric scoring each estimate on its own)."""
    scorers = {spec: metrics().create(spec) for spec in metric_specs}
    return [
        replace(song, input_scores={m: s(song.target, song.degraded, sample_rate) for m, s in scorers.items()})
        for song in _degrade_each(songs, degradation, sample_rate)
    ]


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
    inputs: Sequence[DegradedSong] | None = None,
) -> dict[str, Any]:
    """Per-song and mean metrics for one degradation: ``{"degradation", "mode", "songs", "mean"}``.

    ``mode="raw"`` scores the network's output as it is (the paper's measure); ``"safe"`` scores
    ``enhance``'s default do-no-harm output, trusting the network as far as ``trained_specs`` (the
    model's training degradations) allow (:mod:`audioenh.evaluation.crossover`); each song's row
    then also holds its band edge and the trust used. ``inputs``: ``songs`` already degraded by
    ``degradation`` (:func:`degraded_songs`), shared by the models tested on them."""
    if mode not in ("raw", "safe"):
        raise ValueError(f"mode must be raw or safe, got {mode!r}")
    scorers = {spec: metrics().create(spec) for spec in metric_specs}
    rows = []
    for song in inputs if inputs is not None else _degrade_each(songs, degradation, sample_rate):
        target, degraded = song.target, song.degraded
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
        if song.input_scores is None:  # the input and the output, each metric's reference work once
            scores = {m: s.score_many(target, [degraded, enhanced], sample_rate) for m, s in scorers.items()}
            scored_input = {m: pair[0] for m, pair in scores.items()}
            scored_output = {m: pair[1] for m, pair in scores.items()}
        else:
            scored_input = {m: song.input_scores[m] for m in scorers}
            scored_output = {m: s(target, enhanced, sample_rate) for m, s in scorers.items()}
        row = {"name": song.name, **extra, "input": scored_input, "output": scored_output}
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
