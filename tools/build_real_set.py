"""Build a small evaluation set of real recorded instrument sounds, rebuildable offline.

    python tools/build_real_set.py --output real                 # 6 songs x 20 s into real/test/
    python tools/build_real_set.py --output /tmp/r --songs 1 --seconds 3
    python tools/build_real_set.py --probe                         # band edge of every GM program and kit

Songs are composed here as Standard MIDI Files, deterministically from ``--seed`` (rock, jazz,
orchestral, funk, folk and latin arrangements with a General MIDI drum kit on channel 10), and
rendered with the ``fluidsynth`` command line through sampled-instrument SoundFonts, whose samples are
recordings of real instruments: Debian's ``fluid-soundfont-gm`` (FluidR3_GM, MIT) and
``musescore-general-soundfont`` (MuseScore_General, MIT; parts CC0/public domain). Songs alternate
between the SoundFonts given. Each render (44.1 kHz stereo, 32-bit float, so no dither noise is
added) is cut or padded to ``--seconds``, faded out over its last 0.25 s, scaled to a -1 dBFS peak
and written as 24-bit FLAC into ``OUTPUT/test/`` (the folder corpus layout of docs/data.md: use it
with ``--data OUTPUT``), with ``OUTPUT/manifest.json`` (file, SoundFont, seconds, band edge) and
``OUTPUT/README.md`` (origin, licences, the command, software versions).

Needs ``fluidsynth`` and a SoundFont: ``apt-get install fluidsynth fluid-soundfont-gm
musescore-general-soundfont``. The MIDI writer is in this file (no MIDI package needed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_RATE = 44100
PEAK_DBFS = -1.0
FADE_SECONDS = 0.25
GAIN = 0.6  # fluidsynth's master gain (-g); the render is float, so nothing clips before normalising
TPB = 480  # MIDI ticks per quarter note
DRUMS = 9  # MIDI channel 10, 0-based

#: Debian's SoundFont files, in the order tried, with their package and licence. A symlink is
#: resolved, and a file found under two names is used once.
KNOWN_SOUNDFONTS = {
    "/usr/share/sounds/sf2/FluidR3_GM.sf2": (
        "fluid-soundfont-gm",
        "MIT (Copyright 2000-2002, 2008 Frank Wen; samples partly public domain)",
    ),
    "/usr/share/sounds/sf3/MuseScore_General.sf3": (
        "musescore-general-soundfont",
        "MIT (Copyright 2018-2021 S. Christian Collins; includes FluidR3 Mono, MIT; "
        "parts CC0 or public domain: MuseScore Drumline, VCSL cymbals, VSCO 2 strings, Splendid Grand piano)",
    ),
    "/usr/share/sounds/sf3/MuseScore_General_Full.sf3": (
        "musescore-general-soundfont",
        "MIT (Copyright 2018-2021 S. Christian Collins; includes FluidR3 Mono, MIT; "
        "parts CC0 or public domain: MuseScore Drumline, VCSL cymbals, VSCO 2 strings, Splendid Grand piano)",
    ),
}


def default_soundfonts() -> list[str]:
    """Every known Debian SoundFont that exists here, each file once (symlinks resolved)."""
    found, seen = [], set()
    for path in KNOWN_SOUNDFONTS:
        if os.path.isfile(path):
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found


# ---------------------------------------------------------------------------------------------
# Standard MIDI File writer (format 0: one track holding every channel)


def _vlq(n: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


class Score:
    """MIDI events of one song; :meth:`to_bytes` gives the Standard MIDI File."""

    def __init__(self, bpm: float):
        self.bpm = bpm
        self._events: list[tuple[int, int, int, bytes]] = []  # (tick, order, sequence, bytes)
        tempo = round(60_000_000 / bpm)
        self._add(0, 0, b"\xff\x51\x03" + tempo.to_bytes(3, "big"))
        self._add(0, 0, b"\xff\x58\x04\x04\x02\x18\x08")  # 4/4

    def _add(self, tick: int, order: int, data: bytes) -> None:
        self._events.append((max(0, int(tick)), order, len(self._events), data))

    def program(self, channel: int, program: int, tick: int = 0) -> None:
        self._add(tick, 0, bytes([0xC0 | channel, program]))

    def control(self, channel: int, number: int, value: int, tick: int = 0) -> None:
        self._add(tick, 0, bytes([0xB0 | channel, number, max(0, min(127, value))]))

    def setup(self, channel: int, program: int, volume: int = 100, pan: int = 64, reverb: int = 40) -> None:
        self.program(channel, program)
        self.control(channel, 7, volume)
        self.control(channel, 10, pan)
        self.control(channel, 91, reverb)

    def note(self, channel: int, tick: int, length: int, pitch: int, velocity: int) -> None:
        if not 0 <= pitch <= 127:
            return
        velocity = max(1, min(127, int(velocity)))
        self._add(tick, 2, bytes([0x90 | channel, pitch, velocity]))
        self._add(tick + max(1, int(length)), 1, bytes([0x80 | channel, pitch, 64]))  # offs before ons

    def to_bytes(self) -> bytes:
        track, last = bytearray(), 0
        for tick, _, _, data in sorted(self._events):
            track += _vlq(tick - last) + data
            last = tick
        track += _vlq(TPB) + b"\xff\x2f\x00"  # a beat of silence, then end of track
        return b"MThd" + struct.pack(">IHHH", 6, 0, 1, TPB) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


# ---------------------------------------------------------------------------------------------
# Composition

MODES = {
    "major": [0, 2, 4, 5, 7, 9, 11],
    "minor": [0, 2, 3, 5, 7, 8, 10],
    "dorian": [0, 2, 3, 5, 7, 9, 10],
    "mixolydian": [0, 2, 4, 5, 7, 9, 10],
}
PROGRESSIONS = {  # scale degrees, 0-based, one chord per bar
    "major": [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 3], [1, 4, 0, 5], [0, 5, 1, 4]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 4], [0, 3, 6, 2]],
    "dorian": [[0, 3, 0, 3], [0, 6, 3, 0], [0, 2, 3, 4]],
    "mixolydian": [[0, 6, 3, 0], [0, 3, 6, 3], [0, 4, 6, 3]],
}

# General MIDI drum notes
KICK, STICK, SNARE, CLAP, HAT, PEDAL_HAT, OPEN_HAT = 36, 37, 38, 39, 42, 44, 46
CRASH, RIDE, CHINA, RIDE_BELL, TAMBOURINE, SPLASH, COWBELL, CRASH2 = 49, 51, 52, 53, 54, 55, 56, 57
HI_BONGO, LO_BONGO, MUTE_CONGA, OPEN_CONGA, LO_CONGA, HI_TIMBALE, LO_TIMBALE = 60, 61, 62, 63, 64, 65, 66
CABASA, MARACAS, GUIRO, CLAVES, TRIANGLE_OPEN = 69, 70, 73, 75, 81
TOMS = [50, 48, 47, 45, 43, 41]


class Harmony:
    """Key, mode and a one-chord-per-bar progression."""

    def __init__(self, rng: random.Random, modes: list[str]):
        self.mode = rng.choice(modes)
        self.scale = MODES[self.mode]
        self.tonic = rng.randrange(0, 12)
        self.progression = rng.choice(PROGRESSIONS[self.mode])

    def pitch(self, degree: int, octave: int) -> int:
        """The scale degree's MIDI pitch, counted from the tonic in octave ``octave`` (4: middle C's)."""
        return 12 * (octave + 1) + self.tonic + 12 * (degree // 7) + self.scale[degree % 7]

    def chord_degree(self, bar: int) -> int:
        return self.progression[bar % len(self.progression)]

    def chord(self, bar: int, octave: int, size: int = 3) -> list[int]:
        root = self.chord_degree(bar)
        return [self.pitch(root + 2 * k, octave) for k in range(size)]


@dataclass
class Song:
    style: str
    bpm: float
    bars: int
    instruments: dict[str, int] = field(default_factory=dict)  # part -> GM program (drums: kit)
    key: str = ""


def _melody(
    score: Score,
    rng: random.Random,
    h: Harmony,
    ch: int,
    bars: int,
    octave: int,
    vel: int,
    lengths: tuple[int, ...] = (TPB // 2, TPB // 2, TPB, TPB, 2 * TPB),
    rest: float = 0.15,
    first_bar: int = 0,
) -> None:
    """A random walk over the scale, landing on chord tones on the beat."""
    degree = h.chord_degree(first_bar)
    tick, end = first_bar * 4 * TPB, bars * 4 * TPB
    while tick < end:
        length = min(rng.choice(lengths), end - tick)
        bar = tick // (4 * TPB)
        if rng.random() >= rest:
            if tick % TPB == 0:  # on the beat: nearest chord tone
                root = h.chord_degree(bar)
                tones = [root + 2 * k + 7 * o for o in (-1, 0, 1) for k in range(3)]
                degree = min(tones, key=lambda t: (abs(t - degree), t))
            accent = 10 if tick % (4 * TPB) == 0 else 0
            score.note(ch, tick, int(length * 0.95), h.pitch(degree, octave), vel + accent + rng.randint(-8, 8))
        degree += rng.choice([-2, -1, -1, 1, 1, 2, 0, 3, -3])
        degree = max(-3, min(10, degree))
        tick += length


def _chords(
    score: Score,
    rng: random.Random,
    h: Harmony,
    ch: int,
    bars: int,
    octave: int,
    vel: int,
    rhythm: list[tuple[int, int]],
    size: int = 3,
) -> None:
    """Block chords, one per bar, on the (beat offset in ticks, length) pairs of ``rhythm``."""
    for bar in range(bars):
        notes = h.chord(bar, octave, size)
        for offset, length in rhythm:
            for i, p in enumerate(notes):
                score.note(ch, bar * 4 * TPB + offset + 4 * i, length, p, vel + rng.randint(-6, 6))


def _bass(
    score: Score,
    rng: random.Random,
    h: Harmony,
    ch: int,
    bars: int,
    vel: int,
    rhythm: list[tuple[int, int]],
    octave: int = 2,
    walk: bool = False,
) -> None:
    for bar in range(bars):
        root = h.chord_degree(bar)
        for i, (offset, length) in enumerate(rhythm):
            degree = root
            if walk and i:
                degree = root + rng.choice([2, 4, 5, -1, 1, 3])
            elif rng.random() < 0.2 and i:
                degree = root + 4  # the fifth
            score.note(ch, bar * 4 * TPB + offset, length, h.pitch(degree, octave), vel + rng.randint(-6, 6))


def _arpeggio(
    score: Score, rng: random.Random, h: Harmony, ch: int, bars: int, octave: int, vel: int, step: int = TPB // 2
) -> None:
    pattern = rng.choice([[0, 1, 2, 3, 2, 1, 0, 1], [0, 2, 1, 3, 0, 2, 1, 3], [0, 1, 2, 3, 4, 3, 2, 1]])
    for bar in range(bars):
        notes = h.chord(bar, octave, 5)
        for i in range(4 * TPB // step):
            p = notes[pattern[i % len(pattern)]]
            score.note(ch, bar * 4 * TPB + i * step, int(step * 1.8), p, vel + rng.randint(-8, 8))


def _hit(score: Score, rng: random.Random, tick: int, note: int, vel: int) -> None:
    score.note(DRUMS, tick, TPB // 4, note, vel + rng.randint(-8, 8))


def _rock(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    kit = rng.choice([0, 16, 8])
    guitar = rng.choice([29, 30])
    bass = rng.choice([34, 33])
    lead = rng.choice([30, 29, 18])
    song.instruments.update(drums=kit, bass=bass, guitar=guitar, lead=lead)
    score.setup(DRUMS, kit, 110, 64, 30)
    score.setup(0, bass, 105, 64, 10)
    score.setup(1, guitar, 85, 30, 40)
    score.setup(2, lead, 80, 90, 50)
    bars, eighth = song.bars, TPB // 2
    for bar in range(bars):
        t0 = bar * 4 * TPB
        ride = bar >= bars // 2
        for i in range(8):
            if ride:
                _hit(score, rng, t0 + i * eighth, RIDE, 80 + (15 if i % 2 == 0 else 0))
            else:
                hat = OPEN_HAT if i == 7 and bar % 2 else HAT
                _hit(score, rng, t0 + i * eighth, hat, 75 + (20 if i % 2 == 0 else 0))
        for beat in (0, 2):
            _hit(score, rng, t0 + beat * TPB, KICK, 110)
        if rng.random() < 0.5:
            _hit(score, rng, t0 + 5 * eighth, KICK, 95)
        for beat in (1, 3):
            _hit(score, rng, t0 + beat * TPB, SNARE, 105)
        if bar % 4 == 0:
            _hit(score, rng, t0, rng.choice([CRASH, CRASH2, SPLASH]), 115)
        if bar % 4 == 3:  # fill
            for k, tom in enumerate(TOMS[:4]):
                _hit(score, rng, t0 + 3 * TPB + k * TPB // 4, tom, 100)
    _bass(score, rng, h, 0, bars, 100, [(i * eighth, eighth - 20) for i in range(8)], octave=1)
    for bar in range(bars):  # power chords
        root = h.pitch(h.chord_degree(bar), 3)
        for i in range(8) if bar % 2 else (0, 3, 4, 6):
            for p in (root, root + 7, root + 12):
                score.note(1, bar * 4 * TPB + i * eighth, eighth - 30, p, 95 + rng.randint(-5, 5))
    _melody(score, rng, h, 2, bars, 5, 90, first_bar=bars // 2)


def _jazz(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    kit = rng.choice([32, 40, 0])
    keys = rng.choice([4, 5])
    lead = rng.choice([66, 65, 64, 57])
    song.instruments.update(drums=kit, bass=32, keys=keys, lead=lead)
    score.setup(DRUMS, kit, 100, 64, 40)
    score.setup(0, 32, 110, 60, 20)
    score.setup(1, keys, 90, 40, 45)
    score.setup(2, lead, 95, 85, 50)
    swing = TPB * 2 // 3
    for bar in range(song.bars):
        t0 = bar * 4 * TPB
        for beat in range(4):  # ride: ding, ding-da-ding
            _hit(score, rng, t0 + beat * TPB, RIDE, 85)
            if beat % 2:
                _hit(score, rng, t0 + beat * TPB + swing, RIDE, 70)
                _hit(score, rng, t0 + beat * TPB, PEDAL_HAT, 80)
        if rng.random() < 0.6:
            _hit(score, rng, t0 + rng.randrange(4) * TPB + swing, SNARE, 55)
        if bar % 4 == 0:
            _hit(score, rng, t0, rng.choice([CRASH, RIDE_BELL, SPLASH]), 90)
    _bass(score, rng, h, 0, song.bars, 100, [(i * TPB, TPB - 20) for i in range(4)], octave=2, walk=True)
    for bar in range(song.bars):  # comping: seventh chords off the beat
        notes = h.chord(bar, 4, 4)
        for offset in rng.sample([0, TPB + swing, 2 * TPB, 3 * TPB + swing, swing], 2):
            for p in notes:
                score.note(1, bar * 4 * TPB + offset, TPB // 2, p, 70 + rng.randint(-8, 8))
    _melody(score, rng, h, 2, song.bars, 5, 95, lengths=(swing, TPB - swing, TPB, TPB, 2 * TPB), rest=0.2)


def _orchestral(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    lead = rng.choice([40, 73, 68, 69])
    brass = rng.choice([60, 57, 58])
    song.instruments.update(drums=48, strings=48, cello=42, lead=lead, brass=brass, harp=46, timpani=47)
    score.setup(DRUMS, 48, 100, 64, 70)
    score.setup(0, 48, 95, 50, 80)
    score.setup(1, 42, 100, 40, 70)
    score.setup(2, lead, 100, 80, 70)
    score.setup(3, brass, 85, 70, 70)
    score.setup(4, 46, 85, 20, 70)
    score.setup(5, 47, 100, 64, 70)
    _chords(score, rng, h, 0, song.bars, 4, 80, [(0, 4 * TPB - 10)], size=4)
    _bass(score, rng, h, 1, song.bars, 95, [(0, 2 * TPB - 10), (2 * TPB, 2 * TPB - 10)], octave=2)
    _melody(score, rng, h, 2, song.bars, 5, 90, lengths=(TPB, TPB, 2 * TPB, TPB // 2), rest=0.1)
    _arpeggio(score, rng, h, 4, song.bars, 4, 70, step=TPB // 2)
    for bar in range(song.bars):
        t0 = bar * 4 * TPB
        if bar % 2 == 1:
            for p in h.chord(bar, 3):
                score.note(3, t0 + 2 * TPB, 2 * TPB - 20, p, 90)
        if bar % 4 == 0:
            _hit(score, rng, t0, CRASH2, 110)
            score.note(5, t0, 2 * TPB, h.pitch(h.chord_degree(bar), 2), 105)
            score.note(5, t0 + 3 * TPB, TPB // 2, h.pitch(h.chord_degree(bar) + 4, 1), 90)
        if bar % 4 == 3:
            for k in range(8):  # suspended-cymbal roll
                _hit(score, rng, t0 + 2 * TPB + k * TPB // 4, RIDE, 50 + 8 * k)
        _hit(score, rng, t0 + 2 * TPB, TRIANGLE_OPEN, 70)


def _funk(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    kit = rng.choice([0, 8, 16])
    bass = rng.choice([36, 37, 33])
    keys = rng.choice([4, 5, 16])
    brass = rng.choice([66, 65, 57])
    song.instruments.update(drums=kit, bass=bass, guitar=27, keys=keys, brass=brass)
    score.setup(DRUMS, kit, 110, 64, 25)
    score.setup(0, bass, 105, 64, 10)
    score.setup(1, 27, 85, 25, 35)
    score.setup(2, keys, 80, 100, 45)
    score.setup(3, brass, 90, 64, 45)
    six = TPB // 4
    groove = [rng.random() < 0.45 for _ in range(16)]
    groove[0] = True
    for bar in range(song.bars):
        t0 = bar * 4 * TPB
        for i in range(16):
            note = OPEN_HAT if i in (6, 14) and bar % 2 else HAT
            _hit(score, rng, t0 + i * six, note, 65 + (25 if i % 4 == 0 else 10 if i % 2 == 0 else 0))
            if i % 2 == 0:
                _hit(score, rng, t0 + i * six, TAMBOURINE, 60)
        for i in (0, 7, 10):
            _hit(score, rng, t0 + i * six, KICK, 110)
        for beat in (1, 3):
            _hit(score, rng, t0 + beat * TPB, SNARE, 110)
            _hit(score, rng, t0 + beat * TPB, CLAP, 80)
        if bar % 4 == 0:
            _hit(score, rng, t0, CRASH, 110)
        root = h.pitch(h.chord_degree(bar), 2)
        for i in range(16):  # syncopated bass
            if groove[i]:
                score.note(0, t0 + i * six, six - 10, root + rng.choice([0, 0, 0, 12, 7, 10]), 105)
        for i in range(16):  # muted guitar chops
            if i % 2 == 1 or rng.random() < 0.3:
                for p in h.chord(bar, 4)[:2]:
                    score.note(1, t0 + i * six, six // 2, p + 12, 80 + rng.randint(-10, 10))
        if bar % 2 == 1:  # brass stabs
            for p in h.chord(bar, 4):
                score.note(3, t0 + 3 * TPB + 2 * six, six * 2, p, 100)
    _chords(score, rng, h, 2, song.bars, 4, 70, [(0, 2 * TPB - 20), (2 * TPB + 2 * six, TPB)], size=4)


def _folk(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    rhythm = rng.choice([25, 105])
    lead = rng.choice([110, 22, 21, 73])
    song.instruments.update(drums=0, guitar=25, rhythm=rhythm, bass=32, lead=lead)
    score.setup(DRUMS, 0, 95, 64, 40)
    score.setup(0, 25, 95, 35, 45)
    score.setup(1, rhythm, 85, 95, 45)
    score.setup(2, 32, 95, 64, 20)
    score.setup(3, lead, 95, 64, 55)
    _arpeggio(score, rng, h, 0, song.bars, 3, 85, step=TPB // 2)
    _chords(score, rng, h, 1, song.bars, 4, 70, [(0, TPB), (TPB + TPB // 2, TPB // 2), (2 * TPB, TPB), (3 * TPB, TPB)])
    _bass(score, rng, h, 2, song.bars, 90, [(0, TPB * 2 - 20), (2 * TPB, TPB * 2 - 20)])
    _melody(score, rng, h, 3, song.bars, 5, 95, first_bar=2)
    for bar in range(song.bars):
        t0 = bar * 4 * TPB
        for i in range(8):
            _hit(score, rng, t0 + i * TPB // 2, rng.choice([MARACAS, CABASA]), 60 + (20 if i % 2 else 0))
        for beat in (1, 3):
            _hit(score, rng, t0 + beat * TPB, CLAP if bar % 2 else STICK, 85)
        _hit(score, rng, t0, KICK, 90)
        if bar % 4 == 0:
            _hit(score, rng, t0, SPLASH, 80)
        if bar % 2:
            _hit(score, rng, t0 + 2 * TPB, TAMBOURINE, 90)


def _latin(score: Score, rng: random.Random, song: Song, h: Harmony) -> None:
    lead = rng.choice([65, 73, 66])
    song.instruments.update(drums=0, piano=1, bass=33, lead=lead, brass=57)
    score.setup(DRUMS, 0, 105, 64, 35)
    score.setup(0, 1, 90, 45, 40)
    score.setup(1, 33, 100, 64, 15)
    score.setup(2, lead, 95, 80, 50)
    score.setup(3, 57, 85, 64, 45)
    eighth = TPB // 2
    clave = [0, 3, 6, 10, 12]  # 3-2 son clave, in eighths over two bars
    for bar in range(song.bars):
        t0 = bar * 4 * TPB
        for i in range(8):
            _hit(score, rng, t0 + i * eighth, COWBELL if i % 2 == 0 else RIDE_BELL, 70)
            _hit(score, rng, t0 + i * eighth, [MUTE_CONGA, OPEN_CONGA, LO_CONGA, OPEN_CONGA][i % 4], 80)
            _hit(score, rng, t0 + i * eighth, MARACAS, 55)
        for i in clave:
            if (bar % 2) * 8 <= i < (bar % 2) * 8 + 8:
                _hit(score, rng, t0 + (i - (bar % 2) * 8) * eighth, CLAVES, 95)
        _hit(score, rng, t0 + 3 * TPB + eighth, HI_TIMBALE, 90)
        _hit(score, rng, t0 + rng.randrange(8) * eighth, rng.choice([HI_BONGO, LO_BONGO]), 85)
        _hit(score, rng, t0 + 2 * TPB, CABASA, 70)
        if bar % 4 == 3:
            for k in range(4):
                _hit(score, rng, t0 + 3 * TPB + k * TPB // 4, rng.choice([HI_TIMBALE, LO_TIMBALE]), 100)
        if bar % 4 == 0:
            _hit(score, rng, t0, CRASH, 105)
        notes = h.chord(bar, 4)  # montuno
        for i, n in enumerate([0, 1, 2, 1, 0, 2, 1, 2]):
            score.note(0, t0 + i * eighth, eighth - 20, notes[n] + (12 if i % 3 == 0 else 0), 85)
        score.note(1, t0, 3 * eighth, h.pitch(h.chord_degree(bar), 2), 105)  # tumbao
        score.note(1, t0 + 3 * eighth, TPB, h.pitch(h.chord_degree(bar) + 4, 2), 95)
        score.note(1, t0 + 3 * TPB, TPB, h.pitch(h.chord_degree(bar + 1), 2), 100)
        if bar % 4 == 2:
            for p in h.chord(bar, 4):
                score.note(3, t0 + eighth, eighth, p, 100)
                score.note(3, t0 + 3 * eighth, 2 * TPB, p, 100)
    _melody(score, rng, h, 2, song.bars, 5, 95, lengths=(eighth, TPB, TPB, 3 * eighth))


STYLES = {  # name: (composer, tempo range, modes)
    "rock": (_rock, (112, 140), ["minor", "mixolydian", "major"]),
    "jazz": (_jazz, (120, 170), ["major", "dorian"]),
    "orchestral": (_orchestral, (72, 96), ["minor", "major"]),
    "funk": (_funk, (96, 112), ["dorian", "mixolydian", "minor"]),
    "folk": (_folk, (92, 120), ["major", "mixolydian"]),
    "latin": (_latin, (100, 124), ["minor", "major"]),
}
NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


def compose(index: int, seed: int = 0, seconds: float = 20.0) -> tuple[Song, bytes]:
    """Song ``index`` of the set made with ``seed``: its description and Standard MIDI File bytes.

    Deterministic: the same (index, seed, seconds) always gives the same bytes. Styles follow the
    order of :data:`STYLES`, cycling; the seed picks tempo, key, progression, instruments and notes.
    """
    name = list(STYLES)[index % len(STYLES)]
    composer, (lo, hi), modes = STYLES[name]
    rng = random.Random(1_000_003 * int(seed) + int(index))
    bpm = float(rng.randint(lo, hi))
    harmony = Harmony(rng, modes)
    bars = int(seconds * bpm / 240) + 2  # a bar beyond the length, cut when rendered
    song = Song(name, bpm, bars, key=f"{NOTE_NAMES[harmony.tonic]} {harmony.mode}")
    score = Score(bpm)
    composer(score, rng, song, harmony)
    return song, score.to_bytes()


# ---------------------------------------------------------------------------------------------
# Rendering


def fluidsynth_command(soundfont: str, midi: str, wav: str) -> list[str]:
    return [
        "fluidsynth",
        "-ni",
        "-q",
        "-g",
        str(GAIN),
        "-r",
        str(SAMPLE_RATE),
        "-O",
        "float",
        "-T",
        "wav",
        "-F",
        wav,
        soundfont,
        midi,
    ]


def render(soundfont: str, midi_bytes: bytes, workdir: str | os.PathLike):
    """Render MIDI bytes with fluidsynth: float64 (2, samples) at 44.1 kHz."""
    import numpy as np
    import soundfile as sf

    workdir = Path(workdir)
    midi, wav = workdir / "song.mid", workdir / "song.wav"
    midi.write_bytes(midi_bytes)
    proc = subprocess.run(fluidsynth_command(soundfont, str(midi), str(wav)), capture_output=True, text=True)
    if proc.returncode != 0 or not wav.is_file():
        raise RuntimeError(f"fluidsynth failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    audio, rate = sf.read(str(wav), dtype="float64", always_2d=True)
    if rate != SAMPLE_RATE:
        raise RuntimeError(f"fluidsynth wrote {rate} Hz, not {SAMPLE_RATE}")
    return np.ascontiguousarray(audio.T)


def finish(audio, seconds: float):
    """Cut or pad to ``seconds``, fade out the last :data:`FADE_SECONDS`, peak at :data:`PEAK_DBFS`."""
    import numpy as np

    n = int(round(seconds * SAMPLE_RATE))
    out = np.zeros((2, n))
    m = min(n, audio.shape[1])
    out[:, :m] = audio[:, :m]
    fade = min(n, int(FADE_SECONDS * SAMPLE_RATE))
    if fade:
        out[:, n - fade :] *= np.cos(np.linspace(0, np.pi / 2, fade)) ** 2
    peak = np.max(np.abs(out))
    if peak > 0:
        out *= 10 ** (PEAK_DBFS / 20) / peak
    return out


def software_versions() -> dict[str, str]:
    import numpy as np
    import soundfile as sf

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
    }
    try:
        out = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True).stdout
        versions["fluidsynth"] = next((line for line in out.splitlines() if "version" in line.lower()), out.strip())
    except OSError:
        versions["fluidsynth"] = "not found"
    for pkg in ("fluidsynth", "fluid-soundfont-gm", "musescore-general-soundfont"):
        try:
            out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
            if out.returncode == 0 and out.stdout:
                versions[f"Debian {pkg}"] = out.stdout
        except OSError:
            break
    return versions


def soundfont_licence(path: str) -> tuple[str, str]:
    """(Debian package, licence) of a SoundFont, when it is one of the known ones."""
    for known, info in KNOWN_SOUNDFONTS.items():
        if os.path.realpath(known) == os.path.realpath(path) or known == path:
            return info
    return ("", "unknown: see the SoundFont's own licence")


def build(
    output: str | os.PathLike,
    songs: int = 6,
    seconds: float = 20.0,
    soundfonts: list[str] | None = None,
    seed: int = 0,
    command: str | None = None,
    log=print,
) -> list[dict]:
    """Build the set into ``output``; returns the manifest's entries."""
    import numpy as np
    import soundfile as sf

    from audioenh.analysis.bandwidth import band_edges

    if shutil.which("fluidsynth") is None:
        raise RuntimeError("fluidsynth is not installed (apt-get install fluidsynth)")
    soundfonts = list(soundfonts or default_soundfonts())
    if not soundfonts:
        raise RuntimeError("no SoundFont found (apt-get install fluid-soundfont-gm musescore-general-soundfont)")
    for sf2 in soundfonts:
        if not os.path.isfile(sf2):
            raise RuntimeError(f"no such SoundFont: {sf2}")
    output = Path(output)
    test = output / "test"
    test.mkdir(parents=True, exist_ok=True)
    for old in test.glob("*.flac"):
        old.unlink()
    entries = []
    with tempfile.TemporaryDirectory(prefix="real-set-") as tmp:
        for i in range(songs):
            song, midi = compose(i, seed, seconds)
            soundfont = soundfonts[i % len(soundfonts)]
            t = time.perf_counter()
            audio = finish(render(soundfont, midi, tmp), seconds)
            name = f"{i + 1:02d}-{song.style}-{Path(soundfont).stem}.flac"
            sf.write(str(test / name), audio.T, SAMPLE_RATE, subtype="PCM_24")
            edges = band_edges(audio, SAMPLE_RATE)
            entry = {
                "file": f"test/{name}",
                "soundfont": os.path.basename(soundfont),
                "soundfont_path": soundfont,
                "style": song.style,
                "key": song.key,
                "bpm": song.bpm,
                "instruments": song.instruments,
                "seconds": seconds,
                "frames": int(audio.shape[1]),
                "sample_rate": SAMPLE_RATE,
                "band_edge_hz": round(edges.edge, 1),
                "full_band": edges.full_band,
                "side_band_edge_hz": round(edges.side, 1),
                "peak_dbfs": round(20 * float(np.log10(np.max(np.abs(audio)))), 2),
            }
            entries.append(entry)
            edge = "full band" if edges.full_band else f"{edges.edge / 1000:.2f} kHz"
            log(
                f"{name}: {song.style}, {song.key}, {song.bpm:g} bpm, band edge {edge} "
                f"({time.perf_counter() - t:.1f} s)"
            )
    meta = {
        "seed": seed,
        "songs": songs,
        "seconds": seconds,
        "sample_rate": SAMPLE_RATE,
        "peak_dbfs": PEAK_DBFS,
        "command": command,
        "software": software_versions(),
        "files": entries,
    }
    (output / "manifest.json").write_text(json.dumps(meta, indent=2) + "\n")
    (output / "README.md").write_text(readme(meta, soundfonts))
    return entries


