"""DSP building blocks of the built-in generator: oscillators, wavetables, envelopes, filters.

Frequencies are in Hz, times in seconds and lengths in samples (names ending in ``n``); the
sample rate ``sr`` (Hz) is always passed explicitly. Nothing here draws random numbers: callers
pass noise or phases in, so the order of the song's random draws lives elsewhere.

* pitch and panning: :func:`midi_hz`, :func:`pan_gains`, :func:`pan_track`;
* filters: :func:`butter` (Butterworth SOS), :func:`one_pole_lp` (6 dB/octave), :func:`peaking_sos`;
* band-limited oscillators: :func:`harmonic_amps` -> :func:`wavetable` -> :func:`oscillate`;
* envelopes and resonators: :func:`adsr`, :func:`decaying_partials`, :func:`karplus_strong`;
* measurements and curves: :func:`active_rms`, :func:`smooth_step`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

TABLE_SIZE = 8192  # wavetable length (samples per cycle)


def midi_hz(midi):
    """Equal-tempered frequency (Hz) of MIDI note number(s), A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power left/right gains for ``pan`` in [-1 (left), 1 (right)]."""
    theta = (float(np.clip(pan, -1.0, 1.0)) + 1.0) * np.pi / 4.0
    return math.cos(theta), math.sin(theta)


def butter(btype: str, fc, sr: int, order: int = 2):
    """Butterworth second-order sections; cut-offs (Hz) are clamped below Nyquist."""
    nyq = sr / 2.0
    fc = np.clip(np.asarray(fc, dtype=float), 10.0, 0.95 * nyq)
    return signal.butter(order, fc, btype=btype, fs=sr, output="sos")


def one_pole_lp(x: np.ndarray, fc: float, sr: int) -> np.ndarray:
    """First-order (6 dB/octave) low-pass at ``fc`` Hz along the last axis: a gentle spectral tilt."""
    a = math.exp(-2.0 * math.pi * min(fc, 0.49 * sr) / sr)
    return signal.lfilter([1.0 - a], [1.0, -a], x, axis=-1)


def peaking_sos(f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """One peaking-EQ biquad (centre ``f0`` Hz, ``gain_db``, quality ``q``) as a (1, 6) SOS array."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(f0, 0.45 * sr) / sr
    alpha = math.sin(w0) / (2.0 * q)
    b = [1.0 + alpha * amp, -2.0 * math.cos(w0), 1.0 - alpha * amp]
    a = [1.0 + alpha / amp, -2.0 * math.cos(w0), 1.0 - alpha / amp]
    return np.array([[b[0] / a[0], b[1] / a[0], b[2] / a[0], 1.0, a[1] / a[0], a[2] / a[0]]])


