"""``noise``: white or pink Gaussian noise at a measured SNR, reproducible from the generator."""

import numpy as np
import pytest
from scipy import signal

from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like


def snr_db(x, y):
    return 10 * np.log10(np.mean(x**2) / np.mean((y - x) ** 2))


@pytest.mark.parametrize("color", ["white", "pink"])
@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0, 40.0])
def test_measured_snr_is_the_requested_one(color, snr):
    x = music_like(0.5)
    y = degradations().create(f"noise:{snr},color={color}")(x, SR, rng=np.random.default_rng(7))
    assert snr_db(x, y) == pytest.approx(snr, abs=0.2)
    assert snr_db(x, y) == pytest.approx(snr, abs=1e-9)  # the realised noise is scaled, so it is exact


def test_snr_is_over_all_channels_together_and_noise_is_independent_per_channel():
    x = music_like(0.5)
    x[1] *= 0.1  # a quiet channel gets the same noise level as the loud one
    y = degradations().create("noise:10")(x, SR, rng=np.random.default_rng(0))
    noise = y - x
    assert snr_db(x, y) == pytest.approx(10.0, abs=1e-9)
    assert np.mean(noise[0] ** 2) == pytest.approx(np.mean(noise[1] ** 2), rel=0.05)
    assert abs(np.corrcoef(noise)[0, 1]) < 0.02


def slope_db_per_octave(noise, lo=50.0, hi=15000.0):
    freqs, psd = signal.welch(noise, fs=SR, nperseg=8192, axis=-1)
    psd = np.mean(np.atleast_2d(psd), axis=0)
    band = (freqs >= lo) & (freqs <= hi)
    return np.polyfit(np.log2(freqs[band]), 10 * np.log10(psd[band]), 1)[0]


def test_pink_slope_is_minus_3_db_per_octave_and_white_is_flat():
    x = music_like(4.0)
    pink = degradations().create("noise:0,color=pink")(x, SR, rng=np.random.default_rng(3)) - x
    white = degradations().create("noise:0")(x, SR, rng=np.random.default_rng(3)) - x
    assert slope_db_per_octave(pink) == pytest.approx(-3.01, abs=0.15)
    assert slope_db_per_octave(white) == pytest.approx(0.0, abs=0.15)
    assert abs(np.mean(pink)) < 1e-3 * np.std(pink)  # no DC


def test_deterministic_with_a_seed_and_different_seeds_differ():
    x = music_like(0.3)
    for color in ("white", "pink"):
        degrade = degradations().create(f"noise:20,color={color}")
        assert degrade.random
        a = degrade(x, SR, rng=np.random.default_rng(5))
        np.testing.assert_array_equal(a, degrade(x, SR, rng=np.random.default_rng(5)))
        b = degrade(x, SR, rng=np.random.default_rng(6))
        assert np.corrcoef((a - x).ravel(), (b - x).ravel())[0, 1] < 0.05
        np.testing.assert_array_equal(degrade(x, SR), degrade(x, SR))  # no rng: seed 0


def test_chunks_get_noise_at_their_own_snr():
    x = music_like(1.0)
    x[:, : SR // 2] *= 0.01  # a quiet half and a loud half
    degrade = degradations().create("noise:20")
    assert degrade.context_samples(SR) == 0
    whole = degrade(x, SR, rng=np.random.default_rng(0))
    quiet = slice(0, SR // 4)
    assert snr_db(x[:, quiet], whole[:, quiet]) < 0  # the loud half sets the level of the whole file's noise
    chunk = degrade(x[:, quiet], SR, rng=np.random.default_rng(0))
    assert snr_db(x[:, quiet], chunk) == pytest.approx(20.0, abs=1e-9)


def test_silence_stays_silent_and_short_inputs_work():
    degrade = degradations().create("noise:10,color=pink")
    np.testing.assert_array_equal(degrade(np.zeros((2, 1000)), SR), np.zeros((2, 1000)))
    for n in (1, 2, 3):
        x = music_like(0.1)[:, :n]
        assert degrade(x, SR).shape == x.shape


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("noise", "missing a required argument: 'snr'"),
        ("noise:nan", "snr must be a finite number of dB"),
        ("noise:20,color=brown", "color must be 'white' or 'pink'"),
    ],
)
def test_bad_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)
