"""Resampling down and back up: the super-resolution setting (content above the lower rate's Nyquist removed)."""

from __future__ import annotations

import numpy as np
import soxr

from .base import Degradation

#: soxr qualities offered, and the context each needs, in samples at the *lower* rate. Measured with
#: music-like signals (``tests/test_resample_degradation.py``): an excerpt degraded with this much
#: context matches the whole-file result to soxr's own precision floor (about 3e-7 for LQ, MQ and HQ,
#: 1e-9 for VHQ) from about 30 (LQ), 115 (MQ), 125 (HQ) and 205 (VHQ) lower-rate samples on; these
#: are those figures with a margin of about 2.
QUALITY_CONTEXT = {"LQ": 64, "MQ": 256, "HQ": 256, "VHQ": 512}


class Resample(Degradation):
    """Resample to ``rate`` Hz and back with soxr: removes content above rate / 2 Hz (super-resolution input).

    rate: the lower sample rate in Hz, below the audio's (required, e.g. ``resample:22050``, which
    keeps 0-11.025 kHz of 44.1 kHz audio); quality: soxr's quality, ``LQ``, ``MQ``, ``HQ`` or ``VHQ``
    (default ``HQ``; measured on tones at 44.1 kHz with ``rate=22050``: within 1e-5 dB up to 10 kHz,
    91 % of rate / 2, -0.03 dB at 10.2 kHz, -7.6 dB at 10.5 kHz, below -100 dB from 10.9 kHz, 99 % of
    rate / 2; ``MQ`` and ``VHQ`` are alike, ``LQ`` is narrower: -0.1 dB at 8 kHz, -45 dB at 10 kHz).
    soxr's ``QQ`` (no anti-alias filter) is refused: its aliasing depends on where the excerpt starts.
    soxr compensates its filters' delay, so the result is aligned with the input; it is cropped or
    zero-padded at the end to the input's length exactly.
    """

    example = "resample:22050"

    def __init__(self, rate: float, quality: str = "HQ"):
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not np.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate must be a positive sample rate in Hz, got {rate!r}")
        self.rate = float(rate)
        key = str(quality).upper()
        if key not in QUALITY_CONTEXT:
            raise ValueError(f"quality must be one of {', '.join(QUALITY_CONTEXT)} (soxr qualities), got {quality!r}")
        self.quality = key

    def _check_rate(self, sample_rate: int) -> None:
        if self.rate >= sample_rate:
            raise ValueError(
                f"resample rate {self.rate:g} Hz must be below the audio's sample rate {sample_rate} Hz "
                "(the audio is resampled down to it and back up)"
            )

    def context_samples(self, sample_rate: int) -> int:
        """Measured context of the quality's filters (:data:`QUALITY_CONTEXT`, lower-rate samples) at ``sample_rate``.

        At 44.1 kHz with ``HQ``: 512 samples for ``resample:22050``, 1412 for ``resample:8000``.
        """
        self._check_rate(sample_rate)
        return int(np.ceil(QUALITY_CONTEXT[self.quality] * sample_rate / self.rate))

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        self._check_rate(sample_rate)
        n = audio.shape[-1]
        # Zeros after the end, so that the filters' tails past it are kept whole, wherever the lower
        # rate's sample grid falls: otherwise soxr's rounding of the output length cuts them short,
        # differently for an excerpt ending at the file's end than for the whole file.
        tail = self.context_samples(sample_rate)
        frames = np.zeros((n + tail, audio.shape[0]))  # soxr wants (frames, channels)
        frames[:n] = audio.T
        low = soxr.resample(frames, sample_rate, self.rate, self.quality)
        back = soxr.resample(np.ascontiguousarray(low), self.rate, sample_rate, self.quality)[:n]
        if back.shape[0] < n:
            back = np.pad(back, ((0, n - back.shape[0]), (0, 0)))
        return back.T

    def __repr__(self) -> str:
        return f"Resample(rate={self.rate!r}, quality={self.quality!r})"
