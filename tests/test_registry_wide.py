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
plugins.reset()


def degradation_example(name):
    entry = plugins.degradations().get(name)
    return getattr(entry.factory, "example", "") or name


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
