"""Linear-phase low-pass filters: a windowed-sinc FIR and an FFT brick wall.

``fir`` is ``scipy.signal.firwin`` applied centred (zero delay, zero phase): its magnitude response
is the design's ``|H(f)|`` (one pass, not squared as the IIR filters' filtfilt). ``brickwall`` zeroes
every DFT bin above the cutoff over the whole signal: the ideal low-pass, but global (each output
sample depends on the whole input).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from .base import Degradation

DEFAULT_CUTOFF_HZ = 11025.0

#: ``brickwall`` context: distance (samples) at which the Gibbs ringing of an edge step has fallen
#: to this fraction of the step, capped like the IIR filters' context.
_BRICKWALL_EDGE_RINGING = 1e-4
MAX_CONTEXT_SAMPLES = 1 << 17


def _positive_hz(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive frequency in Hz, got {value!r}")
    return float(value)


def _check_below_nyquist(kind: str, cutoff: float, sample_rate: int) -> float:
    """Cutoff as a fraction of Nyquist; refuses cutoffs at or above Nyquist (as the IIR filters do)."""
    nyquist = sample_rate / 2
    if cutoff >= nyquist:
        raise ValueError(
            f"{kind} cutoff {cutoff:g} Hz is at or above the Nyquist frequency "
            f"{nyquist:g} Hz of sample rate {sample_rate} Hz"
        )
    return cutoff / nyquist


class FIRLowPass(Degradation):
    """Zero-phase windowed-sinc FIR low-pass: ``firwin(taps, cutoff, window)`` applied centred; cutoff in Hz (-6 dB).

    cutoff: the -6 dB frequency in Hz (default 11025); taps: odd number of taps (default 255), the
    filter spans taps // 2 samples on each side; window: a ``scipy.signal.get_window`` name that takes
    no parameter (``hann``, ``hamming``, ``blackman``, ``blackmanharris``, ...) or a number, the β of
    a Kaiser window (default ``hann``). The filter is symmetric and applied centred on each sample
    (``oaconvolve``, mode ``same``, zeros outside the signal), so it adds no delay and no phase;
    its magnitude response is ``|H(f)|`` of the design.
    """

    example = "fir"

    def __init__(self, cutoff: float = DEFAULT_CUTOFF_HZ, taps: int = 255, window: str = "hann"):
        self.cutoff = _positive_hz("cutoff", cutoff)
        if isinstance(taps, bool) or not float(taps).is_integer() or int(taps) < 1 or int(taps) % 2 == 0:
            raise ValueError(
                f"taps must be a positive odd integer (the filter is centred on each sample), got {taps!r}"
            )
        self.taps = int(taps)
        if isinstance(window, bool):
            raise ValueError(f"window must be a window name or a Kaiser beta, got {window!r}")
        if isinstance(window, (int, float)):
            if not np.isfinite(window) or window < 0:
                raise ValueError(f"window as a number is a Kaiser beta and must be >= 0, got {window!r}")
            window = float(window)
        try:
            signal.get_window(window, self.taps, fftbins=False)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"window {window!r} is not a scipy.signal window without parameters "
                f"(e.g. hann, hamming, blackman) nor a Kaiser beta: {exc}"
            ) from None
        self.window = window
        self._coefficients: dict[int, np.ndarray] = {}

    def coefficients(self, sample_rate: int) -> np.ndarray:
        """The taps for ``sample_rate`` Hz: ``scipy.signal.firwin(taps, cutoff, window=window, fs=sample_rate)``."""
        if sample_rate not in self._coefficients:
            _check_below_nyquist("fir", self.cutoff, sample_rate)
            self._coefficients[sample_rate] = signal.firwin(self.taps, self.cutoff, window=self.window, fs=sample_rate)
        return self._coefficients[sample_rate]

    def magnitude_response_db(self, frequencies_hz: np.ndarray, sample_rate: int) -> np.ndarray:
        """Magnitude (dB) of the filter as applied, ``|H(f)|``, at the given frequencies (Hz)."""
        _, h = signal.freqz(
            self.coefficients(sample_rate), worN=np.asarray(frequencies_hz, dtype=float), fs=sample_rate
        )
        return 20 * np.log10(np.maximum(np.abs(h), 1e-30))

    def context_samples(self, sample_rate: int) -> int:
        """``taps // 2``: each output sample is a weighted sum of the input within that distance."""
        return self.taps // 2

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        h = self.coefficients(sample_rate)
        x = audio.astype(np.float64, copy=False)
        return signal.oaconvolve(x, h[np.newaxis, :], mode="same", axes=-1)

    def __repr__(self) -> str:
        return f"FIRLowPass(cutoff={self.cutoff!r}, taps={self.taps!r}, window={self.window!r})"


class BrickWall(Degradation):
    """Ideal (brick-wall) low-pass: every DFT bin of the whole signal above ``cutoff`` Hz set to zero.

    cutoff: in Hz (default 11025); bins at or below it are kept unchanged, bins above it (Nyquist
    included) become exactly zero. The DFT is taken over the whole signal, per channel, so the
    filter is non-causal and global: every output sample depends on every input sample, and the
    signal is treated as one period of a periodic signal (its end and its start ring into each other
    when they differ). ``local = False`` says so: degrading an excerpt differs from cropping the
    degraded file, by the Gibbs ringing of the excerpt's edges. ``context_samples`` returns the
    distance at which that ringing, about ``1 / (π · ω_c · n)`` of an edge step at ``n`` samples
    from the edge (``ω_c = 2π · cutoff / sample_rate``), falls below 1e-4 (-80 dB) of the step,
    capped at 131072: 2027 samples at 11025 Hz and 44.1 kHz.
    """

    example = "brickwall"

    #: Not exactly local: an excerpt degraded with context is close to, not equal to, the same
    #: samples of the whole degraded file (see the class docstring).
    local = False

    def __init__(self, cutoff: float = DEFAULT_CUTOFF_HZ):
        self.cutoff = _positive_hz("cutoff", cutoff)

    def context_samples(self, sample_rate: int) -> int:
        """Distance (samples) at which an edge's Gibbs ringing falls below 1e-4 of the edge step (capped)."""
        wc = 2 * np.pi * self.cutoff / sample_rate
        return int(min(np.ceil(1.0 / (np.pi * wc * _BRICKWALL_EDGE_RINGING)), MAX_CONTEXT_SAMPLES))

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        _check_below_nyquist("brickwall", self.cutoff, sample_rate)
        x = audio.astype(np.float64, copy=False)
        n = x.shape[-1]
        spectrum = np.fft.rfft(x, axis=-1)
        spectrum[:, np.fft.rfftfreq(n, d=1.0 / sample_rate) > self.cutoff] = 0
        return np.fft.irfft(spectrum, n, axis=-1)

    def __repr__(self) -> str:
        return f"BrickWall(cutoff={self.cutoff!r})"
