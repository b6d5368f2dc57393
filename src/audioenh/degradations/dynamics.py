"""Memoryless amplitude degradations: clipping, gain and quantisation (full scale is amplitude 1.0)."""

from __future__ import annotations

import numpy as np

from .base import Degradation


def _finite(name: str, value, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number of {unit}, got {value!r}")
    return float(value)


class Clip(Degradation):
    """Clipping at ``threshold_db`` dBFS (amplitude 10^(threshold_db/20)), hard or with a soft tanh knee.

    threshold_db: clipping level in dB relative to full scale, amplitude 1.0 (default -6, amplitude
    0.501); mode: ``hard`` (default) limits every sample to ±threshold; ``soft`` leaves samples up to
    half the threshold (6 dB below it) unchanged and bends the rest along a tanh towards ±threshold:
    ``t/2 + t/2 · tanh((|x| - t/2) / (t/2))`` with the sign of ``x`` — continuous with a continuous
    slope, never reaching ±threshold.
    """

    example = "clip"

    def __init__(self, threshold_db: float = -6.0, mode: str = "hard"):
        self.threshold_db = _finite("threshold_db", threshold_db, "dB relative to full scale")
        if mode not in ("hard", "soft"):
            raise ValueError(f"mode must be 'hard' or 'soft', got {mode!r}")
        self.mode = mode

    @property
    def threshold(self) -> float:
        """The clipping level as a linear amplitude."""
        return 10 ** (self.threshold_db / 20)

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        t = self.threshold
        x = audio.astype(np.float64, copy=False)
        if self.mode == "hard":
            return np.clip(x, -t, t)
        knee = t / 2
        magnitude = np.abs(x)
        bent = knee + knee * np.tanh((magnitude - knee) / knee)
        return np.where(magnitude > knee, np.sign(x) * bent, x)

    def __repr__(self) -> str:
        return f"Clip(threshold_db={self.threshold_db!r}, mode={self.mode!r})"


class Gain(Degradation):
    """Gain of ``db`` decibels: every sample multiplied by 10^(db/20); nothing is clipped.

    db: gain in dB (required, e.g. ``gain:-6``; negative attenuates).
    """

    example = "gain:-6"

    def __init__(self, db: float):
        self.db = _finite("db", db, "decibels")

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return audio.astype(np.float64, copy=False) * 10 ** (self.db / 20)

    def __repr__(self) -> str:
        return f"Gain(db={self.db!r})"


class Quantize(Degradation):
    """Quantisation to ``bits``-bit PCM levels: steps of 2^(1-bits) of full scale, range [-1, 1 - step].

    bits: word length, 1 to 32 (required, e.g. ``quantize:8``); each sample is rounded to the nearest
    multiple of ``step = 2 ** (1 - bits)`` and limited to [-1, 1 - step], as writing ``bits``-bit
    integer PCM and reading it back does: at most ``2 ** bits`` levels, and an error of at most
    ``2 ** -bits`` (half a step) for samples inside that range. dither: add triangular (TPDF) dither
    of ±1 step (the sum of two independent uniform draws of ±half a step) before rounding (default
    false); with it the degradation is random and draws the dither from the generator it is given.
    """

    example = "quantize:8"

    def __init__(self, bits: int, dither: bool = False):
        if isinstance(bits, bool) or not isinstance(bits, (int, float)) or not float(bits).is_integer():
            raise ValueError(f"bits must be an integer from 1 to 32, got {bits!r}")
        if not 1 <= int(bits) <= 32:
            raise ValueError(f"bits must be an integer from 1 to 32, got {bits!r}")
        if not isinstance(dither, bool):
            raise ValueError(f"dither must be true or false, got {dither!r}")
        self.bits = int(bits)
        self.dither = dither
        self.random = dither

    @property
    def step(self) -> float:
        """Distance between adjacent levels (full scale is 1.0)."""
        return 2.0 ** (1 - self.bits)

    def apply(self, audio: np.ndarray, sample_rate: int, rng: np.random.Generator | None = None) -> np.ndarray:
        q = self.step
        x = audio.astype(np.float64, copy=False) / q
        if self.dither:
            if rng is None:
                rng = np.random.default_rng(0)
            x = x + rng.uniform(-0.5, 0.5, size=x.shape) + rng.uniform(-0.5, 0.5, size=x.shape)
        return np.clip(np.round(x), -(2.0 ** (self.bits - 1)), 2.0 ** (self.bits - 1) - 1) * q

    def __repr__(self) -> str:
        return f"Quantize(bits={self.bits!r}, dither={self.dither!r})"
