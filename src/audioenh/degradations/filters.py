"""Zero-phase IIR low-pass filters, as in Sulun & Davies (2021).

Each filter is designed with ``scipy.signal`` at the normalised cutoff
``cutoff / (sample_rate / 2)`` and applied forwards and backwards (``filtfilt``),
so the effective magnitude response is ``|H(f)|**2`` and the phase is zero.

The paper filtered in transfer-function (b, a) form. We do the same wherever
that form is numerically sound, so results match the paper bit for bit, and
switch to second-order sections (``sosfiltfilt``) where the (b, a) polynomial
loses accuracy (high orders at low normalised cutoffs).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import signal

from .base import Degradation, check_audio
from .zero_phase import ExcerptFilter

DEFAULT_CUTOFF_HZ = 11025.0

#: Context (see :meth:`LowPassFilter.context_samples`): the impulse-response length after which
#: the remaining tail holds less than this fraction of its energy, times a safety margin, capped.
_CONTEXT_TAIL_ENERGY = 1e-12
_CONTEXT_MARGIN = 1.2
MAX_CONTEXT_SAMPLES = 1 << 17
#: :meth:`LowPassFilter.excerpt` computes an excerpt from the filter's states where its context is at
#: least this long (samples) and at least the excerpt's length; below, plain filtfilt of the excerpt
#: with its context was as fast (measured on 2048-sample chunks: docs/performance.md)
EXCERPT_MIN_CONTEXT = 4096

#: Largest deviation (dB, over the passband and transition band) allowed between the
#: (b, a) and second-order-section responses before (b, a) form is considered unsound.
_BA_TOLERANCE_DB = 1e-3


@dataclass(frozen=True)
class FilterDesign:
    """A filter designed for one sample rate: its zeros, poles and gain, the (b, a) form, and which
    form is used. The second-order sections are made when first asked for: converting costs more
    than designing, and most filters run in (b, a) form (a range of cut-offs designs one per draw)."""

    b: np.ndarray
    a: np.ndarray
    zpk: tuple[np.ndarray, np.ndarray, float]
    form: str  # "ba" or "sos"

    @functools.cached_property
    def sos(self) -> np.ndarray:
        return np.asarray(signal.zpk2sos(*self.zpk))


class LowPassFilter(Degradation):
    """Base class: a zero-phase IIR low-pass of ``order`` at ``cutoff`` Hz."""

    kind = ""
    channelwise = True  # filtfilt runs along each channel on its own

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ):
        if isinstance(order, bool) or not float(order).is_integer() or int(order) < 1:
            raise ValueError(f"order must be a positive integer, got {order!r}")
        if isinstance(cutoff, bool) or not np.isfinite(float(cutoff)) or float(cutoff) <= 0:
            raise ValueError(f"cutoff must be a positive frequency in Hz, got {cutoff!r}")
        self.order = int(order)
        self.cutoff = float(cutoff)
        self._designs: dict[int, FilterDesign] = {}
        self._contexts: dict[int, int] = {}
        self._excerpt_filters: dict[int, ExcerptFilter] = {}
        self._impulse_prefixes: dict[int, np.ndarray] = {}  # (b, a) form: the response context_samples made

    # -- design --------------------------------------------------------------
    def _design(self, wn: float, output: str):
        raise NotImplementedError

    def normalised_cutoff(self, sample_rate: int) -> float:
        """Cutoff as a fraction of the Nyquist frequency; refuses cutoffs at or above Nyquist."""
        nyquist = sample_rate / 2
        if self.cutoff >= nyquist:
            raise ValueError(
                f"{self.kind} cutoff {self.cutoff:g} Hz is at or above the Nyquist frequency "
                f"{nyquist:g} Hz of sample rate {sample_rate} Hz"
            )
        return self.cutoff / nyquist

    def design(self, sample_rate: int) -> FilterDesign:
        """Design the filter for ``sample_rate`` Hz (cached)."""
        if sample_rate not in self._designs:
            wn = self.normalised_cutoff(sample_rate)
            z, p, k = self._design(wn, "zpk")  # what scipy converts for output="ba" and output="sos"
            b, a = signal.zpk2tf(z, p, k)
            form = "ba" if _ba_is_sound(b, a, (z, p, k)) else "sos"
            self._designs[sample_rate] = FilterDesign(np.asarray(b), np.asarray(a), (z, p, k), form)
        return self._designs[sample_rate]

    def magnitude_response_db(self, frequencies_hz: np.ndarray, sample_rate: int) -> np.ndarray:
        """Magnitude (dB) of the zero-phase filter as applied, i.e. of ``|H|**2``, at the given frequencies (Hz)."""
        d = self.design(sample_rate)
        freqs = np.asarray(frequencies_hz, dtype=float)
        if d.form == "ba":
            _, h = signal.freqz(d.b, d.a, worN=freqs, fs=sample_rate)
        else:
            _, h = signal.sosfreqz(d.sos, worN=freqs, fs=sample_rate)
        return 20 * np.log10(np.maximum(np.abs(h) ** 2, 1e-30))

    def context_samples(self, sample_rate: int) -> int:
        """Samples of context needed on each side of an excerpt (cached per sample rate).

        Computed from the impulse response of the design actually used (``design(sample_rate)``,
        (b, a) or second-order sections): the length after which the remaining tail holds less
        than 1e-12 of the response's energy, times 1.2, capped at :data:`MAX_CONTEXT_SAMPLES`.
        filtfilt's start-up transients (forward pass at the excerpt's start, backward pass at
        its end) decay like that tail, so beyond it the excerpt's own edges no longer matter.
        At 44.1 kHz and 11025 Hz: bessel:6 41, butter:6 65, cheby1:6 134, cheby1:12 484,
        ellip:6 596, ellip:12 70847 (its highest-Q pole has radius 0.99983).
        """
        sample_rate = int(sample_rate)
        if sample_rate not in self._contexts:
            d = self.design(sample_rate)
            n = int(np.ceil(MAX_CONTEXT_SAMPLES / _CONTEXT_MARGIN)) + 1
            response = _ImpulseResponse(d)
            for length in (4096, 32768, n):  # short responses first: most filters die out long before n
                length = min(length, n)
                h = response.extend_to(length)
                energy = h**2
                total = float(energy.sum())
                # done when the response's second half holds a negligible share (what lies beyond is less)
                if length == n or not np.isfinite(total) or float(energy[length // 2 :].sum()) < 1e-24 * total:
                    break
            tail = np.cumsum(energy[::-1])[::-1]  # tail[k] = energy of h[k:]
            below = np.flatnonzero(tail < _CONTEXT_TAIL_ENERGY * tail[0]) if tail[0] > 0 else np.array([0])
            length = int(below[0]) if below.size and np.all(np.isfinite(h)) else n
            context = self._contexts[sample_rate] = min(int(np.ceil(length * _CONTEXT_MARGIN)), MAX_CONTEXT_SAMPLES)
            if d.form == "ba" and EXCERPT_MIN_CONTEXT <= context <= h.size:  # what excerpt() will need
                self._impulse_prefixes[sample_rate] = h[:context]
        return self._contexts[sample_rate]

    # -- application ---------------------------------------------------------
    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        d = self.design(sample_rate)
        x = audio.astype(np.float64, copy=False)
        n = x.shape[-1]
        if d.form == "ba":
            padlen = min(3 * max(len(d.a), len(d.b)), n - 1)
            return signal.filtfilt(d.b, d.a, x, axis=-1, padlen=padlen)
        default = 3 * (2 * len(d.sos) + 1 - min((d.sos[:, 2] == 0).sum(), (d.sos[:, 5] == 0).sum()))
        return signal.sosfiltfilt(d.sos, x, axis=-1, padlen=min(int(default), n - 1))

    def excerpt(
        self, audio: np.ndarray, start: int, stop: int, sample_rate: int, *, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``audio`` filtered (:meth:`Degradation.excerpt`). Where the context
        is long (:data:`EXCERPT_MIN_CONTEXT`, and at least the excerpt) and ``audio`` holds all of it on
        both sides, from the filter's states at the excerpt's edges
        (:class:`~audioenh.degradations.zero_phase.ExcerptFilter`): about 3x faster for ``ellip:12``."""
        context = self.context_samples(sample_rate)
        inside = context <= start and stop + context <= audio.shape[-1]
        if not inside or context < max(EXCERPT_MIN_CONTEXT, stop - start) or stop <= start:
            return super().excerpt(audio, start, stop, sample_rate, rng=rng)
        check_audio(audio)
        sample_rate = int(sample_rate)
        if sample_rate not in self._excerpt_filters:
            d = self.design(sample_rate)
            if d.form == "ba":  # its one partial response is the impulse response context_samples made
                response = self._impulse_prefixes.pop(sample_rate, None)
                responses = None if response is None else response[:, None]
                excerpt = ExcerptFilter(context, ba=(d.b, d.a), responses=responses)
            else:
                excerpt = ExcerptFilter(context, sos=d.sos)
            self._excerpt_filters[sample_rate] = excerpt
        out = self._excerpt_filters[sample_rate](audio, start, stop)
        return np.ascontiguousarray(out, dtype=audio.dtype)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({params})"

    def params(self) -> dict[str, float]:
        return {"order": self.order, "cutoff": self.cutoff}


