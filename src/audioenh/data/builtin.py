"""The built-in corpus: deterministic, procedurally generated stereo music.

:func:`generate_song` renders one short piece of music from an integer seed. Everything about
the piece is drawn from ``numpy.random.default_rng(seed)`` (no global random state): tempo
(70-170 BPM), metre, key and scale, a chord progression, the instruments and their patterns,
panning and a stereo reverb. Instruments:

* drums: kick (swept sine and beater click), snare or clap (tone plus shaped noise), closed and
  open hi-hats and crash/ride cymbals (noise plus band-limited metallic square waves at
  inharmonic frequencies, high-passed), shaker, toms for fills;
* bass (sub sine, filtered saw or square, or plucked string);
* plucked strings (Karplus-Strong), keys and mallets/bells (decaying partials, harmonic or not);
* bowed strings (band-limited saw with delayed vibrato, body resonances and bow noise);
* bright synths: leads, arpeggios and pads from band-limited wavetables (saw, square, pulse)
  holding every harmonic up to just below Nyquist, with filter envelopes and detuned voices.

The corpus exists so that bandwidth-extension networks can be trained and tested without
downloading anything, so the spectrum above the 11025-Hz cutoff matters most: every song has
energy up to about 20 kHz (its long-term spectrum above 18 kHz lies within 60 dB of its peak)
and 0.3-3.5 % of its energy above 11025 Hz, like commercial music. A final gentle high shelf
(and, when a song lacks "air", a shelf above 16 kHz) keeps every song inside these bounds.

:func:`write_corpus` writes train/val/test FLAC files; :func:`ensure_builtin_corpus` caches one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import fft as sfft
from scipy import signal

from ..errors import AudioenhError

#: Bumped whenever the audio that a seed produces changes; part of the cache directory name.
GENERATOR_VERSION = 1
#: Sample rate of the written corpus (Hz).
SAMPLE_RATE = 44100

_TABLE_SIZE = 8192  # wavetable length (samples per cycle)
_TAIL_S = 2.5  # render margin after the song's end (s) so that note tails exist before cropping
_HIGH_BAND_HZ = 11025.0
_SHARE_BOUNDS = (0.004, 0.03)  # high-band energy share kept inside these bounds ...
_SHARE_TARGETS = (0.006, 0.025)  # ... by moving it to these when outside
_AIR_HZ = 18000.0
_AIR_MARGIN_DB = 48.0  # PSD above 18 kHz kept within this many dB of the peak (the criterion is 60)

SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
}
# chord roots as 0-based scale degrees
PROGRESSIONS = (
    (0, 4, 5, 3),
    (0, 5, 3, 4),
    (0, 3, 4, 3),
    (5, 3, 0, 4),
    (0, 3, 0, 4),
    (0, 6, 5, 4),
    (1, 4, 0, 0),
    (0, 2, 3, 4),
    (0, 5, 1, 4),
    (3, 4, 0, 5),
    (0, 0, 3, 3),
    (0, 4, 3, 3),
)

# ----------------------------------------------------------------------------------------------
# DSP helpers (frequencies in Hz, times in seconds unless a name ends in ``n`` = samples)


def _midi_hz(midi):
    """Equal-tempered frequency (Hz) of MIDI note number(s), A4 = 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def _pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power left/right gains for ``pan`` in [-1 (left), 1 (right)]."""
    theta = (float(np.clip(pan, -1.0, 1.0)) + 1.0) * np.pi / 4.0
    return math.cos(theta), math.sin(theta)


def _butter(btype: str, fc, sr: int, order: int = 2):
    """Butterworth second-order sections; cut-offs (Hz) are clamped below Nyquist."""
    nyq = sr / 2.0
    fc = np.clip(np.asarray(fc, dtype=float), 10.0, 0.95 * nyq)
    return signal.butter(order, fc, btype=btype, fs=sr, output="sos")


def _one_pole_lp(x: np.ndarray, fc: float, sr: int) -> np.ndarray:
    """First-order (6 dB/octave) low-pass at ``fc`` Hz along the last axis: a gentle spectral tilt."""
    a = math.exp(-2.0 * math.pi * min(fc, 0.49 * sr) / sr)
    return signal.lfilter([1.0 - a], [1.0, -a], x, axis=-1)


def _peaking_sos(f0: float, gain_db: float, q: float, sr: int) -> np.ndarray:
    """One peaking-EQ biquad (centre ``f0`` Hz, ``gain_db``, quality ``q``) as a (1, 6) SOS array."""
    amp = 10.0 ** (gain_db / 40.0)
    w0 = 2.0 * math.pi * min(f0, 0.45 * sr) / sr
    alpha = math.sin(w0) / (2.0 * q)
    b = [1.0 + alpha * amp, -2.0 * math.cos(w0), 1.0 - alpha * amp]
    a = [1.0 + alpha / amp, -2.0 * math.cos(w0), 1.0 - alpha / amp]
    return np.array([[b[0] / a[0], b[1] / a[0], b[2] / a[0], 1.0, a[1] / a[0], a[2] / a[0]]])


def _harmonic_amps(
    kind: str, f0: float, fmax: float, sr: int, cutoff: float | None = None, order: int = 1, pulse_width: float = 0.5
) -> np.ndarray:
    """Amplitudes of harmonics 1..K of a band-limited waveform.

    ``kind``: saw (1/k), square (odd 1/k), pulse (sin(pi k w)/k), triangle (odd 1/k^2) or sine.
    K is the largest harmonic whose frequency stays below 0.995 x Nyquist at the highest
    instantaneous frequency ``fmax`` (Hz) the note reaches, so nothing aliases. ``cutoff`` (Hz)
    applies a Butterworth-like magnitude roll-off of ``order`` x 6 dB/octave to harmonic k f0.
    """
    kmax = int(0.995 * (sr / 2.0) / max(fmax, 1.0))
    kmax = max(1, min(kmax, _TABLE_SIZE // 2 - 1))
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


def _wavetable(amps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One cycle (``_TABLE_SIZE`` samples + a wrap sample) of sum_k amps[k-1] sin(2 pi k x), and its differences."""
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=complex)
    spectrum[1 : amps.size + 1] = -0.5j * _TABLE_SIZE * amps
    table = np.fft.irfft(spectrum, _TABLE_SIZE)
    table = np.append(table, table[0])
    return table, np.diff(table)


