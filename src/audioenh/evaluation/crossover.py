"""Do no harm: the network may only add what the input lacks, and only where it was trained to.

In ``enhance``'s default (``safe``) mode the output is ``input + g * H(network(input) - input)``:

- ``H`` is a linear-phase (zero-phase, symmetric FIR) high-pass around the input's band edge. The
  band edge (:mod:`audioenh.analysis.bandwidth`) is the centre of the band's final drop, so the
  band the input lacks starts a little below it: ``H`` stops (90 dB) everything below
  ``edge - 900 Hz``, where the output is the input itself, and passes everything above
  ``edge - 300 Hz``.
- ``g`` is how far the network is trusted (:func:`trust`): 1 when the input's edge lies within
  the edges that the degradations it was trained on give this very input (±250 Hz), falling
  linearly to 0 750 Hz further out. A network trained on 11-kHz low-passes damages a 13-kHz
  low-pass or a 16-kHz MP3 by 12-17 dB even above the edge; there it is not used at all and the
  input is returned (docs/enhance.md has the measured table).

When the band edge is at (or within the transition of) the Nyquist frequency there is nothing to
restore, and the input is returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

TRANSITION_HZ = 600.0  # width of the crossover's transition band (Hz)
BELOW_EDGE_HZ = 300.0  # the crossover passes everything above edge - this (Hz)
STOPBAND_DB = 90.0  # attenuation of the network's contribution below edge - BELOW_EDGE_HZ - TRANSITION_HZ (dB)
TRUSTED_MARGIN_HZ = 250.0  # full trust within this distance of the training edges (Hz)
TRUST_FADE_HZ = 750.0  # trust falls to zero over this distance beyond the margin (Hz)


def nothing_to_restore(edge_hz: float, sample_rate: int) -> bool:
    """True when the band reaches (within the crossover's transition) the Nyquist frequency."""
    return edge_hz + TRANSITION_HZ >= sample_rate / 2


def restoration_filter(edge_hz: float, sample_rate: int) -> np.ndarray | None:
    """The symmetric FIR high-pass (odd length) that passes everything above ``edge_hz`` -
    :data:`BELOW_EDGE_HZ` and stops ≥ :data:`STOPBAND_DB` below that minus the transition;
    ``None`` when there is nothing to restore."""
    nyquist = sample_rate / 2
    if nothing_to_restore(edge_hz, sample_rate):
        return None
    numtaps, beta = signal.kaiserord(STOPBAND_DB, TRANSITION_HZ / nyquist)
    numtaps |= 1  # odd: a type-I linear-phase high-pass
    cutoff = edge_hz - BELOW_EDGE_HZ - TRANSITION_HZ / 2
    return signal.firwin(numtaps, cutoff, window=("kaiser", beta), pass_zero=False, fs=sample_rate)


def trust(edge_hz: float, trained: tuple[float, float] | None) -> float:
    """How far to trust the network (0-1) for an input whose band ends at ``edge_hz``, given the
    range of band edges it was trained on (``None``: unknown, trusted)."""
    if trained is None:
        return 1.0
    low, high = trained
    distance = max(low - edge_hz, edge_hz - high, 0.0) - TRUSTED_MARGIN_HZ
    return float(np.clip(1.0 - distance / TRUST_FADE_HZ, 0.0, 1.0))


def training_edges(
    specs: list[str], sample_rate: int, audio: np.ndarray | None = None, seconds: float = 2.0
) -> tuple[float, float] | None:
    """The range of band edges (Hz) of the degradations ``specs`` (chains, ranges at both ends), each
    measured on ``audio`` passed through it (like for like: the input itself; white noise when
    ``None``); ``None`` when there are no specs."""
    from ..analysis.bandwidth import band_edge
    from ..degradations.chain import DegradationSampler

    if audio is None:
        audio = np.random.default_rng(0).standard_normal((2, int(seconds * sample_rate))) * 0.1
    probe = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    edges = []
    for spec in specs:
        sampler = DegradationSampler(spec, sample_rate)
        for concrete in sampler.extremes():
            chain = sampler.build(concrete)
            edges.append(band_edge(chain(probe, sample_rate, np.random.default_rng(0)).mean(axis=0), sample_rate))
    return (min(edges), max(edges)) if edges else None


def keep_below_edge(inputs: np.ndarray, outputs: np.ndarray, taps: np.ndarray | None, gain: float = 1.0) -> np.ndarray:
    """``inputs + gain * taps * (outputs - inputs)`` along the last axis, zero-phase ('same'
    convolution); ``inputs`` when ``taps`` is None or ``gain`` is 0. The first and last
    ``len(taps) // 2`` samples see the block's edges."""
    if taps is None or gain <= 0:
        return np.asarray(inputs, dtype=np.float32)
    kernel = taps.reshape((1,) * (np.ndim(outputs) - 1) + (-1,))
    correction = gain * signal.fftconvolve(outputs - inputs, kernel, mode="same", axes=-1)
    return (inputs + correction).astype(np.float32)


@dataclass(frozen=True)
class Restoration:
    """What safe mode does with one input: its band edge (Hz), the crossover taps (``None``: nothing to
    restore), how far the network is trusted (0-1) and the training edges that decided it (Hz)."""

    edge_hz: float
    taps: np.ndarray | None
    gain: float
    trained: tuple[float, float] | None

    @property
    def skip(self) -> bool:
        """True when the network is not run at all: nothing to restore, or not trusted here."""
        return self.taps is None or self.gain <= 0

    def info(self) -> dict:
        trained = None if self.trained is None else [float(v) for v in self.trained]
        return {"edge_hz": float(self.edge_hz), "trust": self.gain, "trained_edges_hz": trained}


def plan_restoration(
    audio: np.ndarray,
    audio_rate: int,
    model_rate: int,
    trained_specs: list[str],
    edge_hz: float | None = None,
) -> Restoration:
    """Safe mode's decision for an input of which ``audio`` is (an excerpt of) the samples, at
    ``audio_rate`` Hz, for a network at ``model_rate`` Hz trained on ``trained_specs``: the band edge
    (detected unless ``edge_hz`` is given), the crossover, and the trust (the training degradations are
    measured on the input itself where the rates agree, else on white noise)."""
    from ..analysis.bandwidth import band_edges

    edge = float(edge_hz) if edge_hz is not None else band_edges(audio, audio_rate).edge
    taps = restoration_filter(edge, model_rate)
    if taps is None:
        return Restoration(edge, None, 0.0, None)
    trained = training_edges(list(trained_specs), model_rate, audio if audio_rate == model_rate else None)
    return Restoration(edge, taps, trust(edge, trained), trained)


def enhance_array_safely(
    model,
    audio: np.ndarray,
    sample_rate: int,
    trained_specs: list[str],
    *,
    edge_hz: float | None = None,
    chunk: int | None = None,
    context: int | None = None,
    device=None,
    precision: str = "fp32",
) -> tuple[np.ndarray, dict]:
    """Safe mode on a whole (channels, samples) array (``audioenh test --mode safe``): returns the output
    and ``{"edge_hz", "trust", "trained_edges_hz"}``. Same rule as ``enhance``'s streamed safe mode
    (beyond the signal's ends the crossover sees zeros, where streamed blocks see the network's answer
    to zeros: the two differ only within half the filter's length of the ends)."""
    from ..architectures.receptive import receptive_field
    from .inference import DEFAULT_CHUNK, enhance_array

    plan = plan_restoration(audio, sample_rate, sample_rate, trained_specs, edge_hz)
    if plan.skip:
        return np.asarray(audio, dtype=np.float32).copy(), plan.info()
    reach = (context if context is not None else receptive_field(model)) + len(plan.taps) // 2
    out = enhance_array(model, audio, chunk=chunk or DEFAULT_CHUNK, context=reach, device=device, precision=precision)
    return keep_below_edge(np.asarray(audio, dtype=np.float32), out, plan.taps, plan.gain), plan.info()
