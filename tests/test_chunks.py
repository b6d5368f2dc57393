"""Training chunks: degraded with context so that they equal whole-file degradation; deterministic; resumable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf
import torch

from audioenh.data.chunks import TrainingChunks, batches
from audioenh.data.corpus import Song
from audioenh.degradations import Degradation
from audioenh.plugins import degradations

from .conftest import SR, music_like

CHUNK = 8192
KEY_FILTERS = ["cheby1:6", "cheby1:12", "bessel:12", "ellip:12", "butter:6"]


def song_file(path, seconds, sr=SR, seed=0, subtype="FLOAT"):
    audio = music_like(seconds, sr=sr, seed=seed)
    sf.write(path, (0.5 * audio / np.abs(audio).max()).T, sr, subtype=subtype)  # peak 0.5
    return Song.from_file(path, "train", cache_dir=path.parent / "cache")


@pytest.fixture(scope="module")
def long_song(tmp_path_factory):
    """5 s: longer than a chunk plus ellip:12's context on both sides."""
    return song_file(tmp_path_factory.mktemp("songs") / "long.wav", 5.0)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("few")
    out = [song_file(folder / f"s{i}.flac", 0.6 + 0.3 * i, seed=i, subtype="PCM_24") for i in range(3)]
    out.append(song_file(folder / "s48k.wav", 0.5, sr=48000, seed=7))
    out[-1].prepare()
    return out


def test_context_samples():
    class Gain(Degradation):
        """Memoryless."""

        def apply(self, audio, sample_rate):
            return 0.5 * audio

    assert Gain().context_samples(SR) == 0
    ctx = {s: degradations().create(s).context_samples(SR) for s in KEY_FILTERS + ["ellip:6", "bessel:6"]}
    assert 20 < ctx["bessel:6"] < ctx["bessel:12"] < ctx["butter:6"] * 2 < ctx["cheby1:6"] * 2 < ctx["cheby1:12"]
    assert ctx["cheby1:12"] < ctx["ellip:6"] < 1000 < 50_000 < ctx["ellip:12"] <= 1 << 17
    f = degradations().create("cheby1:6")
    assert f.context_samples(48000) != f.context_samples(SR) and f.context_samples(SR) == ctx["cheby1:6"]


