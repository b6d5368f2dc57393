"""Safe mode's burst limit: the network's contribution held, moment by moment, near its usual level.

The level limit (:meth:`audioenh.evaluation.crossover.Restoration.level_limited`) holds the network's
contribution to the music's level in the *long-term* spectrum. A network can still add short bursts
far louder than the music: the quick report's ResNet BN, on a jazz song of real recordings low-passed
by a Butterworth 8 at 11025 Hz, put out 15-22 kHz bursts up to 32 dB above the original in a few
frames of 23 ms, while its long-term level there stayed 10-20 dB *below* the original's, and lost
1.9 dB SNR on that song (docs/results.md). The music's band above its edge rises and falls with the
band just below it; so the contribution's power is compared, moment by moment (:data:`WINDOW`
samples), with the input's power from :data:`BAND_BELOW_HZ` below the edge to :data:`BAND_GAP_HZ`
below it. The median of that ratio over the input's audible moments is the contribution's usual
level (:func:`reference_db`, measured once per input where safe mode measures the level limit);
wherever the ratio rises more than :data:`MARGIN_DB` above it, the contribution is scaled down to that
margin (:func:`limited`). The gain at a sample depends on the audio within :func:`reach` samples of
it, so streamed blocks with that much more context join without seams.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, signal

WINDOW = 1024  # samples over which the powers are compared (23 ms at 44.1 kHz)
MARGIN_DB = 15.0  # the contribution may rise this far above its usual ratio to the band below the edge (dB)
BAND_BELOW_HZ = 2000.0  # the input's reference band starts this far below the band edge (Hz) ...
BAND_GAP_HZ = 300.0  # ... and ends this far below it (Hz)
BAND_ORDER = 4  # the reference band is cut by a Butterworth band-pass of this order (per side)
#: the band-pass's impulse response falls below 1e-6 of its RMS within this (s) for every band of at
#: least MIN_BAND_HZ (worst at the lowest centres: 782 samples at 44.1 kHz); an FIR of 511 taps took
#: four times as long to apply (1.75 against 0.44 ms per 0.8-s stereo block on 2 cores)
BAND_SETTLE_SECONDS = 0.018
MIN_BAND_HZ = 1500.0  # a narrower reference band (an edge below 2.3 kHz) is not measured (Hz)
ACTIVE_DB = 20.0  # moments whose reference band lies this far below its median do not set the usual level (dB)
LOWEST_BAND_HZ = 500.0  # the reference band never starts below this (Hz)
CUT_DB = 1.0  # a moment counts as burst-limited where the gain is this far below 1 (dB), for reports


def reach(sample_rate: int) -> int:
    """How far (samples at ``sample_rate``) the gain at a sample depends on the audio around it: the
    band-pass's settling, then three filters of :data:`WINDOW` samples."""
    return math.ceil(BAND_SETTLE_SECONDS * sample_rate) + 3 * (WINDOW // 2) + 1


def _band(edge_hz: float) -> tuple[float, float]:
    """The reference band (Hz) for a band edge at ``edge_hz``."""
    return max(edge_hz - BAND_BELOW_HZ, LOWEST_BAND_HZ), edge_hz - BAND_GAP_HZ


def _measurable(edge_hz: float, samples: int) -> bool:
    """Whether an input of ``samples`` whose band ends at ``edge_hz`` (Hz) has a reference band wide
    enough (:data:`MIN_BAND_HZ`) and a window's worth of samples."""
    low, high = _band(edge_hz)
    return high - low >= MIN_BAND_HZ and samples >= WINDOW


@functools.lru_cache(maxsize=64)
def _band_pass(low: float, high: float, sample_rate: int) -> np.ndarray:
    return signal.butter(BAND_ORDER, [low, high], btype="bandpass", fs=sample_rate, output="sos")


def _powers(inputs: np.ndarray, contribution: np.ndarray, edge_hz: float, sample_rate: int):
    """The channel-mean power (per sample, over :data:`WINDOW` samples around it) of the contribution and
    of the input's reference band: arrays of (..., samples) for audio of (..., channels, samples)."""
    band = signal.sosfilt(_band_pass(*_band(edge_hz), sample_rate), np.atleast_2d(inputs).astype(np.float64), axis=-1)

    def power(x: np.ndarray) -> np.ndarray:
        squares = (np.atleast_2d(x).astype(np.float64) ** 2).mean(axis=-2)
        mean = ndimage.uniform_filter1d(squares, WINDOW, axis=-1, mode="nearest")
        return np.maximum(mean, 0.0) + 1e-20  # a running sum may round below 0

    return power(contribution), power(band)


def reference_db(inputs: np.ndarray, contribution: np.ndarray, edge_hz: float, sample_rate: int) -> float | None:
    """The contribution's usual level (dB) relative to the input's reference band: the median of their
    power ratio over the moments where that band is audible (within :data:`ACTIVE_DB` of its median);
    ``None`` when the edge leaves no reference band or the input is too short to measure."""
    if not _measurable(edge_hz, np.shape(inputs)[-1]):
        return None
    added, band = _powers(inputs, contribution, edge_hz, sample_rate)
    step = WINDOW // 4
    added, band = added[::step], band[::step]
    active = band > np.median(band) * 10 ** (-ACTIVE_DB / 10)
    return float(np.median(10 * np.log10(added[active] / band[active])))


def gains(
    inputs: np.ndarray, contribution: np.ndarray, edge_hz: float, sample_rate: int, reference: float
) -> np.ndarray:
    """The burst limit's gain (0-1) on the contribution at each sample: 1 where its ratio to the input's
    reference band stays within :data:`MARGIN_DB` of ``reference`` (dB), less where it rises beyond, held
    at the lowest over a window and smoothed. Audio of (..., channels, samples) (e.g. a batch of
    blocks, each on its own) gives gains of (..., samples)."""
    added, band = _powers(inputs, contribution, edge_hz, sample_rate)
    allowed = band * 10 ** ((reference + MARGIN_DB) / 10)  # the most power the contribution may have
    if np.all(added <= allowed):  # no burst (most blocks): the filters below would give 1 everywhere
        return np.ones_like(added)
    gain = np.sqrt(np.minimum(1.0, allowed / added))
    gain = ndimage.minimum_filter1d(gain, WINDOW, axis=-1, mode="nearest")
    return ndimage.uniform_filter1d(gain, WINDOW, axis=-1, mode="nearest")


def limited(
    inputs: np.ndarray,
    contribution: np.ndarray,
    edge_hz: float,
    sample_rate: int,
    reference: float | None,
    on_cut: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """``contribution`` (channels, samples, or a batch of such blocks, each limited on its own; what safe
    mode adds to ``inputs``) under the burst limit for an input whose band ends at ``edge_hz`` (Hz), at
    ``sample_rate``; as it is when ``reference`` is ``None`` (not measured). ``on_cut`` receives the
    gains (..., samples) whenever the limit cut somewhere."""
    if reference is None or not _measurable(edge_hz, np.shape(inputs)[-1]):
        return contribution
    gain = gains(inputs, contribution, edge_hz, sample_rate, reference)
    if np.all(gain == 1.0):
        return contribution
    if on_cut is not None:
        on_cut(gain)
    return (contribution * gain[..., None, :]).astype(np.float32)


def cut_spans(gain: np.ndarray, offset: int = 0) -> list[tuple[int, int, float]]:
    """Where the 1-D ``gain`` lies more than :data:`CUT_DB` below 1: ``(start, end, deepest cut in dB)``
    per span, ``end`` exclusive, positions plus ``offset`` (samples)."""
    cut = gain < 10 ** (-CUT_DB / 20)
    if not cut.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], cut.astype(np.int8), [0]])))
    return [
        (offset + int(a), offset + int(b), float(-20 * np.log10(max(float(gain[a:b].min()), 1e-10))))
        for a, b in zip(edges[::2], edges[1::2])
    ]


