"""Where a recording's band ends: the band edge, estimated from its long-term spectrum.

Definition (what :func:`band_edge` estimates). Take the long-term power spectrum of the signal
(Welch: 8192-sample Hann frames, half overlap, in dB) and median-smooth it over ±150 Hz. The
signal is *band-limited* when, from some frequency on, the whole rest of the spectrum lies at
least :data:`GATE_DB` (30 dB) below the median level from 1 kHz up to that frequency. Its *band
edge* is then the centre of the steepest 800-Hz descent of the smoothed spectrum between 2 kHz and
that frequency: where the low-pass, resampler or codec cuts. A signal that is not band-limited has
its edge at the Nyquist frequency (full band); so do silent signals.

Accuracy, measured on the built-in corpus (tests/test_bandwidth.py): within ±300 Hz of the same
estimate on white noise passed through the same degradation for steep cut-offs (brick-wall, FIR,
Chebyshev I/II, elliptic, resampling), and full band for degradations that do not band-limit (gain,
noise, clipping, quantisation, wow and flutter). Gentle low-passes (Bessel, low-order Butterworth)
have no sharp edge: their estimate lies where the spectrum falls fastest, which depends on the
music's own slope (up to a few kHz above the nominal cut-off; above it, never below).

Per channel and mid/side: joint-stereo codecs narrow the side channel, so :func:`band_edges`
reports left, right, mid and side; the band edge of the recording is the mid's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage, signal

GATE_DB = 30.0  # how far below the band everything above its end must lie (dB)
FRAME = 8192  # Welch frame (samples)
SMOOTH_HZ = 150.0  # median smoothing half-width (Hz)
SPAN_HZ = 400.0  # half-width of the descent measured for the edge (Hz)
LOWEST_EDGE_HZ = 2000.0  # edges are searched above this (Hz)
SILENCE_DB = -150.0  # a spectrum lying wholly below this (dB) is silence


def long_term_spectrum(audio: np.ndarray, sample_rate: int, frame: int = FRAME) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and the median-smoothed long-term power spectrum (dB) of a mono signal, Welch
    frames of ``frame`` samples (fewer for a shorter signal)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    frame = int(min(frame, max(256, x.size)))
    f, p = signal.welch(x, fs=sample_rate, nperseg=min(frame, x.size), window="hann", detrend=False)
    df = f[1] - f[0]
    smooth = 2 * int(round(SMOOTH_HZ / df)) + 1
    return f, ndimage.median_filter(10 * np.log10(np.maximum(p, 1e-30)), size=smooth, mode="nearest")


def band_edge(audio: np.ndarray, sample_rate: int) -> float:
    """The band edge (Hz) of a mono signal, as defined in the module docstring; Nyquist when full band."""
    nyquist = sample_rate / 2
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    if x.size < 512 or not np.any(x):
        return float(nyquist)
    f, level = long_term_spectrum(x, sample_rate)
    df = f[1] - f[0]
    n = len(f)
    first, lowest = max(1, int(round(1000 / df))), int(round(LOWEST_EDGE_HZ / df))
    if lowest >= n - 1 or np.max(level[first:]) < SILENCE_DB:
        return float(nyquist)
    top = np.maximum.accumulate(level[::-1])[::-1]  # top[i] = highest level from f[i] up
    # the first frequency from which everything lies GATE_DB under the band's median level below it;
    # the median never exceeds the maximum, so only frequencies that pass against the maximum are tried
    below_max = np.maximum.accumulate(level[first:])  # below_max[i - first] = max(level[first:i + 1])
    tried = [i for i in range(lowest, n) if top[i] <= below_max[i - 1 - first] - GATE_DB]
    gate = next((i for i in tried if top[i] <= np.median(level[first:i]) - GATE_DB), None)
    if gate is None:
        return float(nyquist)
    w = max(1, int(round(SPAN_HZ / df)))
    candidates = np.arange(max(lowest, w), min(gate, n - w))
    if candidates.size == 0:
        return float(f[gate])
    descent = level[candidates - w] - level[candidates + w]
    return float(f[candidates[int(np.argmax(descent))]])


@dataclass(frozen=True)
class BandEdges:
    """Band edges (Hz) of a recording: each channel, mid ((L+R)/2) and side ((L-R)/2); ``edge`` is the mid's."""

    sample_rate: int
    mid: float
    side: float | None = None
    left: float | None = None
    right: float | None = None

    @property
    def edge(self) -> float:
        return self.mid

    @property
    def full_band(self) -> bool:
        return self.mid >= self.sample_rate / 2

    def to_dict(self) -> dict:
        return {**asdict(self), "edge": self.edge, "full_band": self.full_band}


def recording_edge(audio: np.ndarray, sample_rate: int) -> float:
    """The band edge (Hz) of a (channels, samples) recording: its mid's (``BandEdges.edge``), without
    the side and per-channel estimates."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    return band_edge(x[0] if x.shape[0] == 1 else (x[0] + x[1]) / 2, sample_rate)


def band_edges(audio: np.ndarray, sample_rate: int) -> BandEdges:
    """Band edges of (channels, samples) audio: mono gives ``mid`` only; stereo all four."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    if x.shape[0] == 1:
        return BandEdges(int(sample_rate), recording_edge(x, sample_rate))
    left, right = x[0], x[1]
    return BandEdges(
        int(sample_rate),
        mid=recording_edge(x, sample_rate),
        side=band_edge((left - right) / 2, sample_rate),
        left=band_edge(left, sample_rate),
        right=band_edge(right, sample_rate),
    )


EXCERPTS = 3  # excerpts read from a long file
EXCERPT_SECONDS = 20.0


def file_excerpts(path, excerpts: int = EXCERPTS, seconds: float = EXCERPT_SECONDS) -> tuple[np.ndarray, int]:
    """Up to ``excerpts`` excerpts of ``seconds`` spread over an audio file, joined as (channels,
    samples) float64, and its sample rate (the whole file when it is shorter): long files are not
    read whole."""
    import soundfile as sf

    from ..audio_io import sndfile_reason
    from ..errors import AudioFileError

    try:
        with sf.SoundFile(str(path)) as f:
            rate, frames = f.samplerate, f.frames
            length = int(seconds * rate)
            if frames <= excerpts * length:
                starts = [0]
                length = frames
            else:
                starts = [int((k + 0.5) * frames / excerpts - length / 2) for k in range(excerpts)]
            parts = []
            for start in starts:
                f.seek(max(0, start))
                parts.append(f.read(length, dtype="float64", always_2d=True))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioFileError(f"cannot read {str(path)!r}: {sndfile_reason(exc)}") from None
    return np.nan_to_num(np.concatenate(parts).T), rate