@pytest.mark.parametrize("whole_songs", [True, False], ids=["cached-whole-song", "context"])
@pytest.mark.parametrize("spec", KEY_FILTERS)
def test_chunks_equal_whole_file_filtering(long_song, spec, whole_songs):
    """The reference code filtered chunks in isolation; cut from the cached whole degraded song, or
    degraded with context, chunks match whole-song filtering."""
    ds = TrainingChunks([long_song], [spec], chunk=CHUNK, seed=3, cache_whole_songs=whole_songs)
    assert bool(ds.whole_song_specs) == whole_songs
    (context,) = ds.contexts
    whole_in = long_song.read()
    whole = degradations().create(spec)(whole_in, SR)
    total = whole.shape[1]
    assert total > CHUNK + 2 * context
    offsets = [0, 37, context // 2, context + 100, total // 2, total - CHUNK - context // 2, total - CHUNK - 37]
    offsets += [total - CHUNK] + [ds.describe(i).offset for i in range(3)]
    naive_errors = []
    for off in offsets:
        degraded, target = ds.chunk_at(0, off, 0)
        assert degraded.shape == target.shape == (2, CHUNK) and degraded.dtype == np.float32
        np.testing.assert_array_equal(target, whole_in[:, off : off + CHUNK])
        assert np.max(np.abs(degraded - whole[:, off : off + CHUNK])) < 1e-6, (spec, off)
        if whole_songs:  # exactly the samples a test sees
            np.testing.assert_array_equal(degraded, whole[:, off : off + CHUNK].astype(np.float32))
        naive = degradations().create(spec)(target, SR)  # the reference code: filtfilt on the chunk alone
        naive_errors.append(np.max(np.abs(naive - whole[:, off : off + CHUNK])))
    assert min(naive_errors[1:-1]) > 1e-3  # 1000x worse away from the file's own edges
    for i in range(3):  # and through the dataset interface
        info = ds.describe(i)
        degraded, target = ds[i]
        assert info.song == "long" and info.degradation == spec and info.context == context
        np.testing.assert_array_equal(target.numpy(), whole_in[:, info.offset : info.offset + CHUNK])
        assert torch.max(torch.abs(degraded - torch.from_numpy(whole[:, info.offset : info.offset + CHUNK]))) < 1e-6


def test_ranges_and_random_degradations_cut_their_context_from_the_cached_clean_song(songs, monkeypatch):
    """Chunks of specs that cannot be cached whole take their context from the decoded clean song:
    the same samples as reading the file, so the same chunks; with no cache budget, from the file."""
    specs = ["cheby1:order=4..8,cutoff=9000..12000", "noise:snr=30"]
    ds = TrainingChunks(songs[:2], specs, chunk=2048, seed=1, range_group=4)
    assert ds.whole_song_specs == {} and ds.clean_cached
    cached = [ds.arrays(i) for i in range(12)]
    assert {ds.describe(i).degradation.split(":")[0] for i in range(12)} == {"cheby1", "noise"}
    ds.clean_cached = False
    for i, (degraded, target) in enumerate(cached):
        from_file = ds.arrays(i)
        np.testing.assert_array_equal(degraded, from_file[0])
        np.testing.assert_array_equal(target, from_file[1])
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", "0")
    assert not TrainingChunks(songs[:2], specs, chunk=2048).clean_cached
    assert not TrainingChunks(songs[:2], specs, chunk=2048, cache_whole_songs=False).clean_cached


def test_whole_song_cache_is_made_once_and_only_for_fixed_degradations(songs, monkeypatch):
    from audioenh.data.degraded import degraded_path

    specs = ["cheby1:6", "cheby1:order=4..8", "noise:snr=30", "ellip:12"]
    ds = TrainingChunks(songs[:2], specs, chunk=2048, seed=1)
    assert ds.whole_song_specs == {
        0: "cheby1:order=6,cutoff=11025.0,rp=0.05",
        3: "ellip:order=12,cutoff=11025.0,rp=0.05,rs=20.0",
    }
    ds.chunk_at(1, 100, 0)
    path = degraded_path(songs[1], ds.whole_song_specs[0])
    assert path.parent == songs[1].cache_dir / "degraded" and path.is_file()
    stamp = path.stat().st_mtime_ns
    again = TrainingChunks(songs[:2], specs, chunk=2048, seed=1)
    np.testing.assert_array_equal(again.chunk_at(1, 100, 0)[0], ds.chunk_at(1, 100, 0)[0])
    assert path.stat().st_mtime_ns == stamp  # reused, not remade
    assert not list(path.parent.glob("*.part"))
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", "0")
    assert TrainingChunks(songs[:2], specs, chunk=2048).whole_song_specs == {}  # over budget: chunk by chunk
    per_spec_gb = sum(s.frames_at_rate * 8 for s in songs[:2]) / 1e9
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", str(per_spec_gb * 2.5))  # the clean copy and one filter
    assert list(TrainingChunks(songs[:2], specs, chunk=2048).whole_song_specs) == [0]


def test_each_cached_song_is_looked_up_once_per_process_and_not_pickled(songs, monkeypatch):
    import audioenh.data.chunks as chunks_module

    looked_up = []
    real = chunks_module.degraded_song

    def counting(song, spec, degrade):
        looked_up.append((song.name, spec))
        return real(song, spec, degrade)

    monkeypatch.setattr(chunks_module, "degraded_song", counting)
    ds = TrainingChunks(songs[:2], ["cheby1:6"], chunk=512, seed=3)
    first = [ds.arrays(i) for i in range(40)]
    assert sorted(set(looked_up)) == sorted(looked_up)  # every (song, spec) once: the degraded and the clean copy
    assert len(looked_up) == 4
    copy = pickle.loads(pickle.dumps(ds))  # what a DataLoader worker gets
    assert copy._whole_songs == {}
    for i in (0, 17, 39):
        np.testing.assert_array_equal(copy.arrays(i)[0], first[i][0])
        np.testing.assert_array_equal(copy.arrays(i)[1], first[i][1])


def test_short_song_is_zero_padded(songs):
    ds = TrainingChunks([songs[0]], ["cheby1:6"], chunk=1 << 15)
    n = songs[0].frames_at_rate
    assert n < 1 << 15
    degraded, target = ds[5]
    assert ds.describe(5).offset == 0 and degraded.shape == (2, 1 << 15)
    np.testing.assert_array_equal(target[:, :n].numpy(), songs[0].read())
    np.testing.assert_allclose(degraded[:, :n].numpy(), degradations().create("cheby1:6")(songs[0].read(), SR))
    assert not torch.any(target[:, n:]) and not torch.any(degraded[:, n:])


def test_deterministic_by_seed_and_index(songs):
    specs = ["cheby1:6", "bessel:6", "ellip:6"]
    a = TrainingChunks(songs, specs, chunk=1024, seed=5)
    b = TrainingChunks(list(songs), specs, chunk=1024, seed=5)
    other = TrainingChunks(songs, specs, chunk=1024, seed=6)
    for i in (0, 1, 17, 10**12):
        assert a.describe(i) == b.describe(i)
        for x, y in zip(a[i], b[i]):
            assert torch.equal(x, y)
        _ = a[i]
    assert [a.describe(i) for i in range(8)] != [other.describe(i) for i in range(8)]
    infos = [a.describe(i) for i in range(60)]
    assert {x.song for x in infos} == {s.name for s in songs} and {x.degradation for x in infos} == set(specs)
    assert all(0 <= x.offset <= s.frames_at_rate - 1024 for x in infos for s in songs if s.name == x.song)
    # picklable without its degradation objects (they are rebuilt in each worker)
    copy = pickle.loads(pickle.dumps(a))
    assert all(not sampler._cache for sampler in copy.samplers) and torch.equal(copy[3][0], a[3][0])
    with pytest.raises(IndexError):
        a.describe(-1)


@pytest.mark.parametrize("group", [1, 4, 8])
def test_range_draws_are_shared_within_groups_and_chunks_stay_exact(long_song, songs, group):
    """With range_group G, chunks G*k ... G*k+G-1 that pick the same degradation share its draw (its
    filter is designed once); every chunk keeps its own song and offset, still equals whole-song
    degradation by the drawn filter, and is a pure function of (seed, index)."""
    specs = ["cheby1:order=4..12,cutoff=9000..13000", "ellip:order=4..8,cutoff=9000..13000"]
    ds = TrainingChunks(songs, specs, chunk=1024, seed=2, range_group=group)
    infos = [ds.describe(i) for i in range(48)]
    for first in range(0, 48, group):
        members = infos[first : first + group]
        by_spec = {}
        for m in members:
            by_spec.setdefault(m.degradation.split(":")[0], set()).add(m.degradation)
        assert all(len(draws) == 1 for draws in by_spec.values()), by_spec  # one draw per spec and group
    groups = {infos[i].degradation for i in range(0, 48, group)}
    assert len(groups) > 48 // group // 2  # groups draw anew
    assert len({(m.song, m.offset) for m in infos}) > 40  # chunks still differ
    again = TrainingChunks(songs, specs, chunk=1024, seed=2, range_group=group)
    assert [again.describe(i) for i in range(48)] == infos
    if group > 1:
        per_chunk = TrainingChunks(songs, specs, chunk=1024, seed=2)
        assert [per_chunk.describe(i).song for i in range(48)] == [m.song for m in infos]  # same songs, offsets
        assert [per_chunk.describe(i).offset for i in range(48)] == [m.offset for m in infos]
    long = TrainingChunks([long_song], specs[:1], chunk=CHUNK, seed=2, range_group=group)
    for i in (0, 1, group + 1):
        info = long.describe(i)
        degraded, _ = long.arrays(i)
        whole = degradations().create(info.degradation)(long_song.read(), SR)
        assert np.max(np.abs(degraded - whole[:, info.offset : info.offset + CHUNK])) < 1e-6


def test_long_context_ranges_are_filtered_from_the_states_batch_or_chunk(long_song, monkeypatch):
    """Draws whose context is long (an elliptic low-pass of order 11-12: 32 000-71 000 samples) are
    filtered from the filter's states at the chunk's edges, stacked or one by one: still the whole-song
    degradation by the drawn filter, and a batch still equals its chunks one by one, sample for sample."""
    from audioenh.degradations.zero_phase import ExcerptFilter

    rows = []
    plain = ExcerptFilter.__call__
    monkeypatch.setattr(ExcerptFilter, "__call__", lambda self, x, *a: rows.append(x.shape[0]) or plain(self, x, *a))
    ds = TrainingChunks([long_song], ["ellip:order=11..12,cutoff=10500..11500"], chunk=CHUNK, seed=4, range_group=8)
    indices = list(range(16))
    stacked = ds.batch_arrays(indices)
    assert max(rows) > 2  # chunks inside the song were filtered together, from their states
    whole_in = long_song.read()
    for i, (degraded, _) in zip(indices, stacked):
        np.testing.assert_array_equal(degraded, ds.arrays(i)[0])
        info = ds.describe(i)
        whole = degradations().create(info.degradation)(whole_in, SR)
        assert np.max(np.abs(degraded - whole[:, info.offset : info.offset + CHUNK])) < 1e-6, info
    # and the same in DataLoader worker processes
    for (i, d0, t0), (j, d1, t1) in zip(collect(batches(ds, 8), 2), collect(batches(ds, 8, workers=2), 2)):
        assert i == j and torch.equal(d0, d1) and torch.equal(t0, t1)


def test_bad_arguments(songs):
    with pytest.raises(ValueError, match="at least one song"):
        TrainingChunks([], ["cheby1:6"])
    with pytest.raises(ValueError, match="44100"):
        TrainingChunks(songs, ["cheby1:6"], sample_rate=48000)
    with pytest.raises(Exception, match="unknown degradation 'cheby3'"):
        TrainingChunks(songs, ["cheby3:6"])
    with pytest.raises(ValueError, match="range_group"):
        TrainingChunks(songs, ["cheby1:6"], range_group=0)


def collect(iterator, n):
    return [next(iterator) for _ in range(n)]


def test_batches_resume_and_workers(songs):
    ds = TrainingChunks(songs, ["cheby1:6", "bessel:6"], chunk=512, seed=1)
    run = collect(batches(ds, 3), 6)
    assert [i for i, _, _ in run] == list(range(6))
    for i, degraded, target in run:
        assert degraded.shape == target.shape == (3, 2, 512)
        for k in range(3):
            d, t = ds[3 * i + k]
            assert torch.equal(degraded[k], d) and torch.equal(target[k], t)
    resumed = collect(batches(ds, 3, start_iteration=3), 3)
    parallel = collect(batches(ds, 3, start_iteration=2, workers=2), 4)
    for got in (resumed, parallel):
        for i, degraded, target in got:
            _, d0, t0 = run[i]
            assert torch.equal(degraded, d0) and torch.equal(target, t0)
    assert [i for i, _, _ in resumed] == [3, 4, 5]


def test_integer_ranges_are_cut_from_whole_songs_degraded_by_each_draw(long_song, songs, monkeypatch):
    """A spec whose ranges are all integers has finitely many draws: each degrades the whole song once
    (cached under the drawn chain's canonical spec), so its chunks are exactly what a test of that
    filter sees; a real-valued range is a continuum and stays chunk by chunk with context."""
    from audioenh.data.degraded import degraded_path
    from audioenh.degradations.chain import DegradationSampler

    assert DegradationSampler("cheby1:order=6..12,cutoff=11025").draw_count() == 7
    assert DegradationSampler("ellip:order=4..6,rs=20..22+butter:order=8..9").draw_count() == 3 * 3 * 2
    assert DegradationSampler("cheby1:order=6..12,cutoff=9000..13000").draw_count() == 7 * 4001  # whole Hz
    assert DegradationSampler("cheby1:order=6..12,rp=0.05..1").draw_count() is None  # a continuum
    assert DegradationSampler("cheby1:6").draw_count() == 1
    specs = ["cheby1:order=4..12,cutoff=9000", "ellip:order=10..12", "cheby1:order=4..8,cutoff=9000..12000"]
    ds = TrainingChunks([long_song], specs, chunk=CHUNK, seed=5, range_group=2)
    assert ds.whole_song_draws == {0: 9, 1: 3} and ds.whole_song_specs == {}  # 15,005 cut-offs: too many
    seen = set()
    for i in range(40):
        _, offset, d, concrete, _ = ds._draw(i)
        degraded, target = ds.arrays(i)
        np.testing.assert_array_equal(target, long_song.read()[:, offset : offset + CHUNK])
        whole = degradations().create(concrete)(long_song.read(), SR)[:, offset : offset + CHUNK]
        if d in ds.whole_song_draws:
            np.testing.assert_array_equal(degraded, whole.astype(np.float32))  # exactly the whole-song samples
            assert degraded_path(long_song, ds._draw_spec(concrete)).is_file()
            seen.add(concrete)
        else:
            assert np.max(np.abs(degraded - whole)) < 1e-6
    assert len(seen) >= 4  # several draws, each its own cached song
    again = TrainingChunks([long_song], specs, chunk=CHUNK, seed=5, range_group=2, cache_whole_songs=False)
    assert again.whole_song_draws == {}
    for i in range(6):  # the same chunks to float rounding when degraded with context
        assert np.max(np.abs(again.arrays(i)[0] - ds.arrays(i)[0])) < 1e-6
    per_spec_gb = sum(s.frames_at_rate * 8 for s in songs[:2]) / 1e9
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", str(per_spec_gb * 10.5))  # clean, cheby1:6 and 8 draws
    budgeted = TrainingChunks(songs[:2], ["cheby1:6", *specs], chunk=2048)
    assert list(budgeted.whole_song_specs) == [0] and budgeted.whole_song_draws == {2: 3}  # 9 draws do not fit


def test_make_room_deletes_least_recently_used_songs_not_in_use(tmp_path):
    import os

    from audioenh.data import degraded

    sizes = {"a": 400, "b": 300, "c": 200, "busy": 500}
    for age, (name, size) in enumerate(sizes.items()):
        path = tmp_path / f"{name}.npy"
        path.write_bytes(b"\0" * size)
        os.utime(path, ns=(10**18 + age * 10**9, 10**18 + age * 10**9))  # a oldest, busy newest
    (tmp_path / "note.txt").write_bytes(b"\0" * 10_000)  # not a cached song: neither counted nor deleted
    os.utime(tmp_path / "busy.npy", ns=(1, 1))  # the oldest of all, but this process has it open
    degraded._in_use.add(str(tmp_path / "busy.npy"))
    try:
        # 1400 bytes + 250 incoming against 1000: 650 to free -> a (400) and b (300), oldest first
        assert degraded.make_room(tmp_path, 250, budget=1000) == 700
        assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.npy", "c.npy", "note.txt"]
        assert degraded.make_room(tmp_path, 0, budget=1000) == 0  # fits: nothing deleted
        assert degraded.make_room(tmp_path, 10**6, budget=1000) == 200  # only what is not in use
        assert sorted(p.name for p in tmp_path.iterdir()) == ["busy.npy", "note.txt"]
    finally:
        degraded._in_use.discard(str(tmp_path / "busy.npy"))


def test_a_new_run_evicts_an_earlier_runs_songs_beyond_the_budget(tmp_path, monkeypatch):
    from audioenh.data import degraded

    pair = [song_file(tmp_path / f"s{i}.flac", 0.6, seed=i, subtype="PCM_24") for i in range(2)]  # own cache
    per_spec = sum(degraded.song_bytes(s) for s in pair)
    monkeypatch.setenv("AUDIOENH_DEGRADED_CACHE_GB", str(per_spec * 2.5 / 1e9))  # clean copies + one filter
    folder = pair[0].cache_dir / degraded.FOLDER
    first = TrainingChunks(pair, ["butter:order=5"], chunk=2048, seed=3)
    for song in range(2):
        first.chunk_at(song, 0, 0)
    assert first.whole_song_specs and len(list(folder.glob("*.npy"))) == 4  # clean and filtered, each song
    old = {degraded.degraded_path(s, first.whole_song_specs[0]) for s in pair}
    assert all(p.is_file() for p in old)
    # a new process: nothing open; another filter's songs take the room of the first one's
    monkeypatch.setattr(degraded, "_in_use", set())
    degraded._open.cache_clear()
    second = TrainingChunks(pair, ["cheby2:order=5"], chunk=2048, seed=3)
    expected = second.chunk_at(0, 50, 0)[0]
    expected = second.chunk_at(1, 50, 0)[0]
    assert not any(p.is_file() for p in old)
    assert sum(p.stat().st_size for p in folder.glob("*.npy")) <= per_spec * 2.5
    fresh = TrainingChunks(pair, ["cheby2:order=5"], chunk=2048, seed=3, cache_whole_songs=False)
    np.testing.assert_allclose(fresh.chunk_at(1, 50, 0)[0], expected, atol=1e-6)  # still the exact samples
    assert len(list(folder.glob("*.npy"))) == 4  # the clean songs (remade when evicted) and the new filter


@pytest.mark.parametrize(
    "specs",
    [
        ["cheby1:order=4..12,cutoff=9000..13000"],
        ["ellip:order=10..12,cutoff=10000..12000", "butter:order=2..6,cutoff=8000..12000"],
        ["cheby1:order=4..8,cutoff=9000..12000", "noise:snr=30", "cheby1:6"],
    ],
    ids=["one-range", "two-ranges", "range-random-fixed"],
)
def test_a_batch_at_once_gives_the_chunks_one_by_one(long_song, songs, specs, monkeypatch):
    """Chunks sharing a drawn filter are filtered in one call, stacked as channels: exactly the samples
    of one call per chunk, for interior chunks and those clipped at a song's ends (short songs included),
    whatever the batch's mix of range, random and cached specs; the DataLoader takes the batch path."""
    from audioenh.degradations.chain import ConcreteChain

    ds = TrainingChunks([long_song, *songs[:3]], specs, chunk=CHUNK, seed=5, range_group=4)
    indices = list(range(40, 72))
    calls = []
    plain_excerpt = ConcreteChain.excerpt
    monkeypatch.setattr(
        ConcreteChain, "excerpt", lambda self, a, *r: calls.append(a.shape[0]) or plain_excerpt(self, a, *r)
    )
    stacked = ds.batch_arrays(indices)
    assert max(calls) > 2  # some chunks were filtered together
    monkeypatch.setattr(ConcreteChain, "excerpt", plain_excerpt)
    for i, (degraded, target) in zip(indices, stacked):
        one_degraded, one_target = ds.arrays(i)
        np.testing.assert_array_equal(degraded, one_degraded)
        np.testing.assert_array_equal(target, one_target)
        assert degraded.dtype == np.float32 and degraded.shape == (2, CHUNK)
    _, degraded, target = next(batches(ds, 32, start_iteration=40 // 32))
    assert torch.equal(degraded[8:], torch.from_numpy(np.stack([d for d, _ in stacked[:24]])))
