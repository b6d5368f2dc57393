"""Log-spectral distance (LSD), full-band and restricted to the restored band."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

from ..parallel import usable_cores
from .base import Metric, check_pair

#: Added to power spectra before the log, so silent bins give a finite distance.
POWER_FLOOR = 1e-10


#: frames transformed at once: a block's frames, windowed copy and spectrum stay in the CPU's cache,
#: where whole-signal temporaries (tens of MB) cost more in memory traffic than the FFT itself
_FRAMES_PER_BLOCK = 32


def power_spectrogram(audio: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """|STFT|^2 of (channels, samples) audio: periodic Hann window of ``n_fft`` samples, hop ``hop``.

    Frames start at sample 0 with no centring; audio shorter than one frame, or a final partial
    frame, is zero-padded at the end. Returns (channels, frames, n_fft // 2 + 1), float64.
    """
    return _spectrogram(audio, n_fft, hop, log=False)


def log_power_spectrogram(audio: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """log10(:func:`power_spectrogram` + :data:`POWER_FLOOR`), each block's log taken with its
    transform (on every core, while the block is in the cache): the same values as taking it after."""
    return _spectrogram(audio, n_fft, hop, log=True)


def _spectrogram(audio: np.ndarray, n_fft: int, hop: int, log: bool) -> np.ndarray:
    n = audio.shape[-1]
    frames = 1 + max(0, int(np.ceil((n - n_fft) / hop)))
    total = (frames - 1) * hop + n_fft
    padded = np.pad(audio, ((0, 0), (0, total - n)))
    # frames as a strided view (no gathered copy), transformed block by block on every core
    # (float64, the same values as one whole-signal FFT; docs/performance.md)
    windows = sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]
    window = np.hanning(n_fft + 1)[:-1]
    out = np.empty(windows.shape[:-1] + (n_fft // 2 + 1,))

    def transform(span: tuple[int, int, int]) -> None:
        channel, first, stop = span
        for i in range(first, stop, _FRAMES_PER_BLOCK):
            j = min(i + _FRAMES_PER_BLOCK, stop)
            spectrum = scipy.fft.rfft(windows[channel, i:j] * window, axis=-1)
            power = out[channel, i:j]
            np.square(spectrum.real, out=power)
            power += np.square(spectrum.imag)
            if log:
                power += POWER_FLOOR
                np.log10(power, out=power)

    _run_in_threads(transform, windows.shape[0], frames)
    return out


_pool: tuple[int, ThreadPoolExecutor] | None = None  # (process id, pool): a forked child makes its own


def _run_in_threads(transform: Callable[[tuple[int, int, int]], None], channels: int, frames: int) -> None:
    """``transform((channel, first frame, stop frame))`` over every channel's frames, split into one
    share per core (numpy and scipy's FFT release the GIL on arrays this size)."""
    global _pool
    threads = usable_cores()
    shares = max(1, min(-(-threads // max(channels, 1)), frames // _FRAMES_PER_BLOCK))
    bounds = np.linspace(0, frames, shares + 1).astype(int)
    spans = [(c, int(a), int(b)) for c in range(channels) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    if len(spans) == 1 or channels * frames < 4 * _FRAMES_PER_BLOCK:  # not worth a thread
        for span in spans:
            transform(span)
        return
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=threads, thread_name_prefix="audioenh-stft"))
    list(_pool[1].map(transform, spans))


class LSD(Metric):
    """Log-spectral distance, lower is better (0 for identical signals).

    Definition: STFT with n_fft 2048, hop 512, periodic Hann window, no centring; power
    P = |X|^2 + 1e-10; per frame the root-mean-square over frequency bins of
    log10 P_ref - log10 P_est; then the mean over frames and channels. Unit: log10 power
    (multiply by 10 for dB). n_fft and hop can be changed in the spec.
    """

    higher_is_better = False
    unit = "log10 power"

    def __init__(self, n_fft: int = 2048, hop: int = 512):
        if int(n_fft) < 2 or int(hop) < 1:
            raise ValueError(f"need n_fft >= 2 and hop >= 1, got n_fft={n_fft}, hop={hop}")
        self.n_fft = int(n_fft)
        self.hop = int(hop)

    def bins(self, sample_rate: int) -> slice:
        """Frequency bins the distance is taken over (all)."""
        return slice(None)

    def compute(self, reference, estimate, sample_rate):
        return self._distances(reference, [estimate], sample_rate)[0]

    def score_many(self, reference, estimates, sample_rate):
        """The reference's spectrogram once for all ``estimates`` (the same values as one call each)."""
        pairs = [check_pair(reference, estimate) for estimate in estimates]
        return self._distances(pairs[0][0], [est for _, est in pairs], int(sample_rate)) if pairs else []

    def _distances(self, reference: np.ndarray, estimates: list[np.ndarray], sample_rate: int) -> list[float]:
        """The distance of each of ``estimates`` from ``reference`` (checked float64 arrays): per frame
        the RMS over bins of the log-power difference, then the mean over frames and channels."""
        band = self.bins(sample_rate)
        reference_log = log_power_spectrogram(reference, self.n_fft, self.hop)[..., band]
        distances = []
        for estimate in estimates:
            difference = reference_log - log_power_spectrogram(estimate, self.n_fft, self.hop)[..., band]
            per_frame = np.sqrt(np.mean(np.square(difference, out=difference), axis=-1))
            distances.append(float(np.mean(per_frame)))
        return distances


class HighBandLSD(LSD):
    """Log-spectral distance over the restored band only: bins strictly above ``cutoff`` Hz.

    Same definition as ``lsd`` (n_fft 2048, hop 512, Hann, log10 power, RMS over bins, mean over
    frames), restricted to frequency bins k with k * sample_rate / n_fft > cutoff (default 11025).
    Lower is better.
    """

    def __init__(self, cutoff: float = 11025.0, n_fft: int = 2048, hop: int = 512):
        super().__init__(n_fft, hop)
        if not float(cutoff) > 0:
            raise ValueError(f"cutoff must be a positive frequency in Hz, got {cutoff!r}")
        self.cutoff = float(cutoff)

    def bins(self, sample_rate: int) -> slice:
        if self.cutoff >= sample_rate / 2:
            raise ValueError(
                f"lsd-hf cutoff {self.cutoff:g} Hz is at or above the Nyquist frequency {sample_rate / 2:g} Hz"
            )
        freqs = np.arange(self.n_fft // 2 + 1) * sample_rate / self.n_fft
        first = int(np.argmax(freqs > self.cutoff))
        return slice(first, None)