def harmonic_amps(
    kind: str, f0: float, fmax: float, sr: int, cutoff: float | None = None, order: int = 1, pulse_width: float = 0.5
) -> np.ndarray:
    """Amplitudes of harmonics 1..K of a band-limited waveform.

    ``kind``: saw (1/k), square (odd 1/k), pulse (sin(pi k w)/k), triangle (odd 1/k^2) or sine.
    K is the largest harmonic whose frequency stays below 0.995 x Nyquist at the highest
    instantaneous frequency ``fmax`` (Hz) the note reaches, so nothing aliases. ``cutoff`` (Hz)
    applies a Butterworth-like magnitude roll-off of ``order`` x 6 dB/octave to harmonic k f0.
    """
    kmax = int(0.995 * (sr / 2.0) / max(fmax, 1.0))
    kmax = max(1, min(kmax, TABLE_SIZE // 2 - 1))
    k = np.arange(1, kmax + 1, dtype=float)
    if kind == "saw":
        amps = 1.0 / k
    elif kind == "square":
        amps = np.where(k % 2 == 1, 1.0 / k, 0.0)
    elif kind == "pulse":
        amps = np.sin(np.pi * k * pulse_width) / k
    elif kind == "triangle":
        amps = np.where(k % 2 == 1, 1.0 / k**2, 0.0)
    elif kind == "sine":
        amps = np.where(k == 1, 1.0, 0.0)
    else:
        raise ValueError(f"unknown waveform {kind!r}")
    if cutoff is not None:
        amps = amps / np.sqrt(1.0 + (k * f0 / cutoff) ** (2 * order))
    return amps


def wavetable(amps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One cycle (``TABLE_SIZE`` samples + a wrap sample) of sum_k amps[k-1] sin(2 pi k x), and its differences."""
    spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[1 : amps.size + 1] = -0.5j * TABLE_SIZE * amps
    table = np.fft.irfft(spectrum, TABLE_SIZE)
    table = np.append(table, table[0])
    return table, np.diff(table)


def oscillate(table, freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Read a wavetable (from :func:`wavetable`) at ``freq`` Hz (scalar or per-sample array) for ``n`` samples."""
    tab, dtab = table
    if np.ndim(freq) == 0:
        phase = phase0 + np.arange(n) * (float(freq) / sr)
    else:
        phase = phase0 + np.cumsum(freq[:n]) / sr
    x = (phase - np.floor(phase)) * TABLE_SIZE
    i = x.astype(np.int64)
    np.minimum(i, TABLE_SIZE - 1, out=i)
    return tab[i] + (x - i) * dtab[i]


def adsr(gate_n: int, total_n: int, attack_n: int, decay_n: float, sustain: float, release_n: float) -> np.ndarray:
    """Amplitude envelope (lengths in samples): linear attack, exponential decay to ``sustain``,
    exponential release after the gate."""
    t = np.arange(total_n, dtype=float)
    attack_n = max(int(attack_n), 1)
    env = np.where(t < attack_n, t / attack_n, sustain + (1.0 - sustain) * np.exp(-(t - attack_n) / max(decay_n, 1.0)))
    gate_n = min(max(int(gate_n), 1), total_n)
    level = env[gate_n - 1]
    env[gate_n:] = level * np.exp(-(t[gate_n:] - gate_n) / max(release_n, 1.0))
    return env


def decaying_partials(freqs, amps, taus, n: int, sr: int) -> np.ndarray:
    """Sum of exponentially decaying sinusoids r^t sin(2 pi f t) (f Hz, tau s), each rendered only while audible."""
    out = np.zeros(n)
    for f, a, tau in zip(freqs, amps, taus, strict=True):
        if f >= 0.497 * sr or a == 0.0:
            continue
        m = min(n, int(tau * 7.0 * sr) + 1)  # about -60 dB
        r = math.exp(-1.0 / (tau * sr))
        w = 2.0 * math.pi * f / sr
        impulse = np.zeros(m)
        impulse[0] = 1.0
        out[:m] += a * signal.lfilter([0.0, r * math.sin(w)], [1.0, -2.0 * r * math.cos(w), r * r], impulse)
    return out


def karplus_strong(f0: float, n: int, sr: int, t60: float, damping: float, excitation: np.ndarray) -> np.ndarray:
    """Plucked string by the Karplus-Strong recursion, tuned with a fractional delay.

    y[i] = x[i] + g (c0 y[i-L] + c1 y[i-L-1] + c2 y[i-L-2]) where the taps combine a loop
    low-pass [1-damping, damping] (damping in (0, 0.5]; larger = darker) with a linear-interpolation
    fractional delay, so the loop delay is sr/f0 samples; g gives a 60-dB decay in ``t60`` seconds.
    Short periods use ``lfilter``; long ones are computed one period at a time (vectorised).
    """
    period = sr / f0
    length = int(period - damping)
    frac = period - damping - length
    c = np.array([(1 - damping) * (1 - frac), (1 - damping) * frac + damping * (1 - frac), damping * frac])
    g = 10.0 ** (-3.0 / (f0 * t60))
    x = np.zeros(n)
    m = min(excitation.size, n)
    x[:m] = excitation[:m]
    if length < 100:
        a = np.zeros(length + 3)
        a[0] = 1.0
        a[length:] = -g * c
        return signal.lfilter([1.0], a, x)
    pad = length + 2
    y = np.zeros(n + pad)
    for s in range(pad, n + pad, length):
        e = min(s + length, n + pad)
        w = e - s
        y[s:e] = x[s - pad : e - pad] + g * (
            c[0] * y[s - length : s - length + w]
            + c[1] * y[s - length - 1 : s - length - 1 + w]
            + c[2] * y[s - length - 2 : s - length - 2 + w]
        )
    return y[pad:]


def active_rms(x: np.ndarray, frame: int = 2048) -> float:
    """RMS over the frames (``frame`` samples) louder than -20 dB re the loudest frame: a level for sparse parts."""
    mono = x[::3] if x.ndim == 1 else x[0, ::3] + x[1, ::3]  # every 3rd sample: plenty for a level
    frame //= 3
    nf = mono.size // frame
    if nf == 0:
        return float(np.sqrt(np.mean(mono**2)) + 1e-12)
    ms = np.mean(mono[: nf * frame].reshape(nf, frame) ** 2, axis=1)
    active = ms[ms >= ms.max() * 0.01]
    return float(np.sqrt(active.mean()) + 1e-12)


def smooth_step(freqs: np.ndarray, fc: float, width_oct: float) -> np.ndarray:
    """0 below ``fc`` Hz rising smoothly to 1 above it, over about ``width_oct`` octaves."""
    return 0.5 * (1.0 + np.tanh(np.log2(np.maximum(freqs, 1.0) / fc) / width_oct))


def pan_track(track: np.ndarray, pan: float) -> np.ndarray:
    """Move a stereo track's image towards ``pan`` (left < 0 < right) with constant-power gains, in place."""
    gl, gr = pan_gains(pan)
    track[0] *= gl * math.sqrt(2.0)
    track[1] *= gr * math.sqrt(2.0)
    return track
