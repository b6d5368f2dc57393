"""Multi-resolution STFT distance against a hand computation."""

import numpy as np
import pytest
from scipy import signal

from audioenh.metrics import mrstft
from audioenh.plugins import metrics

from .conftest import SR, music_like


def hand_distance(ref, est, n_fft, hop):
    """One resolution, one channel at a time: frame loop, periodic Hann, spectral convergence + mean |log ratio|."""
    window = signal.get_window("hann", n_fft, fftbins=True)
    values = []
    for r, e in zip(ref, est):
        n_frames = 1 + max(0, int(np.ceil((len(r) - n_fft) / hop)))
        pad = (n_frames - 1) * hop + n_fft - len(r)
        r, e = np.concatenate([r, np.zeros(pad)]), np.concatenate([e, np.zeros(pad)])
        mr = np.array([np.abs(np.fft.rfft(r[i * hop : i * hop + n_fft] * window)) for i in range(n_frames)])
        me = np.array([np.abs(np.fft.rfft(e[i * hop : i * hop + n_fft] * window)) for i in range(n_frames)])
        sc = np.linalg.norm(mr - me) / np.linalg.norm(mr)
        log_l1 = np.mean(np.abs(np.log(np.maximum(mr, 1e-7)) - np.log(np.maximum(me, 1e-7))))
        values.append(sc + log_l1)
    return values


def test_resolutions_are_as_documented():
    assert mrstft.RESOLUTIONS == ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))


def test_one_resolution_against_hand_computation():
    ref = music_like(0.2, seed=4)
    noise = 1e-3 * np.random.default_rng(1).standard_normal(ref.shape)
    est = signal.filtfilt(*signal.butter(6, 0.5), ref, axis=-1) + noise
    ours = mrstft.stft_distance(ref, est, 1024, 256)
    np.testing.assert_allclose(ours, hand_distance(ref, est, 1024, 256), rtol=1e-9)


def test_metric_is_the_mean_over_resolutions_and_channels():
    ref = music_like(0.2, seed=5)
    est = 0.7 * ref + 0.01 * np.random.default_rng(2).standard_normal(ref.shape)
    expected = np.mean([hand_distance(ref, est, n, h) for n, h, _ in mrstft.RESOLUTIONS])
    assert metrics().create("mrstft")(ref, est, SR) == pytest.approx(expected, rel=1e-9)


def test_identity_is_zero_and_harsher_lowpass_is_worse():
    metric = metrics().create("mrstft")
    assert metric.higher_is_better is False
    x = music_like(0.3)
    assert metric(x, x, SR) == 0.0
    mild = signal.filtfilt(*signal.butter(8, 11025 / 22050), x, axis=-1)
    harsh = signal.filtfilt(*signal.butter(8, 4000 / 22050), x, axis=-1)
    assert 0.0 < metric(x, mild, SR) < metric(x, harsh, SR)


def test_short_and_silent_inputs_stay_finite():
    metric = metrics().create("mrstft")
    x = music_like(0.01)  # shorter than the largest window: zero-padded
    assert np.isfinite(metric(x, 0.5 * x, SR))
    silent = np.zeros((2, 4096))
    assert metric(silent, silent, SR) == 0.0
    assert np.isfinite(metric(silent, music_like(0.1)[:, :4096], SR))