def _oscillate(table, freq, n: int, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Read a wavetable (from :func:`_wavetable`) at ``freq`` Hz (scalar or per-sample array) for ``n`` samples."""
    tab, dtab = table
    if np.ndim(freq) == 0:
        phase = phase0 + np.arange(n) * (float(freq) / sr)
    else:
        phase = phase0 + np.cumsum(freq[:n]) / sr
    x = (phase - np.floor(phase)) * _TABLE_SIZE
    i = x.astype(np.int64)
    np.minimum(i, _TABLE_SIZE - 1, out=i)
    return tab[i] + (x - i) * dtab[i]


def _adsr(gate_n: int, total_n: int, attack_n: int, decay_n: float, sustain: float, release_n: float) -> np.ndarray:
    """Amplitude envelope (lengths in samples): linear attack, exponential decay to ``sustain``,
    exponential release after the gate."""
    t = np.arange(total_n, dtype=float)
    attack_n = max(int(attack_n), 1)
    env = np.where(t < attack_n, t / attack_n, sustain + (1.0 - sustain) * np.exp(-(t - attack_n) / max(decay_n, 1.0)))
    gate_n = min(max(int(gate_n), 1), total_n)
    level = env[gate_n - 1]
    env[gate_n:] = level * np.exp(-(t[gate_n:] - gate_n) / max(release_n, 1.0))
    return env


def _decaying_partials(freqs, amps, taus, n: int, sr: int) -> np.ndarray:
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


def _karplus_strong(f0: float, n: int, sr: int, t60: float, damping: float, excitation: np.ndarray) -> np.ndarray:
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


def _active_rms(x: np.ndarray, frame: int = 2048) -> float:
    """RMS over the frames (``frame`` samples) louder than -20 dB re the loudest frame: a level for sparse parts."""
    mono = x[::3] if x.ndim == 1 else x[0, ::3] + x[1, ::3]  # every 3rd sample: plenty for a level
    frame //= 3
    nf = mono.size // frame
    if nf == 0:
        return float(np.sqrt(np.mean(mono**2)) + 1e-12)
    ms = np.mean(mono[: nf * frame].reshape(nf, frame) ** 2, axis=1)
    active = ms[ms >= ms.max() * 0.01]
    return float(np.sqrt(active.mean()) + 1e-12)


def _smooth_step(freqs: np.ndarray, fc: float, width_oct: float) -> np.ndarray:
    """0 below ``fc`` Hz rising smoothly to 1 above it, over about ``width_oct`` octaves."""
    return 0.5 * (1.0 + np.tanh(np.log2(np.maximum(freqs, 1.0) / fc) / width_oct))


def high_band_share(audio: np.ndarray, sample_rate: int, cutoff: float = _HIGH_BAND_HZ) -> float:
    """Fraction of the energy (all channels) above ``cutoff`` Hz, from one FFT of the whole signal."""
    power = np.abs(np.fft.rfft(np.asarray(audio, dtype=float), axis=-1)) ** 2
    power = power.reshape(-1, power.shape[-1]).sum(axis=0)
    freqs = np.fft.rfftfreq(np.shape(audio)[-1], 1.0 / sample_rate)
    return float(power[freqs > cutoff].sum() / max(power.sum(), 1e-30))


def air_margin_db(audio: np.ndarray, sample_rate: int, low: float = _AIR_HZ) -> float:
    """dB from the peak of the long-term spectrum (Welch, 4096-sample Hann segments, channels summed) down
    to its maximum above ``low`` Hz. Smaller is brighter; the corpus keeps it below 60 dB."""
    freqs, psd = signal.welch(np.asarray(audio, dtype=float), fs=sample_rate, nperseg=4096, axis=-1)
    psd = psd.reshape(-1, psd.shape[-1]).sum(axis=0)
    top = psd[freqs >= low]
    if top.size == 0:
        return float("inf")
    return float(10.0 * np.log10(psd.max() / max(top.max(), 1e-30)))


# ----------------------------------------------------------------------------------------------
# The song renderer


class _Song:
    """Draws a song's musical parameters from ``rng`` and renders it into stereo tracks."""

    def __init__(self, seed: int, seconds: float, sr: int):
        self.rng = r = np.random.default_rng(seed)
        self.sr = sr
        self.n = max(1, int(round(seconds * sr)))
        self.n_total = self.n + int(_TAIL_S * sr)
        self.tracks: list[tuple[str, np.ndarray, float]] = []
        self.dry = np.zeros((2, self.n_total))
        self.send = np.zeros(self.n_total)

        # time: tempo (BPM), metre (16th-note steps per bar), swing (fraction of a step), jitter (s)
        self.bpm = float(r.uniform(70.0, 170.0))
        self.steps_per_bar = 12 if r.random() < 0.15 else 16
        self.step_s = 60.0 / self.bpm / 4.0
        self.bar_s = self.steps_per_bar * self.step_s
        self.swing = float(r.choice([0.0, 0.0, r.uniform(0.1, 0.33)]))
        self.jitter_s = float(r.uniform(0.0, 0.004))
        self.n_bars = int(math.ceil(self.n / sr / self.bar_s)) + 1
        self.section_bars = 4 if self.bar_s > 1.6 else 8
        self.n_sections = int(math.ceil(self.n_bars / self.section_bars))

        # harmony: tonic pitch class, scale, progression, bars per chord, seventh chords
        self.tonic = int(r.integers(12))
        self.scale_name = str(r.choice(list(SCALES)))
        self.scale = SCALES[self.scale_name]
        self.progression = PROGRESSIONS[int(r.integers(len(PROGRESSIONS)))]
        self.chord_bars = 1 if (self.bar_s > 2.2 or r.random() < 0.5) else 2
        self.sevenths = bool(r.random() < 0.35)
        self.lead_roles: set[str] = set()  # instruments that must play in the first section

    # --- time and harmony --------------------------------------------------------------------

    def at(self, bar: int, step: float, humanise: bool = True) -> int:
        """Sample index of 16th-note ``step`` of ``bar`` with swing on odd steps and timing jitter."""
        t = bar * self.bar_s + step * self.step_s
        if self.swing and int(step) % 2 == 1 and step == int(step):
            t += self.swing * self.step_s
        if humanise and self.jitter_s:
            t += self.rng.normal(0.0, self.jitter_s)
        return max(0, int(round(t * self.sr)))

    def steps_n(self, steps: float) -> int:
        return max(1, int(round(steps * self.step_s * self.sr)))

    def chord_root(self, bar: int) -> int:
        return self.progression[(bar // self.chord_bars) % len(self.progression)]

    def chord_degrees(self, bar: int) -> list[int]:
        root = self.chord_root(bar)
        return [root, root + 2, root + 4] + ([root + 6] if self.sevenths else [])

    def midi(self, degree: int, octave: int) -> int:
        """MIDI note of scale ``degree`` (0-based, any integer) above the tonic in MIDI ``octave`` (C4 = octave 4)."""
        return 12 * (octave + 1) + self.tonic + 12 * (degree // 7) + self.scale[degree % 7]

    def snap_to_chord(self, degree: int, bar: int) -> int:
        tones = {d % 7 for d in self.chord_degrees(bar)}
        for delta in (0, -1, 1, -2, 2, -3, 3):
            if (degree + delta) % 7 in tones:
                return degree + delta
        return degree

    def activity(self, p_on: float, first: bool | None = None) -> np.ndarray:
        """Per-bar on/off flags: each section (``section_bars`` bars) on with probability ``p_on``."""
        on = self.rng.random(self.n_sections) < p_on
        if first is not None:
            on[0] = first
        if not on.any():
            on[int(self.rng.integers(self.n_sections))] = True
        return np.repeat(on, self.section_bars)[: self.n_bars]

    # --- mixing ------------------------------------------------------------------------------

    def new_track(self) -> np.ndarray:
        return np.zeros((2, self.n_total))

    def put(self, track: np.ndarray, seg: np.ndarray, start: int, pan: float = 0.0, gain: float = 1.0) -> None:
        """Add a mono (n,) or stereo (2, n) segment at sample ``start``, panned (mono only), clipped to the buffer."""
        if start >= self.n_total:
            return
        m = min(seg.shape[-1], self.n_total - start)
        if seg.ndim == 1:
            gl, gr = _pan_gains(pan)
            track[0, start : start + m] += (gain * gl) * seg[:m]
            track[1, start : start + m] += (gain * gr) * seg[:m]
        else:
            track[:, start : start + m] += gain * seg[:, :m]

    def finish(self, name: str, track: np.ndarray, level_db: float, send: float) -> None:
        """Scale ``track`` to an active RMS of ``level_db`` dBFS (+-2 dB at random); mix it and its reverb send."""
        rms = _active_rms(track)
        if rms < 1e-9:
            return
        gain = 10.0 ** ((level_db + self.rng.uniform(-2.0, 2.0)) / 20.0) / rms
        track *= gain
        self.dry += track
        self.send += send * track.sum(axis=0)
        self.tracks.append((name, track, send))

    def echo(self, track: np.ndarray, steps: int, feedback: float, repeats: int = 3) -> None:
        """Ping-pong echo in place: ``repeats`` delayed copies every ``steps`` 16th notes, alternating sides."""
        d = self.steps_n(steps)
        wet = _one_pole_lp(track, 6000.0, self.sr)
        for i in range(1, repeats + 1):
            if d * i >= self.n_total:
                break
            src = wet[::-1] if i % 2 else wet
            track[:, d * i :] += feedback**i * src[:, : self.n_total - d * i]

    # --- drums -------------------------------------------------------------------------------

    def metal(self, bases, n: int) -> np.ndarray:
        """Band-limited square waves at the inharmonic ``bases`` (Hz), summed: the metallic part of hats and cymbals."""
        out = np.zeros(n)
        for b in bases:
            out += _oscillate(_wavetable(_harmonic_amps("square", b, b, self.sr)), b, n, self.sr, self.rng.random())
        return out / math.sqrt(len(bases))

    def shaped_noise(
        self, n: int, hp: float, lp: float | None, tau: float, attack: float = 0.0005, lp_order: int = 1
    ) -> np.ndarray:
        """White noise high-passed (12 dB/octave) at ``hp`` Hz, low-passed at ``lp`` Hz (``lp_order`` x 6 dB/octave),
        decaying with time constant ``tau`` s after a linear ``attack`` (s)."""
        x = signal.sosfilt(_butter("highpass", hp, self.sr, 2), self.rng.standard_normal(n))
        if lp is not None:
            if lp_order == 1:
                x = _one_pole_lp(x, lp, self.sr)
            else:
                x = signal.sosfilt(_butter("lowpass", lp, self.sr, lp_order), x)
        t = np.arange(n) / self.sr
        env = np.exp(-t / tau) * np.minimum(1.0, t / attack)
        return x * env / (np.std(x) + 1e-12)

    def kick(self) -> np.ndarray:
        r, sr = self.rng, self.sr
        n = int(r.uniform(0.3, 0.6) * sr)
        t = np.arange(n) / sr
        f_lo, f_hi, sweep = r.uniform(40, 62), r.uniform(90, 200), r.uniform(0.015, 0.06)
        freq = f_lo + (f_hi - f_lo) * np.exp(-t / sweep)
        body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / r.uniform(0.1, 0.35))
        drive = r.uniform(1.0, 3.0)
        body = np.tanh(drive * body) / math.tanh(drive)
        body += r.uniform(0.1, 0.4) * self.shaped_noise(n, r.uniform(1500, 4000), 12000.0, 0.0015)
        return body * np.minimum(1.0, t / 0.0005)

    def snare(self, kit: dict) -> np.ndarray:
        sr = self.sr
        n = int(0.45 * sr)
        t = np.arange(n) / sr
        f1 = kit["snare_hz"]
        tone = (np.sin(2 * np.pi * f1 * t) + 0.5 * np.sin(2 * np.pi * 1.6 * f1 * t + 1.0)) * np.exp(-t / 0.045)
        noise = self.shaped_noise(n, kit["snare_hp"], kit["snare_lp"], kit["snare_tau"], lp_order=2)
        return kit["snare_tone"] * tone + noise

    def clap(self, kit: dict) -> np.ndarray:
        sr = self.sr
        n = int(0.4 * sr)
        out = np.zeros(n)
        burst = self.shaped_noise(n, 900.0, kit["snare_lp"], 0.012, lp_order=2)
        for k, off in enumerate((0.0, 0.011, 0.02, 0.031)):
            s = int(off * sr)
            out[s:] += burst[: n - s] * (0.7 if k < 3 else 1.0)
        tail = int(0.031 * sr)
        out[tail:] += 0.6 * self.shaped_noise(n - tail, 1200.0, kit["snare_lp"], kit["snare_tau"], lp_order=2)
        return out

    def hat(self, kit: dict, tau: float, n_s: float) -> np.ndarray:
        n = int(n_s * self.sr)
        t = np.arange(n) / self.sr
        src = kit["hat_metal"] * self.metal(kit["hat_bases"], n) + self.rng.standard_normal(n)
        x = signal.sosfilt(_butter("highpass", kit["hat_hp"], self.sr, 2), src)
        x = _one_pole_lp(x, kit["hat_lp"], self.sr)
        x *= np.exp(-t / tau) * np.minimum(1.0, t / 0.0004) / (np.std(x) + 1e-12)
        x += kit["sizzle"] * self.shaped_noise(n, 11000.0, None, tau * 0.6)
        return x

    def cymbal(self, kit: dict, ride: bool) -> np.ndarray:
        r, sr = self.rng, self.sr
        n = int((r.uniform(1.2, 2.0) if ride else r.uniform(2.2, 3.2)) * sr)
        t = np.arange(n) / sr
        tau = r.uniform(0.35, 0.7) if ride else r.uniform(0.5, 1.1)
        bases = kit["ride_bases"] if ride else kit["crash_bases"]
        src = 0.7 * self.metal(bases, n) + self.rng.standard_normal(n)
        x = signal.sosfilt(_butter("highpass", r.uniform(2500, 5000), sr, 2), src)
        x = _one_pole_lp(x, kit["cym_lp"], sr)
        x *= np.minimum(1.0, t / 0.001) / (np.std(x) + 1e-12)
        bright = x - _one_pole_lp(x, 9000.0, sr)  # highs die away faster, as in real cymbals
        x = x * np.exp(-t / tau) + 0.6 * bright * np.exp(-t / (0.5 * tau))
        if ride:  # the bell: a few inharmonic partials around 1-5 kHz
            bell_f = kit["ride_bases"][:5] * r.uniform(3.0, 6.0)
            x += 0.8 * _decaying_partials(bell_f, np.full(5, 0.6), r.uniform(0.2, 0.6, 5), n, sr)
        return x

    def tom(self, f0: float) -> np.ndarray:
        sr = self.sr
        n = int(0.5 * sr)
        t = np.arange(n) / sr
        freq = f0 * (1.0 + 0.5 * np.exp(-t / 0.03))
        body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.18)
        return body + 0.3 * self.shaped_noise(n, 800.0, 8000.0, 0.05)

    def shaker(self) -> np.ndarray:
        n = int(0.12 * self.sr)
        return self.shaped_noise(n, self.rng.uniform(5000, 8000), 16000.0, 0.03, attack=0.008)

    def drums(self, bright: bool) -> None:
        r, S = self.rng, self.steps_per_bar
        kit = {
            "snare_hz": r.uniform(160, 250),
            "snare_hp": r.uniform(400, 1500),
            "snare_lp": r.uniform(4000, 9000),
            "snare_tau": r.uniform(0.08, 0.2),
            "snare_tone": r.uniform(0.3, 1.0),
            "hat_bases": np.sort(r.uniform(280, 820, 6)),
            "hat_metal": r.uniform(0.5, 2.0),
            "hat_hp": r.uniform(5500, 8500),
            "hat_lp": r.uniform(13000, 22000),
            "sizzle": r.uniform(0.2, 0.7),
            "crash_bases": np.sort(r.uniform(350, 1400, 8)),
            "ride_bases": np.sort(r.uniform(250, 900, 6)),
            "cym_lp": r.uniform(12000, 22000),
        }
        style = str(r.choice(["four", "back", "back", "half", "break"]))
        use_clap = r.random() < 0.3
        kicks = [self.kick() for _ in range(2)]
        snares = [self.clap(kit) if use_clap else self.snare(kit) for _ in range(3)]
        closed_tau = r.uniform(0.02, 0.07)
        closed = [self.hat(kit, closed_tau * r.uniform(0.8, 1.25), 0.25) for _ in range(4)]
        opened = [self.hat(kit, r.uniform(0.15, 0.45), 0.9) for _ in range(2)]
        crashes = [self.cymbal(kit, ride=False) for _ in range(2)]
        rides = [self.cymbal(kit, ride=True) for _ in range(3)]
        toms = [self.tom(f) for f in r.uniform(80, 240, 3)]
        shakers = [self.shaker() for _ in range(3)] if r.random() < 0.35 else []

        beat = 4
        if style == "four":
            kick_steps = list(range(0, S, beat))
        elif style == "half":
            kick_steps = [0] + [s for s in (6, 10, 11) if s < S and r.random() < 0.35]
        elif style == "break":
            kick_steps = [0, 10 % S] + [s for s in (3, 7, 14) if s < S and r.random() < 0.35]
        else:
            kick_steps = [0, S // 2] + [s for s in (3, 6, 10, 11, 14) if s < S and r.random() < 0.3]
        snare_steps = [8] if style == "half" and S == 16 else [s for s in (4, 12) if s < S] if S == 16 else [4, 8]
        hat_rate = int(r.choice([1, 2, 2])) if self.bpm < 140 else int(r.choice([2, 2, 4]))
        open_steps = [s for s in range(2, S, 4) if r.random() < (0.5 if style == "four" else 0.2)]
        ride_sections = r.random(self.n_sections) < 0.25
        on = self.activity(0.9, first=True)
        fill_p = r.uniform(0.3, 0.8)

        tk, ts, th, tc, tt, tsh = (self.new_track() for _ in range(6))
        hat_pan, tom_pans = r.uniform(-0.5, 0.5), r.uniform(-0.6, 0.6, 3)
        crash_pan, ride_pan = r.uniform(-0.6, 0.6), r.uniform(-0.6, 0.6)
        for bar in range(self.n_bars):
            if not on[bar]:
                continue
            section, pos = divmod(bar, self.section_bars)
            fill = pos == self.section_bars - 1 and r.random() < fill_p
            last = S - (4 if r.random() < 0.6 else 8) if fill else S
            for s in kick_steps:
                if s < last:
                    self.put(tk, kicks[int(r.integers(2))], self.at(bar, s), 0.0, r.uniform(0.85, 1.0))
            for s in snare_steps:
                if s < last:
                    self.put(ts, snares[int(r.integers(3))], self.at(bar, s), 0.05, r.uniform(0.85, 1.0))
            if r.random() < 0.3:  # ghost notes
                for s in r.choice(S, size=2, replace=False):
                    if s < last and s not in snare_steps:
                        self.put(ts, snares[int(r.integers(3))], self.at(bar, s), 0.05, r.uniform(0.15, 0.3))
            if fill:
                for k, s in enumerate(range(last, S)):
                    vel = 0.5 + 0.5 * k / max(1, S - last - 1)
                    if r.random() < 0.5:
                        i = int(r.integers(3))
                        self.put(tt, toms[i], self.at(bar, s), tom_pans[i], vel)
                    else:
                        self.put(ts, snares[int(r.integers(3))], self.at(bar, s), 0.05, vel * 0.8)
            if pos == 0 and (bar == 0 or r.random() < 0.7):
                self.put(tc, crashes[int(r.integers(2))], self.at(bar, 0), crash_pan, r.uniform(0.8, 1.0))
            if ride_sections[section]:
                for s in range(0, last, 2 if hat_rate == 1 else hat_rate):
                    vel = (1.0 if s % 4 == 0 else 0.75) * r.uniform(0.85, 1.0)
                    self.put(tc, rides[int(r.integers(3))], self.at(bar, s), ride_pan, 0.55 * vel)
            else:
                for s in range(0, last, hat_rate):
                    if s in open_steps:
                        self.put(th, opened[int(r.integers(2))], self.at(bar, s), hat_pan, r.uniform(0.7, 0.9))
                        continue
                    vel = 1.0 if s % 4 == 0 else 0.8 if s % 2 == 0 else 0.55
                    self.put(th, closed[int(r.integers(4))], self.at(bar, s), hat_pan, vel * r.uniform(0.8, 1.0))
            if shakers:
                for s in range(0, S):
                    vel = (0.9 if s % 2 else 0.6) * r.uniform(0.7, 1.0)
                    self.put(tsh, shakers[int(r.integers(3))], self.at(bar, s), -hat_pan, vel)
        boost = 3.0 if bright else 0.0
        self.finish("kick", tk, -12.0, 0.03)
        self.finish("snare", ts, -16.0, 0.2)
        self.finish("hats", th, -27.0 + boost, 0.08)
        self.finish("cymbals", tc, -29.0 + boost, 0.1)
        self.finish("toms", tt, -18.0, 0.2)
        self.finish("shaker", tsh, -33.0, 0.1)

    # --- melodic material --------------------------------------------------------------------

    def melody(self, low: int, high: int, density: float) -> list[tuple[int, int, int, float]]:
        """Notes (bar, step, length in steps, scale degree) of a motif-based line within degrees [low, high]."""
        r, S = self.rng, self.steps_per_bar
        notes = []
        motif = None
        degree = (low + high) // 2
        for phrase_bar in range(0, self.n_bars, 2):
            if motif is None or r.random() < 0.4:
                rhythm, moves = [], []
                step = 0
                while step < 2 * S:
                    length = int(
                        r.choice(
                            [1, 2, 2, 3, 4, 4, 6, 8],
                            p=None if density > 0.5 else [0.02, 0.1, 0.1, 0.08, 0.25, 0.15, 0.15, 0.15],
                        )
                    )
                    length = min(length, 2 * S - step)
                    rest = r.random() < 0.18
                    rhythm.append((step, length, rest))
                    moves.append(int(r.choice([-3, -2, -1, -1, 0, 1, 1, 2, 3])))
                    step += length
                motif = (rhythm, moves)
            rhythm, moves = motif
            degree = self.snap_to_chord(degree, phrase_bar)
            for (step, length, rest), move in zip(rhythm, moves, strict=True):
                bar = phrase_bar + step // S
                if bar >= self.n_bars:
                    break
                degree = int(np.clip(degree + move, low, high))
                if step % 4 == 0:
                    degree = self.snap_to_chord(degree, bar)
                if not rest:
                    notes.append((bar, step % S, length, degree))
        return notes

    def arpeggio(self, octave: int, rate: int, span: int) -> list[tuple[int, int, int, int]]:
        """Notes (bar, step, length in steps, MIDI) cycling through the chord tones over ``span`` octaves."""
        r, S = self.rng, self.steps_per_bar
        shape = str(r.choice(["up", "down", "updown", "random"]))
        notes = []
        for bar in range(self.n_bars):
            tones = sorted(self.midi(d, octave + o) for o in range(span) for d in self.chord_degrees(bar)[:3])
            if shape == "down":
                tones = tones[::-1]
            elif shape == "updown":
                tones = tones + tones[-2:0:-1]
            for k, step in enumerate(range(0, S, rate)):
                i = int(r.integers(len(tones))) if shape == "random" else (bar * S // rate + k) % len(tones)
                m = tones[i]
                notes.append((bar, step, rate, m))
        return notes

    # --- voices ------------------------------------------------------------------------------

    def synth_voice(self, f0: float, gate_n: int, patch: dict) -> np.ndarray:
        """One note of a wavetable synth: detuned voices (stereo), vibrato, filter and amplitude envelopes."""
        sr = self.sr
        release_n = patch["release"] * sr
        n = gate_n + int(4.0 * release_n)
        t = np.arange(n) / sr
        env = _adsr(gate_n, n, patch["attack"] * sr, patch["decay"] * sr, patch["sustain"], release_n)
        vib_cents = patch.get("vibrato_cents", 0.0)
        freq = np.full(n, f0)
        if vib_cents:
            ramp = np.clip(t / max(patch.get("vibrato_delay", 0.3), 1e-3), 0.0, 1.0)
            freq = f0 * 2.0 ** (
                vib_cents / 1200.0 * ramp * np.sin(2 * np.pi * patch["vibrato_hz"] * t + self.rng.uniform(0, 2 * np.pi))
            )
        fenv = patch["filter_sustain"] + (1.0 - patch["filter_sustain"]) * np.exp(-t / patch["filter_decay"])
        out = np.zeros((2, n))
        for detune, pan in patch["voices"]:
            ratio = 2.0 ** (detune / 1200.0)
            fmax = f0 * ratio * 2.0 ** (abs(vib_cents) / 1200.0)
            kw = {"order": patch.get("order", 1), "pulse_width": patch.get("pulse_width", 0.5)}
            bright = _wavetable(_harmonic_amps(patch["wave"], f0, fmax, sr, patch["cutoff_hi"], **kw))
            dark = _wavetable(_harmonic_amps(patch["wave"], f0, fmax, sr, patch["cutoff_lo"], **kw))
            ph = self.rng.random()
            fv = freq * ratio
            xd = _oscillate(dark, fv, n, sr, ph)
            v = xd + fenv * (_oscillate(bright, fv, n, sr, ph) - xd)
            gl, gr = _pan_gains(pan)
            out[0] += gl * v
            out[1] += gr * v
        out *= env / math.sqrt(len(patch["voices"]))
        if patch.get("breath", 0.0):  # bow or breath noise following the amplitude envelope
            noise = signal.sosfilt(patch["breath_sos"], self.rng.standard_normal(n)) * env * patch["breath"]
            out += noise
        return out

    def render_notes(self, track, notes, patch, octave_midi: bool, gate: float = 0.9, velocity=(0.75, 1.0)) -> None:
        """Render (bar, step, length in steps, pitch) notes with :meth:`synth_voice`; pitch is MIDI if
        ``octave_midi`` else a scale degree in ``patch["octave"]``; notes sound for ``gate`` of their length."""
        for bar, step, length, pitch in notes:
            m = pitch if octave_midi else self.midi(pitch, patch["octave"])
            seg = self.synth_voice(float(_midi_hz(m)), int(self.steps_n(length) * gate), patch)
            self.put(track, seg, self.at(bar, step), gain=self.rng.uniform(*velocity))

    def synth_patch(self, role: str) -> dict:
        r = self.rng
        wave = str(r.choice(["saw", "saw", "square", "pulse"]))
        patch = {
            "wave": wave,
            "pulse_width": r.uniform(0.1, 0.4),
            "order": 1,
            "cutoff_hi": None if r.random() < 0.5 else r.uniform(6000, 16000),
            "cutoff_lo": r.uniform(800, 4000),
            "filter_decay": r.uniform(0.05, 0.5),
            "filter_sustain": r.uniform(0.1, 0.7),
        }
        spread = r.uniform(0.2, 0.8)
        if role == "lead":
            n_voices = int(r.integers(1, 4))
            patch.update(
                attack=r.uniform(0.003, 0.04),
                decay=r.uniform(0.1, 0.5),
                sustain=r.uniform(0.5, 0.9),
                release=r.uniform(0.05, 0.25),
                vibrato_cents=r.choice([0.0, r.uniform(10, 40)]),
                vibrato_hz=r.uniform(4.5, 6.5),
                vibrato_delay=r.uniform(0.1, 0.4),
            )
        elif role == "arp":
            n_voices = int(r.integers(1, 3))
            patch.update(
                attack=0.002,
                decay=r.uniform(0.05, 0.25),
                sustain=r.uniform(0.0, 0.4),
                release=r.uniform(0.03, 0.15),
                filter_decay=r.uniform(0.03, 0.2),
            )
        else:  # pad
            n_voices = 2
            patch.update(
                wave=str(r.choice(["saw", "triangle", "pulse"])),
                attack=r.uniform(0.2, 0.8),
                decay=r.uniform(0.5, 2.0),
                sustain=r.uniform(0.6, 1.0),
                release=r.uniform(0.3, 0.9),
                cutoff_hi=r.uniform(3000, 9000),
                cutoff_lo=r.uniform(800, 2500),
                filter_sustain=0.5,
                order=2,
            )
        detunes = np.linspace(-1, 1, n_voices) * r.uniform(4, 14) if n_voices > 1 else [0.0]
        pans = np.linspace(-spread, spread, n_voices) if n_voices > 1 else [0.0]
        patch["voices"] = list(zip(detunes, pans, strict=True))
        return patch

    def lead(self) -> None:
        r = self.rng
        patch = self.synth_patch("lead")
        octave = int(r.choice([4, 5, 5]))
        notes = [(b, s, ln, self.midi(d, octave)) for b, s, ln, d in self.melody(0, 11, r.random())]
        on = self.activity(0.65, first=True if "lead" in self.lead_roles else None)
        track = self.new_track()
        self.render_notes(track, [x for x in notes if on[x[0]]], patch, True, gate=r.uniform(0.6, 0.95))
        if r.random() < 0.5:
            self.echo(track, int(r.choice([2, 3, 4])), r.uniform(0.2, 0.45))
        self.finish("lead", self._pan_track(track, r.uniform(-0.3, 0.3)), -19.0, 0.2)

    def arp(self) -> None:
        r = self.rng
        patch = self.synth_patch("arp")
        rate = int(r.choice([1, 2, 2])) if self.bpm < 130 else 2
        notes = self.arpeggio(int(r.choice([4, 5])), rate, int(r.integers(1, 3)))
        on = self.activity(0.6, first=True if "arp" in self.lead_roles else None)
        track = self.new_track()
        self.render_notes(
            track, [x for x in notes if on[x[0]]], patch, True, gate=r.uniform(0.3, 0.9), velocity=(0.6, 1.0)
        )
        if r.random() < 0.4:
            self.echo(track, 3, r.uniform(0.2, 0.4))
        self.finish("arp", self._pan_track(track, r.uniform(-0.6, 0.6)), -22.0, 0.25)

    def pad(self) -> None:
        r = self.rng
        patch = self.synth_patch("pad")
        on = self.activity(0.7)
        track = self.new_track()
        for bar in range(0, self.n_bars, self.chord_bars):
            if not on[bar]:
                continue
            gate = self.steps_n(self.chord_bars * self.steps_per_bar)
            for d in self.chord_degrees(bar):
                m = self.midi(d, 4) if self.midi(d, 4) < 74 else self.midi(d, 3)
                self.put(
                    track,
                    self.synth_voice(float(_midi_hz(m)), gate, patch),
                    self.at(bar, 0, False),
                    gain=r.uniform(0.8, 1.0),
                )
        self.finish("pad", track, -24.0, 0.45)

    def bowed(self) -> None:
        r, sr = self.rng, self.sr
        solo = r.random() < 0.4
        octave = int(r.choice([3, 4, 5]))
        patch = {
            "wave": "saw",
            "cutoff_hi": r.uniform(3000, 7000),
            "cutoff_lo": r.uniform(2000, 4000),
            "order": 1,
            "filter_decay": 0.3,
            "filter_sustain": 0.3,
            "attack": r.uniform(0.06, 0.3),
            "decay": 1.0,
            "sustain": r.uniform(0.7, 1.0),
            "release": r.uniform(0.15, 0.4),
            "vibrato_cents": r.uniform(15, 45),
            "vibrato_hz": r.uniform(4.8, 6.5),
            "vibrato_delay": r.uniform(0.15, 0.5),
            "voices": [(0.0, 0.0)] if solo else [(-4.0, -0.3), (4.0, 0.3)],
            "breath": r.uniform(0.01, 0.04),
            "breath_sos": _butter("bandpass", [r.uniform(2000, 4000), r.uniform(12000, 19000)], sr, 1),
        }
        on = self.activity(0.7)
        track = self.new_track()
        if solo:
            notes = [x for x in self.melody(0, 9, 0.0) if on[x[0]]]
            self.render_notes(track, notes, dict(patch, octave=octave), False, gate=0.98)
        else:
            for bar in range(0, self.n_bars, self.chord_bars):
                if not on[bar]:
                    continue
                gate = self.steps_n(self.chord_bars * self.steps_per_bar)
                for d in self.chord_degrees(bar)[: int(r.integers(2, 4))]:
                    seg = self.synth_voice(float(_midi_hz(self.midi(d, octave))), gate, patch)
                    self.put(track, seg, self.at(bar, 0), gain=r.uniform(0.8, 1.0))
        body = np.vstack(
            [  # wood resonance, nasal dip, bridge hill
                _peaking_sos(r.uniform(250, 450), 5.0, 1.5, sr),
                _peaking_sos(r.uniform(2500, 3500), 4.0, 1.2, sr),
                _peaking_sos(r.uniform(800, 1200), -4.0, 1.0, sr),
            ]
        )
        track = signal.sosfilt(body, track, axis=-1)
        self.finish("bowed", self._pan_track(track, r.uniform(-0.6, 0.6)), -20.0, 0.4)

    def guitar(self) -> None:
        """Plucked strings (Karplus-Strong): strummed chords or picked arpeggios."""
        r, sr = self.rng, self.sr
        t60, damping = r.uniform(0.8, 3.0), r.uniform(0.4, 0.5)
        dark = r.uniform(0.3, 0.8)
        pick = r.uniform(0.1, 0.4)
        cache: dict[tuple[int, int], np.ndarray] = {}

        def note(m: int) -> np.ndarray:
            key = (m, int(r.integers(2)))
            if key not in cache:
                f0 = float(_midi_hz(m))
                period = int(sr / f0)
                exc = r.standard_normal(period)
                exc = (1 - dark) * exc + dark * _one_pole_lp(exc, 1500.0, sr) * 3.0
                exc = exc - np.roll(exc, int(pick * period))  # pick position comb
                n = int(min(t60 * 1.1, 2.5) * sr)
                cache[key] = _karplus_strong(f0, n, sr, t60 * (1.0 - 0.3 * (m - 50) / 40), damping, exc - exc.mean())
            return cache[key]

        strum = r.random() < 0.5
        on = self.activity(0.7)
        track = self.new_track()
        pan = r.uniform(-0.7, 0.7)
        if strum:
            pattern = [0, 6, 10] if self.steps_per_bar == 16 else [0, 4, 8]
            for bar in range(self.n_bars):
                if not on[bar]:
                    continue
                for k, step in enumerate(pattern):
                    tones = sorted(self.midi(d, 3 + o) for o in range(2) for d in self.chord_degrees(bar)[:3])[:5]
                    if k % 2:
                        tones = tones[::-1]
                    start = self.at(bar, step)
                    gate = self.steps_n(pattern[k + 1] - step if k + 1 < len(pattern) else self.steps_per_bar - step)
                    for i, m in enumerate(tones):
                        s = note(m)[: gate + int(0.08 * sr)].copy()
                        s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.015 * sr))
                        self.put(track, s, start + int(i * r.uniform(0.008, 0.02) * sr), pan, r.uniform(0.6, 0.9))
        else:
            for bar, step, length, m in self.arpeggio(3, int(r.choice([1, 2])), 2):
                if on[bar]:
                    s = note(m)[: self.steps_n(length * 4)]
                    self.put(track, s, self.at(bar, step), pan, r.uniform(0.7, 1.0))
        track = signal.sosfilt(_peaking_sos(r.uniform(150, 250), 4.0, 1.0, sr), track, axis=-1)
        self.finish("guitar", track, -21.0, 0.25)

    def partial_instrument(self, name: str) -> None:
        """Keys (harmonic, slightly stretched partials) or mallets/bells (inharmonic partials), decaying."""
        r, sr = self.rng, self.sr
        if name == "keys":
            octave, inharm, tau0 = 4, r.uniform(5e-5, 4e-4), r.uniform(0.6, 2.0)
            hammer, damp_hz = r.uniform(2000, 8000), r.uniform(800, 3000)
        else:
            octave = int(r.choice([5, 6]))
            sets = (
                (1, 3.93, 9.54, 16.6, 25.9),
                (1, 2.76, 5.40, 8.93, 13.3, 19.8),
                (0.5, 1, 1.19, 1.5, 2.0, 2.51, 2.66, 3.01, 4.16, 5.43, 6.79),
            )  # marimba, glockenspiel, bell
            ratios = np.array(sets[int(r.integers(len(sets)))], dtype=float)
            tau0, damp_hz = r.uniform(0.5, 2.5), r.uniform(2000, 6000)
        cache: dict[int, np.ndarray] = {}
        keys_n = self.steps_n(6) + int(0.2 * sr)  # the longest comped chord and its release

        def note(m: int) -> np.ndarray:
            if m not in cache:
                f0 = float(_midi_hz(m))
                n = keys_n if name == "keys" else int(min(tau0 * 4, 2.0) * sr)
                if name == "keys":
                    k = np.arange(1, 50)
                    freqs = k * f0 * np.sqrt(1 + inharm * k**2)
                    amps = k**-1.0 / np.sqrt(1 + (freqs / hammer) ** 2)
                    taus = tau0 / (1 + freqs / damp_hz)
                else:
                    freqs = ratios * f0
                    amps = 1.0 / np.arange(1, ratios.size + 1) ** 0.7
                    taus = tau0 / (1 + freqs / damp_hz)
                keep = freqs < 0.497 * sr
                x = _decaying_partials(freqs[keep], amps[keep], taus[keep], n, sr)
                strike = int(0.004 * sr)
                x[:strike] += 0.1 * r.standard_normal(strike) * np.linspace(1, 0, strike)  # strike noise
                x[: int(0.002 * sr)] *= np.linspace(0, 1, int(0.002 * sr))
                cache[m] = x
            return cache[m]

        on = self.activity(0.7)
        track = self.new_track()
        pan = r.uniform(-0.6, 0.6)
        if name == "keys":
            pattern = [(0, 6), (6, 4), (10, 6)] if self.steps_per_bar == 16 else [(0, 4), (4, 4), (8, 4)]
            for bar in range(self.n_bars):
                if not on[bar]:
                    continue
                for step, length in pattern:
                    if r.random() < 0.25:
                        continue
                    gate = self.steps_n(length)
                    for d in self.chord_degrees(bar):
                        s = note(self.midi(d, octave))[: gate + int(0.15 * sr)].copy()
                        s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.03 * sr))
                        self.put(track, s, self.at(bar, step), pan + r.uniform(-0.1, 0.1), r.uniform(0.5, 0.8))
        else:
            for bar, step, _length, d in self.melody(0, 9, 0.0):
                if on[bar]:
                    self.put(track, note(self.midi(d, octave)), self.at(bar, step), pan, r.uniform(0.6, 1.0))
            if r.random() < 0.5:
                self.echo(track, 3, r.uniform(0.2, 0.4))
        self.finish(name, track, -22.0, 0.3)

    def bass(self) -> None:
        r, sr = self.rng, self.sr
        kind = str(r.choice(["sub", "saw", "square", "plucked"]))
        style = str(r.choice(["roots8", "sustain", "octave", "walk", "syncopated"]))
        octave = 1 if self.tonic >= 5 else 2
        S = self.steps_per_bar
        notes = []
        for bar in range(self.n_bars):
            root = self.chord_root(bar)
            if style == "sustain":
                notes.append((bar, 0, S, self.midi(root, octave)))
            elif style == "roots8":
                notes += [(bar, s, 2, self.midi(root, octave)) for s in range(0, S, 2)]
            elif style == "octave":
                notes += [(bar, s, 2, self.midi(root, octave) + (12 if (s // 2) % 2 else 0)) for s in range(0, S, 2)]
            elif style == "walk":
                degs = [root, root + int(r.choice([1, 2])), root + 4, root + int(r.choice([2, 3, 5]))]
                notes += [(bar, s, 4, self.midi(d, octave)) for s, d in zip(range(0, S, 4), degs)]
            else:
                for s, length in ((0, 3), (3, 3), (6, 2), (10, 4), (14, 2)):
                    if s < S and (s == 0 or r.random() < 0.7):
                        d = root + (4 if r.random() < 0.25 else 0)
                        notes.append((bar, s, min(length, S - s), self.midi(d, octave)))
        track = self.new_track()
        if kind == "plucked":
            cache: dict[int, np.ndarray] = {}
            for bar, step, length, m in notes:
                if m not in cache:
                    f0 = float(_midi_hz(m))
                    exc = _one_pole_lp(r.standard_normal(int(sr / f0)), 800.0, sr)
                    cache[m] = _karplus_strong(f0, int(2.0 * sr), sr, 2.5, 0.5, exc - exc.mean())
                gate = self.steps_n(length)
                s = cache[m][: gate + int(0.05 * sr)].copy()
                s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.01 * sr))
                self.put(track, s, self.at(bar, step), 0.0, r.uniform(0.8, 1.0))
        else:
            patch = {
                "wave": "sine" if kind == "sub" else kind,
                "order": 2,
                "cutoff_hi": r.uniform(800, 3000),
                "cutoff_lo": r.uniform(200, 700),
                "filter_decay": r.uniform(0.05, 0.3),
                "filter_sustain": r.uniform(0.1, 0.5),
                "attack": 0.004,
                "decay": r.uniform(0.1, 0.6),
                "sustain": r.uniform(0.4, 1.0),
                "release": 0.03,
                "voices": [(0.0, 0.0)],
            }
            self.render_notes(track, notes, patch, True, gate=r.uniform(0.7, 0.98), velocity=(0.85, 1.0))
            if kind == "sub":
                track = np.tanh(2.0 * track / (np.abs(track).max() + 1e-12))  # a few low harmonics
        self.finish("bass", track, -13.0, 0.02)

    def _pan_track(self, track: np.ndarray, pan: float) -> np.ndarray:
        """Move a stereo track's image towards ``pan`` (left < 0 < right) with constant-power gains."""
        gl, gr = _pan_gains(pan)
        track[0] *= gl * math.sqrt(2.0)
        track[1] *= gr * math.sqrt(2.0)
        return track

    # --- the whole song ----------------------------------------------------------------------

    def reverb(self) -> np.ndarray:
        """Stereo reverb of the send bus: decorrelated decaying noise whose highs die faster (RT60 0.5-2.5 s)."""
        r, sr = self.rng, self.sr
        rt60 = r.uniform(0.5, 2.5)
        n_ir = int(min(rt60, 2.0) * sr)
        t = np.arange(n_ir) / sr
        pre = int(r.uniform(0.005, 0.03) * sr)
        damp_hz, hf_ratio = r.uniform(2500, 8000), r.uniform(0.25, 0.6)
        nfft = sfft.next_fast_len(self.n_total + n_ir, real=True)
        send_f = sfft.rfft(self.send, nfft)
        out = np.zeros((2, self.n_total))
        for ch in range(2):
            noise = r.standard_normal(n_ir)
            low = _one_pole_lp(noise, damp_hz, sr)
            ir = low * np.exp(-6.9 * t / rt60) + (noise - low) * np.exp(-6.9 * t / (rt60 * hf_ratio))
            ir *= np.minimum(1.0, t / 0.01)
            ir = np.concatenate([np.zeros(pre), ir])[:n_ir]
            ir /= np.sqrt(np.sum(ir**2)) + 1e-12
            out[ch] = sfft.irfft(send_f * sfft.rfft(ir, nfft), nfft)[: self.n_total]
        return out * r.uniform(0.35, 0.7)

    def render(self) -> np.ndarray:
        r = self.rng
        has_drums = r.random() < 0.85
        melodic = [
            name
            for name, p in (
                ("pad", 0.45),
                ("lead", 0.55),
                ("arp", 0.45),
                ("guitar", 0.45),
                ("keys", 0.4),
                ("mallet", 0.3),
                ("bowed", 0.45),
            )
            if r.random() < p
        ]
        while len(melodic) < 2:
            extra = str(r.choice(["pad", "lead", "arp", "guitar", "keys", "mallet", "bowed"]))
            if extra not in melodic:
                melodic.append(extra)
        if not has_drums:  # a bright synth carries the top octaves, from the first bar on
            bright = [name for name in ("lead", "arp") if name in melodic] or [str(r.choice(["lead", "arp"]))]
            self.lead_roles = {bright[0]}
            if bright[0] not in melodic:
                melodic.append(bright[0])
        if has_drums:
            self.drums(bright="lead" not in melodic and "arp" not in melodic)
        if r.random() < 0.9 or not has_drums:
            self.bass()
        for name in melodic:
            if name in ("keys", "mallet"):
                self.partial_instrument(name)
            else:
                getattr(self, name)()
        mix = self.dry + self.reverb()
        mix = mix[:, : self.n]
        mix = _master(mix, self.sr, rolloff_db=r.uniform(0.0, 9.0))
        fade_in, fade_out = min(int(0.005 * self.sr), self.n), min(int(0.03 * self.sr), self.n)
        mix[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in)
        mix[:, self.n - fade_out :] *= np.linspace(1.0, 0.0, fade_out)
        peak = np.abs(mix).max()
        if peak > 0:
            mix *= r.uniform(0.55, 0.9) / peak
        return mix.astype(np.float32)


def _master(mix: np.ndarray, sr: int, rolloff_db: float = 0.0) -> np.ndarray:
    """Mastering EQ: a gentle top-octave roll-off, then corrections that keep the song inside the corpus bounds.

    1. ``rolloff_db`` dB of attenuation rising smoothly from about 15 kHz to 20 kHz (microphones, air
       and mastering make real recordings fall off there).
    2. If the long-term spectrum above 18 kHz is more than ``_AIR_MARGIN_DB`` below its peak, a
       shelf rising from about 16 kHz lifts it (at most +18 dB).
    3. If the share of energy above 11025 Hz is outside ``_SHARE_BOUNDS``, a broad shelf centred
       near 9 kHz moves it to the nearer of ``_SHARE_TARGETS``.

    All gains are smooth functions of frequency applied to one FFT of the whole song (so their
    impulse responses are short); the checks evaluate the Welch spectrum through the same gains.
    """
    n = mix.shape[-1]
    if sr / 2.0 <= _AIR_HZ or n < 4096:
        return mix
    spec = np.fft.rfft(mix, axis=-1)
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    wfreqs, psd = signal.welch(mix, fs=sr, nperseg=4096, axis=-1)
    psd = psd.sum(axis=0)

    def curve(f: np.ndarray, air_db: float) -> np.ndarray:
        g_db = -rolloff_db * _smooth_step(f, 17500.0, 0.12) + air_db * _smooth_step(f, 16000.0, 0.15)
        return 10.0 ** (g_db / 20.0)

    def margin(air_db: float) -> float:
        p = psd * curve(wfreqs, air_db) ** 2
        return float(10.0 * np.log10(p.max() / max(p[wfreqs >= _AIR_HZ].max(), 1e-30)))

    air_db = 0.0
    for _ in range(4):
        excess = margin(air_db) - _AIR_MARGIN_DB
        if excess <= 0.0 or air_db >= 18.0:
            break
        air_db = min(air_db + excess + 1.0, 18.0)
    gain = curve(freqs, air_db)

    power = (np.abs(spec) ** 2).sum(axis=0) * gain**2
    high = freqs > _HIGH_BAND_HZ
    share = power[high].sum() / max(power.sum(), 1e-30)
    lo, hi = _SHARE_BOUNDS
    if not lo <= share <= hi:
        target = _SHARE_TARGETS[0] if share < lo else _SHARE_TARGETS[1]
        step = _smooth_step(freqs, 9000.0, 0.35)

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


def generate_song(seed: int, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render the song of ``seed`` (a non-negative integer): ``seconds`` (s) of stereo music at ``sample_rate`` Hz.

    Returns float32 of shape (2, round(seconds x sample_rate)) with its peak between 0.55 and 0.9.
    The same seed, duration and rate always give the same samples (the generator only uses
    ``numpy.random.default_rng(seed)``); see the module docstring for what the music holds.
    """
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate!r}")
    return _Song(int(seed), float(seconds), int(sample_rate)).render()


# ----------------------------------------------------------------------------------------------
# Corpora on disk


def song_seed(seed: int, index: int) -> int:
    """The seed of song ``index`` of the corpus of ``seed``: independent of how many songs the corpus has."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1, dtype=np.uint64)[0] >> 1)


def split_counts(songs: int) -> tuple[int, int, int]:
    """(train, val, test) song counts: about 2/3, 1/6, 1/6 with at least one each (24 -> 16, 4, 4)."""
    if songs < 3:
        raise ValueError(f"a corpus needs at least 3 songs (one per split), got {songs}")
    val = test = max(1, round(songs / 6))
    return songs - val - test, val, test


def write_corpus(out_dir, songs: int = 24, seconds: float = 16.0, seed: int = 0, progress: bool = True) -> dict:
    """Generate ``songs`` songs of ``seconds`` s into ``out_dir``/{train,val,test}/song-NNN.flac.

    Files are 44.1 kHz stereo FLAC (PCM_24). Songs 0..train-1 go to train, the next ones to val,
    the last ones to test (see :func:`split_counts`); song i uses :func:`song_seed` (seed, i).
    Everything is built in a temporary sibling directory renamed into place at the end, so an
    interrupted run leaves no partial corpus. ``out_dir`` must not exist or be an empty directory.
    Returns the manifest also written to ``out_dir``/corpus.json.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AudioenhError(f"{str(out)!r} already exists and is not an empty directory")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    counts = split_counts(int(songs))
    names = ("train", "val", "test")
    bounds = np.cumsum((0,) + counts)
    splits = {
        name: [f"{name}/song-{i:03d}.flac" for i in range(bounds[k], bounds[k + 1])] for k, name in enumerate(names)
    }
    manifest = {
        "generator": "audioenh.data.builtin",
        "generator_version": GENERATOR_VERSION,
        "songs": int(songs),
        "seconds": float(seconds),
        "seed": int(seed),
        "sample_rate": SAMPLE_RATE,
        "channels": 2,
        "format": "FLAC",
        "subtype": "PCM_24",
        "splits": splits,
        "song_seeds": {f"song-{i:03d}": song_seed(seed, i) for i in range(int(songs))},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for name in names:
            (tmp / name).mkdir()
        files = [f for name in names for f in splits[name]]
        bar = tqdm(files, desc="built-in corpus", unit="song", disable=not progress, file=sys.stderr)
        for i, rel in enumerate(bar):
            audio = generate_song(song_seed(seed, i), seconds, SAMPLE_RATE)
            sf.write(tmp / rel, audio.T, SAMPLE_RATE, format="FLAC", subtype="PCM_24")
        (tmp / "corpus.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            out.rmdir()  # empty (checked above); rename onto a directory is not portable
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def default_cache_dir() -> Path:
    """Where generated corpora are cached: ``$AUDIOENH_CACHE`` or ``~/.cache/audioenh``."""
    return Path(os.environ.get("AUDIOENH_CACHE", str(Path.home() / ".cache" / "audioenh"))).expanduser()


def ensure_builtin_corpus(songs: int = 24, seconds: float = 16.0, seed: int = 0, cache_dir=None) -> Path:
    """Return the cached built-in corpus directory for these settings, generating it on first use.

    The directory is ``cache_dir``/builtin-v{GENERATOR_VERSION}-s{seed}-n{songs}-t{seconds:g};
    it counts as present once its corpus.json exists (written last, then renamed into place).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"builtin-v{GENERATOR_VERSION}-s{seed}-n{songs}-t{seconds:g}"
    if (path / "corpus.json").is_file():
        return path
    if path.is_dir() and not (path / "corpus.json").exists() and not any(path.iterdir()):
        path.rmdir()
    try:
        write_corpus(path, songs=songs, seconds=seconds, seed=seed, progress=True)
    except (AudioenhError, OSError):
        if (path / "corpus.json").is_file():  # another process finished it first
            return path
        raise
    return path
