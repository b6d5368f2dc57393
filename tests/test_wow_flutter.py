"""``wow-flutter``: pitch modulation measured on a 1 kHz tone from its Hilbert phase."""

import numpy as np
import pytest
from scipy import signal

from audioenh.degradations.modulation import cents_to_delay_amplitude
from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like


def tone(seconds=4.0, freq=1000.0):
    t = np.arange(int(seconds * SR)) / SR
    return 0.5 * np.sin(2 * np.pi * freq * t)[None]


def deviation_cents(y, freq=1000.0):
    """Instantaneous frequency (Hilbert phase) of a tone, in cents from ``freq``, its ends (0.25 s) left out."""
    phase = np.unwrap(np.angle(signal.hilbert(y[0])))
    inst = np.diff(phase) * SR / (2 * np.pi)
    return 1200 * np.log2(inst[SR // 4 : -SR // 4] / freq)


@pytest.mark.parametrize(
    "spec, cents, hz",
    [
        ("wow-flutter:flutter_cents=0", 10.0, 0.5),
        ("wow-flutter:wow_cents=0", 3.0, 8.0),
        ("wow-flutter:wow_cents=30,wow_hz=1.5,flutter_cents=0", 30.0, 1.5),
        ("wow-flutter:wow_cents=0,flutter_cents=8,flutter_hz=12", 8.0, 12.0),
    ],
)
def test_measured_deviation_and_rate_match_the_request(spec, cents, hz):
    y = degradations().create(spec)(tone(), SR, rng=np.random.default_rng(3))
    dev = deviation_cents(y)
    assert np.max(dev) == pytest.approx(cents, rel=0.2)
    assert -np.min(dev) == pytest.approx(cents, rel=0.2)
    periods = int(len(dev) * hz / SR)
    assert abs(np.mean(dev[: int(periods * SR / hz)])) < 0.1 * cents  # no net pitch shift over whole periods
    # the deviation oscillates at the requested rate
    spectrum = np.abs(np.fft.rfft(dev - np.mean(dev), 8 * len(dev)))
    peak_hz = np.fft.rfftfreq(8 * len(dev), 1 / SR)[np.argmax(spectrum)]
    assert peak_hz == pytest.approx(hz, rel=0.1)


def test_defaults_add_wow_and_flutter():
    degrade = degradations().create("wow-flutter")
    assert (degrade.wow_cents, degrade.wow_hz, degrade.flutter_cents, degrade.flutter_hz) == (10.0, 0.5, 3.0, 8.0)
    dev = deviation_cents(degrade(tone(), SR, rng=np.random.default_rng(0)))
    assert 7.0 < np.max(dev) < 13.0 * 1.2  # between wow alone and wow + flutter at their peaks together
    assert cents_to_delay_amplitude(10.0, 0.5) * 1000 == pytest.approx(1.844, abs=1e-3)  # ms


def test_zero_depth_is_identity():
    x = music_like(0.3)
    y = degradations().create("wow-flutter:wow_cents=0,flutter_cents=0")(x, SR, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(y, x)


def test_interpolator_is_exact_at_integer_delays_and_flat_below_19_khz():
    from audioenh.degradations.modulation import fractional_read

    x = music_like(0.1)
    np.testing.assert_array_equal(fractional_read(x, np.arange(x.shape[1]) - 5.0)[:, 5:], x[:, :-5])
    t = np.arange(SR // 4) / SR
    for freq in (1000.0, 10000.0, 19000.0):
        sine = np.sin(2 * np.pi * freq * t)[None]
        for frac in (0.25, 0.5):
            shifted = fractional_read(sine, np.arange(sine.shape[1]) - frac)
            expected = np.sin(2 * np.pi * freq * (t - frac / SR))
            mid = slice(100, -100)
            assert np.max(np.abs(shifted[0, mid] - expected[mid])) < 0.003  # -0.02 dB


def test_random_phases_come_from_the_generator():
    degrade = degradations().create("wow-flutter")
    assert degrade.random
    x = music_like(0.5)
    a = degrade(x, SR, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, degrade(x, SR, rng=np.random.default_rng(1)))
    assert np.max(np.abs(a - degrade(x, SR, rng=np.random.default_rng(2)))) > 1e-3


def test_length_kept_and_context_is_the_largest_delay():
    degrade = degradations().create("wow-flutter")
    # (2^(10/1200) - 1) / pi s + (2^(3/1200) - 1) / (16 pi) s = 82.8 samples, plus 16 for the interpolator
    assert degrade.context_samples(SR) == 99
    for n in (1, 2, 17, 5000):
        x = music_like(0.2)[:, :n]
        assert degrade(x, SR).shape == x.shape


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("wow-flutter:wow_cents=-1", "wow_cents must be a pitch deviation from 0 to 600 cents"),
        ("wow-flutter:flutter_cents=700", "flutter_cents must be a pitch deviation from 0 to 600 cents"),
        ("wow-flutter:wow_hz=0", "wow_hz must be a positive modulation rate in Hz"),
        ("wow-flutter:flutter_hz=fast", "flutter_hz must be a positive modulation rate in Hz"),
    ],
)
def test_bad_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)
