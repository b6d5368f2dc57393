"""Validation as in the paper: SNR on fixed excerpts of the validation songs, seen and unseen filters.

Seen filter(s): with one training degradation every song is degraded by it; with several, the
filters are assigned to songs in turn (the paper assigns each of its 8 filters to one of its 8
validation songs). Every unseen filter is applied to every song. Songs are degraded whole and
then cut, as at test time. Inputs, targets and the input SNRs are computed once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..data.corpus import Song, excerpt_bounds
from ..degradations.chain import DegradationSampler
from ..evaluation.inference import enhance_array
from ..plugins import metrics


@dataclass
class _Case:
    song: str
    spec: str
    degraded: np.ndarray
    target: np.ndarray
    input_snr: float


class Validator:
    """Computes mean input/output SNR (dB) on the validation excerpts for a model.

    ``unseen`` lists unseen degradation specs, or maps the label each is reported under (the spec
    as the user gave it) to the spec applied (its canonical form).
    """

    def __init__(
        self,
        songs: Sequence[Song],
        seen: Sequence[str],
        unseen: Sequence[str] | Mapping[str, str],
        *,
        offset_seconds: float = 8.0,
        seconds: float = 8.0,
        sample_rate: int = 44100,
        infer_chunk: int = 32768,
        precision: str = "fp32",
    ):
        self.sample_rate = sample_rate
        self.infer_chunk = infer_chunk
        self.precision = precision
        self.snr = metrics().create("snr")
        self.groups: dict[str, list[_Case]] = {"seen": []}
        labels = dict(unseen) if isinstance(unseen, Mapping) else {spec: spec for spec in unseen}
        self.unseen = list(labels)
        samplers = {spec: DegradationSampler(spec, sample_rate) for spec in [*seen, *labels.values()]}
        for i, song in enumerate(songs):
            audio = song.read()
            start, stop = excerpt_bounds(audio.shape[-1], offset_seconds, seconds)
            target = audio[:, start:stop]
            specs = [("seen", seen[i % len(seen)])] + list(labels.items())
            for group, spec in specs:
                rng = np.random.default_rng([0, i])  # ranges and random degradations: fixed per song
                degraded = samplers[spec].degrade(audio, sample_rate, rng)[0][:, start:stop]
                case = _Case(song.name, spec, degraded, target, self.snr(target, degraded, sample_rate))
                self.groups.setdefault(group, []).append(case)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, device: torch.device) -> dict[str, dict[str, float]]:
        """``{"seen": {"input": dB, "output": dB}, "<unseen spec>": {...}}``, means over songs."""
        was_training = model.training
        model.eval()
        out: dict[str, dict[str, float]] = {}
        for group, cases in self.groups.items():
            outputs = []
            for case in cases:
                enhanced = enhance_array(
                    model, case.degraded, chunk=self.infer_chunk, device=device, precision=self.precision
                )
                outputs.append(self.snr(case.target, enhanced, self.sample_rate))
            out[group] = {
                "input": float(np.mean([c.input_snr for c in cases])),
                "output": float(np.mean(outputs)),
            }
        model.train(was_training)
        return out
