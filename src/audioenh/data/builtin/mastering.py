"""Mastering of the built-in generator: the final EQ that keeps every song inside the corpus bounds.

The built-in corpus trains and tests bandwidth extension above the 11025-Hz cutoff, so each song
must have energy up to about 20 kHz and a realistic share of it above 11025 Hz. :func:`master`
rolls the top octave off gently, then corrects the song with smooth shelves until its long-term
spectrum above 18 kHz (``AIR_HZ``) lies within ``AIR_MARGIN_DB`` dB of its peak and its energy
share above 11025 Hz (``HIGH_BAND_HZ``) lies inside ``SHARE_BOUNDS``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from .dsp import smooth_step

HIGH_BAND_HZ = 11025.0  # the band-extension cutoff (Hz)
SHARE_BOUNDS = (0.004, 0.03)  # high-band energy share kept inside these bounds ...
SHARE_TARGETS = (0.006, 0.025)  # ... by moving it to these when outside
AIR_HZ = 18000.0  # lower edge (Hz) of the "air" band
AIR_MARGIN_DB = 48.0  # PSD above 18 kHz kept within this many dB of the peak (the criterion is 60)


def master(mix: np.ndarray, sr: int, rolloff_db: float = 0.0) -> np.ndarray:
    """Mastering EQ: a gentle top-octave roll-off, then corrections that keep the song inside the corpus bounds.

    1. ``rolloff_db`` dB of attenuation rising smoothly from about 15 kHz to 20 kHz (microphones, air
       and mastering make real recordings fall off there).
    2. If the long-term spectrum above 18 kHz is more than ``AIR_MARGIN_DB`` below its peak, a
       shelf rising from about 16 kHz lifts it (at most +18 dB).
    3. If the share of energy above 11025 Hz is outside ``SHARE_BOUNDS``, a broad shelf centred
       near 9 kHz moves it to the nearer of ``SHARE_TARGETS``.

    All gains are smooth functions of frequency applied to one FFT of the whole song (so their
    impulse responses are short); the checks evaluate the Welch spectrum through the same gains.
    """
    n = mix.shape[-1]
    if sr / 2.0 <= AIR_HZ or n < 4096:
        return mix
    spec = np.fft.rfft(mix, axis=-1)
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    wfreqs, psd = signal.welch(mix, fs=sr, nperseg=4096, axis=-1)
    psd = psd.sum(axis=0)

    def curve(f: np.ndarray, air_db: float) -> np.ndarray:
        g_db = -rolloff_db * smooth_step(f, 17500.0, 0.12) + air_db * smooth_step(f, 16000.0, 0.15)
        return 10.0 ** (g_db / 20.0)

    def margin(air_db: float) -> float:
        p = psd * curve(wfreqs, air_db) ** 2
        return float(10.0 * np.log10(p.max() / max(p[wfreqs >= AIR_HZ].max(), 1e-30)))

    air_db = 0.0
    for _ in range(4):
        excess = margin(air_db) - AIR_MARGIN_DB
        if excess <= 0.0 or air_db >= 18.0:
            break
        air_db = min(air_db + excess + 1.0, 18.0)
    gain = curve(freqs, air_db)

    power = (np.abs(spec) ** 2).sum(axis=0) * gain**2
    high = freqs > HIGH_BAND_HZ
    share = power[high].sum() / max(power.sum(), 1e-30)
    lo, hi = SHARE_BOUNDS
    if not lo <= share <= hi:
        target = SHARE_TARGETS[0] if share < lo else SHARE_TARGETS[1]
        step = smooth_step(freqs, 9000.0, 0.35)

        def share_at(log_g: float) -> float:
            p = power * (1.0 + (math.exp(log_g) - 1.0) * step) ** 2
            return p[high].sum() / max(p.sum(), 1e-30)

        a, b = (0.0, math.log(20.0)) if share < lo else (math.log(0.05), 0.0)
        for _ in range(30):  # share_at increases with log_g
            mid = 0.5 * (a + b)
            if share_at(mid) < target:
                a = mid
            else:
                b = mid
        gain = gain * (1.0 + (math.exp(0.5 * (a + b)) - 1.0) * step)
    return np.fft.irfft(spec * gain, n, axis=-1)
