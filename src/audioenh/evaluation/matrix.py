"""The generalization matrix: trained models scored on a set of degradations, in raw and safe mode.

Each cell is one degradation (a set member such as ``butter:order=8,cutoff=13000`` or
``cheby1:6+mp3:192``) applied to each whole song (or a centred excerpt of it). Each model enhances
the degraded song once: the *raw* score is the network's output as it is (what the paper and
``audioenh test`` measure), the *safe* score is ``enhance``'s default do-no-harm output computed
from that same network output (:mod:`audioenh.evaluation.crossover`: the crossover at the detected
band edge, the trust from how well the input's band limit matches the model's training
degradations), which
equals ``enhance --mode safe`` of the song.

Scores per cell and model are means over songs of each metric's output and input values, and
their difference (ΔSNR etc.). Besides the registered metrics the matrix computes ``lsd-edge``: the
log-spectral distance over the frequency bins above each song's detected band edge (the band
the input lacks; NaN for a full-band input), the restored-band LSD of a band that moves with the
degradation.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ..analysis.bandwidth import recording_edge
from ..architectures.receptive import receptive_field
from ..data.corpus import Song
from ..degradations.chain import DegradationSampler, resolve_degradations
from ..metrics.lsd import HighBandLSD, log_power_spectrogram
from ..plugins import metrics
from .crossover import crossover_reach, keep_below_edge, restoration_filter
from .inference import DEFAULT_CHUNK, enhance_array
from .selection import Candidate, first_passing, ranked_restorations
from .self_test import self_tested

MODES = ("raw", "safe")
#: degraded songs, their band edges and input scores, kept across calls: (cell, song, ...) -> entry
_DEGRADED: dict[tuple, tuple[np.ndarray, float, dict[str, float]]] = {}
_DEGRADED_ENTRIES = 512
EDGE_LSD = "lsd-edge"  # the matrix's own metric: LSD above the detected band edge
#: the row ``oracle=True`` adds: the ceiling of safe mode, the original song above each input's
#: detected band edge (through enhance's crossover) and the input below it
ORACLE = "oracle"
HARM_DB = -0.05  # a cell whose ΔSNR lies below this (dB) is harmed


@dataclass
class MatrixModel:
    """One row of the matrix: a loaded network and what it was trained on."""

    name: str
    model: torch.nn.Module
    trained_specs: list[str]
    sample_rate: int = 44100
    precision: str = "fp32"
    validated_gain_db: float | None = None  # its own validation gain (checkpoint.validated_gain_db)
    validated_ranges: tuple | None = None  # its validated training responses (checkpoint.validated_ranges)
    #: a bank: the other models it may use; per input the one safe mode trusts most is used, this one
    #: when none is trusted (:mod:`audioenh.evaluation.selection`)
    alternatives: tuple[MatrixModel, ...] = ()
    own_name: str = ""  # in a bank, the name of this row's own model (default: ``name``)

    @classmethod
    def bank(cls, name: str, members: Sequence[MatrixModel]) -> MatrixModel:
        """A row that uses, per input, the one of ``members`` safe mode trusts most (the first when none;
        in safe mode, the next one trusted when it fails its self-test)."""
        first, *others = members
        return replace(first, name=name, alternatives=tuple(others), own_name=first.name)

    @property
    def members(self) -> tuple[MatrixModel, ...]:
        """The models this row may use: itself first, then its alternatives."""
        return (self, *self.alternatives)

    @property
    def label(self) -> str:
        """This row's own model's name (in a bank: the member's, not the bank's)."""
        return self.own_name or self.name

    @property
    def candidate(self) -> Candidate:
        return Candidate(tuple(self.trained_specs), self.validated_gain_db, self.validated_ranges)


def log_power(audio: np.ndarray) -> np.ndarray:
    """log10 power spectrogram as ``lsd`` computes it (n_fft 2048, hop 512)."""
    lsd = HighBandLSD()
    return log_power_spectrogram(np.atleast_2d(audio), lsd.n_fft, lsd.hop)


def edge_lsd_of_logs(log_reference: np.ndarray, log_estimate: np.ndarray, sample_rate: int, edge_hz: float) -> float:
    """:func:`edge_lsd` from :func:`log_power` spectrograms (the reference's is computed once per song)."""
    if edge_hz >= sample_rate / 2 - sample_rate / 2048:
        return float("nan")
    band = HighBandLSD(cutoff=edge_hz).bins(sample_rate)
    difference = log_reference[..., band] - log_estimate[..., band]
    return float(np.mean(np.sqrt(np.mean(difference**2, axis=-1))))


def edge_lsd(reference: np.ndarray, estimate: np.ndarray, sample_rate: int, edge_hz: float) -> float:
    """LSD over bins above ``edge_hz`` (``lsd-hf`` with the cut-off at the detected edge); NaN at Nyquist."""
    return edge_lsd_of_logs(log_power(reference), log_power(estimate), sample_rate, edge_hz)


def centred_excerpt(audio: np.ndarray, seconds: float | None, sample_rate: int) -> slice:
    """The centred excerpt of ``seconds`` of (..., samples) ``audio``, as a slice of its last axis (at
    most the whole signal; ``None``: the whole signal)."""
    frames = audio.shape[-1]
    length = frames if seconds is None else min(frames, int(seconds * sample_rate))
    start = max(0, (frames - length) // 2)
    return slice(start, start + length)


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _scores(
    scorers: Mapping[str, Any], target: np.ndarray, target_log: np.ndarray, sample_rate: int, edge_hz: float, out
) -> dict[str, float]:
    """Every metric of ``out`` against ``target`` (whose :func:`log_power` is ``target_log``), and
    :data:`EDGE_LSD` above ``edge_hz``."""
    scores = {k: s(target, out, sample_rate) for k, s in scorers.items()}
    scores[EDGE_LSD] = edge_lsd_of_logs(target_log, log_power(out), sample_rate, edge_hz)
    return scores


def _self_test(tested: dict, candidates: tuple, members, degraded: np.ndarray, sample_rate: int, run_network):
    """``test(index, plan)`` for :func:`~audioenh.evaluation.selection.first_passing`: the self-test of
    ``members[index]`` on ``degraded``, remembered in ``tested`` (networks trained alike share a plan,
    not a self-test)."""

    def test(index: int, plan):
        key = (candidates, index, id(members[index]))
        if key not in tested:
            tested[key] = self_tested(plan, degraded, sample_rate, functools.partial(run_network, members[index]))
        return tested[key]

    return test


def score_matrix(
    models: Sequence[MatrixModel],
    songs: Sequence[Song],
    cells: Sequence[str],
    metric_specs: Sequence[str] = ("snr",),
    *,
    device: torch.device,
    seconds: float | None = None,
    chunk: int = DEFAULT_CHUNK,
    modes: Sequence[str] = MODES,
    on_step: Callable[[str], None] | None = None,
    oracle: bool = False,
) -> dict[str, Any]:
    """Score every model on every cell (degradation texts; sets are expanded) over ``songs``.
    ``oracle``: add the row :data:`ORACLE`, what a perfect restoration of the band above the detected
    edge would score (the same in both modes): no model can gain more in safe mode.

    Returns ``{"cells", "models", "modes", "metrics", "songs", "seconds", "inputs", "results"}``:
    ``inputs[cell]`` holds the mean input score and band edge per metric, and
    ``results[mode][model][cell]`` ``{"output", "delta", "trust"}`` means over songs (a bank's rows
    also ``"used"``: how many songs each of its models enhanced). ``on_step``
    is called after each (cell, song) with the cell's text.
    """
    for mode in modes:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    resolved = resolve_degradations(list(cells))
    metric_list = list(dict.fromkeys(["snr", *metric_specs]))
    scorers = {spec: metrics().create(spec) for spec in metric_list}
    names = [m.name for m in models] + ([ORACLE] if oracle else [])
    if len(set(names)) != len(names):
        raise ValueError(f"model names must be distinct: {names}")
    rates = {member.sample_rate for m in models for member in m.members}
    if len(rates) > 1:
        raise ValueError(f"all models must run at one sample rate, got {sorted(rates)}")
    sample_rate = rates.pop() if rates else 44100
    reach = {
        id(member): receptive_field(member.model) + crossover_reach(sample_rate) for m in models for member in m.members
    }
    all_metrics = [*metric_list, EDGE_LSD]

    def run_network(network: MatrixModel, audio: np.ndarray) -> np.ndarray:
        return enhance_array(
            network.model, audio, chunk=chunk, context=reach[id(network)], device=device, precision=network.precision
        )

    inputs: dict[str, Any] = {}
    per_song: dict[str, dict[str, dict[str, list[dict[str, float]]]]] = {
        mode: {name: {} for name in names} for mode in modes
    }
    trusts: dict[str, dict[str, list[float]]] = {name: {} for name in names}
    used: dict[str, dict[str, list[str]]] = {m.name: {} for m in models}  # a bank's model per song
    targets = [audio[:, centred_excerpt(audio, seconds, sample_rate)] for audio in (s.read() for s in songs)]
    target_logs = [log_power(t) for t in targets]
    for cell in resolved:
        sampler = DegradationSampler(cell.canonical, sample_rate)
        cell_inputs: list[dict[str, float]] = []
        for i, target in enumerate(targets):
            key = (cell.canonical, str(songs[i].path), songs[i].frames, seconds, sample_rate, tuple(metric_list))
            if key not in _DEGRADED:  # shared by every call in this process (the report scores run by run)
                degraded, _ = sampler.degrade(target, sample_rate, np.random.default_rng([0, i]))
                degraded = np.asarray(degraded, dtype=np.float32)
                edge = recording_edge(degraded, sample_rate)  # as enhance detects it
                scores_in = {k: s(target, degraded, sample_rate) for k, s in scorers.items()}
                scores_in[EDGE_LSD] = edge_lsd_of_logs(target_logs[i], log_power(degraded), sample_rate, edge)
                if len(_DEGRADED) >= _DEGRADED_ENTRIES:
                    _DEGRADED.pop(next(iter(_DEGRADED)))
                _DEGRADED[key] = (degraded, edge, {**scores_in, "edge_hz": edge})
            degraded, edge, row_in = _DEGRADED[key]
            cell_inputs.append(row_in)
            song_scores = functools.partial(_scores, scorers, target, target_logs[i], sample_rate, edge)
            ranked: dict[tuple, Any] = {}  # the ranked plans per distinct set of candidates
            tested: dict[tuple, Any] = {}  # the self-tested plan per network and its plan
            for m in models:
                candidates = tuple(member.candidate for member in m.members)
                if candidates not in ranked:
                    ranked[candidates] = ranked_restorations(degraded, sample_rate, sample_rate, candidates, edge)
                if "safe" in modes or m.alternatives:  # (one model's raw output needs no self-test; a
                    # bank's choice does, in either mode: raw mode runs the model safe mode would pick)
                    test = _self_test(tested, candidates, m.members, degraded, sample_rate, run_network)
                    chosen, plan = first_passing(ranked[candidates], test)
                else:
                    chosen, plan = ranked[candidates][0]
                network = m.members[chosen]
                trusts[m.name].setdefault(cell.text, []).append(plan.gain)
                if m.alternatives:
                    used[m.name].setdefault(cell.text, []).append(network.label)
                raw = run_network(network, degraded) if "raw" in modes or not plan.skip else None
                safe = None  # skipped: the input itself, whose scores are known
                if not plan.skip:
                    safe, _ = plan.apply(degraded, raw, sample_rate)
                outputs = {"raw": raw, "safe": safe}
                for mode in modes:
                    out = outputs[mode]
                    scores = {k: row_in[k] for k in all_metrics} if out is None else song_scores(out)
                    per_song[mode][m.name].setdefault(cell.text, []).append(scores)
            if oracle:
                taps = restoration_filter(edge, sample_rate)
                trusts[ORACLE].setdefault(cell.text, []).append(0.0 if taps is None else 1.0)
                best = degraded.copy() if taps is None else keep_below_edge(degraded, target.astype(np.float32), taps)
                scores = song_scores(best)
                for mode in modes:
                    per_song[mode][ORACLE].setdefault(cell.text, []).append(scores)
            if on_step is not None:
                on_step(cell.text)
        inputs[cell.text] = {k: _nanmean([row[k] for row in cell_inputs]) for k in [*all_metrics, "edge_hz"]}

    results: dict[str, Any] = {}
    banks = {m.name: m for m in models if m.alternatives}
    for mode in modes:
        results[mode] = {}
        for name in names:
            results[mode][name] = {}
            for cell in resolved:
                rows = per_song[mode][name][cell.text]
                output = {k: _nanmean([r[k] for r in rows]) for k in all_metrics}
                results[mode][name][cell.text] = {
                    "output": output,
                    "delta": {k: output[k] - inputs[cell.text][k] for k in all_metrics},
                    "trust": float(np.mean(trusts[name][cell.text])),
                }
                if name in banks:  # how many songs each of the bank's models enhanced
                    counts = Counter(used[name][cell.text])
                    members = banks[name].members
                    results[mode][name][cell.text]["used"] = {k.label: counts[k.label] for k in members}
    return {
        "cells": [c.text for c in resolved],
        "canonical": {c.text: c.canonical for c in resolved},
        "models": {
            **{m.name: _describe(m) for m in models},
            **({ORACLE: {"trained": [], "precision": "", "oracle": True}} if oracle else {}),
        },
        "modes": list(modes),
        "metrics": all_metrics,
        "songs": [s.name for s in songs],
        "seconds": seconds,
        "sample_rate": sample_rate,
        "inputs": inputs,
        "results": results,
    }


def _describe(m: MatrixModel) -> dict[str, Any]:
    """A row's entry in the matrix's ``models``: what it was trained on (a bank: all its models'
    degradations, and ``bank``: their names), its precision."""
    trained = list(dict.fromkeys(spec for member in m.members for spec in member.trained_specs))
    info: dict[str, Any] = {"trained": trained, "precision": m.precision}
    if m.alternatives:
        info["bank"] = [member.label for member in m.members]
    return info


def merge_matrices(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One matrix from several scored on the same cells, songs and modes (one model each, say: the
    report caches each run's part); models keep the order of ``parts``."""
    if not parts:
        raise ValueError("no matrices to merge")
    first = parts[0]
    for part in parts[1:]:
        for key in ("cells", "modes", "songs", "seconds", "sample_rate"):
            if part[key] != first[key]:
                raise ValueError(f"matrices differ in {key}: {first[key]!r} and {part[key]!r}")
    merged = {k: v for k, v in first.items() if k not in ("models", "results")}
    merged["models"] = {name: info for part in parts for name, info in part["models"].items()}
    merged["results"] = {
        mode: {name: cells for part in parts for name, cells in part["results"][mode].items()}
        for mode in first["modes"]
    }
    return merged


def delta_summary(deltas) -> dict[str, float]:
    """The worst and mean of the finite ``deltas`` and how many lie below :data:`HARM_DB`
    (``{"min", "mean", "harmed"}``; NaN for none)."""
    finite = [float(d) for d in deltas if np.isfinite(d)]
    return {
        "min": float(min(finite)) if finite else float("nan"),
        "mean": float(np.mean(finite)) if finite else float("nan"),
        "harmed": int(sum(d < HARM_DB for d in finite)),
    }


def matrix_summary(matrix: Mapping[str, Any], metric: str = "snr") -> dict[str, dict[str, dict[str, float]]]:
    """Per mode and model: the worst and mean Δ``metric`` over the cells, and how many cells lose
    more than 0.05 dB (:func:`delta_summary`)."""
    return {
        mode: {name: delta_summary(c["delta"][metric] for c in cells.values()) for name, cells in per_model.items()}
        for mode, per_model in matrix["results"].items()
    }