class _ImpulseResponse:
    """A design's impulse response as applied, extended on request: each extension runs the recursion on
    from where the last stopped, giving the samples one longer call gives. (b, a) by ``lfilter``;
    second-order sections one after another, the pole nearest the unit circle first: in ``sosfilt``'s
    order (nearest last) the early, fast-decaying sections fell into subnormal limit cycles (tens of
    thousands of subnormal samples, each many times slower; ``ellip:12`` at 11 kHz took 63 ms, now
    about 4); the order changes the values by float rounding only."""

    def __init__(self, design: FilterDesign):
        if design.form == "ba":
            self.sections = [(design.b, design.a)]
        else:
            radius = [float(np.max(np.abs(np.roots(row[3:])), initial=0.0)) for row in design.sos]
            self.sections = [(design.sos[k, :3], design.sos[k, 3:]) for k in np.argsort(radius)[::-1]]
        self.states = [np.zeros(max(len(b), len(a)) - 1) for b, a in self.sections]
        self.values = np.zeros(0)

    def extend_to(self, length: int) -> np.ndarray:
        """The first ``length`` samples of the response (float64)."""
        if length > self.values.size:
            x = np.zeros(length - self.values.size)
            if self.values.size == 0:
                x[0] = 1.0
            for k, (b, a) in enumerate(self.sections):
                x, self.states[k] = signal.lfilter(b, a, x, zi=self.states[k])
            self.values = np.concatenate([self.values, x])
        return self.values[:length]


