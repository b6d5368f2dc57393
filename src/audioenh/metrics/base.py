"""The metric interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


def check_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate two (channels, samples) arrays of equal shape; return them as float64."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    if ref.ndim == 1:
        ref = ref[None]
    if est.ndim == 1:
        est = est[None]
    if ref.ndim != 2 or est.ndim != 2:
        raise ValueError("metrics take arrays shaped (channels, samples)")
    if ref.shape != est.shape:
        raise ValueError(
            f"reference and estimate differ in shape: {ref.shape[0]} ch x {ref.shape[1]} samples "
            f"vs {est.shape[0]} ch x {est.shape[1]} samples"
        )
    if ref.shape[1] == 0:
        raise ValueError("cannot compute a metric on zero samples")
    return ref, est


class Metric(ABC):
    """A score of ``estimate`` against ``reference``, both (channels, samples) at ``sample_rate`` Hz."""

    #: True when a larger value means a better estimate.
    higher_is_better: bool = True
    #: Unit of the value, e.g. "dB".
    unit: str = ""

    def __call__(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
        ref, est = check_pair(reference, estimate)
        return float(self.compute(ref, est, int(sample_rate)))

    @abstractmethod
    def compute(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
        """Score float64 arrays of equal shape (channels, samples)."""

    def score_many(self, reference: np.ndarray, estimates: Sequence[np.ndarray], sample_rate: int) -> list[float]:
        """``[self(reference, e, sample_rate) for e in estimates]`` (testing scores an input and its
        output against one original): a metric whose reference costs work of its own (a
        spectrogram) overrides it to do that work once. The same values either way."""
        return [self(reference, estimate, sample_rate) for estimate in estimates]
