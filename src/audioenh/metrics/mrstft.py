"""Multi-resolution STFT distance."""

from __future__ import annotations

import numpy as np

from .base import Metric
from .lsd import power_spectrogram

#: (n_fft, hop, window length) of each resolution; the window is a periodic Hann of n_fft samples.
RESOLUTIONS = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))
#: Magnitudes are floored at this value before the log; it also floors the convergence's denominator.
MAGNITUDE_FLOOR = 1e-7


def magnitude_spectrogram(audio: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT| of (channels, samples) audio: periodic Hann of n_fft, frames from sample 0, no centring.

    A final partial frame (or audio shorter than one frame) is zero-padded. Returns
    (channels, frames, n_fft // 2 + 1); no normalisation.
    """
    return np.sqrt(power_spectrogram(audio, n_fft, hop))


def stft_distance(reference: np.ndarray, estimate: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Per channel: spectral convergence + mean absolute log-magnitude difference at one resolution."""
    mag_ref = magnitude_spectrogram(reference, n_fft, hop)
    mag_est = magnitude_spectrogram(estimate, n_fft, hop)
    diff = np.sqrt(np.sum((mag_ref - mag_est) ** 2, axis=(-2, -1)))
    norm = np.maximum(np.sqrt(np.sum(mag_ref**2, axis=(-2, -1))), MAGNITUDE_FLOOR)
    convergence = diff / norm
    log_ref = np.log(np.maximum(mag_ref, MAGNITUDE_FLOOR))
    log_est = np.log(np.maximum(mag_est, MAGNITUDE_FLOOR))
    log_distance = np.mean(np.abs(log_ref - log_est), axis=(-2, -1))
    return convergence + log_distance


class MultiResolutionSTFT(Metric):
    """Multi-resolution STFT distance: spectral convergence + log-magnitude L1, 3 resolutions; lower is better.

    For each resolution (n_fft, hop, window) = (512, 128, 512), (1024, 256, 1024), (2048, 512,
    2048), periodic Hann, frames from sample 0 without centring (last partial frame zero-padded),
    magnitudes |S| (reference) and |S^| (estimate) without normalisation, per channel:
    spectral convergence ||S| - |S^||_F / max(||S||_F, 1e-7) plus the mean over frames and bins of
    |ln max(|S|, 1e-7) - ln max(|S^|, 1e-7)| (natural log). The value is the mean of this sum over
    the resolutions and channels. 0 for identical signals; range [0, inf).
    """

    higher_is_better = False
    unit = ""

    def compute(self, reference, estimate, sample_rate):
        per_resolution = [stft_distance(reference, estimate, n_fft, hop) for n_fft, hop, _ in RESOLUTIONS]
        return float(np.mean(per_resolution))
