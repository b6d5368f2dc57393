"""Training chunks: random excerpts of random songs, degraded as if the whole song had been.

The reference code of Sulun & Davies filtered every 8192-sample training chunk on its own,
so filtfilt's start-up transients and edge padding shaped the training inputs, while test
songs were filtered whole: training and test inputs differed. Here a chunk of a fixed
degradation (no ranges, nothing random) is cut from the whole song degraded once and cached
(:mod:`audioenh.data.degraded`): exactly the samples a test sees. So is a chunk of a spec whose
ranges are all integers with few values (``cheby1:order=6..12,cutoff=11025``: seven filters;
:data:`MAX_CACHED_DRAWS`): each drawn filter
degrades the whole song once, cached under the drawn chain's canonical spec, while all of the
spec's draws fit the disk budget. Other chunks (real-valued ranges, random degradations, or a
cache over its disk budget) are read with
:meth:`~audioenh.degradations.Degradation.context_samples` of real signal on each side (clipped
at the song's ends, where whole-song filtering sees the same edge), degraded, and cropped back,
so they equal the same samples of the whole-song degradation to float rounding.

Chunk ``index`` is a pure function of ``(seed, index)`` (``numpy.random.default_rng([seed, index])``),
never of global random state or of which worker made it: results are the same for any number
of DataLoader workers and after resuming at any iteration.

Designing a filter drawn from a range costs more than filtering a chunk with it (about 3 ms for a
Chebyshev I of order 4-12), so ``range_group`` consecutive chunks share each range's draw: chunk
``index`` draws the ranges of its degradation ``d`` from ``default_rng([seed, index // range_group,
d, 1])``, and the chunks of one group that pick the same degradation reuse its designed filter.
Each chunk still has its own song, offset and degradation; ``range_group=1`` draws per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..degradations.chain import ConcreteChain, DegradationSampler, resolve_degradations
from .corpus import SAMPLE_RATE, Song
from .degraded import cache_budget_bytes, degraded_song, song_bytes

#: the most draws of one spec whose whole-song degradations are cached (a family's orders, e.g. 4..12:
#: nine): each draw degrades every song whole on first use, which pays only if chunks reuse it often;
#: a range of cut-offs in whole Hz (thousands of draws) stays chunk by chunk
MAX_CACHED_DRAWS = 64


@dataclass(frozen=True)
class ChunkInfo:
    """Where chunk ``index`` comes from: the song, the offset (44.1 kHz samples) and the degradation spec."""

    index: int
    song: str
    path: str
    offset: int
    degradation: str
    context: int


class TrainingChunks(Dataset):
    """``(degraded, target)`` float32 tensors shaped (2, ``chunk``), drawn by index.

    Chunk ``index``: a song uniformly at random, an offset uniformly among those that keep the
    chunk inside the song, and one of ``degradations`` (already-expanded specs) uniformly at
    random. A song shorter than ``chunk`` is used whole and zero-padded at the end (after degrading).
    """

    def __init__(
        self,
        songs: Sequence[Song],
        degradations: Sequence[str],
        chunk: int = 8192,
        seed: int = 0,
        sample_rate: int = SAMPLE_RATE,
        length: int = 2**62,
        cache_whole_songs: bool | None = None,
        range_group: int = 1,
    ):
        self.songs = list(songs)
        self.specs = [str(s) for s in degradations]
        if not self.songs:
            raise ValueError("TrainingChunks needs at least one song")
        if not self.specs:
            raise ValueError("TrainingChunks needs at least one degradation spec")
        if int(chunk) < 1:
            raise ValueError(f"chunk must be a positive number of samples, got {chunk!r}")
        if int(seed) < 0:
            raise ValueError(f"seed must be non-negative, got {seed!r}")
        if int(sample_rate) != SAMPLE_RATE:
            raise ValueError(f"songs are read at {SAMPLE_RATE} Hz; got sample_rate={sample_rate!r}")
        if int(range_group) < 1:
            raise ValueError(f"range_group must be a positive number of chunks, got {range_group!r}")
        self.chunk = int(chunk)
        self.range_group = int(range_group)
        self.seed = int(seed)
        self.sample_rate = int(sample_rate)
        self.length = int(length)
        self._lengths = [s.frames_at_rate for s in self.songs]
        # Samplers check every spec now (bad specs fail here, not inside a worker); their
        # degradation objects are rebuilt lazily in each worker process.
        self.samplers = [DegradationSampler(spec, self.sample_rate) for spec in self.specs]
        for sampler in self.samplers:
            sampler.check()
        self.whole_song_specs = self._whole_song_specs(cache_whole_songs)
        self.whole_song_draws = self._whole_song_draws(cache_whole_songs)
        self._canonical: dict[str, str] = {}  # drawn chain text -> canonical spec
        self._whole_songs: dict[tuple[int, str], np.ndarray] = {}  # (song, spec) -> its cached memory map
        # the clean songs, decoded once into the same cache: chunks of the other specs cut their
        # context from it instead of decoding it from the file, chunk by chunk (the same samples)
        self.clean_cached = cache_whole_songs is not False and (
            bool(self.whole_song_specs)
            or bool(self.whole_song_draws)
            or cache_budget_bytes() >= sum(song_bytes(s) for s in self.songs)
        )

    def _whole_song_specs(self, wanted: bool | None) -> dict[int, str]:
        """``{spec index: canonical spec}`` of the degradations whose chunks are cut from cached whole
        songs: fixed ones (no ranges, nothing random), while they fit :func:`cache_budget_bytes`
        (``wanted=None``); all fixed ones (``True``); none (``False``)."""
        if wanted is False:
            return {}
        fixed = {
            i: resolve_degradations([spec], self.sample_rate)[0].canonical
            for i, (spec, sampler) in enumerate(zip(self.specs, self.samplers))
            if not sampler.random and self._deterministic(i)
        }
        if wanted is None:
            per_spec = sum(song_bytes(s) for s in self.songs)
            fits = max(0, cache_budget_bytes() // max(per_spec, 1) - 1)  # one copy for the clean targets
            fixed = dict(list(fixed.items())[:fits])
        return fixed

    def _deterministic(self, i: int) -> bool:
        """Whether spec ``i``'s output is a function of its (drawn) parameters alone: no random member."""
        return not any(getattr(m, "random", False) for m in self.degradation(i).members)

    def _whole_song_draws(self, wanted: bool | None) -> dict[int, int]:
        """``{spec index: number of distinct draws}`` of the specs with integer ranges only (at most
        :data:`MAX_CACHED_DRAWS` draws) whose every draw is degraded whole once and cached, as the
        fixed specs are: all of a spec's draws while
        they fit :func:`cache_budget_bytes` after the fixed specs (``wanted=None``); all (``True``);
        none (``False``)."""
        if wanted is False:
            return {}
        draws = {}
        for i, sampler in enumerate(self.samplers):
            count = sampler.draw_count()
            if sampler.random and count is not None and count <= MAX_CACHED_DRAWS and self._deterministic(i):
                draws[i] = count
        if wanted is None:
            per_spec = max(sum(song_bytes(s) for s in self.songs), 1)
            room = cache_budget_bytes() // per_spec - 1 - len(self.whole_song_specs)
            kept = {}
            for i, count in draws.items():
                if count <= room:
                    kept[i], room = count, room - count
            draws = kept
        return draws

    def _draw_spec(self, concrete: str) -> str:
        """The canonical spec of a drawn chain ``concrete`` (its cache key)."""
        if concrete not in self._canonical:
            resolved = resolve_degradations([concrete], self.sample_rate, allow_sets=False)[0]
            self._canonical[concrete] = resolved.canonical
        return self._canonical[concrete]

    def _whole_song(self, song: int, spec: str, degrade: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
        """``degraded_song`` of ``songs[song]``, looked up once per process: finding the cached file
        (its key hashes the song's path, size and time) cost more than cutting the chunk from it."""
        key = (song, spec)
        whole = self._whole_songs.get(key)
        if whole is None:
            if len(self._whole_songs) >= MAX_OPEN_SONGS:  # each memory map holds a file descriptor
                self._whole_songs.clear()
            whole = self._whole_songs[key] = degraded_song(self.songs[song], spec, degrade)
        return whole

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_whole_songs"] = {}  # memory maps are reopened in each DataLoader worker, not pickled
        return state

    def degradation(self, i: int) -> ConcreteChain:
        """The degradation chain of spec ``i`` (specs with ranges: drawn with a fixed generator)."""
        sampler = self.samplers[i]
        return sampler.build(sampler.draw(np.random.default_rng(0)))

    @property
    def contexts(self) -> list[int]:
        """Context (samples each side) of each spec; for specs with ranges, that of one draw."""
        return [self.degradation(i).context for i in range(len(self.specs))]

    # -- sampling --------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.length

    def _draw(self, index: int) -> tuple[int, int, int, str, np.random.Generator]:
        if not 0 <= index < self.length:
            raise IndexError(f"chunk index {index} out of range [0, {self.length})")
        rng = np.random.default_rng([self.seed, int(index)])
        song = int(rng.integers(len(self.songs)))
        offset = int(rng.integers(max(self._lengths[song] - self.chunk, 0) + 1))
        degradation = int(rng.integers(len(self.specs)))
        sampler = self.samplers[degradation]
        if self.range_group == 1:
            concrete = sampler.draw(rng)  # ranges drawn here, then rng drives random degradations
        else:  # shared by the group's chunks that pick this degradation (module docstring)
            group = int(index) // self.range_group
            concrete = sampler.draw(np.random.default_rng([self.seed, group, degradation, 1]))
        return song, offset, degradation, concrete, rng

    def describe(self, index: int) -> ChunkInfo:
        """Which song, offset and (drawn) degradation chunk ``index`` uses (for logs and reproducibility)."""
        s, offset, d, concrete, _ = self._draw(index)
        song = self.songs[s]
        context = self.samplers[d].build(concrete).context
        return ChunkInfo(int(index), song.name, str(song.path), offset, concrete, context)

    def arrays(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ``index`` as float32 numpy arrays ``(degraded, target)``, each (2, chunk)."""
        song, offset, degradation, concrete, rng = self._draw(index)
        return self.chunk_at(song, offset, degradation, concrete=concrete, rng=rng)

    def chunk_at(
        self,
        song: int,
        offset: int,
        degradation: int,
        *,
        concrete: str | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The chunk of ``songs[song]`` starting at ``offset`` (44.1 kHz samples), degraded by ``specs[degradation]``.

        ``concrete`` is the drawn chain text for specs with ranges. Fixed degradations and the draws of
        integer ranges are cut from the cached whole degraded song; others take the chain's context
        more on each side (clipped to the song) from the cached clean song (or the file, when nothing
        is cached), degrade, and crop back.
        """
        d = int(degradation)
        chain = self.samplers[d].build(concrete) if concrete is not None else self.degradation(d)
        total = self._lengths[int(song)]
        offset = min(max(int(offset), 0), max(total - self.chunk, 0))
        if d in self.whole_song_specs or d in self.whole_song_draws:
            spec = self.whole_song_specs[d] if d in self.whole_song_specs else self._draw_spec(chain.text)
            whole = self._whole_song(int(song), spec, chain)
            clean = self._whole_song(int(song), CLEAN, _unchanged)  # decoded once: no per-chunk file decoding
            target = np.asarray(clean[offset : offset + self.chunk]).T
            degraded = np.asarray(whole[offset : offset + self.chunk]).T
        else:
            span, lo = self._span(int(song), offset, chain.context)
            rng = rng if rng is not None else np.random.default_rng(0)
            degraded = chain.excerpt(span, lo, lo + self.chunk, self.sample_rate, rng)
            target = span[:, lo : lo + self.chunk]
        return self._finish(degraded, target)

    def _span(self, song: int, offset: int, context: int) -> tuple[np.ndarray, int]:
        """The clean samples of ``songs[song]`` from ``context`` before ``offset`` to ``context`` after the
        chunk (clipped at the song's ends), float32 (channels, samples), and where the chunk starts in it."""
        start = max(0, offset - context)
        stop = min(self._lengths[song], offset + self.chunk + context)
        if self.clean_cached:
            clean = self._whole_song(song, CLEAN, _unchanged)
            span = np.ascontiguousarray(clean[start:stop].T, dtype=np.float32)
        else:
            span = self.songs[song].read(start, stop)
        return span, offset - start

    def _finish(self, degraded: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A chunk as returned: zero-padded to ``chunk`` samples at the end, contiguous float32."""
        if target.shape[1] < self.chunk:
            pad = ((0, 0), (0, self.chunk - target.shape[1]))
            target, degraded = np.pad(target, pad), np.pad(degraded, pad)
        return (
            np.ascontiguousarray(degraded, dtype=np.float32),
            np.ascontiguousarray(target, dtype=np.float32),
        )

    def batch_arrays(self, indices: Sequence[int]) -> list[tuple[np.ndarray, np.ndarray]]:
        """``[arrays(i) for i in indices]``, the same samples, made faster: the chunks that share one
        drawn filter (a range group's, :attr:`range_group`) and lie inside their song are filtered in one
        call, stacked as channels (:attr:`~audioenh.degradations.Degradation.channelwise` chains only);
        scipy's per-call cost had outweighed filtering a short chunk."""
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(indices)
        stacks: dict[tuple[int, str], list[tuple[int, np.ndarray, int]]] = {}  # (spec, draw) -> [(position, span, lo)]
        for position, index in enumerate(indices):
            song, offset, d, concrete, rng = self._draw(int(index))
            chain = self.samplers[d].build(concrete)
            inside = chain.context <= offset <= self._lengths[song] - self.chunk - chain.context
            if d in self.whole_song_specs or d in self.whole_song_draws or not chain.channelwise or not inside:
                out[position] = self.chunk_at(song, offset, d, concrete=concrete, rng=rng)
                continue
            span, lo = self._span(song, offset, chain.context)
            stacks.setdefault((d, concrete), []).append((position, span, lo))
        for (d, concrete), members in stacks.items():
            chain = self.samplers[d].build(concrete)
            spans = np.concatenate([span for _, span, _ in members])  # (members x channels, samples)
            lo = chain.context  # every member lies inside its song: its chunk starts one context into its span
            degraded = chain.excerpt(spans, lo, lo + self.chunk, self.sample_rate, np.random.default_rng(0))
            channels = members[0][1].shape[0]
            for k, (position, span, _) in enumerate(members):
                mine = degraded[k * channels : (k + 1) * channels]
                out[position] = self._finish(mine, span[:, lo : lo + self.chunk])
        return out  # type: ignore[return-value]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        degraded, target = self.arrays(int(index))
        return torch.from_numpy(degraded), torch.from_numpy(target)

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A whole batch at once (PyTorch's DataLoader calls this when a dataset has it): :meth:`batch_arrays`."""
        return [(torch.from_numpy(d), torch.from_numpy(t)) for d, t in self.batch_arrays(indices)]


MAX_OPEN_SONGS = 256  # cached songs a TrainingChunks keeps open at once (per process)
CLEAN = "clean"  # the cache key of a song's own samples (no degradation)


def _unchanged(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    return audio


class _IterationBatches(Sampler):
    """Batches of dataset indices, forever: iteration ``i`` of process ``rank`` (of ``world_size``)
    is ``[(i*world_size + rank) * batch_size, ... + batch_size)``; one process gets
    ``[i*batch_size, (i+1)*batch_size)``."""

    def __init__(self, batch_size: int, start_iteration: int, rank: int = 0, world_size: int = 1):
        self.batch_size = batch_size
        self.start_iteration = start_iteration
        self.rank = rank
        self.world_size = world_size

    def __iter__(self) -> Iterator[list[int]]:
        i = self.start_iteration
        while True:
            first = (i * self.world_size + self.rank) * self.batch_size
            yield list(range(first, first + self.batch_size))
            i += 1


def batches(
    dataset: Dataset,
    batch_size: int,
    start_iteration: int = 0,
    workers: int = 0,
    *,
    rank: int = 0,
    world_size: int = 1,
    pin_memory: bool = False,
) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Yield ``(iteration, degraded, target)`` batches forever, from ``start_iteration`` on.

    Iteration ``i`` holds dataset indices ``i*batch_size ... i*batch_size + batch_size - 1``, so
    resuming at ``start_iteration=k`` yields exactly what an uninterrupted run yields from ``k``.
    Chunks are made (and degraded) in ``workers`` DataLoader worker processes (0: in this process).
    With several training processes, process ``rank`` of ``world_size`` gets its own slice of every
    iteration's ``world_size * batch_size`` examples (distinct data per process, still a pure
    function of the iteration). ``pin_memory``: the batches in page-locked memory, so that copies to a
    CUDA GPU with ``non_blocking=True`` do not wait for the GPU to finish its queued work.
    """
    if not 0 <= int(rank) < int(world_size):
        raise ValueError(f"rank must be in [0, world_size); got rank {rank!r}, world_size {world_size!r}")
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    if int(start_iteration) < 0:
        raise ValueError(f"start_iteration must be non-negative, got {start_iteration!r}")
    if int(workers) < 0:
        raise ValueError(f"workers must be non-negative, got {workers!r}")
    workers = int(workers)
    loader = DataLoader(
        dataset,
        batch_sampler=_IterationBatches(int(batch_size), int(start_iteration), int(rank), int(world_size)),
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=bool(pin_memory),
    )
    for iteration, (degraded, target) in enumerate(loader, start=int(start_iteration)):
        yield iteration, degraded, target
