"""Every registered degradation, architecture and metric, tested automatically (timm's habit).

A plugin's entries are covered on arrival: degradations are created from their ``example``
spec (or their bare name), architectures with ``preset=tiny``, metrics by name.
"""

import numpy as np
import pytest
import torch

from audioenh import plugins

from .conftest import SR, music_like

# Registries are read at collection time with autoloading off (conftest), i.e. the built-ins;
# CI's plugin job runs the same file with plugins installed and autoloading on.
plugins.reset()
DEGRADATIONS = plugins.degradations().names()
ARCHITECTURES = plugins.architectures().names()
METRICS = plugins.metrics().names()
DEGRADATION_SETS = list(plugins.degradations().sets())
plugins.reset()


def degradation_example(name):
    entry = plugins.degradations().get(name)
    return getattr(entry.factory, "example", "") or name


@pytest.mark.parametrize("name", DEGRADATION_SETS)
def test_degradation_set_members_build_and_degrade(name):
    """Every member of a named set (plugins' additions included) builds at both ends of its ranges
    and degrades a short stereo signal to finite samples of the same shape."""
    from audioenh.degradations.chain import DegradationSampler, resolve_degradations

    members = plugins.degradations().sets()[name]
    resolved = resolve_degradations([name])
    assert len(resolved) == len(members) > 0
    x = music_like(0.5)
    for member in resolved:
        sampler = DegradationSampler(member.canonical, SR)
        y, _ = sampler.degrade(x, SR, np.random.default_rng(0))
        assert y.shape == x.shape and np.all(np.isfinite(y)), member.text


@pytest.mark.parametrize("name", DEGRADATIONS)
def test_degradation_contract(name):
    entry = plugins.degradations().get(name)
    assert entry.doc, f"{name} needs a docstring"
    degrade = plugins.degradations().create(degradation_example(name))
    for channels in (1, 2):
        for dtype in (np.float32, np.float64):
            x = music_like(0.3, channels=channels).astype(dtype)
            y = degrade(x, SR, rng=np.random.default_rng(1))
            assert y.shape == x.shape and y.dtype == dtype
            assert np.all(np.isfinite(y))
            np.testing.assert_array_equal(y, degrade(x, SR, rng=np.random.default_rng(1)))  # deterministic
            if getattr(degrade, "random", False):  # every random number comes from the generator
                assert not np.array_equal(y, degrade(x, SR, rng=np.random.default_rng(2)))
    # context_samples: an excerpt degraded with that much real signal around it, then cropped, is the
    # same as those samples of the whole degraded file (random degradations and ones marked
    # ``local = False``, e.g. brickwall, are exempt)
    if not getattr(degrade, "random", False) and getattr(degrade, "local", True):
        x = music_like(1.0)
        x *= 0.5 / np.max(np.abs(x))
        c = int(degrade.context_samples(SR))
        assert c >= 0
        whole = degrade(x, SR)
        n = x.shape[1]
        for a, b in [(20001, 28193), (0, 4096), (n - 4096, n)]:
            start, stop = max(0, a - c), min(n, b + c)
            part = degrade(x[:, start:stop], SR)[:, a - start : a - start + b - a]
            np.testing.assert_allclose(part, whole[:, a:b], rtol=0, atol=1e-5, err_msg=f"context {c} is too short")
            # and the excerpt method, which may compute those samples with less work
            part = degrade.excerpt(x[:, start:stop], a - start, b - start, SR)
            assert part.dtype == x.dtype
            np.testing.assert_allclose(part, whole[:, a:b], rtol=0, atol=1e-5, err_msg="excerpt")
    # channelwise: several excerpts stacked as channels are degraded exactly as one by one
    if getattr(degrade, "channelwise", False):
        excerpts = [music_like(0.2, seed=seed) for seed in range(3)]
        stacked = degrade(np.concatenate(excerpts), SR)
        stacked_excerpt = degrade.excerpt(np.concatenate(excerpts), 1000, 5000, SR)
        for k, x in enumerate(excerpts):
            np.testing.assert_array_equal(stacked[2 * k : 2 * k + 2], degrade(x, SR))
            np.testing.assert_array_equal(stacked_excerpt[2 * k : 2 * k + 2], degrade.excerpt(x, 1000, 5000, SR))
    # short and empty inputs keep their length
    for length in (0, 1, 17):
        x = music_like(0.1)[:, :length]
        assert degrade(x, SR).shape == x.shape
    # the input is not modified in place
    x = music_like(0.1)
    before = x.copy()
    degrade(x, SR)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_tiny_forward_backward(name):
    entry = plugins.architectures().get(name)
    assert entry.doc, f"{name} needs a docstring"
    torch.manual_seed(0)
    model = plugins.architectures().create(f"{name}:preset=tiny")
    n_params = sum(p.numel() for p in model.parameters())
    assert 0 < n_params < 200_000, "tiny presets must stay tiny"
    for length in (256, 333):
        x = torch.randn(3, 2, length, requires_grad=True)
        y = model(x)
        assert y.shape == x.shape
        loss = torch.mean((y - torch.zeros_like(y)) ** 2)
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None and torch.all(torch.isfinite(g)) for g in grads)
        assert any(torch.any(g != 0) for g in grads)
        model.zero_grad()
    model.eval()
    with torch.no_grad():
        x = torch.randn(1, 2, 256)
        torch.testing.assert_close(model(x), model(x))


