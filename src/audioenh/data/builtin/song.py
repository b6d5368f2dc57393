"""The song: arrangement, reverb, final mix and :func:`generate_song`, the generator's entry point.

:func:`render` draws which instruments play (drums in 85 % of songs, a bass, at least two
melodic parts, and a bright synth from the first bar when there are no drums), adds their tracks
in a fixed order, then sums the dry mix and a stereo reverb of the send bus, masters it
(:func:`.mastering.master`), fades it in (5 ms) and out (30 ms) and normalises its peak.
Every random draw comes from the song's one generator, in one fixed order.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from .context import SongContext
from .drums import add_drums
from .dsp import one_pole_lp
from .instruments import MELODIC, add_bass
from .mastering import master

#: Bumped whenever the audio that a seed produces changes; part of the cache directory name.
GENERATOR_VERSION = 1
#: Sample rate of the written corpus (Hz).
SAMPLE_RATE = 44100


def reverb(song: SongContext) -> np.ndarray:
    """Stereo reverb of the send bus: decorrelated decaying noise whose highs die faster (RT60 0.5-2.5 s)."""
    r, sr = song.rng, song.sr
    rt60 = r.uniform(0.5, 2.5)
    n_ir = int(min(rt60, 2.0) * sr)
    t = np.arange(n_ir) / sr
    pre = int(r.uniform(0.005, 0.03) * sr)
    damp_hz, hf_ratio = r.uniform(2500, 8000), r.uniform(0.25, 0.6)
    nfft = sfft.next_fast_len(song.n_total + n_ir, real=True)
    send_f = sfft.rfft(song.send, nfft)
    out = np.zeros((2, song.n_total))
    for ch in range(2):
        noise = r.standard_normal(n_ir)
        low = one_pole_lp(noise, damp_hz, sr)
        ir = low * np.exp(-6.9 * t / rt60) + (noise - low) * np.exp(-6.9 * t / (rt60 * hf_ratio))
        ir *= np.minimum(1.0, t / 0.01)
        ir = np.concatenate([np.zeros(pre), ir])[:n_ir]
        ir /= np.sqrt(np.sum(ir**2)) + 1e-12
        out[ch] = sfft.irfft(send_f * sfft.rfft(ir, nfft), nfft)[: song.n_total]
    return out * r.uniform(0.35, 0.7)


def render(song: SongContext) -> np.ndarray:
    """Arrange and render ``song``: pick the instruments, add their tracks, reverb, master, fade and normalise.

    Returns float32 of shape (2, ``song.n``) with its peak between 0.55 and 0.9.
    """
    r = song.rng
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
        song.lead_roles = {bright[0]}
        if bright[0] not in melodic:
            melodic.append(bright[0])
    if has_drums:
        add_drums(song, bright="lead" not in melodic and "arp" not in melodic)
    if r.random() < 0.9 or not has_drums:
        add_bass(song)
    for name in melodic:
        MELODIC[name](song)
    mix = song.dry + reverb(song)
    mix = mix[:, : song.n]
    mix = master(mix, song.sr, rolloff_db=r.uniform(0.0, 9.0))
    fade_in, fade_out = min(int(0.005 * song.sr), song.n), min(int(0.03 * song.sr), song.n)
    mix[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in)
    mix[:, song.n - fade_out :] *= np.linspace(1.0, 0.0, fade_out)
    peak = np.abs(mix).max()
    if peak > 0:
        mix *= r.uniform(0.55, 0.9) / peak
    return mix.astype(np.float32)


def generate_song(seed: int, seconds: float, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Render the song of ``seed`` (a non-negative integer): ``seconds`` (s) of stereo music at ``sample_rate`` Hz.

    Returns float32 of shape (2, round(seconds x sample_rate)) with its peak between 0.55 and 0.9.
    The same seed, duration and rate always give the same samples (the generator only uses
    ``numpy.random.default_rng(seed)``); see :mod:`audioenh.data.builtin` for what the music holds.
    """
    if int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not seconds > 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    if sample_rate < 8000:
        raise ValueError(f"sample_rate must be at least 8000 Hz, got {sample_rate!r}")
    return render(SongContext(int(seed), float(seconds), int(sample_rate)))
