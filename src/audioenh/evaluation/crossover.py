"""Do no harm: the network may only add what the input lacks, above its band edge.

In ``enhance``'s default (``safe``) mode the output is ``input + H(network(input) - input)``,
where ``H`` is a linear-phase (zero-phase, symmetric FIR) high-pass whose stop band covers
everything up to the input's band edge: below the edge the output is the input itself (to the
filter's 90 dB stop-band), above it the network's restoration. When the band edge is at (or
within the transition of) the Nyquist frequency there is nothing to restore and the input is
returned unchanged.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

TRANSITION_HZ = 600.0  # width of the crossover's transition band (Hz), above the edge
STOPBAND_DB = 90.0  # attenuation of the network's contribution below the edge (dB)


def restoration_filter(edge_hz: float, sample_rate: int) -> np.ndarray | None:
    """The symmetric FIR high-pass (odd length) that passes the band above ``edge_hz`` + the
    transition and stops ≥ :data:`STOPBAND_DB` below ``edge_hz``; ``None`` when nothing lies above."""
    nyquist = sample_rate / 2
    if edge_hz + TRANSITION_HZ >= nyquist:
        return None
    numtaps, beta = signal.kaiserord(STOPBAND_DB, TRANSITION_HZ / nyquist)
    numtaps |= 1  # odd: a type-I linear-phase high-pass
    return signal.firwin(numtaps, edge_hz + TRANSITION_HZ / 2, window=("kaiser", beta), pass_zero=False, fs=sample_rate)


def keep_below_edge(inputs: np.ndarray, outputs: np.ndarray, taps: np.ndarray | None) -> np.ndarray:
    """``inputs + taps * (outputs - inputs)`` along the last axis, zero-phase ('same' convolution);
    ``inputs`` when ``taps`` is None. The first and last ``len(taps) // 2`` samples see the block's edges."""
    if taps is None:
        return np.asarray(inputs, dtype=np.float32)
    kernel = taps.reshape((1,) * (np.ndim(outputs) - 1) + (-1,))
    correction = signal.fftconvolve(outputs - inputs, kernel, mode="same", axes=-1)
    return (inputs + correction).astype(np.float32)
