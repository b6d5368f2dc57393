"""``resample``: down to a lower rate and back with soxr, measured by tones; length and alignment kept."""

import numpy as np
import pytest
from scipy import signal

from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like


def tone_gain_db(spec: str, freq: float, sr: int = SR) -> float:
    """Measured gain (dB) on a sine at ``freq`` Hz, from the middle half of a 0.5-s signal."""
    n = sr // 2
    t = np.arange(n) / sr
    x = np.stack([0.5 * np.sin(2 * np.pi * freq * t)] * 2)
    y = degradations().create(spec)(x, sr)
    mid = slice(n // 4, 3 * n // 4)
    return 10 * np.log10(np.mean(y[:, mid] ** 2) / np.mean(x[:, mid] ** 2))


@pytest.mark.parametrize(
    "spec, kept, removed",
    [
        ("resample:22050", [100.0, 1000.0, 5000.0, 9000.0, 10000.0], [11000.0, 12000.0, 16000.0, 20000.0]),
        ("resample:16000", [100.0, 3000.0, 7000.0], [8000.0, 9000.0, 15000.0]),
        ("resample:8000", [200.0, 3500.0], [4000.0, 6000.0, 12000.0]),
        ("resample:22050,quality=VHQ", [1000.0, 10000.0], [11000.0, 16000.0]),
        ("resample:22050,quality=MQ", [1000.0, 10000.0], [11000.0, 16000.0]),
        ("resample:22050,quality=LQ", [1000.0, 7500.0], [11000.0, 16000.0]),
    ],
)
def test_content_above_half_the_rate_is_removed_and_below_kept(spec, kept, removed):
    for freq in kept:
        assert abs(tone_gain_db(spec, freq)) < 0.1, freq
    for freq in removed:
        assert tone_gain_db(spec, freq) < -100, freq


def test_hq_pass_band_is_flat_to_a_thousandth_of_a_db():
    # measured: |gain| < 1e-5 dB up to 10 kHz, -0.03 dB at 10.2 kHz, -7.6 dB at 10.5 kHz, -110 dB at 10.9 kHz
    for freq in (100.0, 2000.0, 6000.0, 9500.0, 10000.0):
        assert abs(tone_gain_db("resample:22050", freq)) < 0.001
    assert -0.1 < tone_gain_db("resample:22050", 10200.0) < -0.01
    assert -10 < tone_gain_db("resample:22050", 10500.0) < -5
    assert tone_gain_db("resample:22050", 10900.0) < -100


def test_rate_is_in_hz_at_any_sample_rate():
    assert abs(tone_gain_db("resample:8000", 3000.0, sr=16000)) < 0.1
    assert tone_gain_db("resample:8000", 5000.0, sr=16000) < -100


@pytest.mark.parametrize("length", [1, 2, 3, 17, 1000, 4411, 22051])
@pytest.mark.parametrize("rate", [22050, 16000, 12345.6])
def test_length_is_kept(length, rate):
    x = music_like(0.6)[:, :length]
    y = degradations().create(f"resample:{rate}")(x, SR)
    assert y.shape == x.shape and np.all(np.isfinite(y))


def test_no_delay():
    x = music_like(0.5)
    y = degradations().create("resample:8000")(x, SR)
    for c in range(2):
        lags = signal.correlation_lags(x.shape[1], y.shape[1])
        assert lags[np.argmax(signal.correlate(y[c], x[c]))] == 0
    # below the cutoff the signal comes back sample for sample
    t = np.arange(SR // 2) / SR
    tone = 0.5 * np.sin(2 * np.pi * 1234.5 * t)[None]
    out = degradations().create("resample:22050")(tone, SR)
    mid = slice(2000, -2000)
    assert np.max(np.abs(out[:, mid] - tone[:, mid])) < 1e-5


@pytest.mark.parametrize(
    "spec", ["resample:22050", "resample:16000", "resample:8000,quality=VHQ", "resample:32000,quality=LQ"]
)
def test_excerpt_with_context_matches_whole_file(spec):
    degrade = degradations().create(spec)
    c = degrade.context_samples(SR)
    x = music_like(1.0)
    whole = degrade(x, SR)
    n = x.shape[1]
    # odd and even starts (another phase of the lower rate's sample grid), the file's ends
    for a, b in [(20001, 24097), (20000, 24096), (0, 4096), (n - 4096, n), (30007, 30007 + 1000)]:
        start, stop = max(0, a - c), min(n, b + c)
        part = degrade(x[:, start:stop], SR)[:, a - start : a - start + b - a]
        assert np.max(np.abs(part - whole[:, a:b])) < 5e-6
    # measured: a fraction of that context is not enough
    a, b = 20001, 24097
    c = c // 8
    part = degrade(x[:, a - c : b + c], SR)[:, c : c + b - a]
    assert np.max(np.abs(part - whole[:, a:b])) > 1e-4


def test_context_values():
    assert degradations().create("resample:22050").context_samples(SR) == 512
    assert degradations().create("resample:8000").context_samples(SR) == 1412
    assert degradations().create("resample:22050,quality=LQ").context_samples(SR) == 128
    assert degradations().create("resample:22050,quality=VHQ").context_samples(SR) == 1024


@pytest.mark.parametrize("sr", [22050, 16000])
def test_rate_at_or_above_the_sample_rate_is_refused(sr):
    degrade = degradations().create("resample:22050")
    with pytest.raises(ValueError, match=r"must be below the audio's sample rate"):
        degrade(music_like(0.1, sr=sr), sr)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("resample", "missing a required argument: 'rate'"),
        ("resample:0", "rate must be a positive sample rate in Hz"),
        ("resample:-8000", "rate must be a positive sample rate in Hz"),
        ("resample:22050,quality=QQ", "quality must be one of LQ, MQ, HQ, VHQ"),
        ("resample:22050,quality=best", "quality must be one of LQ, MQ, HQ, VHQ"),
    ],
)
def test_bad_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)
