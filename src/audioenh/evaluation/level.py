"""The level a network runs at: its input scaled to the RMS level its checkpoint names, its output back.

A network with biases and ReLUs is not scale-equivariant: the bundled 11025-Hz Chebyshev II model
gained +4.37 dB on elliptic-4 inputs at the built-in songs' own level and -0.74 dB 12 dB below it,
and in safe mode the bank lost up to 0.93 dB on such quiet songs (docs/enhance.md). Restoring a
band is linear in the music (twice as loud in, twice as loud out), so a checkpoint may name the
level its network works best at (``input_level_db``, RMS dBFS over all channels): every input is
scaled to it by one gain per input (:func:`level_gain`, measured on the whole input or, when
streaming, on the analysis excerpts) and the output scaled back by the same gain. Checkpoints that
name none run at the input's own level, as the paper's code does. ``audioenh train`` names the
level of its training songs (:func:`training_level_db`; ``--input-level``), so that a network trained
on the built-in corpus (about -19 dBFS) restores a recording 24 dB quieter as it would at that level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AudioenhError

#: the checkpoint key naming the level (RMS dBFS) the network's input is scaled to
LEVEL_KEY = "input_level_db"
#: the gain never exceeds this many dB either way: near-silent inputs are not blown up to music level
MAX_GAIN_DB = 40.0
SILENT_RMS = 1e-7  # an input this quiet (RMS, -140 dBFS) runs as it is
#: seconds from the middle of each training song whose level :func:`training_level_db` measures
LEVEL_EXCERPT_SECONDS = 30.0
#: ``--input-level`` values (besides a level in dBFS): the training songs' mean, or each input's own
INPUT_LEVELS = ("auto", "none")


def input_level_db(checkpoint: dict[str, Any]) -> float | None:
    """The RMS level (dBFS) the checkpoint's network runs at; ``None``: the input's own level."""
    value = checkpoint.get(LEVEL_KEY)
    return None if value is None else float(value)


def rms_db(audio: np.ndarray) -> float:
    """RMS level (dBFS) of ``audio`` over all its channels and samples; ``-inf`` when silent."""
    rms = float(np.sqrt(np.mean(np.square(np.asarray(audio, dtype=np.float64))))) if np.size(audio) else 0.0
    return 20.0 * np.log10(rms) if rms > SILENT_RMS else float("-inf")


def level_gain(audio: np.ndarray, level_db: float | None) -> float:
    """The factor that brings ``audio``'s RMS to ``level_db`` dBFS (at most :data:`MAX_GAIN_DB` either
    way); 1 when ``level_db`` is ``None`` or ``audio`` is silent."""
    if level_db is None:
        return 1.0
    level = rms_db(audio)
    if not np.isfinite(level):
        return 1.0
    return float(10.0 ** (np.clip(level_db - level, -MAX_GAIN_DB, MAX_GAIN_DB) / 20.0))


def model_gain(model: Any, audio: np.ndarray) -> float:
    """The gain :func:`level_gain` gives ``audio`` for ``model``, which carries its checkpoint's level as
    the attribute :data:`LEVEL_KEY` (:func:`audioenh.checkpoint.build_model`); 1 for a model without one."""
    return level_gain(audio, getattr(model, LEVEL_KEY, None))


def training_level_db(songs) -> float | None:
    """The mean RMS level (dBFS) of ``songs`` (corpus :class:`~audioenh.data.corpus.Song` objects),
    each measured on :data:`LEVEL_EXCERPT_SECONDS` from its middle; ``None`` when all are silent."""
    from ..data.corpus import SAMPLE_RATE  # the rate Song.read's sample indices count at

    half = int(LEVEL_EXCERPT_SECONDS * SAMPLE_RATE / 2)
    levels = []
    for song in songs:
        middle = song.frames_at_rate // 2
        level = rms_db(song.read(max(0, middle - half), middle + half))
        if np.isfinite(level):
            levels.append(level)
    return float(np.mean(levels)) if levels else None


def check_input_level(request: str) -> str:
    """``request`` if it is a valid ``--input-level``: auto, none or a level in dBFS from -80 to 0."""
    text = str(request).strip().lower()
    if text in INPUT_LEVELS:
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not -80.0 <= value <= 0.0:
        raise AudioenhError(f"--input-level must be auto, none or a level in dBFS from -80 to 0; got {request!r}")
    return f"{value:g}"


def resolve_input_level(request: str, songs) -> float | None:
    """The level (dBFS) a run's network runs at for ``--input-level`` ``request``: the training songs'
    mean for auto (:func:`training_level_db`), ``None`` (each input's own) for none, else the number."""
    request = check_input_level(request)
    if request == "none":
        return None
    if request == "auto":
        return training_level_db(songs)
    return float(request)
