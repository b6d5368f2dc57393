"""Drums of the built-in generator: kick, snare or clap, hi-hats, cymbals, toms and shaker.

The drum voices (:func:`kick`, :func:`snare`, ... ) render one mono hit each, lengths in
seconds and frequencies in Hz, drawing their random parameters and noise from ``rng`` (the
song's generator) in a fixed order. Hats and cymbals mix white noise with :func:`metal`:
band-limited square waves at inharmonic frequencies, high-passed, so they reach up to Nyquist.
:func:`add_drums` draws a kit and a groove (four-on-the-floor, backbeat, half-time or break)
and adds the drum tracks to a :class:`~.context.SongContext`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

from .context import SongContext
from .dsp import butter, decaying_partials, harmonic_amps, one_pole_lp, oscillate, wavetable


def metal(rng: np.random.Generator, sr: int, bases, n: int) -> np.ndarray:
    """Band-limited square waves at the inharmonic ``bases`` (Hz), summed: the metallic part of hats and cymbals."""
    out = np.zeros(n)
    for b in bases:
        out += oscillate(wavetable(harmonic_amps("square", b, b, sr)), b, n, sr, rng.random())
    return out / math.sqrt(len(bases))


def shaped_noise(
    rng: np.random.Generator,
    sr: int,
    n: int,
    hp: float,
    lp: float | None,
    tau: float,
    attack: float = 0.0005,
    lp_order: int = 1,
) -> np.ndarray:
    """White noise high-passed (12 dB/octave) at ``hp`` Hz, low-passed at ``lp`` Hz (``lp_order`` x 6 dB/octave),
    decaying with time constant ``tau`` s after a linear ``attack`` (s)."""
    x = signal.sosfilt(butter("highpass", hp, sr, 2), rng.standard_normal(n))
    if lp is not None:
        if lp_order == 1:
            x = one_pole_lp(x, lp, sr)
        else:
            x = signal.sosfilt(butter("lowpass", lp, sr, lp_order), x)
    t = np.arange(n) / sr
    env = np.exp(-t / tau) * np.minimum(1.0, t / attack)
    return x * env / (np.std(x) + 1e-12)


def kick(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Kick drum (mono, 0.3-0.6 s): a sine swept down to 40-62 Hz, soft-clipped, plus a beater click."""
    n = int(rng.uniform(0.3, 0.6) * sr)
    t = np.arange(n) / sr
    f_lo, f_hi, sweep = rng.uniform(40, 62), rng.uniform(90, 200), rng.uniform(0.015, 0.06)
    freq = f_lo + (f_hi - f_lo) * np.exp(-t / sweep)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / rng.uniform(0.1, 0.35))
    drive = rng.uniform(1.0, 3.0)
    body = np.tanh(drive * body) / math.tanh(drive)
    body += rng.uniform(0.1, 0.4) * shaped_noise(rng, sr, n, rng.uniform(1500, 4000), 12000.0, 0.0015)
    return body * np.minimum(1.0, t / 0.0005)


def snare(rng: np.random.Generator, sr: int, kit: dict) -> np.ndarray:
    """Snare drum (mono, 0.45 s): two decaying sines at ``kit["snare_hz"]`` and 1.6 x that, plus shaped noise."""
    n = int(0.45 * sr)
    t = np.arange(n) / sr
    f1 = kit["snare_hz"]
    tone = (np.sin(2 * np.pi * f1 * t) + 0.5 * np.sin(2 * np.pi * 1.6 * f1 * t + 1.0)) * np.exp(-t / 0.045)
    noise = shaped_noise(rng, sr, n, kit["snare_hp"], kit["snare_lp"], kit["snare_tau"], lp_order=2)
    return kit["snare_tone"] * tone + noise


def clap(rng: np.random.Generator, sr: int, kit: dict) -> np.ndarray:
    """Hand clap (mono, 0.4 s): four noise bursts 0-31 ms apart and a noise tail."""
    n = int(0.4 * sr)
    out = np.zeros(n)
    burst = shaped_noise(rng, sr, n, 900.0, kit["snare_lp"], 0.012, lp_order=2)
    for k, off in enumerate((0.0, 0.011, 0.02, 0.031)):
        s = int(off * sr)
        out[s:] += burst[: n - s] * (0.7 if k < 3 else 1.0)
    tail = int(0.031 * sr)
    out[tail:] += 0.6 * shaped_noise(rng, sr, n - tail, 1200.0, kit["snare_lp"], kit["snare_tau"], lp_order=2)
    return out


