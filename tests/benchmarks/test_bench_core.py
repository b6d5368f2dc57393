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
@pytest.mark.parametrize(
    "spec",
    [
        "cheby1:6",
        "paper-multi",
        "ellip:order=4..12,cutoff=8000",
        "cheby1:order=4..12,cutoff=9000..13000",
        "recipe-steep-11k",
    ],
)
def test_training_batch_16x2048(benchmark, train_songs, spec, whole_songs):
    """One quick-preset batch (16 chunks of 2048 samples), made in this process as the DataLoader asks
    for it (``batch_arrays``: a range group's chunks filtered together); an integer range (nine elliptic
    filters, drawn per group of 8 as `train` does) is cached one song per draw, a range of cut-offs in
    whole Hz never (the recipe's long elliptic contexts are filtered from the filter's states)."""
    from audioenh.data.chunks import TrainingChunks
    from audioenh.degradations.chain import resolve_degradations

    specs = [d.canonical for d in resolve_degradations([spec])]
    ds = TrainingChunks(train_songs, specs, chunk=2048, seed=0, cache_whole_songs=whole_songs, range_group=8)
    for i in range(512):  # fill the cache (every draw of the range on every song)
        ds.arrays(i)
    counter = iter(range(10**9))

    def batch():
        first = next(counter) * 16
        return ds.batch_arrays(range(first, first + 16))

    out = benchmark(batch)
    assert len(out) == 16 and out[0][0].shape == (2, 2048)


def _degradation_names():
    from audioenh import plugins as p

    p.reset()
    names = p.degradations().names()
    p.reset()
    return names


@pytest.mark.parametrize("name", _degradation_names())
def test_every_degradation_ten_seconds_stereo(benchmark, ten_seconds, name):
    """Each registered degradation (its example spec, else its bare name) on 10 s of stereo audio."""
    entry = plugins.degradations().get(name)
    degrade = plugins.degradations().create(getattr(entry.factory, "example", "") or name)
    out = benchmark(degrade, ten_seconds, 44100, np.random.default_rng(0))
    assert out.shape == ten_seconds.shape


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize(
    "spec",
    ["resnet:width=16,blocks=6,kernel=7", "unet:width=8,depth=4,kernel=33,max_channels=32"],
    ids=["resnet", "unet"],
)
def test_quick_preset_training_step(benchmark, spec, precision):
    """One Adam step of the quick preset's models on 16 x 2 x 2048, as ``audioenh benchmark`` times it."""
    from audioenh.benchmark import bare_step_rate

    torch.manual_seed(0)
    model = plugins.architectures().create(spec)
    rate = benchmark.pedantic(
        bare_step_rate, args=(model, torch.device("cpu"), precision, 16, 2048, 1.0), rounds=3, iterations=1
    )
    assert rate > 0


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("spec", ["resnet:preset=small", "unet:preset=small"])
def test_runtime_rate_small_models(benchmark, spec, precision):
    """Seconds of compute per second of audio through enhance's model path (``audioenh benchmark``'s runtime rate)."""
    from audioenh.benchmark import inference_rate

    model = plugins.architectures().create(spec).eval()
    rate = benchmark.pedantic(inference_rate, args=(model, torch.device("cpu"), precision, 2.0), rounds=2, iterations=1)
    assert rate > 0
