"""Degradation specs as used for training and testing: chains (``a+b``) and random ranges (``4..12``).

A *training degradation* is a chain of registry specs, applied in order, whose arguments may be
ranges drawn afresh for every example. :class:`DegradationSampler` turns such a text into concrete
degradation objects: ``draw(rng)`` picks the values (recorded as the concrete chain text), and
``build(text)`` creates (and caches) the objects for a concrete text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError
from ..spec import Range, Spec, draw_spec, format_chain, has_ranges, parse_chain
from .base import Degradation, apply_chain


def _registry():
    from ..plugins import degradations

    return degradations()


class ConcreteChain:
    """Degradation objects of one concrete chain, with its total context (samples)."""

    def __init__(self, text: str, members: Sequence[Degradation], sample_rate: int):
        self.text = text
        self.members = list(members)
        self.sample_rate = sample_rate
        self.local = all(getattr(m, "local", True) for m in self.members)
        #: each channel degraded on its own, the same way, and nothing random (see Degradation.channelwise)
        self.channelwise = all(
            getattr(m, "channelwise", False) and not getattr(m, "random", False) for m in self.members
        )
        self._context: int | None = None

    @property
    def context(self) -> int:
        """Samples of real signal needed on each side of an excerpt (sum over the members)."""
        if self._context is None:
            self._context = sum(max(0, int(m.context_samples(self.sample_rate))) for m in self.members)
        return self._context

    def __call__(self, audio: np.ndarray, sample_rate: int, rng: np.random.Generator | None = None) -> np.ndarray:
        return apply_chain(self.members, audio, sample_rate, rng=rng)

    def excerpt(
        self, audio: np.ndarray, start: int, stop: int, sample_rate: int, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Samples ``[start, stop)`` of ``audio`` degraded by the chain, ``audio`` holding :attr:`context`
        on each side (:meth:`Degradation.excerpt`; a chain of one member lets it save work)."""
        if len(self.members) == 1:
            return self.members[0].excerpt(audio, start, stop, sample_rate, rng=rng)
        return self(audio, sample_rate, rng)[:, start:stop]


class DegradationSampler:
    """One training degradation: a chain text, possibly with ranges; see the module docstring."""

    def __init__(self, text: str, sample_rate: int = 44100, cache_size: int = 128):
        self.text = text
        self.specs = parse_chain(text)
        registry = _registry()
        for spec in self.specs:
            if spec.name in registry.sets():
                raise SpecError(f"{spec.name!r} is a set; a chain's members must be single degradations ({text!r})")
            registry.bind(spec)  # unknown names and wrong arguments fail now
        self.random = any(has_ranges(s) for s in self.specs)
        self.sample_rate = sample_rate
        self._cache: OrderedDict[str, ConcreteChain] = OrderedDict()
        self._cache_size = cache_size
        for specs in self._range_ends():  # bad values fail now: for ranges, both ends must build
            for spec in specs:
                registry.create(spec)

    def _range_ends(self) -> list[list[Spec]]:
        """The chain with every range at its low end, and at its high end (just the chain without ranges)."""
        if not self.random:
            return [self.specs]
        return [
            [
                Spec(s.name, tuple(_end(v, p) for v in s.args), {k: _end(v, p) for k, v in s.kwargs.items()})
                for s in self.specs
            ]
            for p in (0, 1)
        ]

    def extremes(self) -> list[str]:
        """Concrete chain texts with every range at its low end and at its high end (the chain
        itself when it has no ranges)."""
        return [format_chain(specs) for specs in self._range_ends()]

    def draw_count(self) -> int | None:
        """How many distinct chains :meth:`draw` can return: the product of the integer ranges'
        sizes (1 without ranges); ``None`` when a range is real-valued (a continuum)."""
        count = 1
        for spec in self.specs:
            for value in (*spec.args, *spec.kwargs.values()):
                if isinstance(value, Range):
                    if not value.integer:
                        return None
                    count *= value.high - value.low + 1
        return count

    def check(self, sample_rate: int | None = None) -> None:
        """Build the chain (both ends of every range) at ``sample_rate`` and compute its context, so that
        problems that depend on the rate (a cutoff above Nyquist) fail now, as one :class:`SpecError` line."""
        rate = sample_rate or self.sample_rate
        registry = _registry()
        for specs in self._range_ends():
            try:
                _ = ConcreteChain(format_chain(specs), [registry.create(s) for s in specs], rate).context
            except ValueError as exc:
                raise SpecError(f"degradation {self.text!r} at {rate} Hz: {exc}") from None

    def draw(self, rng: np.random.Generator) -> str:
        """The concrete chain text for one example (ranges drawn from ``rng``, in order)."""
        if not self.random:
            return format_chain(self.specs)
        return format_chain([draw_spec(s, rng) for s in self.specs])

    def build(self, concrete: str) -> ConcreteChain:
        """Degradation objects for a concrete chain text (cached, least recently used dropped)."""
        chain = self._cache.get(concrete)
        if chain is None:
            registry = _registry()
            members = [registry.create(s) for s in parse_chain(concrete)]
            chain = ConcreteChain(concrete, members, self.sample_rate)
            self._cache[concrete] = chain
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(concrete)
        return chain

    def degrade(self, audio: np.ndarray, sample_rate: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        """Degrade ``audio``: draw the chain from ``rng``, apply it with the same ``rng``; returns the audio
        and the concrete chain text."""
        concrete = self.draw(rng)
        return self.build(concrete)(audio, sample_rate, rng), concrete

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # rebuilt lazily in each worker process
        return state


def _end(value, pick: int):
    if isinstance(value, Range):
        return value.high if pick else value.low
    return value


@dataclass(frozen=True)
class ResolvedDegradation:
    """One degradation chain as the user wrote it (``text``, normalised, shown in tables and messages)
    and with every argument written out (``canonical``, what runs and checkpoints record)."""

    text: str
    canonical: str

    def __str__(self) -> str:
        return self.text


def resolve_degradations(
    texts: Sequence[str], sample_rate: int = 44100, *, allow_sets: bool = True
) -> list[ResolvedDegradation]:
    """Resolve degradation texts (names, sets, chains ``a+b``, ranges ``4..12``) into checked chains.

    The one place where degradation texts are interpreted (train, degrade, test and the report use
    it). A set name (``paper-multi``) stands for its members, in order, where ``allow_sets``; else it
    is refused with one line. Every member is built (both ends of every range) at ``sample_rate``
    (Hz), so an unknown name, a wrong argument or an impossible value fails here, before any work.
    """
    registry = _registry()
    sets = registry.sets()
    out: list[ResolvedDegradation] = []
    for text in texts:
        specs = parse_chain(text)
        first = specs[0]
        if len(specs) == 1 and first.name in sets and not first.args and not first.kwargs:
            if not allow_sets:
                raise SpecError(
                    f"{first.name!r} is a set of alternatives ({', '.join(sets[first.name])}) used for training; "
                    "give its members one by one"
                )
            out.extend(resolve_degradations(registry.expand([first]), sample_rate, allow_sets=False))
            continue
        DegradationSampler(text, sample_rate).check()
        out.append(ResolvedDegradation(format_chain(specs), "+".join(registry.canonical(s) for s in specs)))
    return out


def expand_training_specs(texts: Sequence[str], sample_rate: int = 44100) -> list[str]:
    """The texts of :func:`resolve_degradations` (sets expanded), as written by the user."""
    return [d.text for d in resolve_degradations(texts, sample_rate)]