def hat(rng: np.random.Generator, sr: int, kit: dict, tau: float, n_s: float) -> np.ndarray:
    """Hi-hat (mono, ``n_s`` s, decay time constant ``tau`` s): metal plus noise, high-passed, and sizzle."""
    n = int(n_s * sr)
    t = np.arange(n) / sr
    src = kit["hat_metal"] * metal(rng, sr, kit["hat_bases"], n) + rng.standard_normal(n)
    x = signal.sosfilt(butter("highpass", kit["hat_hp"], sr, 2), src)
    x = one_pole_lp(x, kit["hat_lp"], sr)
    x *= np.exp(-t / tau) * np.minimum(1.0, t / 0.0004) / (np.std(x) + 1e-12)
    x += kit["sizzle"] * shaped_noise(rng, sr, n, 11000.0, None, tau * 0.6)
    return x


def cymbal(rng: np.random.Generator, sr: int, kit: dict, ride: bool) -> np.ndarray:
    """Crash (2.2-3.2 s) or ride (1.2-2.0 s, with a bell) cymbal (mono): metal plus noise whose highs die faster."""
    n = int((rng.uniform(1.2, 2.0) if ride else rng.uniform(2.2, 3.2)) * sr)
    t = np.arange(n) / sr
    tau = rng.uniform(0.35, 0.7) if ride else rng.uniform(0.5, 1.1)
    bases = kit["ride_bases"] if ride else kit["crash_bases"]
    src = 0.7 * metal(rng, sr, bases, n) + rng.standard_normal(n)
    x = signal.sosfilt(butter("highpass", rng.uniform(2500, 5000), sr, 2), src)
    x = one_pole_lp(x, kit["cym_lp"], sr)
    x *= np.minimum(1.0, t / 0.001) / (np.std(x) + 1e-12)
    bright = x - one_pole_lp(x, 9000.0, sr)  # highs die away faster, as in real cymbals
    x = x * np.exp(-t / tau) + 0.6 * bright * np.exp(-t / (0.5 * tau))
    if ride:  # the bell: a few inharmonic partials around 1-5 kHz
        bell_f = kit["ride_bases"][:5] * rng.uniform(3.0, 6.0)
        x += 0.8 * decaying_partials(bell_f, np.full(5, 0.6), rng.uniform(0.2, 0.6, 5), n, sr)
    return x


def tom(rng: np.random.Generator, sr: int, f0: float) -> np.ndarray:
    """Tom (mono, 0.5 s): a sine falling from 1.5 x ``f0`` to ``f0`` Hz, plus shaped noise."""
    n = int(0.5 * sr)
    t = np.arange(n) / sr
    freq = f0 * (1.0 + 0.5 * np.exp(-t / 0.03))
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.18)
    return body + 0.3 * shaped_noise(rng, sr, n, 800.0, 8000.0, 0.05)


def shaker(rng: np.random.Generator, sr: int) -> np.ndarray:
    """Shaker (mono, 0.12 s): band-passed noise with an 8-ms attack."""
    n = int(0.12 * sr)
    return shaped_noise(rng, sr, n, rng.uniform(5000, 8000), 16000.0, 0.03, attack=0.008)


