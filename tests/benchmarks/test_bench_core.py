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
