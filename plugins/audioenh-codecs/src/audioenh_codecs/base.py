"""Lossy codecs as degradations: encode to memory with libsndfile, decode, realign to the input.

Every codec delays and pads: MP3 (LAME) prepends an encoder delay and fills its last frame,
Vorbis and Opus have their own look-ahead and pre-skip. A decoder may or may not take these
out again: libsndfile 1.2.2 does for Vorbis and Opus, and for MP3 only when LAME's info tag fits
in the first frame (not at low bitrates, which keep LAME's 1105 samples). So the delay is never
assumed: :meth:`LossyCodec.delay` measures it once per (settings, sample
rate, channel count) by cross-correlating a decoded calibration signal with the original, and
:meth:`LossyCodec.apply` shifts the decoded audio by that many samples and cuts or zero-pads it
to the input's exact length. The output is thereby aligned with the input at lag 0.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import soundfile as sf
import soxr
from audioenh.degradations import Degradation

#: soxr quality of the resampling done for codecs that cannot take the input's rate.
RESAMPLE_QUALITY = "HQ"

#: Delays measured so far: (codec key, sample rate, channels) -> samples.
_DELAYS: dict[tuple[Any, int, int], int] = {}


def measure_delay(reference: np.ndarray, decoded: np.ndarray, max_lag: int) -> int:
    """The lag (samples) at which ``decoded`` best matches ``reference``: ``decoded[t + lag] ~ reference[t]``.

    Both (channels, samples); the cross-correlations of the channels are summed and searched over
    lags in [-max_lag, max_lag].
    """
    size = reference.shape[-1] + decoded.shape[-1]
    size = 1 << max(size - 1, 1).bit_length()
    spectrum = np.sum(np.fft.rfft(decoded, size) * np.conj(np.fft.rfft(reference, size)), axis=0)
    xcorr = np.fft.irfft(spectrum, size)
    lags = np.arange(-max_lag, max_lag + 1)
    return int(lags[np.argmax(xcorr[lags % size])])


def calibration_signal(sample_rate: int, channels: int, seconds: float = 1.0) -> np.ndarray:
    """Fixed pink noise (seed 0; power falling as 1/f from 20 Hz to Nyquist, like music), peak 0.3.

    The delay is measured on it: where a codec's bands are delayed differently (Opus below 64 kbit/s),
    the lag it gives is the one that best aligns music-like spectra.
    """
    n = max(int(seconds * sample_rate), 8192)
    rng = np.random.default_rng(0)
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum *= np.where(freqs >= 20.0, 1 / np.sqrt(np.maximum(freqs, 20.0)), 0.0)
    x = np.fft.irfft(spectrum, n, axis=-1)
    return 0.3 * x / np.max(np.abs(x))


class LossyCodec(Degradation):
    """Base class: a round trip through a lossy codec, realigned to the input (see the module docstring).

    Subclasses set :attr:`format`, :attr:`subtype`, :attr:`rates`, :attr:`frame` and implement
    :meth:`write_options` (the ``sf.write`` options for a codec rate and channel count).
    """

    #: libsndfile container and codec (``soundfile.write``'s ``format`` and ``subtype``).
    format = ""
    subtype = ""
    #: Sample rates (Hz) the encoder takes; others are resampled with soxr to the nearest
    #: higher one (or the highest) and back. Empty: any rate.
    rates: Sequence[int] = ()
    #: Samples per codec frame at the codec's rate (the longest block, for Vorbis).
    frame = 1024
    #: Frames of context on each side of an excerpt (see :meth:`context_samples`).
    context_frames = 4

    #: A codec is not exactly local (its frame grid, bit reservoir and psychoacoustic model
    #: depend on where the file starts), so the registry-wide exact-locality check skips it.
    local = False

    # -- per codec -----------------------------------------------------------------------------
    def write_options(self, codec_rate: int, channels: int) -> dict[str, Any]:
        """``soundfile.write`` options (``compression_level``, ...) for the settings; ValueError if unsupported."""
        raise NotImplementedError

    def key(self) -> tuple[Any, ...]:
        """What the delay may depend on besides sample rate and channels: the class and its settings."""
        return (type(self).__name__, tuple(sorted(vars(self).items())))

    # -- the round trip ------------------------------------------------------------------------
    def codec_rate(self, sample_rate: int) -> int:
        """The rate the encoder gets: ``sample_rate`` if it takes it, else the nearest higher rate it takes."""
        if not self.rates or sample_rate in self.rates:
            return sample_rate
        higher = [r for r in sorted(self.rates) if r > sample_rate]
        return higher[0] if higher else max(self.rates)

    def encode(self, data: np.ndarray, codec_rate: int) -> bytes:
        """The encoded file (bytes) of ``data`` (frames, channels) at ``codec_rate`` Hz, written in memory."""
        buffer = io.BytesIO()
        options = self.write_options(codec_rate, data.shape[1])
        sf.write(buffer, data, codec_rate, format=self.format, subtype=self.subtype, **options)
        return buffer.getvalue()

    def decode(self, encoded: bytes) -> tuple[np.ndarray, int]:
        """Decoded (frames, channels) float64 audio and its sample rate."""
        return sf.read(io.BytesIO(encoded), dtype="float64", always_2d=True)

    def transcode(self, data: np.ndarray, codec_rate: int) -> np.ndarray:
        """Encode ``data`` (frames, channels) and decode it again; returns (frames, channels) at ``codec_rate``."""
        decoded, rate = self.decode(self.encode(data, codec_rate))
        if rate != codec_rate:  # libsndfile decodes at the encoded rate; be safe anyway
            decoded = soxr.resample(decoded, rate, codec_rate, quality=RESAMPLE_QUALITY)
        return decoded

    def round_trip(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        """Encode and decode (channels, samples) audio, resampling around the codec if needed; not yet realigned.

        Audio peaking above 1 is scaled to peak 1 for the codec and back, so that the codec's
        full-scale limit does not add clipping. One frame of silence is appended, so that the
        encoder flushes every input sample whatever the decoder trims.
        """
        x = np.asarray(audio, dtype=np.float64).T
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        scale = peak if peak > 1.0 else 1.0
        rate = self.codec_rate(sample_rate)
        if rate != sample_rate:
            x = soxr.resample(x / scale, sample_rate, rate, quality=RESAMPLE_QUALITY)
        else:
            x = x / scale
        x = np.concatenate([x, np.zeros((self.frame, x.shape[1]))])
        y = self.transcode(np.ascontiguousarray(x), rate)
        if rate != sample_rate:
            y = soxr.resample(y, rate, sample_rate, quality=RESAMPLE_QUALITY)
        return y.T * scale

    def delay(self, sample_rate: int, channels: int) -> int:
        """Samples by which the round trip delays the signal at ``sample_rate`` Hz (measured once, cached)."""
        key = (self.key(), int(sample_rate), int(channels))
        if key not in _DELAYS:
            reference = calibration_signal(sample_rate, channels)
            decoded = self.round_trip(reference, sample_rate)
            max_lag = math.ceil(self.context_frames * self.frame * sample_rate / self.codec_rate(sample_rate))
            _DELAYS[key] = measure_delay(reference, decoded, max_lag)
        return _DELAYS[key]

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        channels, n = audio.shape
        if not np.all(np.isfinite(audio)):  # LAME aborts the whole process on NaN
            raise ValueError(f"{type(self).__name__.lower()} cannot encode audio with NaN or infinite samples")
        self.write_options(self.codec_rate(sample_rate), channels)  # unsupported settings fail before any work
        d = self.delay(sample_rate, channels)
        decoded = self.round_trip(audio, sample_rate)
        out = np.zeros((channels, n))
        # out[t] = decoded[t + d], for the t where both exist.
        lo, hi = max(0, -d), min(n, decoded.shape[-1] - d)
        if hi > lo:
            out[:, lo:hi] = decoded[:, lo + d : hi + d]
        return out

    def context_samples(self, sample_rate: int) -> int:
        """:attr:`context_frames` codec frames, at ``sample_rate``: an approximation, see below.

        A codec cannot be exactly local: where the excerpt starts moves the codec's frame grid,
        and the bit reservoir and psychoacoustic model carry state across frames, so an excerpt
        coded on its own never equals the same samples of the whole coded file. Beyond a few
        frames the excerpt's edges no longer matter for its statistics (bandwidth, noise level),
        which is what training needs; :attr:`local` is False to say so.
        """
        return math.ceil(self.context_frames * self.frame * sample_rate / self.codec_rate(sample_rate))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"
