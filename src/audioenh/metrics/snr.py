"""Signal-to-noise ratio (the paper's equation 1)."""

from __future__ import annotations

import numpy as np

from .base import Metric


class SNR(Metric):
    """Signal-to-noise ratio in dB: 10 log10(sum x^2 / sum (x - x_hat)^2), summed over all channels.

    +inf when the estimate equals the reference; -inf when the reference is silent and the
    estimate is not. Higher is better.
    """

    higher_is_better = True
    unit = "dB"

    def compute(self, reference, estimate, sample_rate):
        signal_energy = float(np.sum(reference**2))
        noise_energy = float(np.sum((reference - estimate) ** 2))
        if noise_energy == 0.0:
            return float("inf")
        if signal_energy == 0.0:
            return float("-inf")
        return 10.0 * np.log10(signal_energy / noise_energy)