@dataclass
class BurstTally:
    """Where the burst limit cut, over the blocks of an overlap-save stream (each block's own ``chunk``
    samples after ``context``, blocks in order): for ``enhance``'s report. The last block recorded is
    kept as gains until the stream's length is known: a stream's final block runs on past its end."""

    chunk: int
    context: int
    blocks: int = 0
    spans: list[tuple[int, int, float]] = field(default_factory=list)
    last: tuple[int, np.ndarray] | None = None  # (its first sample, its own gains)

    def recorder(self, count: int) -> Callable[[np.ndarray], None]:
        """For the next ``count`` blocks (one batch): records the gains ``limited`` reports for them."""
        first, self.blocks = self.blocks, self.blocks + count

        def record(gain: np.ndarray) -> None:
            if self.last is not None:
                self.spans += cut_spans(self.last[1], self.last[0])
            own = np.reshape(gain, (count, -1))[:, self.context : self.context + self.chunk]
            for i, g in enumerate(own[:-1]):
                self.spans += cut_spans(g, (first + i) * self.chunk)
            self.last = ((first + count - 1) * self.chunk, own[-1].copy())

        return record

    #: the keys of :meth:`summary`
    KEYS = ("burst_passages", "burst_limited_seconds", "burst_cut_db")

    @classmethod
    def unmeasured(cls) -> dict:
        """:meth:`summary`'s keys, all ``None``: for a file the burst limit was not applied to."""
        return dict.fromkeys(cls.KEYS)

    def summary(self, samples: int, sample_rate: int) -> dict:
        """``burst_passages`` (spans cut, joined across block borders), ``burst_limited_seconds`` and
        ``burst_cut_db`` (the deepest cut; ``None`` without any) within the stream's first ``samples``."""
        spans = list(self.spans)
        if self.last is not None:
            start, gain = self.last
            spans += cut_spans(gain[: max(0, samples - start)], start)
        merged: list[list] = []
        for start, end, depth in sorted(s for s in spans if s[0] < samples):
            if merged and start <= merged[-1][1]:
                merged[-1][1], merged[-1][2] = max(merged[-1][1], end), max(merged[-1][2], depth)
            else:
                merged.append([start, end, depth])
        passages = len(merged)
        seconds = sum(e - s for s, e, _ in merged) / sample_rate
        return dict(zip(self.KEYS, (passages, seconds, max((d for _, _, d in merged), default=None))))
