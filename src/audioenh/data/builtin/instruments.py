"""Pitched instruments of the built-in generator: synths, bowed and plucked strings, keys, mallets, bass.

* wavetable synths: :func:`synth_voice` renders one note (band-limited saw, square, pulse,
  triangle or sine holding every harmonic up to just below Nyquist, a filter envelope fading
  between two cut-offs in Hz, detuned voices, vibrato); :func:`synth_patch` draws lead, arpeggio
  and pad patches; :func:`render_notes` plays a note list with them;
* :func:`add_lead`, :func:`add_arp`, :func:`add_pad`: bright synth parts;
* :func:`add_bowed`: bowed strings (saw with delayed vibrato, bow noise, body resonances);
* :func:`add_guitar`: plucked strings (Karplus-Strong), strummed or picked;
* :func:`add_partial_instrument`: keys (stretched harmonic partials) or mallets/bells
  (inharmonic partials), as sums of decaying sinusoids;
* :func:`add_bass`: sub sine, filtered saw or square, or plucked bass.

Each ``add_*`` function draws its parameters from the song's generator in a fixed order and
adds one levelled track to a :class:`~.context.SongContext`; :data:`MELODIC` maps the names the
arrangement draws to them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import signal

from .context import SongContext
from .dsp import (
    adsr,
    butter,
    decaying_partials,
    harmonic_amps,
    karplus_strong,
    midi_hz,
    one_pole_lp,
    oscillate,
    pan_gains,
    pan_track,
    peaking_sos,
    wavetable,
)


def synth_voice(rng: np.random.Generator, sr: int, f0: float, gate_n: int, patch: dict) -> np.ndarray:
    """One note of a wavetable synth: detuned voices (stereo), vibrato, filter and amplitude envelopes.

    ``f0`` in Hz, ``gate_n`` (samples) until the release; the note lasts ``gate_n`` + 4 releases.
    ``patch`` (see :func:`synth_patch`) holds the waveform, the ADSR times (s), the bright and dark
    cut-offs (Hz) the filter envelope fades between, vibrato (cents, Hz, delay in s) and the
    (detune in cents, pan) of each voice. Returns (2, n) samples.
    """
    release_n = patch["release"] * sr
    n = gate_n + int(4.0 * release_n)
    t = np.arange(n) / sr
    env = adsr(gate_n, n, patch["attack"] * sr, patch["decay"] * sr, patch["sustain"], release_n)
    vib_cents = patch.get("vibrato_cents", 0.0)
    freq = np.full(n, f0)
    if vib_cents:
        ramp = np.clip(t / max(patch.get("vibrato_delay", 0.3), 1e-3), 0.0, 1.0)
        freq = f0 * 2.0 ** (
            vib_cents / 1200.0 * ramp * np.sin(2 * np.pi * patch["vibrato_hz"] * t + rng.uniform(0, 2 * np.pi))
        )
    fenv = patch["filter_sustain"] + (1.0 - patch["filter_sustain"]) * np.exp(-t / patch["filter_decay"])
    out = np.zeros((2, n))
    for detune, pan in patch["voices"]:
        ratio = 2.0 ** (detune / 1200.0)
        fmax = f0 * ratio * 2.0 ** (abs(vib_cents) / 1200.0)
        kw = {"order": patch.get("order", 1), "pulse_width": patch.get("pulse_width", 0.5)}
        bright = wavetable(harmonic_amps(patch["wave"], f0, fmax, sr, patch["cutoff_hi"], **kw))
        dark = wavetable(harmonic_amps(patch["wave"], f0, fmax, sr, patch["cutoff_lo"], **kw))
        ph = rng.random()
        fv = freq * ratio
        xd = oscillate(dark, fv, n, sr, ph)
        v = xd + fenv * (oscillate(bright, fv, n, sr, ph) - xd)
        gl, gr = pan_gains(pan)
        out[0] += gl * v
        out[1] += gr * v
    out *= env / math.sqrt(len(patch["voices"]))
    if patch.get("breath", 0.0):  # bow or breath noise following the amplitude envelope
        noise = signal.sosfilt(patch["breath_sos"], rng.standard_normal(n)) * env * patch["breath"]
        out += noise
    return out


def render_notes(
    song: SongContext, track, notes, patch, octave_midi: bool, gate: float = 0.9, velocity=(0.75, 1.0)
) -> None:
    """Render (bar, step, length in steps, pitch) notes with :func:`synth_voice` into ``track``; pitch is MIDI if
    ``octave_midi`` else a scale degree in ``patch["octave"]``; notes sound for ``gate`` of their length."""
    for bar, step, length, pitch in notes:
        m = pitch if octave_midi else song.midi(pitch, patch["octave"])
        seg = synth_voice(song.rng, song.sr, float(midi_hz(m)), int(song.steps_n(length) * gate), patch)
        song.put(track, seg, song.at(bar, step), gain=song.rng.uniform(*velocity))


def synth_patch(rng: np.random.Generator, role: str) -> dict:
    """Draw a synth patch for :func:`synth_voice`: ``role`` "lead", "arp" or "pad" (times in s, cut-offs in Hz)."""
    wave = str(rng.choice(["saw", "saw", "square", "pulse"]))
    patch = {
        "wave": wave,
        "pulse_width": rng.uniform(0.1, 0.4),
        "order": 1,
        "cutoff_hi": None if rng.random() < 0.5 else rng.uniform(6000, 16000),
        "cutoff_lo": rng.uniform(800, 4000),
        "filter_decay": rng.uniform(0.05, 0.5),
        "filter_sustain": rng.uniform(0.1, 0.7),
    }
    spread = rng.uniform(0.2, 0.8)
    if role == "lead":
        n_voices = int(rng.integers(1, 4))
        patch.update(
            attack=rng.uniform(0.003, 0.04),
            decay=rng.uniform(0.1, 0.5),
            sustain=rng.uniform(0.5, 0.9),
            release=rng.uniform(0.05, 0.25),
            vibrato_cents=rng.choice([0.0, rng.uniform(10, 40)]),
            vibrato_hz=rng.uniform(4.5, 6.5),
            vibrato_delay=rng.uniform(0.1, 0.4),
        )
    elif role == "arp":
        n_voices = int(rng.integers(1, 3))
        patch.update(
            attack=0.002,
            decay=rng.uniform(0.05, 0.25),
            sustain=rng.uniform(0.0, 0.4),
            release=rng.uniform(0.03, 0.15),
            filter_decay=rng.uniform(0.03, 0.2),
        )
    else:  # pad
        n_voices = 2
        patch.update(
            wave=str(rng.choice(["saw", "triangle", "pulse"])),
            attack=rng.uniform(0.2, 0.8),
            decay=rng.uniform(0.5, 2.0),
            sustain=rng.uniform(0.6, 1.0),
            release=rng.uniform(0.3, 0.9),
            cutoff_hi=rng.uniform(3000, 9000),
            cutoff_lo=rng.uniform(800, 2500),
            filter_sustain=0.5,
            order=2,
        )
    detunes = np.linspace(-1, 1, n_voices) * rng.uniform(4, 14) if n_voices > 1 else [0.0]
    pans = np.linspace(-spread, spread, n_voices) if n_voices > 1 else [0.0]
    patch["voices"] = list(zip(detunes, pans, strict=True))
    return patch


def add_lead(song: SongContext) -> None:
    """Lead synth: a motif-based melody, sometimes with a ping-pong echo."""
    r = song.rng
    patch = synth_patch(r, "lead")
    octave = int(r.choice([4, 5, 5]))
    notes = [(b, s, ln, song.midi(d, octave)) for b, s, ln, d in song.melody(0, 11, r.random())]
    on = song.activity(0.65, first=True if "lead" in song.lead_roles else None)
    track = song.new_track()
    render_notes(song, track, [x for x in notes if on[x[0]]], patch, True, gate=r.uniform(0.6, 0.95))
    if r.random() < 0.5:
        song.echo(track, int(r.choice([2, 3, 4])), r.uniform(0.2, 0.45))
    song.finish("lead", pan_track(track, r.uniform(-0.3, 0.3)), -19.0, 0.2)


def add_arp(song: SongContext) -> None:
    """Arpeggiated synth cycling through the chord tones in 16th or 8th notes."""
    r = song.rng
    patch = synth_patch(r, "arp")
    rate = int(r.choice([1, 2, 2])) if song.bpm < 130 else 2
    notes = song.arpeggio(int(r.choice([4, 5])), rate, int(r.integers(1, 3)))
    on = song.activity(0.6, first=True if "arp" in song.lead_roles else None)
    track = song.new_track()
    render_notes(
        song, track, [x for x in notes if on[x[0]]], patch, True, gate=r.uniform(0.3, 0.9), velocity=(0.6, 1.0)
    )
    if r.random() < 0.4:
        song.echo(track, 3, r.uniform(0.2, 0.4))
    song.finish("arp", pan_track(track, r.uniform(-0.6, 0.6)), -22.0, 0.25)


def add_pad(song: SongContext) -> None:
    """Pad synth holding each chord (slow attack, darker filter)."""
    r = song.rng
    patch = synth_patch(r, "pad")
    on = song.activity(0.7)
    track = song.new_track()
    for bar in range(0, song.n_bars, song.chord_bars):
        if not on[bar]:
            continue
        gate = song.steps_n(song.chord_bars * song.steps_per_bar)
        for d in song.chord_degrees(bar):
            m = song.midi(d, 4) if song.midi(d, 4) < 74 else song.midi(d, 3)
            song.put(
                track,
                synth_voice(r, song.sr, float(midi_hz(m)), gate, patch),
                song.at(bar, 0, False),
                gain=r.uniform(0.8, 1.0),
            )
    song.finish("pad", track, -24.0, 0.45)


def add_bowed(song: SongContext) -> None:
    """Bowed strings: a solo line or held chords, band-limited saw with vibrato, bow noise and body resonances."""
    r, sr = song.rng, song.sr
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
        "breath_sos": butter("bandpass", [r.uniform(2000, 4000), r.uniform(12000, 19000)], sr, 1),
    }
    on = song.activity(0.7)
    track = song.new_track()
    if solo:
        notes = [x for x in song.melody(0, 9, 0.0) if on[x[0]]]
        render_notes(song, track, notes, dict(patch, octave=octave), False, gate=0.98)
    else:
        for bar in range(0, song.n_bars, song.chord_bars):
            if not on[bar]:
                continue
            gate = song.steps_n(song.chord_bars * song.steps_per_bar)
            for d in song.chord_degrees(bar)[: int(r.integers(2, 4))]:
                seg = synth_voice(r, sr, float(midi_hz(song.midi(d, octave))), gate, patch)
                song.put(track, seg, song.at(bar, 0), gain=r.uniform(0.8, 1.0))
    body = np.vstack(
        [  # wood resonance, nasal dip, bridge hill
            peaking_sos(r.uniform(250, 450), 5.0, 1.5, sr),
            peaking_sos(r.uniform(2500, 3500), 4.0, 1.2, sr),
            peaking_sos(r.uniform(800, 1200), -4.0, 1.0, sr),
        ]
    )
    track = signal.sosfilt(body, track, axis=-1)
    song.finish("bowed", pan_track(track, r.uniform(-0.6, 0.6)), -20.0, 0.4)


def add_guitar(song: SongContext) -> None:
    """Plucked strings (Karplus-Strong): strummed chords or picked arpeggios."""
    r, sr = song.rng, song.sr
    t60, damping = r.uniform(0.8, 3.0), r.uniform(0.4, 0.5)
    dark = r.uniform(0.3, 0.8)
    pick = r.uniform(0.1, 0.4)
    cache: dict[tuple[int, int], np.ndarray] = {}

    def note(m: int) -> np.ndarray:
        key = (m, int(r.integers(2)))
        if key not in cache:
            f0 = float(midi_hz(m))
            period = int(sr / f0)
            exc = r.standard_normal(period)
            exc = (1 - dark) * exc + dark * one_pole_lp(exc, 1500.0, sr) * 3.0
            exc = exc - np.roll(exc, int(pick * period))  # pick position comb
            n = int(min(t60 * 1.1, 2.5) * sr)
            cache[key] = karplus_strong(f0, n, sr, t60 * (1.0 - 0.3 * (m - 50) / 40), damping, exc - exc.mean())
        return cache[key]

    strum = r.random() < 0.5
    on = song.activity(0.7)
    track = song.new_track()
    pan = r.uniform(-0.7, 0.7)
    if strum:
        pattern = [0, 6, 10] if song.steps_per_bar == 16 else [0, 4, 8]
        for bar in range(song.n_bars):
            if not on[bar]:
                continue
            for k, step in enumerate(pattern):
                tones = sorted(song.midi(d, 3 + o) for o in range(2) for d in song.chord_degrees(bar)[:3])[:5]
                if k % 2:
                    tones = tones[::-1]
                start = song.at(bar, step)
                gate = song.steps_n(pattern[k + 1] - step if k + 1 < len(pattern) else song.steps_per_bar - step)
                for i, m in enumerate(tones):
                    s = note(m)[: gate + int(0.08 * sr)].copy()
                    s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.015 * sr))
                    song.put(track, s, start + int(i * r.uniform(0.008, 0.02) * sr), pan, r.uniform(0.6, 0.9))
    else:
        for bar, step, length, m in song.arpeggio(3, int(r.choice([1, 2])), 2):
            if on[bar]:
                s = note(m)[: song.steps_n(length * 4)]
                song.put(track, s, song.at(bar, step), pan, r.uniform(0.7, 1.0))
    track = signal.sosfilt(peaking_sos(r.uniform(150, 250), 4.0, 1.0, sr), track, axis=-1)
    song.finish("guitar", track, -21.0, 0.25)


def add_partial_instrument(song: SongContext, name: str) -> None:
    """Keys (harmonic, slightly stretched partials) or mallets/bells (inharmonic partials), decaying."""
    r, sr = song.rng, song.sr
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
    keys_n = song.steps_n(6) + int(0.2 * sr)  # the longest comped chord and its release

    def note(m: int) -> np.ndarray:
        if m not in cache:
            f0 = float(midi_hz(m))
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
            x = decaying_partials(freqs[keep], amps[keep], taus[keep], n, sr)
            strike = int(0.004 * sr)
            x[:strike] += 0.1 * r.standard_normal(strike) * np.linspace(1, 0, strike)  # strike noise
            x[: int(0.002 * sr)] *= np.linspace(0, 1, int(0.002 * sr))
            cache[m] = x
        return cache[m]

    on = song.activity(0.7)
    track = song.new_track()
    pan = r.uniform(-0.6, 0.6)
    if name == "keys":
        pattern = [(0, 6), (6, 4), (10, 6)] if song.steps_per_bar == 16 else [(0, 4), (4, 4), (8, 4)]
        for bar in range(song.n_bars):
            if not on[bar]:
                continue
            for step, length in pattern:
                if r.random() < 0.25:
                    continue
                gate = song.steps_n(length)
                for d in song.chord_degrees(bar):
                    s = note(song.midi(d, octave))[: gate + int(0.15 * sr)].copy()
                    s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.03 * sr))
                    song.put(track, s, song.at(bar, step), pan + r.uniform(-0.1, 0.1), r.uniform(0.5, 0.8))
    else:
        for bar, step, _length, d in song.melody(0, 9, 0.0):
            if on[bar]:
                song.put(track, note(song.midi(d, octave)), song.at(bar, step), pan, r.uniform(0.6, 1.0))
        if r.random() < 0.5:
            song.echo(track, 3, r.uniform(0.2, 0.4))
    song.finish(name, track, -22.0, 0.3)


def add_bass(song: SongContext) -> None:
    """Bass (sub sine, filtered saw or square, or plucked string) on the chord roots in one of five styles."""
    r, sr = song.rng, song.sr
    kind = str(r.choice(["sub", "saw", "square", "plucked"]))
    style = str(r.choice(["roots8", "sustain", "octave", "walk", "syncopated"]))
    octave = 1 if song.tonic >= 5 else 2
    S = song.steps_per_bar
    notes = []
    for bar in range(song.n_bars):
        root = song.chord_root(bar)
        if style == "sustain":
            notes.append((bar, 0, S, song.midi(root, octave)))
        elif style == "roots8":
            notes += [(bar, s, 2, song.midi(root, octave)) for s in range(0, S, 2)]
        elif style == "octave":
            notes += [(bar, s, 2, song.midi(root, octave) + (12 if (s // 2) % 2 else 0)) for s in range(0, S, 2)]
        elif style == "walk":
            degs = [root, root + int(r.choice([1, 2])), root + 4, root + int(r.choice([2, 3, 5]))]
            notes += [(bar, s, 4, song.midi(d, octave)) for s, d in zip(range(0, S, 4), degs)]
        else:
            for s, length in ((0, 3), (3, 3), (6, 2), (10, 4), (14, 2)):
                if s < S and (s == 0 or r.random() < 0.7):
                    d = root + (4 if r.random() < 0.25 else 0)
                    notes.append((bar, s, min(length, S - s), song.midi(d, octave)))
    track = song.new_track()
    if kind == "plucked":
        cache: dict[int, np.ndarray] = {}
        for bar, step, length, m in notes:
            if m not in cache:
                f0 = float(midi_hz(m))
                exc = one_pole_lp(r.standard_normal(int(sr / f0)), 800.0, sr)
                cache[m] = karplus_strong(f0, int(2.0 * sr), sr, 2.5, 0.5, exc - exc.mean())
            gate = song.steps_n(length)
            s = cache[m][: gate + int(0.05 * sr)].copy()
            s[gate:] *= np.exp(-np.arange(s.size - gate) / (0.01 * sr))
            song.put(track, s, song.at(bar, step), 0.0, r.uniform(0.8, 1.0))
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
        render_notes(song, track, notes, patch, True, gate=r.uniform(0.7, 0.98), velocity=(0.85, 1.0))
        if kind == "sub":
            track = np.tanh(2.0 * track / (np.abs(track).max() + 1e-12))  # a few low harmonics
    song.finish("bass", track, -13.0, 0.02)


def add_keys(song: SongContext) -> None:
    """Keys: comped chords of stretched harmonic partials (see :func:`add_partial_instrument`)."""
    add_partial_instrument(song, "keys")


def add_mallet(song: SongContext) -> None:
    """Mallets or bells: a melody of inharmonic partials (see :func:`add_partial_instrument`)."""
    add_partial_instrument(song, "mallet")


#: The melodic instruments by the names the arrangement draws (see :func:`.song.render`).
MELODIC: dict[str, Callable[[SongContext], None]] = {
    "pad": add_pad,
    "lead": add_lead,
    "arp": add_arp,
    "guitar": add_guitar,
    "keys": add_keys,
    "mallet": add_mallet,
    "bowed": add_bowed,
}