def _ba_is_sound(b: np.ndarray, a: np.ndarray, zpk: tuple[np.ndarray, np.ndarray, float]) -> bool:
    """True when the (b, a) form is stable and its response matches the design's own, evaluated from
    its zeros, poles and gain (the response the second-order sections have, to float rounding)."""
    poles = np.roots(a)
    if poles.size and np.max(np.abs(poles)) >= 1 - 1e-9:
        return False
    w = np.linspace(0, np.pi, 512)
    _, h_ba = signal.freqz(b, a, worN=w)
    _, h_zpk = signal.freqz_zpk(*zpk, worN=w)
    mag_ba = 20 * np.log10(np.maximum(np.abs(h_ba), 1e-12))
    mag_sos = 20 * np.log10(np.maximum(np.abs(h_zpk), 1e-12))
    relevant = mag_sos > -60  # deep stop-band values are dominated by rounding in both forms
    if not np.all(np.isfinite(mag_ba)):
        return False
    return bool(np.max(np.abs(mag_ba[relevant] - mag_sos[relevant])) < _BA_TOLERANCE_DB)


class Butterworth(LowPassFilter):
    """Zero-phase Butterworth low-pass: ``scipy.signal.butter(order, cutoff)``, applied with filtfilt.

    order: filter order; cutoff: -3 dB frequency of one pass, in Hz (default 11025).
    """

    kind = "butter"
    example = "butter:6"

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ):
        super().__init__(order, cutoff)

    def _design(self, wn, output):
        return signal.butter(self.order, wn, output=output)


