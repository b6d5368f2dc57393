"""Additive noise at a signal-to-noise ratio measured on the signal it is added to."""

from __future__ import annotations

import numpy as np

from .base import Degradation

COLORS = ("white", "pink")


def pink_noise(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Gaussian noise with a power spectral density proportional to 1/f (-3 dB per octave), zero mean.

    White Gaussian noise shaped in the DFT domain: bin ``k > 0`` scaled by ``1 / sqrt(k)``, the DC bin
    zeroed; independent per row. Not normalised.
    """
    channels, n = shape
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    k = np.arange(spectrum.shape[-1], dtype=np.float64)
    scale = np.zeros_like(k)
    scale[1:] = 1 / np.sqrt(k[1:])
    return np.fft.irfft(spectrum * scale, n, axis=-1)


class Noise(Degradation):
    """Additive white or pink Gaussian noise at ``snr`` dB below the signal's power (all channels together).

    snr: signal-to-noise ratio in dB (required, e.g. ``noise:20``): the noise is scaled so that
    ``10 · log10(mean(x²) / mean(noise²))``, both means over all channels and samples, is exactly
    ``snr`` for the audio it is given; silence stays silent. color: ``white`` (default, flat power
    spectral density) or ``pink`` (density ∝ 1/f, -3 dB per octave, no DC). Each channel gets its
    own independent noise, drawn from the generator the degradation is given (random). Memoryless
    (context 0), but the level follows the audio passed in: degrading a training chunk on its own
    gives noise at ``snr`` relative to that chunk's power, not the whole song's.
    """

    example = "noise:20"
    random = True

    def __init__(self, snr: float, color: str = "white"):
        if isinstance(snr, bool) or not isinstance(snr, (int, float)) or not np.isfinite(snr):
            raise ValueError(f"snr must be a finite number of dB, got {snr!r}")
        if color not in COLORS:
            raise ValueError(f"color must be 'white' or 'pink', got {color!r}")
        self.snr = float(snr)
        self.color = color

    def noise(self, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
        """Unscaled noise of this colour, (channels, samples)."""
        if self.color == "pink":
            return pink_noise(rng, shape)
        return rng.standard_normal(shape)

    def apply(self, audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
        x = audio.astype(np.float64, copy=False)
        noise = self.noise(x.shape, rng)
        signal_power = np.mean(x**2)
        noise_power = np.mean(noise**2)
        if signal_power == 0 or noise_power == 0:  # silence, or a 1-sample pink draw (no non-DC bin)
            return x.copy()
        return x + noise * np.sqrt(signal_power / noise_power * 10 ** (-self.snr / 10))

    def __repr__(self) -> str:
        return f"Noise(snr={self.snr!r}, color={self.color!r})"
