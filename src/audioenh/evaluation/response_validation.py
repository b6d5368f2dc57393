"""Which of its training band limits a trained network actually restores, measured on its validation songs.

Safe mode trusts a network where an input's band limit looks like one of its training degradations
(:mod:`audioenh.evaluation.crossover`). Being trained on a degradation is not the same as having learnt
it: the quick report's ResNet recipe, trained on Chebyshev I and elliptic low-passes of orders 4-12 at
10-12 kHz, lost 0.06 dB on its own validation songs low-passed by an order-4 Chebyshev I at 12 kHz (at
full trust), and safe mode, matching gentle 13-kHz Butterworth test inputs to exactly those draws,
lost 0.43 dB on them.

So each training response is validated: every validation song (a centred excerpt of
:data:`VALIDATION_SECONDS`) is degraded by the response's own draw and by the draw with its cut-off
(or rate) moved :data:`STEPS` of the way to either end of its training range (the positions its
matches may be moved to), enhanced in safe mode with that response matched at full trust (the
crossover and the level limit as ``enhance`` applies them), and scored by ΔSNR. A position is
*validated* when the mean gain over the songs is at least :data:`MIN_GAIN_DB` and no song loses more
than :data:`WORST_SONG_LOSS_DB`. A response counts only if its own draw is validated, and is moved
towards each end only as far as the farthest validated position, tried from the end inwards
(:func:`validated_range`; :func:`~audioenh.evaluation.crossover.with_validated_ranges`). The
positions between a validated one and the own draw are not scored (a network that gains at a 10-
and a 12-kHz cut-off is taken to gain between them), which keeps a recipe's validation to about
half a minute on 2 cores. ``audioenh train`` validates at the
end of training and stores the result in the checkpoint (``response_validation``);
``tools/validate_responses.py`` adds it to existing checkpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..errors import AudioenhError
from ..metrics.snr import SNR
from .crossover import (
    Restoration,
    ValidatedRanges,
    edge_steps,
    probe_edge_hz,
    restore_array,
    training_draws,
    training_responses,
)

#: the rule's name, stored with the result (a later rule re-validates)
RULE = "safe-gain-0.05-worst-0.05-steps-2-outside-in"
MIN_GAIN_DB = 0.05  # a position is validated when the songs gain at least this on average (dB) ...
WORST_SONG_LOSS_DB = 0.05  # ... and none loses more than this (dB)
VALIDATION_SECONDS = 4.0  # the centred excerpt of each validation song (s)
STEPS = (0.5, 1.0)  # positions towards each end of a range: these fractions of the way (outwards)


@dataclass(frozen=True)
class PositionGain:
    """One validated position of a training response: the concrete degradation, its band edge on white
    noise (Hz), and the safe-mode ΔSNR over the validation songs (mean and worst song, dB)."""

    spec: str
    edge_hz: float
    mean_db: float
    worst_db: float

    @property
    def validated(self) -> bool:
        return self.mean_db >= MIN_GAIN_DB and self.worst_db >= -WORST_SONG_LOSS_DB


def safe_gain_db(
    model: torch.nn.Module,
    clean: np.ndarray,
    degraded: np.ndarray,
    response,
    sample_rate: int,
    device: torch.device,
    precision: str = "fp32",
) -> float:
    """ΔSNR (dB) of safe mode's output for ``degraded`` (a (channels, samples) version of ``clean``) with
    ``response`` matched at full trust; 0 when there is nothing to restore."""
    from ..analysis.bandwidth import recording_edge

    plan = Restoration.matched_at(recording_edge(degraded, sample_rate), sample_rate, response)
    if plan is None:
        return 0.0
    safe, _ = restore_array(model, degraded, plan, sample_rate, device=device, precision=precision)
    before, after = SNR().score_many(clean, [degraded, safe], sample_rate)
    return after - before


def validate_responses(
    model: torch.nn.Module,
    trained_specs: Sequence[str],
    songs: Sequence[np.ndarray],
    sample_rate: int,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    on_step=None,
) -> dict:
    """The validation of every training response of ``trained_specs`` on ``songs`` ((channels, samples)
    float arrays at ``sample_rate``, e.g. centred excerpts of the validation split), as stored in a
    checkpoint: ``{"rule", "seconds", "songs", "responses": [{"spec", "positions": [...],
    "validated_range_hz": [low, high] or None}]}``. ``on_step()`` is called after each position."""
    device = torch.device(device)
    model.eval()
    responses = training_responses(tuple(trained_specs), sample_rate)
    draws = list(training_draws(tuple(trained_specs), sample_rate))
    if [r.spec for r in responses] != [text for _, text, _ in draws]:
        raise RuntimeError("training responses and draws disagree; clear the response cache")
    out = []
    for response, (sampler, text, _) in zip(responses, draws):
        gains: dict[str, PositionGain] = {}

        def measure(position: str, response=response, sampler=sampler, text=text, gains=gains) -> PositionGain:
            if position not in gains:
                songs_db = []
                for i, clean in enumerate(songs):
                    rng = np.random.default_rng([0, i])
                    degraded = sampler.build(position)(clean, sample_rate, rng).astype(np.float32)
                    songs_db.append(safe_gain_db(model, clean, degraded, response, sample_rate, device, precision))
                edge = response.edge_hz if position == text else probe_edge_hz(sampler, position, sample_rate)
                gains[position] = PositionGain(position, float(edge), float(np.mean(songs_db)), float(np.min(songs_db)))
                if on_step is not None:
                    on_step()
            return gains[position]

        validated = validated_range(text, edge_steps(text, sampler.specs, STEPS), measure)
        out.append({"spec": text, "positions": [asdict(p) for p in gains.values()], "validated_range_hz": validated})
    return {"rule": RULE, "seconds": VALIDATION_SECONDS, "songs": len(songs), "responses": out}


def validate_on_songs(
    model: torch.nn.Module,
    trained_specs: Sequence[str],
    songs,
    sample_rate: int,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    progress: bool = False,
) -> dict:
    """:func:`validate_responses` on centred excerpts of corpus ``songs`` (the validation split), with a
    progress bar when ``progress``."""
    from tqdm.auto import tqdm

    if not songs:
        raise AudioenhError("no validation songs to validate the training responses on")
    excerpts = validation_excerpts(songs, sample_rate)
    total = positions_count(trained_specs, sample_rate)
    with tqdm(total=total, unit="draw", desc="validating responses", leave=False, disable=not progress) as bar:
        return validate_responses(
            model, trained_specs, excerpts, sample_rate, device, precision, on_step=lambda: bar.update(1)
        )


def validated_range(own: str, sides: Sequence[Sequence[str]], measure) -> list[float] | None:
    """The edges (Hz) a response may be moved between: ``measure(position)`` (a :class:`PositionGain`)
    of its own draw ``own`` first (``None`` when it is not validated), then along each side's
    positions (ordered outwards) from the farthest inwards, up to the first validated one."""
    first = measure(own)
    if not first.validated:
        return None
    edges = [first.edge_hz]
    for side in sides:
        for position in reversed(side):
            gain = measure(position)
            if gain.validated:
                edges.append(gain.edge_hz)
                break
    return [float(min(edges)), float(max(edges))]


def positions_count(trained_specs: Sequence[str], sample_rate: int) -> int:
    """How many positions :func:`validate_responses` scores at most (for a progress bar)."""
    return sum(
        len(dict.fromkeys([text, *(step for side in edge_steps(text, sampler.specs, STEPS) for step in side)]))
        for sampler, text, _ in training_draws(tuple(trained_specs), sample_rate)
    )


def ranges_of(validation: dict | None) -> ValidatedRanges | None:
    """The ``(spec, low, high)`` ranges of a stored validation (:func:`validate_responses`), the
    responses that failed left out; ``None`` without one or from another rule."""
    if not validation or validation.get("rule") != RULE:
        return None
    return tuple(
        (str(r["spec"]), float(r["validated_range_hz"][0]), float(r["validated_range_hz"][1]))
        for r in validation.get("responses", [])
        if r.get("validated_range_hz")
    )


def validation_excerpts(songs, sample_rate: int, seconds: float = VALIDATION_SECONDS) -> list[np.ndarray]:
    """Centred excerpts of ``seconds`` of corpus ``songs`` (:class:`~audioenh.data.corpus.Song`), float64."""
    from .matrix import centred_excerpt

    excerpts = []
    for song in songs:
        audio = song.read()
        excerpts.append(np.asarray(audio[:, centred_excerpt(audio, seconds, sample_rate)], dtype=np.float64))
    return excerpts
