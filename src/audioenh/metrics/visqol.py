"""ViSQOL (audio mode) through the optional ``visqol-python`` package."""

from __future__ import annotations

import numpy as np

from ..errors import MetricUnavailableError
from .base import Metric

#: ViSQOL's audio mode works at 48 kHz; other rates are resampled with soxr.
VISQOL_RATE = 48000
INSTALL_HINT = "pip install 'audioenh[visqol]'"


def _visqol_api():
    """A ViSQOL API object created in audio mode; MetricUnavailableError when the package is missing."""
    try:
        from visqol import VisqolApi
    except ImportError:
        raise MetricUnavailableError(f"metric 'visqol' needs the visqol-python package: {INSTALL_HINT}") from None
    api = VisqolApi()
    api.create(mode="audio")
    return api


class ViSQOL(Metric):
    """ViSQOL v3 MOS-LQO, audio mode (visqol-python, its bundled SVR model); higher is better.

    The mono downmix (mean of channels) of reference and estimate, resampled to 48 kHz with
    soxr, is scored by ViSQOL's audio mode (gammatone spectrogram patches, NSIM, SVR mapping to
    MOS-LQO). Range about 1 to 4.73 (the audio mode's score for identical signals). Needs at
    least 1 s of audio and a non-silent reference. Requires ``pip install 'audioenh[visqol]'``.
    """

    higher_is_better = True
    unit = "MOS-LQO"
    #: Shortest input in seconds (ViSQOL needs enough frames for one patch).
    min_seconds = 1.0

    def __init__(self):
        self._api = _visqol_api()

    def compute(self, reference, estimate, sample_rate):
        import soxr

        seconds = reference.shape[-1] / sample_rate
        if seconds < self.min_seconds:
            raise ValueError(f"visqol needs at least {self.min_seconds:g} s of audio, got {seconds:.3g} s")
        ref = reference.mean(axis=0)
        est = estimate.mean(axis=0)
        if not np.any(ref):
            raise ValueError("visqol is undefined for a silent reference")
        if sample_rate != VISQOL_RATE:
            ref = soxr.resample(ref, sample_rate, VISQOL_RATE)
            est = soxr.resample(est, sample_rate, VISQOL_RATE)
        result = self._api.measure_from_arrays(np.ascontiguousarray(ref), np.ascontiguousarray(est), VISQOL_RATE)
        score = float(result.moslqo)
        if not np.isfinite(score):
            raise ValueError("visqol returned no score (is the estimate silent?)")
        return score
