"""Tests of the template plugin: each piece measured, and registered through audioenh's hooks.

They run whether or not the package is installed as a plugin: the fixture turns autoloading off
and registers the module by hand, as audioenh would from the entry point.
"""

import math

import numpy as np
import pytest
import torch
from audioenh import plugins
from audioenh.errors import SpecError

from audioenh_example import components, plugin
from audioenh_example.components import PeakError, Tilt, example_conv

SR = 44100


@pytest.fixture
def registered(monkeypatch):
    """audioenh with its built-ins plus this plugin, registered under the entry point's name."""
    monkeypatch.setenv(plugins.DISABLE_ENV, "1")
    plugins.reset()
    plugins.register_plugin(plugin, name="example")
    yield
    plugins.reset()


def sine(frequency, seconds=1.0, sr=SR, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    return np.tile(np.sin(2 * np.pi * frequency * t), (channels, 1))


def measured_gain_db(degradation, frequency, sr=SR):
    """Steady-state gain (dB) at ``frequency``: output/input RMS over the second half of a 1-s sine."""
    x = sine(frequency, sr=sr)
    y = degradation(x, sr)
    half = x.shape[-1] // 2
    return 20 * np.log10(np.sqrt(np.mean(y[:, half:] ** 2)) / np.sqrt(np.mean(x[:, half:] ** 2)))


def shelf_db(frequency, gain, corner, sr=SR):
    """|H| in dB of the analog prototype g (s + k/sqrt(g)) / (s + k sqrt(g)) at the prewarped frequency."""
    g = 10 ** (gain / 20)
    k, w = math.tan(math.pi * corner / sr), math.tan(math.pi * frequency / sr)
    return 10 * math.log10(g**2 * (w**2 + k**2 / g) / (w**2 + k**2 * g))


# -- registration -------------------------------------------------------------------------------


def test_registered_through_the_hooks(registered):
    for registry, name in [
        (plugins.degradations(), "example-tilt"),
        (plugins.architectures(), "example-conv"),
        (plugins.metrics(), "example-peak-error"),
    ]:
        entry = registry.get(name)
        assert entry.plugin == "example"
        assert entry.doc
    assert plugins.degradations().canonical("example-tilt:-12") == "example-tilt:gain=-12,frequency=2000.0"
    assert isinstance(plugins.degradations().create(Tilt.example), Tilt)
    assert isinstance(plugins.architectures().create("example-conv:preset=tiny"), components.ExampleConv)
    assert isinstance(plugins.metrics().create("example-peak-error"), PeakError)


def test_bad_parameters_give_one_line(registered):
    with pytest.raises(SpecError, match="gain must be a number of dB"):
        plugins.degradations().create("example-tilt:gain=loud")
    with pytest.raises(SpecError, match="frequency must be a positive"):
        plugins.degradations().create("example-tilt:frequency=0")
    with pytest.raises(SpecError, match="unknown preset 'huge'"):
        plugins.architectures().create("example-conv:preset=huge")
    with pytest.raises(SpecError, match="kernel must be odd"):
        plugins.architectures().create("example-conv:preset=tiny,kernel=4")


# -- the degradation ----------------------------------------------------------------------------


@pytest.mark.parametrize("gain, corner", [(-6.0, 2000.0), (-20.0, 500.0), (12.0, 8000.0)])
def test_tilt_gain_at_chosen_frequencies(gain, corner):
    tilt = Tilt(gain=gain, frequency=corner)
    # Exactly half the gain (in dB) at the corner, thanks to the prewarping.
    assert measured_gain_db(tilt, corner) == pytest.approx(gain / 2, abs=0.01)
    # Everywhere: the analog prototype's response at the prewarped frequency.
    for f in (50.0, 200.0, 1000.0, 5000.0, 12000.0, 20000.0):
        assert measured_gain_db(tilt, f) == pytest.approx(shelf_db(f, gain, corner), abs=0.01)
    # 0 dB at DC and `gain` dB at the Nyquist frequency (a constant and an alternating signal).
    n = SR
    dc = tilt(np.ones((1, n)), SR)
    nyquist = tilt(np.tile([1.0, -1.0], (1, n // 2)), SR)
    assert dc[0, -1] == pytest.approx(1.0, abs=1e-9)
    assert abs(nyquist[0, -1]) == pytest.approx(10 ** (gain / 20), rel=1e-9)


def test_tilt_is_monotonic_and_darkens():
    tilt = Tilt(gain=-6.0, frequency=2000.0)
    gains = [measured_gain_db(tilt, f) for f in (100, 500, 1000, 2000, 4000, 8000, 16000)]
    assert all(a > b for a, b in zip(gains, gains[1:]))
    assert gains[0] > -0.1 and -6.0 < gains[-1] < -5.5


def test_tilt_shape_dtype_and_input_untouched():
    x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32)
    before = x.copy()
    y = Tilt()(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32
    np.testing.assert_array_equal(x, before)
    assert Tilt()(x[:, :0], SR).shape == (2, 0)


def test_tilt_refuses_a_frequency_above_nyquist():
    with pytest.raises(ValueError, match="at or above the Nyquist frequency 8000 Hz"):
        Tilt(frequency=9000)(np.zeros((1, 10)), 16000)


def test_tilt_context_makes_excerpts_match_the_whole_file():
    tilt = Tilt(gain=-20.0, frequency=500.0)  # a slow pole: a long context
    x = np.random.default_rng(1).standard_normal((2, 20000))
    whole = tilt(x, SR)
    c = tilt.context_samples(SR)
    assert 20 < c < 2000
    a, b = 8000, 9000
    with_context = tilt(x[:, a - c : b + c], SR)[:, c : c + b - a]
    without = tilt(x[:, a:b], SR)
    peak = np.max(np.abs(whole[:, a:b]))
    assert np.max(np.abs(with_context - whole[:, a:b])) < 1e-5 * peak
    assert np.max(np.abs(without - whole[:, a:b])) > 1e-2 * peak  # the context matters
    assert Tilt(gain=0.0).context_samples(SR) < Tilt(gain=-20.0).context_samples(SR)


# -- the architecture ---------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("length", [1, 256, 333])
def test_arch_forward_backward_shapes(channels, length):
    torch.manual_seed(0)
    model = example_conv("tiny", audio_channels=channels)
    x = torch.randn(3, channels, length, requires_grad=True)
    y = model(x)
    assert y.shape == x.shape
    y.square().mean().backward()
    assert x.grad is not None and x.grad.shape == x.shape
    assert all(p.grad is not None and torch.all(torch.isfinite(p.grad)) for p in model.parameters())


def test_arch_presets_and_overrides():
    def count(m):
        return sum(p.numel() for p in m.parameters())

    assert count(example_conv("tiny")) == 794
    assert count(example_conv()) == 74_530  # preset "paper", the default
    assert count(example_conv("tiny", width=16)) > count(example_conv("tiny"))
    assert example_conv("tiny").length_multiple == 2


def test_arch_output_is_input_plus_correction():
    model = example_conv("tiny")
    with torch.no_grad():
        model.up.weight.zero_()
        model.up.bias.zero_()
        x = torch.randn(1, 2, 100)
        torch.testing.assert_close(model(x), x)


# -- the metric ---------------------------------------------------------------------------------


def test_metric_by_hand():
    metric = PeakError()
    assert metric.higher_is_better is False and metric.unit == "dB"
    reference = np.array([[0.5, -1.0, 0.25], [0.0, 0.1, 0.2]])
    estimate = np.array([[0.5, -0.9, 0.25], [0.0, 0.1, 0.19]])
    # largest error 0.1 (channel 0), peak 1.0 -> -20 dB
    assert metric(reference, estimate, SR) == pytest.approx(-20.0)
    # the peak is over all channels: errors of 0.5 against a peak of 2 -> 20 log10(1/4)
    assert metric([[2.0, 0.0], [0.0, 0.0]], [[2.0, 0.0], [0.0, 0.5]], SR) == pytest.approx(20 * math.log10(0.25))
    assert metric(reference, reference, SR) == -math.inf
    assert metric(np.zeros((1, 3)), [[0, 0.1, 0]], SR) == math.inf
    assert isinstance(metric(reference, estimate, SR), float)
