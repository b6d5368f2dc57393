"""The song context: a song's random generator, timing, harmony, melodic material and mix bus.

:class:`SongContext` is what every instrument of the built-in generator receives. It holds

* time: tempo (70-170 BPM), metre (12 or 16 16th-note steps per bar), swing and timing jitter (s),
  and the sample index of any step (:meth:`SongContext.at`);
* harmony: tonic, scale, chord progression and chord tones (:data:`SCALES`, :data:`PROGRESSIONS`);
* melodic material built on the harmony: motif-based melodies and arpeggios;
* the mix bus: per-instrument stereo tracks levelled in dBFS, the dry mix and the reverb send.
"""

from __future__ import annotations

import math

import numpy as np

from .dsp import active_rms, one_pole_lp, pan_gains

TAIL_S = 2.5  # render margin after the song's end (s) so that note tails exist before cropping

#: Scale names -> semitones of the seven degrees above the tonic.
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


class SongContext:
    """One song's shared state: its random generator, timing, harmony and mix bus.

    ``__init__`` draws the tempo, metre, swing, key, scale and progression from
    ``numpy.random.default_rng(seed)``; the instruments (:mod:`.drums`, :mod:`.instruments`)
    keep drawing from the same ``rng`` in a fixed order, so one seed always gives one song.
    Lengths: ``n`` samples of song plus ``TAIL_S`` seconds of tail (``n_total`` samples in all),
    at ``sr`` Hz; ``step_s`` and ``bar_s`` are the 16th-note and bar durations (s).
    """

    def __init__(self, seed: int, seconds: float, sr: int):
        self.rng = r = np.random.default_rng(seed)
        self.sr = sr
        self.n = max(1, int(round(seconds * sr)))
        self.n_total = self.n + int(TAIL_S * sr)
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
        """Duration of ``steps`` 16th notes in samples (at least 1)."""
        return max(1, int(round(steps * self.step_s * self.sr)))

    def chord_root(self, bar: int) -> int:
        """Scale degree (0-based) of the root of the chord playing in ``bar``."""
        return self.progression[(bar // self.chord_bars) % len(self.progression)]

    def chord_degrees(self, bar: int) -> list[int]:
        """Scale degrees of the chord in ``bar``: root, third, fifth (and seventh when the song uses them)."""
        root = self.chord_root(bar)
        return [root, root + 2, root + 4] + ([root + 6] if self.sevenths else [])

    def midi(self, degree: int, octave: int) -> int:
        """MIDI note of scale ``degree`` (0-based, any integer) above the tonic in MIDI ``octave`` (C4 = octave 4)."""
        return 12 * (octave + 1) + self.tonic + 12 * (degree // 7) + self.scale[degree % 7]

    def snap_to_chord(self, degree: int, bar: int) -> int:
        """The chord tone of ``bar`` nearest to scale ``degree`` (within a fourth), or ``degree`` itself."""
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
        """An empty stereo track, (2, ``n_total``) samples."""
        return np.zeros((2, self.n_total))

    def put(self, track: np.ndarray, seg: np.ndarray, start: int, pan: float = 0.0, gain: float = 1.0) -> None:
        """Add a mono (n,) or stereo (2, n) segment at sample ``start``, panned (mono only), clipped to the buffer."""
        if start >= self.n_total:
            return
        m = min(seg.shape[-1], self.n_total - start)
        if seg.ndim == 1:
            gl, gr = pan_gains(pan)
            track[0, start : start + m] += (gain * gl) * seg[:m]
            track[1, start : start + m] += (gain * gr) * seg[:m]
        else:
            track[:, start : start + m] += gain * seg[:, :m]

    def finish(self, name: str, track: np.ndarray, level_db: float, send: float) -> None:
        """Scale ``track`` to an active RMS of ``level_db`` dBFS (+-2 dB at random); mix it and its reverb send."""
        rms = active_rms(track)
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
        wet = one_pole_lp(track, 6000.0, self.sr)
        for i in range(1, repeats + 1):
            if d * i >= self.n_total:
                break
            src = wet[::-1] if i % 2 else wet
            track[:, d * i :] += feedback**i * src[:, : self.n_total - d * i]

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
