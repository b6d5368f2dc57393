"""The level a network runs at: its input scaled to the RMS level its checkpoint names, its output back.

A network with biases and ReLUs is not scale-equivariant: the bundled 11025-Hz Chebyshev II model
gained +4.37 dB on elliptic-4 inputs at the built-in songs' own level and -0.74 dB 12 dB below it,
and in safe mode the bank lost up to 0.93 dB on such quiet songs (docs/enhance.md). Restoring a
band is linear in the music (twice as loud in, twice as loud out), so a checkpoint may name the
level its network works best at (``input_level_db``, RMS dBFS over all channels): every input is
scaled to it by one gain per input (:func:`level_gain`, measured on the whole input or, when
streaming, on the analysis excerpts) and the output scaled back by the same gain. Checkpoints that
name none (every ``audioenh train`` run) run at the input's own level, as the paper's code does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: the checkpoint key naming the level (RMS dBFS) the network's input is scaled to
LEVEL_KEY = "input_level_db"
#: the gain never exceeds this many dB either way: near-silent inputs are not blown up to music level
MAX_GAIN_DB = 40.0
SILENT_RMS = 1e-7  # an input this quiet (RMS, -140 dBFS) runs as it is


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