def readme(meta: dict, soundfonts: list[str]) -> str:
    lines = [
        "# Real recorded instruments: an evaluation set (test split only)",
        "",
        "Songs composed as MIDI by `tools/build_real_set.py` (deterministic from the seed) and rendered with",
        "FluidSynth through General MIDI SoundFonts whose samples are recordings of real instruments.",
        "Generated data: never used for training; read it with `--data <this folder> --split test`.",
        f"{meta['songs']} songs × {meta['seconds']:g} s, 44.1 kHz stereo 24-bit FLAC, peak {meta['peak_dbfs']:g} dBFS,",
        f"faded out over the last {FADE_SECONDS:g} s. Per-file details (SoundFont, style, instruments, band",
        "edge): `manifest.json`. See docs/real-recordings.md in the audioenh repository.",
        "",
        "## Rebuilt with",
        "",
        "```console",
        f"$ {meta['command']}",
        "```",
        "",
        "## SoundFonts and licences",
        "",
    ]
    for path in soundfonts:
        package, licence = soundfont_licence(path)
        lines.append(f"- `{path}`" + (f" (Debian package `{package}`)" if package else "") + f": {licence}")
    lines += ["", "The full licence texts: `/usr/share/doc/<package>/copyright`.", "", "## Software", ""]
    lines += [f"- {k}: {v}" for k, v in meta["software"].items()]
    lines += ["", "## Files", "", "| file | SoundFont | style | band edge |", "| --- | --- | --- | --- |"]
    for e in meta["files"]:
        edge = "full band (22.05 kHz)" if e["full_band"] else f"{e['band_edge_hz'] / 1000:.2f} kHz"
        lines.append(f"| {e['file']} | {e['soundfont']} | {e['style']} | {edge} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# Probe: how high each instrument reaches, alone

PROBE_PITCHES = (48, 60, 72, 84)
PROBE_DRUMS = (
    KICK,
    SNARE,
    HAT,
    PEDAL_HAT,
    OPEN_HAT,
    CRASH,
    RIDE,
    RIDE_BELL,
    TAMBOURINE,
    SPLASH,
    COWBELL,
    CRASH2,
    CHINA,
    CLAP,
    STICK,
    MARACAS,
    CABASA,
    CLAVES,
    GUIRO,
    OPEN_CONGA,
    HI_BONGO,
    HI_TIMBALE,
    TRIANGLE_OPEN,
)
PROBE_KITS = (0, 8, 16, 24, 25, 32, 40, 48)
PROBE_SECONDS = 4  # per instrument: notes for 2 s, then 2 s of release


def reach(mono, sample_rate: int = SAMPLE_RATE) -> float:
    """The lowest frequency (Hz) from which the whole rest of the long-term spectrum lies at least 30 dB
    below its median level from 1 kHz up to there: the gate of audioenh's band-edge definition
    (docs/bandwidth.md), i.e. how high the sound reaches; the Nyquist frequency when it never does."""
    import numpy as np

    from audioenh.analysis.bandwidth import GATE_DB, long_term_spectrum

    f, level = long_term_spectrum(mono, sample_rate)
    df = f[1] - f[0]
    first, lowest = int(round(1000 / df)), int(round(2000 / df))
    top = np.maximum.accumulate(level[::-1])[::-1]
    gate = next((i for i in range(lowest, len(f)) if top[i] <= np.median(level[first:i]) - GATE_DB), None)
    return float(sample_rate / 2 if gate is None else f[gate])


def probe(soundfont: str) -> dict[str, tuple[float, float]]:
    """(band edge, reach) in Hz of each GM program alone (C3, C4, C5, C6, half a second each) and of
    each probed note of each drum kit (two strokes), keyed ``program N`` or ``kit K note N``."""
    from audioenh.analysis.bandwidth import band_edge

    seg = PROBE_SECONDS * 2 * TPB  # at 120 bpm
    score = Score(120.0)
    labels = []
    for program in range(128):
        t0 = len(labels) * seg
        score.program(0, program, t0)
        for k, p in enumerate(PROBE_PITCHES):
            score.note(0, t0 + k * TPB, TPB, p, 100)
        labels.append(f"program {program}")
    for kit in PROBE_KITS:
        score.program(DRUMS, kit, len(labels) * seg)
        for note in PROBE_DRUMS:
            t0 = len(labels) * seg
            score.note(DRUMS, t0, TPB // 4, note, 110)
            score.note(DRUMS, t0 + TPB, TPB // 4, note, 90)
            labels.append(f"kit {kit} note {note}")
    with tempfile.TemporaryDirectory(prefix="real-probe-") as tmp:
        mono = render(soundfont, score.to_bytes(), tmp).mean(axis=0)
    n = PROBE_SECONDS * SAMPLE_RATE
    return {
        label: (band_edge(mono[i * n : (i + 1) * n], SAMPLE_RATE), reach(mono[i * n : (i + 1) * n]))
        for i, label in enumerate(labels)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--output", default="real", help="folder to write (FLAC files already in its test/ are removed); default: real"
    )
    parser.add_argument("--songs", type=int, default=6, help="number of songs (default 6)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each song in seconds (default 20)")
    parser.add_argument(
        "--soundfont",
        action="append",
        default=None,
        help="a SoundFont (.sf2/.sf3), repeatable; songs alternate between them. Default: every one of "
        + ", ".join(KNOWN_SOUNDFONTS)
        + " that exists (each file once)",
    )
    parser.add_argument("--seed", type=int, default=0, help="composition seed (default 0)")
    parser.add_argument(
        "--probe",
        action="store_true",
        help="print, for each SoundFont, the band edge and reach (Hz) of every GM program and "
        "of the drum notes used, each alone (tab-separated)",
    )
    args = parser.parse_args(argv)
    if args.songs < 1 or args.seconds <= 0:
        parser.error("--songs and --seconds must be positive")
    try:
        if args.probe:
            fonts = args.soundfont or default_soundfonts()
            results = [probe(sf2) for sf2 in fonts]
            print("\t".join(["instrument"] + [f"{Path(f).stem} edge\t{Path(f).stem} reach" for f in fonts]))
            for label in results[0]:
                print("\t".join([label] + [f"{r[label][0]:.0f}\t{r[label][1]:.0f}" for r in results]))
            return 0
        command = "python tools/build_real_set.py " + shlex.join(argv if argv is not None else sys.argv[1:])
        t = time.perf_counter()
        build(args.output, args.songs, args.seconds, args.soundfont, args.seed, command=command.strip())
        print(f"wrote {args.songs} songs into {Path(args.output) / 'test'} in {time.perf_counter() - t:.1f} s")
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
