"""The degradation interface."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np


def check_audio(audio: np.ndarray) -> np.ndarray:
    """Validate a (channels, samples) floating-point array and return it."""
    if not isinstance(audio, np.ndarray) or audio.ndim != 2:
        raise ValueError(
            f"audio must be a 2-D array shaped (channels, samples), got {getattr(audio, 'shape', type(audio))}"
        )
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"audio must be floating point, got {audio.dtype}")
    return audio


class Degradation(ABC):
    """A transform of (channels, samples) float audio at a sample rate (Hz).

    Output has the input's shape and dtype. Subclasses implement :meth:`apply`.

    Random degradations (noise, random modulation phases, ...) set ``random = True`` and take the
    generator as a third argument, ``apply(audio, sample_rate, rng)``; they must draw every random
    number from ``rng`` so that a seed reproduces them. Callers pass ``rng=`` (training passes one
    derived from the seed and the example's index); without one, a generator seeded with 0 is used,
    so a call is always deterministic.
    """

    #: True when :meth:`apply` takes a ``numpy.random.Generator`` as third argument.
    random: bool = False
    #: False when no finite context makes an excerpt exactly equal to whole-file degradation (FFT
    #: brick-wall, codecs with their own frame grid): training chunks then match the whole file only
    #: approximately, to the extent :meth:`context_samples` promises; the registry-wide test skips
    #: its exactness check for them.
    local: bool = True
    #: True when every channel is degraded on its own and the same way, whatever the other channels
    #: hold (a fixed linear filter): several excerpts stacked as the channels of one array are then
    #: degraded in one call, giving each excerpt's samples exactly as one call per excerpt would
    #: (training chunks use it; the registry-wide test checks it). False unless declared.
    channelwise: bool = False

    #: A spec that creates a typical instance, for listings and the registry-wide tests
    #: (needed when some parameter has no default, e.g. ``"butter:6"``).
    example: str = ""

    def __call__(self, audio: np.ndarray, sample_rate: int, *, rng: np.random.Generator | None = None) -> np.ndarray:
        check_audio(audio)
        if sample_rate <= 0:
            raise ValueError(f"sample rate must be positive, got {sample_rate}")
        if audio.shape[-1] == 0:
            return audio.copy()
        if self.random:
            out = self.apply(audio, int(sample_rate), rng if rng is not None else np.random.default_rng(0))
        else:
            out = self.apply(audio, int(sample_rate))
        if out.shape != audio.shape:
            raise RuntimeError(f"{type(self).__name__} changed the shape {audio.shape} to {out.shape}")
        return np.ascontiguousarray(out, dtype=audio.dtype)

    @abstractmethod
    def apply(self, audio: np.ndarray, sample_rate: int, *args) -> np.ndarray:
        """Degrade ``audio`` (channels, samples) sampled at ``sample_rate`` Hz (plus ``rng`` when random)."""

    def excerpt(
        self, audio: np.ndarray, start: int, stop: int, sample_rate: int, *, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """``self(audio, sample_rate, rng=rng)[:, start:stop]``: samples ``[start, stop)`` of ``audio`` degraded,
        where ``audio`` holds :meth:`context_samples` of real signal on each side of them (or the file's
        own ends). A degradation may compute the excerpt with less work, to float rounding (the IIR
        low-passes do where their context is long: :mod:`audioenh.degradations.zero_phase`)."""
        return self(audio, sample_rate, rng=rng)[:, start:stop]

    def context_samples(self, sample_rate: int) -> int:
        """Samples of real signal needed on each side of an excerpt to degrade it as in its whole file.

        Degrading ``audio[:, a - c : b + c]`` (with ``c`` this value, the span clipped at the
        file's ends) and cropping back to ``[a, b)`` must give, to within float rounding, the
        same samples as degrading the whole file and taking ``[a, b)``. Training-chunk sampling
        (:mod:`audioenh.data.chunks`) reads this much extra signal around every chunk, so that
        training inputs match the whole-file degradation used at test time.

        The default, 0, is right for memoryless degradations (gains, clipping, quantisation).
        A degradation with memory (filters, resamplers, reverbs) must override it; one that can
        never be exactly local (e.g. a codec with its own frame grid) should return the context
        beyond which the excerpt's edges no longer matter for its statistics.
        """
        return 0


def apply_chain(
    chain: Sequence[Degradation], audio: np.ndarray, sample_rate: int, *, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Apply degradations in order (one generator shared along the chain)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    for degradation in chain:
        audio = degradation(audio, sample_rate, rng=rng)
    return audio
