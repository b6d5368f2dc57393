"""Pitch modulation by a time-varying delay: tape-like wow and flutter."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import Degradation

#: Fractional-delay interpolator: Kaiser-windowed sinc over ``2 * HALF_WIDTH`` input samples. With
#: β = 6 its gain is within 0.02 dB of 1 up to 19 kHz at 44.1 kHz for every fractional delay, and
#: falls to about -0.35 dB at 20 kHz (fraction 0.5, the worst case).
HALF_WIDTH = 16
KAISER_BETA = 6.0
_BLOCK = 1 << 15


def cents_to_delay_amplitude(cents: float, rate_hz: float) -> float:
    """Amplitude (seconds) of a sinusoidal delay at ``rate_hz`` whose peak pitch rise is ``cents``.

    For ``y(t) = x(t - A·sin(2π·f·t + φ))`` the instantaneous frequency of a tone is scaled by
    ``1 - 2π·f·A·cos(2π·f·t + φ)``; the peak rise ``2 ** (cents / 1200)`` needs
    ``A = (2 ** (cents / 1200) - 1) / (2π·f)``.
    """
    return (2.0 ** (cents / 1200) - 1) / (2 * np.pi * rate_hz)


def fractional_read(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``x`` (channels, samples) read at fractional sample ``positions`` by windowed-sinc interpolation.

    Samples outside ``x`` count as zero; integer positions return the samples themselves.
    """
    channels, n = x.shape
    out = np.empty((channels, positions.size))
    offsets = np.arange(-HALF_WIDTH + 1, HALF_WIDTH + 1)
    padded = np.pad(x, ((0, 0), (HALF_WIDTH, HALF_WIDTH + 1)))
    norm = special.i0(KAISER_BETA)
    for start in range(0, positions.size, _BLOCK):
        p = positions[start : start + _BLOCK]
        base = np.floor(p)
        frac = p - base
        t = frac[:, None] - offsets[None, :]  # distance from the read position to each tap
        weights = np.sinc(t) * special.i0(KAISER_BETA * np.sqrt(np.clip(1 - (t / HALF_WIDTH) ** 2, 0, None))) / norm
        weights[frac == 0] = offsets == 0  # exact at integer positions
        index = base.astype(np.int64)[:, None] + offsets[None, :] + HALF_WIDTH  # into the padded signal
        inside = (index >= 0) & (index < padded.shape[-1])
        weights = np.where(inside, weights, 0.0)
        index = np.clip(index, 0, padded.shape[-1] - 1)
        out[:, start : start + p.size] = np.einsum("cbk,bk->cb", padded[:, index], weights)
    return out


class WowFlutter(Degradation):
    """Tape wow and flutter: sinusoidal pitch modulation, ±wow_cents at wow_hz Hz plus ±flutter_cents at flutter_hz Hz.

    wow_cents: peak pitch deviation of the slow modulation in cents (default 10); wow_hz: its rate in
    Hz (default 0.5); flutter_cents: peak deviation of the fast one in cents (default 3); flutter_hz:
    its rate in Hz (default 8). The output is the input read through a time-varying delay,
    ``y(t) = x(t - d(t))`` with ``d(t) = A_w·sin(2π·wow_hz·t + φ_w) + A_f·sin(2π·flutter_hz·t + φ_f)``,
    each amplitude ``A = (2^(cents/1200) - 1) / (2π·hz)`` seconds so that a tone's instantaneous
    frequency peaks ``cents`` above its pitch (and dips about as far below it); the phases are
    uniform draws from the generator (random). 10 cents at 0.5 Hz is a delay swing of ±1.84 ms.
    Fractional delays use a 32-tap Kaiser-windowed sinc; the length is kept, and signal read from
    before the start or after the end is zero. The delay has no mean, so nothing is shifted on average.
    """

    random = True

    def __init__(
        self, wow_cents: float = 10.0, wow_hz: float = 0.5, flutter_cents: float = 3.0, flutter_hz: float = 8.0
    ):
        self.wow_cents = _cents("wow_cents", wow_cents)
        self.wow_hz = _rate("wow_hz", wow_hz)
        self.flutter_cents = _cents("flutter_cents", flutter_cents)
        self.flutter_hz = _rate("flutter_hz", flutter_hz)

    def amplitudes(self) -> tuple[float, float]:
        """Delay amplitudes (seconds) of the wow and of the flutter."""
        return (
            cents_to_delay_amplitude(self.wow_cents, self.wow_hz),
            cents_to_delay_amplitude(self.flutter_cents, self.flutter_hz),
        )

    def context_samples(self, sample_rate: int) -> int:
        """Largest delay (samples, both modulations at their peaks) plus the interpolator's half width.

        Beyond it an excerpt never reads past its own ends, so its edges get real signal rather than
        zeros. The output itself also depends on the random phases, so it is not the same samples
        as degrading the whole file: 99 samples at 44.1 kHz with the defaults.
        """
        return int(np.ceil(sum(self.amplitudes()) * sample_rate)) + HALF_WIDTH

    def apply(self, audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        phases = rng.uniform(0, 2 * np.pi, size=2)
        x = audio.astype(np.float64, copy=False)
        if self.wow_cents == 0 and self.flutter_cents == 0:
            return x.copy()
        a_wow, a_flutter = self.amplitudes()
        t = np.arange(x.shape[-1]) / sample_rate
        delay = a_wow * np.sin(2 * np.pi * self.wow_hz * t + phases[0])
        delay += a_flutter * np.sin(2 * np.pi * self.flutter_hz * t + phases[1])
        return fractional_read(x, np.arange(x.shape[-1]) - delay * sample_rate)

    def __repr__(self) -> str:
        return (
            f"WowFlutter(wow_cents={self.wow_cents!r}, wow_hz={self.wow_hz!r}, "
            f"flutter_cents={self.flutter_cents!r}, flutter_hz={self.flutter_hz!r})"
        )


def _cents(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 600:
        raise ValueError(f"{name} must be a pitch deviation from 0 to 600 cents, got {value!r}")
    return float(value)


def _rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive modulation rate in Hz, got {value!r}")
    return float(value)
