"""One input, several models: a *bank* uses, per input, the model that safe mode trusts most there.

Each model in a bank was trained on band limits of its own (say 8, 11 and 16 kHz low-passes); safe
mode (:mod:`audioenh.evaluation.crossover`) trusts a model only where the input's band limit looks
like one of its training degradations. :func:`choose_restoration` plans the input with every model
and keeps the plan with the highest trust, then one matched to a degradation trained at a fixed band
edge over one drawn from a range of cut-offs (a specialist trained at this band limit before a
generalist), then the smallest mismatch (RMS dB), then the earliest model: the first model is the
bank's fallback, used (and named in messages) when none is trusted. The models' own checks on the
input (the self-test) come after the ranking: :func:`first_passing` hands the input down the ranking
to the first trusted model that passes them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .crossover import Restoration, plan_restoration


@dataclass(frozen=True)
class Candidate:
    """What safe mode needs of one model to plan with it: its training degradations and its own
    validation gain (dB; ``None`` when not recorded)."""

    trained_specs: tuple[str, ...]
    validated_gain_db: float | None = None
    #: the edge ranges of the responses it was validated to restore (``None``: not validated)
    validated_ranges: tuple | None = None

    @classmethod
    def of(cls, checkpoint: dict[str, Any]) -> Candidate:
        """The candidate a loaded checkpoint describes."""
        from ..checkpoint import training_degradations, validated_gain_db, validated_ranges

        return cls(
            tuple(training_degradations(checkpoint)), validated_gain_db(checkpoint), validated_ranges(checkpoint)
        )


def preference(plan: Restoration, index: int) -> tuple[float, bool, float, int]:
    """Sort key of a model's plan (larger is better): trust, then a match trained at a fixed band edge,
    then a smaller mismatch, then an earlier model."""
    mismatch = plan.mismatch_db if plan.mismatch_db is not None and np.isfinite(plan.mismatch_db) else np.inf
    return (plan.gain, plan.fixed_match, -mismatch, -index)


def ranked_restorations(
    audio: np.ndarray,
    audio_rate: int,
    model_rate: int,
    candidates: Sequence[Candidate],
    edge_hz: float | None = None,
) -> list[tuple[int, Restoration]]:
    """Safe mode's plan with each of ``candidates`` (models running at ``model_rate`` Hz) for an input of
    which ``audio`` is (an excerpt of) the samples at ``audio_rate`` Hz, as ``(index, plan)`` pairs, the
    preferred first (:func:`preference`; ``edge_hz`` overrides detection). The band edge is detected
    once for all candidates."""
    if not candidates:
        raise ValueError("no models to choose from")
    if edge_hz is None and audio_rate == model_rate and len(candidates) > 1:
        from ..analysis.bandwidth import recording_edge

        edge_hz = recording_edge(audio, audio_rate)  # what each plan would detect
    plans = [
        plan_restoration(
            audio, audio_rate, model_rate, list(c.trained_specs), edge_hz, c.validated_gain_db, c.validated_ranges
        )
        for c in candidates
    ]
    order = sorted(range(len(plans)), key=lambda i: preference(plans[i], i), reverse=True)
    return [(i, plans[i]) for i in order]


def choose_restoration(
    audio: np.ndarray,
    audio_rate: int,
    model_rate: int,
    candidates: Sequence[Candidate],
    edge_hz: float | None = None,
) -> tuple[int, Restoration]:
    """Which of ``candidates`` to use on an input, and safe mode's plan with it: the first of
    :func:`ranked_restorations` (same arguments), before any test that needs the networks."""
    return ranked_restorations(audio, audio_rate, model_rate, candidates, edge_hz)[0]


def first_passing(
    ranked: Sequence[tuple[int, Restoration]],
    test: Callable[[int, Restoration], Restoration],
    failures: list[tuple[int, Restoration]] | None = None,
) -> tuple[int, Restoration]:
    """The first of ``ranked`` ``(index, plan)`` pairs (:func:`ranked_restorations`) whose network still
    runs after ``test(index, plan)`` (e.g. the self-test: a plan it does not trust comes back skipped),
    with its tested plan: when the preferred model fails on this input, the next one the input's band
    limit is trusted to (e.g. a generalist after a specialist) gets its turn. Plans that keep the input
    are not tested; when every trusted one fails, the first pair comes back with its failed test.
    ``failures``, if given, receives each failed ``(index, tested plan)`` in turn (to say so)."""
    failed = None
    for index, plan in ranked:
        if plan.skip:
            break
        tested = test(index, plan)
        if not tested.skip:
            return index, tested
        failed = failed or (index, tested)
        if failures is not None:
            failures.append((index, tested))
    return failed or ranked[0]
