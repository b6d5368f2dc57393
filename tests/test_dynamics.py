"""``clip``, ``gain`` and ``quantize``: memoryless amplitude degradations, checked sample by sample."""

import numpy as np
import pytest

from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like


def loud(seconds=0.3, peak=0.9):
    x = music_like(seconds)
    return x * (peak / np.max(np.abs(x)))


@pytest.mark.parametrize("threshold_db", [-6.0, -12.0, -1.0, 0.0])
def test_hard_clip_peak_is_the_threshold(threshold_db):
    x = loud(peak=1.5)
    y = degradations().create(f"clip:threshold_db={threshold_db}")(x, SR)
    t = 10 ** (threshold_db / 20)
    assert np.max(np.abs(y)) == pytest.approx(t, rel=1e-12)
    assert 20 * np.log10(np.max(np.abs(y))) == pytest.approx(threshold_db, abs=1e-9)
    inside = np.abs(x) <= t
    np.testing.assert_array_equal(y[inside], x[inside])  # untouched below the threshold
    np.testing.assert_array_equal(y[~inside], np.sign(x[~inside]) * t)


def test_default_clip_is_hard_at_minus_6_dbfs():
    clip = degradations().create("clip")
    assert clip.threshold_db == -6.0 and clip.mode == "hard"
    assert clip.threshold == pytest.approx(0.5012, abs=1e-4)


def test_soft_clip_stays_below_the_threshold_with_a_knee():
    t = 10 ** (-6 / 20)
    x = loud(peak=3.0)
    y = degradations().create("clip:mode=soft")(x, SR)
    hard = degradations().create("clip")(x, SR)
    assert np.max(np.abs(y)) < t
    assert np.max(np.abs(y)) > 0.99 * t  # a peak 15 dB above the threshold comes within 1 % of it
    # unchanged up to half the threshold, then strictly below the identity and at most the hard clip
    below = np.abs(x) <= t / 2
    np.testing.assert_array_equal(y[below], x[below])
    assert np.all(np.abs(y[~below]) < np.abs(x[~below]))
    assert np.all(np.abs(y) <= np.abs(hard) + 1e-15)
    # monotonic, odd and with a continuous slope at the knee
    ramp = np.linspace(-2, 2, 40001)[None]
    curve = degradations().create("clip:mode=soft")(ramp, SR)[0]
    assert np.all(np.diff(curve) > 0)
    np.testing.assert_allclose(curve, -curve[::-1], atol=1e-15)
    slope = np.diff(curve) / np.diff(ramp[0])
    assert np.max(np.abs(np.diff(slope))) < 1e-3


def test_soft_clip_leaves_quiet_audio_alone():
    x = loud(peak=0.25)  # below half of -6 dBFS
    np.testing.assert_array_equal(degradations().create("clip:mode=soft")(x, SR), x)


@pytest.mark.parametrize("db", [-6.0, -20.0, 0.0, 3.5, 12])
def test_gain_is_exact_in_db(db):
    x = music_like(0.2)
    y = degradations().create(f"gain:{db}")(x, SR)
    np.testing.assert_allclose(y, x * 10 ** (db / 20), rtol=1e-15)
    measured = 10 * np.log10(np.mean(y**2) / np.mean(x**2))
    assert measured == pytest.approx(db, abs=1e-9)


def test_gain_does_not_clip():
    x = loud(peak=0.9)
    assert np.max(np.abs(degradations().create("gain:12")(x, SR))) == pytest.approx(0.9 * 10 ** (12 / 20))


@pytest.mark.parametrize("bits", [1, 2, 4, 8, 12, 16])
def test_quantize_levels_and_error_bound(bits):
    x = loud(peak=0.99, seconds=0.5)
    y = degradations().create(f"quantize:{bits}")(x, SR)
    step = 2.0 ** (1 - bits)
    codes = y / step
    np.testing.assert_array_equal(codes, np.round(codes))  # on the grid
    assert len(np.unique(y)) <= 2**bits
    assert np.min(y) >= -1 and np.max(y) <= 1 - step
    inside = (x >= -1) & (x <= 1 - step)
    assert np.max(np.abs(y - x)[inside]) <= 2.0**-bits  # half a step
    # a full-scale ramp uses every one of the 2 ** bits levels
    ramp = np.linspace(-1, 1, 2**17 + 1)[None]
    assert len(np.unique(degradations().create(f"quantize:{bits}")(ramp, SR))) == 2**bits


def test_quantize_8_bit_error_is_uniform_noise():
    x = loud(peak=0.99, seconds=1.0)
    error = degradations().create("quantize:8")(x, SR) - x
    step = 2.0**-7
    assert np.std(error) == pytest.approx(step / np.sqrt(12), rel=0.02)  # the classic q / sqrt(12)


def test_quantize_is_pcm_range():
    x = np.array([[-1.5, -1.0, -0.2, 0.0, 0.49, 0.5, 0.99, 1.0, 1.5]])
    y = degradations().create("quantize:2")(x, SR)  # levels -1, -0.5, 0, 0.5
    np.testing.assert_array_equal(y, [[-1.0, -1.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 0.5]])


def test_dithered_quantize_is_random_and_reproducible():
    q = degradations().create("quantize:8,dither=true")
    assert q.random
    assert not degradations().create("quantize:8").random
    x = loud(peak=0.9)
    a = q(x, SR, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, q(x, SR, rng=np.random.default_rng(1)))
    assert not np.array_equal(a, q(x, SR, rng=np.random.default_rng(2)))
    step = 2.0**-7
    np.testing.assert_array_equal(a / step, np.round(a / step))
    error = a - x
    assert np.max(np.abs(error)) <= 1.5 * step  # TPDF of +-1 step, then rounding
    assert np.std(error) == pytest.approx(step / 2, rel=0.05)  # sqrt(1/12 + 2/12) of a step
    # dither decorrelates the error from the signal: a quiet tone's error is no longer its harmonics
    t = np.arange(SR) / SR
    tone = 0.3 * step * np.sin(2 * np.pi * 1000 * t)[None]
    plain = degradations().create("quantize:8")(tone, SR)
    assert np.all(plain == 0)  # below half a step: silence
    dithered = q(tone, SR, rng=np.random.default_rng(0))
    assert np.corrcoef(dithered[0], tone[0])[0, 1] > 0.1  # the tone survives in the dithered output


@pytest.mark.parametrize("spec", ["clip", "clip:mode=soft", "gain:-6", "quantize:8"])
def test_memoryless(spec):
    degrade = degradations().create(spec)
    assert degrade.context_samples(SR) == 0
    x = loud(peak=1.2)
    np.testing.assert_array_equal(degrade(x[:, 1000:2000], SR), degrade(x, SR)[:, 1000:2000])


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("clip:mode=medium", "mode must be 'hard' or 'soft'"),
        ("clip:threshold_db=loud", "threshold_db must be a finite number of dB relative to full scale"),
        ("gain", "missing a required argument: 'db'"),
        ("gain:inf", "db must be a finite number of decibels"),
        ("quantize", "missing a required argument: 'bits'"),
        ("quantize:0", "bits must be an integer from 1 to 32"),
        ("quantize:33", "bits must be an integer from 1 to 32"),
        ("quantize:8.5", "bits must be an integer from 1 to 32"),
        ("quantize:8,dither=yes", "dither must be true or false"),
    ],
)
def test_bad_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)
