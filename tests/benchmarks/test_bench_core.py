"""Speed of the core pieces (run with: pytest tests/benchmarks --benchmark-only).

Not part of the default test run. Figures go to docs with the machine they ran on.
"""

import numpy as np
import pytest
import torch

from audioenh import plugins


@pytest.fixture(scope="module")
def ten_seconds():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 441000)) * 0.1


@pytest.mark.parametrize("spec", ["cheby1:6", "cheby1:12", "ellip:12", "butter:6"])
def test_filter_ten_seconds_stereo(benchmark, ten_seconds, spec):
    filt = plugins.degradations().create(spec)
    out = benchmark(filt, ten_seconds, 44100)
    assert out.shape == ten_seconds.shape


@pytest.mark.parametrize("spec", ["unet:preset=small", "resnet:preset=small"])
def test_forward_one_second_cpu(benchmark, spec):
    torch.manual_seed(0)
    model = plugins.architectures().create(spec).eval()
    x = torch.randn(1, 2, 44100)
    with torch.no_grad():
        out = benchmark(model, x)
    assert out.shape == x.shape


@pytest.fixture(scope="module")
def train_songs(tmp_path_factory):
    """Four 16-s stereo songs at 44.1 kHz, like the quick preset's corpus."""
    import soundfile as sf

    from audioenh.data.corpus import Song

    folder = tmp_path_factory.mktemp("bench-songs")
    rng = np.random.default_rng(0)
    songs = []
    for i in range(4):
        path = folder / f"song-{i}.flac"
        sf.write(path, (0.1 * rng.standard_normal((16 * 44100, 2))).astype(np.float32), 44100, subtype="PCM_24")
        songs.append(Song.from_file(path, "train", cache_dir=folder / "cache"))
    return songs


@pytest.mark.parametrize("whole_songs", [False, True], ids=["per-chunk-context", "cached-whole-songs"])
@pytest.mark.parametrize("spec", ["cheby1:6", "paper-multi"])
def test_training_batch_16x2048(benchmark, train_songs, spec, whole_songs):
    """One quick-preset batch (16 chunks of 2048 samples), made in this process."""
    from audioenh.data.chunks import TrainingChunks
    from audioenh.degradations.chain import resolve_degradations

    specs = [d.canonical for d in resolve_degradations([spec])]
    ds = TrainingChunks(train_songs, specs, chunk=2048, seed=0, cache_whole_songs=whole_songs)
    for i in range(64):  # fill the cache
        ds.arrays(i)
    counter = iter(range(10**9))

    def batch():
        first = next(counter) * 16
        return [ds.arrays(first + i) for i in range(16)]

    out = benchmark(batch)
    assert len(out) == 16 and out[0][0].shape == (2, 2048)