class Chebyshev1(LowPassFilter):
    """Zero-phase Chebyshev type-I low-pass: ``cheby1(order, rp, cutoff)``, applied with filtfilt.

    order: filter order; cutoff: passband edge in Hz (default 11025); rp: passband ripple in dB (default 0.05).
    """

    kind = "cheby1"
    example = "cheby1:6"

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ, rp: float = 0.05):
        super().__init__(order, cutoff)
        if not float(rp) > 0:
            raise ValueError(f"rp (passband ripple, dB) must be positive, got {rp!r}")
        self.rp = float(rp)

    def _design(self, wn, output):
        return signal.cheby1(self.order, self.rp, wn, output=output)

    def params(self):
        return {**super().params(), "rp": self.rp}


class Chebyshev2(LowPassFilter):
    """Zero-phase Chebyshev type-II low-pass: ``cheby2(order, rs, cutoff)``, applied with filtfilt.

    order: filter order; cutoff: stop-band edge in Hz, where attenuation first reaches rs (default 11025);
    rs: stop-band attenuation in dB (default 20, as the paper's elliptic filters).
    """

    kind = "cheby2"
    example = "cheby2:6"

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ, rs: float = 20.0):
        super().__init__(order, cutoff)
        if not float(rs) > 0:
            raise ValueError(f"rs (stop-band attenuation, dB) must be positive, got {rs!r}")
        self.rs = float(rs)

    def _design(self, wn, output):
        return signal.cheby2(self.order, self.rs, wn, output=output)

    def params(self):
        return {**super().params(), "rs": self.rs}


class Bessel(LowPassFilter):
    """Zero-phase Bessel low-pass: ``bessel(order, cutoff, norm=norm)``, applied with filtfilt.

    order: filter order; cutoff in Hz (default 11025); norm: 'mag' (-3 dB at cutoff, the paper's),
    'phase' or 'delay'.
    """

    kind = "bessel"
    example = "bessel:6"

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ, norm: str = "mag"):
        super().__init__(order, cutoff)
        if norm not in ("mag", "phase", "delay"):
            raise ValueError(f"norm must be 'mag', 'phase' or 'delay', got {norm!r}")
        self.norm = norm

    def _design(self, wn, output):
        return signal.bessel(self.order, wn, norm=self.norm, output=output)

    def params(self):
        return {**super().params(), "norm": self.norm}


class Elliptic(LowPassFilter):
    """Zero-phase elliptic low-pass: ``ellip(order, rp, rs, cutoff)``, applied with filtfilt.

    order: filter order; cutoff: passband edge in Hz (default 11025); rp: passband ripple in dB
    (default 0.05); rs: stop-band attenuation in dB (default 20).
    """

    kind = "ellip"
    example = "ellip:6"

    def __init__(self, order: int, cutoff: float = DEFAULT_CUTOFF_HZ, rp: float = 0.05, rs: float = 20.0):
        super().__init__(order, cutoff)
        if not float(rp) > 0 or not float(rs) > float(rp):
            raise ValueError(f"need 0 < rp < rs (dB), got rp={rp!r}, rs={rs!r}")
        self.rp = float(rp)
        self.rs = float(rs)

    def _design(self, wn, output):
        return signal.ellip(self.order, self.rp, self.rs, wn, output=output)

    def params(self):
        return {**super().params(), "rp": self.rp, "rs": self.rs}


#: Table I of the paper: the multi-filter (data augmentation) training set.
PAPER_MULTI = (
    "cheby1:6",
    "cheby1:8",
    "cheby1:10",
    "cheby1:12",
    "bessel:6",
    "bessel:12",
    "ellip:6",
    "ellip:12",
)