def _other_presets(presets: dict) -> dict:
    """The same preset names, each given the values of the next preset (so every size changes)."""
    names = list(presets)
    return {name: dict(presets[names[(i + 1) % len(names)]]) for i, name in enumerate(names)}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_checkpoint_survives_changed_presets(name, tmp_path, monkeypatch):
    """A checkpoint records every constructor argument: it rebuilds the same model after PRESETS change."""
    import sys

    from audioenh.checkpoint import load_model, make_checkpoint, save_checkpoint

    registry = plugins.architectures()
    spec = f"{name}:preset=tiny"
    torch.manual_seed(0)
    model = registry.create(spec).eval()
    path = tmp_path / "model.pt"
    checkpoint = make_checkpoint(
        arch=spec,
        architecture=registry.resolve(spec),
        model=model,
        sample_rate=SR,
        degradations=["cheby1:6"],
        resolved_degradations=["cheby1:order=6,cutoff=11025.0,rp=0.05"],
        unseen=["butter:6"],
        plugins=[registry.get(name).plugin],
    )
    save_checkpoint(path, checkpoint)
    module = sys.modules[registry.get(name).factory.__module__]
    presets = getattr(module, "PRESETS", None)
    if isinstance(presets, dict) and len(presets) > 1:
        monkeypatch.setattr(module, "PRESETS", _other_presets(presets))
        if "tiny" in presets and presets["tiny"] != module.PRESETS["tiny"]:  # the patch has teeth
            changed = registry.create(spec)
            assert sum(p.numel() for p in changed.parameters()) != sum(p.numel() for p in model.parameters())
    rebuilt, loaded = load_model(path)
    assert loaded["arch"] == spec and loaded["versions"]["audioenh"]
    x = torch.randn(1, getattr(model, "audio_channels", 2), 512)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_blockwise_inference_equals_whole(name):
    """Overlap-save blocks (starts on multiples of ``length_multiple``) join without seams."""
    from audioenh.evaluation.inference import enhance_array

    torch.manual_seed(0)
    model = plugins.architectures().create(f"{name}:preset=tiny").eval()
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    n = 37 * multiple + 5  # not a multiple of anything used below
    x = np.random.default_rng(0).standard_normal((2, n)).astype(np.float32) * 0.1
    # Blocks see real zeros beyond the signal's ends (not a layer's implicit padding), so the
    # reference is the whole signal with zeros on both sides, longer than the receptive field.
    side = -(-2048 // multiple) * multiple
    padded = np.zeros((2, side + -(-n // multiple) * multiple + side), dtype=np.float32)
    padded[:, side : side + n] = x
    with torch.no_grad():
        whole = model(torch.from_numpy(padded)[None])[0, :, side : side + n].numpy()
    blocks = enhance_array(model, x, chunk=3 * multiple + 1, context=2048, batch_size=3)
    assert blocks.shape == x.shape
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=1e-5)
    # the default context is the receptive field: just enough
    np.testing.assert_allclose(enhance_array(model, x, chunk=3 * multiple + 1), whole, rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_receptive_field_covers_what_reaches_an_output(name):
    from audioenh.architectures.receptive import measure_receptive_field, receptive_field

    torch.manual_seed(0)
    model = plugins.architectures().create(f"{name}:preset=tiny")
    measured = measure_receptive_field(model)
    assert 0 < measured <= receptive_field(model) <= 2 * measured + 2 * getattr(model, "length_multiple", 1)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_architecture_mono(name):
    """audio_channels=1 builds a mono model that trains and infers on (batch, 1, samples)."""
    from audioenh.evaluation.inference import enhance_array

    torch.manual_seed(0)
    model = plugins.architectures().create(f"{name}:preset=tiny,audio_channels=1")
    x = torch.randn(2, 1, 300, requires_grad=True)
    y = model(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    out = enhance_array(model.eval(), np.zeros((1, 1000), dtype=np.float32) + 0.1, chunk=128, context=256)
    assert out.shape == (1, 1000) and np.all(np.isfinite(out))


@pytest.mark.parametrize("name", METRICS)
def test_metric_contract(name):
    from audioenh.errors import MetricUnavailableError

    entry = plugins.metrics().get(name)
    assert entry.doc, f"{name} needs a docstring"
    try:  # metrics needing weights or an optional package may be unavailable here
        metric = plugins.metrics().create(name)
    except MetricUnavailableError as exc:
        pytest.skip(str(exc))
    assert isinstance(metric.higher_is_better, bool)
    x = music_like(max(0.3, getattr(metric, "min_seconds", 0.0)))
    noisy = x + 0.05 * np.random.default_rng(0).standard_normal(x.shape)
    try:
        best = metric(x, x, SR)
    except MetricUnavailableError as exc:
        pytest.skip(str(exc))
    worse = metric(x, noisy, SR)
    assert np.isfinite(worse)
    assert (best > worse) if metric.higher_is_better else (best < worse)
    assert metric(x, noisy, SR) == worse  # deterministic
    assert isinstance(worse, float)
    # several estimates against one reference (testing scores an input and its output): the same values
    assert metric.score_many(x, [noisy, x, noisy], SR) == [worse, best, worse]