def add_drums(song: SongContext, bright: bool) -> None:
    """Draw a kit and a groove and add the drum tracks (kick, snare, hats, cymbals, toms, shaker) to ``song``.

    ``bright`` (no lead or arpeggio in the song) raises the hats and cymbals by 3 dB.
    """
    r, S, sr = song.rng, song.steps_per_bar, song.sr
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
    kicks = [kick(r, sr) for _ in range(2)]
    snares = [clap(r, sr, kit) if use_clap else snare(r, sr, kit) for _ in range(3)]
    closed_tau = r.uniform(0.02, 0.07)
    closed = [hat(r, sr, kit, closed_tau * r.uniform(0.8, 1.25), 0.25) for _ in range(4)]
    opened = [hat(r, sr, kit, r.uniform(0.15, 0.45), 0.9) for _ in range(2)]
    crashes = [cymbal(r, sr, kit, ride=False) for _ in range(2)]
    rides = [cymbal(r, sr, kit, ride=True) for _ in range(3)]
    toms = [tom(r, sr, f) for f in r.uniform(80, 240, 3)]
    shakers = [shaker(r, sr) for _ in range(3)] if r.random() < 0.35 else []

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
    hat_rate = int(r.choice([1, 2, 2])) if song.bpm < 140 else int(r.choice([2, 2, 4]))
    open_steps = [s for s in range(2, S, 4) if r.random() < (0.5 if style == "four" else 0.2)]
    ride_sections = r.random(song.n_sections) < 0.25
    on = song.activity(0.9, first=True)
    fill_p = r.uniform(0.3, 0.8)

    tk, ts, th, tc, tt, tsh = (song.new_track() for _ in range(6))
    hat_pan, tom_pans = r.uniform(-0.5, 0.5), r.uniform(-0.6, 0.6, 3)
    crash_pan, ride_pan = r.uniform(-0.6, 0.6), r.uniform(-0.6, 0.6)
    for bar in range(song.n_bars):
        if not on[bar]:
            continue
        section, pos = divmod(bar, song.section_bars)
        fill = pos == song.section_bars - 1 and r.random() < fill_p
        last = S - (4 if r.random() < 0.6 else 8) if fill else S
        for s in kick_steps:
            if s < last:
                song.put(tk, kicks[int(r.integers(2))], song.at(bar, s), 0.0, r.uniform(0.85, 1.0))
        for s in snare_steps:
            if s < last:
                song.put(ts, snares[int(r.integers(3))], song.at(bar, s), 0.05, r.uniform(0.85, 1.0))
        if r.random() < 0.3:  # ghost notes
            for s in r.choice(S, size=2, replace=False):
                if s < last and s not in snare_steps:
                    song.put(ts, snares[int(r.integers(3))], song.at(bar, s), 0.05, r.uniform(0.15, 0.3))
        if fill:
            for k, s in enumerate(range(last, S)):
                vel = 0.5 + 0.5 * k / max(1, S - last - 1)
                if r.random() < 0.5:
                    i = int(r.integers(3))
                    song.put(tt, toms[i], song.at(bar, s), tom_pans[i], vel)
                else:
                    song.put(ts, snares[int(r.integers(3))], song.at(bar, s), 0.05, vel * 0.8)
        if pos == 0 and (bar == 0 or r.random() < 0.7):
            song.put(tc, crashes[int(r.integers(2))], song.at(bar, 0), crash_pan, r.uniform(0.8, 1.0))
        if ride_sections[section]:
            for s in range(0, last, 2 if hat_rate == 1 else hat_rate):
                vel = (1.0 if s % 4 == 0 else 0.75) * r.uniform(0.85, 1.0)
                song.put(tc, rides[int(r.integers(3))], song.at(bar, s), ride_pan, 0.55 * vel)
        else:
            for s in range(0, last, hat_rate):
                if s in open_steps:
                    song.put(th, opened[int(r.integers(2))], song.at(bar, s), hat_pan, r.uniform(0.7, 0.9))
                    continue
                vel = 1.0 if s % 4 == 0 else 0.8 if s % 2 == 0 else 0.55
                song.put(th, closed[int(r.integers(4))], song.at(bar, s), hat_pan, vel * r.uniform(0.8, 1.0))
        if shakers:
            for s in range(0, S):
                vel = (0.9 if s % 2 else 0.6) * r.uniform(0.7, 1.0)
                song.put(tsh, shakers[int(r.integers(3))], song.at(bar, s), -hat_pan, vel)
    boost = 3.0 if bright else 0.0
    song.finish("kick", tk, -12.0, 0.03)
    song.finish("snare", ts, -16.0, 0.2)
    song.finish("hats", th, -27.0 + boost, 0.08)
    song.finish("cymbals", tc, -29.0 + boost, 0.1)
    song.finish("toms", tt, -18.0, 0.2)
    song.finish("shaker", tsh, -33.0, 0.1)
