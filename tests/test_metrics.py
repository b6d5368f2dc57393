"""Metrics against hand computation."""

import numpy as np
import pytest
from scipy import signal

from audioenh.metrics.lsd import POWER_FLOOR, log_power_spectrogram, power_spectrogram
from audioenh.plugins import metrics

from .conftest import SR, music_like


def test_snr_by_hand():
    ref = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]])
    est = np.array([[1.0, -1.0, 3.0], [0.0, 0.0, -1.0]])
    # sum ref^2 = 1 + 4 + 9 + 0.25 + 1 = 15.25, sum err^2 = 1 + 0.25 = 1.25 (both channels together)
    assert metrics().create("snr")(ref, est, SR) == pytest.approx(10 * np.log10(15.25 / 1.25))


def test_snr_is_over_both_channels_not_the_mean_of_channels():
    ref = np.array([[1.0, 1.0], [0.1, 0.1]])
    est = ref + np.array([[0.1, 0.1], [0.1, 0.1]])
    pooled = 10 * np.log10((2 + 0.02) / 0.04)
    assert metrics().create("snr")(ref, est, SR) == pytest.approx(pooled)


def test_snr_extremes():
    x = music_like(0.1)
    snr = metrics().create("snr")
    assert snr(x, x, SR) == float("inf")
    assert snr(x, np.zeros_like(x), SR) == pytest.approx(0.0)
    assert snr(x, 0.9 * x, SR) == pytest.approx(20.0)


def hand_lsd(ref, est, n_fft=2048, hop=512, lo_bin=0):
    """Independent LSD: scipy STFT with the same framing (periodic Hann, no centring, no scaling)."""
    vals = []
    for r, e in zip(ref, est):
        _, _, zr = signal.stft(
            r,
            nperseg=n_fft,
            noverlap=n_fft - hop,
            window="hann",
            boundary=None,
            padded=True,
            scaling="psd",
            detrend=False,
        )
        _, _, ze = signal.stft(
            e,
            nperseg=n_fft,
            noverlap=n_fft - hop,
            window="hann",
            boundary=None,
            padded=True,
            scaling="psd",
            detrend=False,
        )
        scale = (np.hanning(n_fft + 1)[:-1] ** 2).sum() * 1.0  # scipy "psd" scaling divides by fs*sum(w^2)
        pr = np.abs(zr) ** 2 * scale
        pe = np.abs(ze) ** 2 * scale
        d = (np.log10(pr[lo_bin:] + 1e-10) - np.log10(pe[lo_bin:] + 1e-10)) ** 2
        vals.append(np.sqrt(d.mean(axis=0)))
    return float(np.mean(vals))


def test_power_spectrogram_matches_numpy_by_hand():
    x = music_like(0.1)[:, :4096]
    p = power_spectrogram(x, 2048, 512)
    assert p.shape == (2, 5, 1025)
    w = np.hanning(2049)[:-1]
    np.testing.assert_allclose(p[1, 2], np.abs(np.fft.rfft(x[1, 1024:3072] * w)) ** 2)


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_power_spectrogram_in_blocks_and_threads_equals_one_whole_transform(channels):
    """Long signals are transformed in blocks of frames on several threads: every frame, the last
    partial one included, equals numpy's FFT of the zero-padded frame."""
    rng = np.random.default_rng(channels)
    x = rng.standard_normal((channels, 200 * 512 + 777))
    p = power_spectrogram(x, 2048, 512)
    frames = 1 + int(np.ceil((x.shape[1] - 2048) / 512))
    assert p.shape == (channels, frames, 1025)
    padded = np.pad(x, ((0, 0), (0, (frames - 1) * 512 + 2048 - x.shape[1])))
    w = np.hanning(2049)[:-1]
    starts = np.arange(frames) * 512
    whole = np.abs(np.fft.rfft(np.stack([padded[:, s : s + 2048] for s in starts], axis=1) * w, axis=-1)) ** 2
    np.testing.assert_allclose(p, whole, rtol=1e-9, atol=1e-9 * whole.max())
    # the log, taken block by block with the transform: bit for bit log10 of the whole power plus the floor
    x[:, :3000] = 0  # a silent stretch: the floor counts
    power = power_spectrogram(x, 2048, 512)
    np.testing.assert_array_equal(log_power_spectrogram(x, 2048, 512), np.log10(power + POWER_FLOOR))


def test_lsd_against_independent_computation():
    ref = music_like(0.3, seed=1)
    est = signal.filtfilt(*signal.butter(6, 0.5), ref, axis=-1)
    lsd = metrics().create("lsd")(ref, est, SR)
    assert lsd == pytest.approx(hand_lsd(ref, est), rel=1e-3)


def test_lsd_hf_restricts_to_bins_above_cutoff():
    ref = music_like(0.3, seed=2)
    est = signal.filtfilt(*signal.butter(6, 0.5), ref, axis=-1)
    first = int(np.floor(11025 / (SR / 2048))) + 1  # first bin strictly above 11025 Hz
    value = metrics().create("lsd-hf")(ref, est, SR)
    assert value == pytest.approx(hand_lsd(ref, est, lo_bin=first), rel=1e-3)
    assert value > metrics().create("lsd")(ref, est, SR)  # the lost band is where the distance is


def test_lsd_zero_for_identity_and_known_for_a_gain():
    x = music_like(0.2)
    lsd = metrics().create("lsd")
    assert lsd(x, x, SR) == 0.0
    # a gain g changes every log10 power by 2 log10 g (floor negligible for this signal)
    assert lsd(x, 0.5 * x, SR) == pytest.approx(2 * np.log10(2), rel=1e-3)


def test_worse_lowpass_scores_worse():
    x = music_like(0.3)
    mild = signal.filtfilt(*signal.butter(8, 11025 / 22050), x, axis=-1)
    harsh = signal.filtfilt(*signal.butter(8, 4000 / 22050), x, axis=-1)
    for name in ("snr", "lsd", "lsd-hf"):
        m = metrics().create(name)
        a, b = m(x, mild, SR), m(x, harsh, SR)
        assert (a > b) if m.higher_is_better else (a < b), name


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        metrics().create("snr")(np.zeros((2, 10)), np.zeros((1, 10)), SR)
