"""Safe mode's burst limit (audioenh.evaluation.transients): measured on constructed signals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from audioenh.evaluation import transients

SR = 44100
EDGE = 11000.0


def band_noise(rng, low: float, high: float, samples: int, channels: int = 2) -> np.ndarray:
    taps = signal.firwin(1023, [low, high], pass_zero=False, fs=SR)
    return signal.oaconvolve(rng.standard_normal((channels, samples + 1022)), taps[None], mode="valid", axes=-1)


def power_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


@pytest.fixture
def steady():
    """An input with noise up to its edge and a steady contribution above it, 25 dB below the input's
    band just under the edge (2 s)."""
    rng = np.random.default_rng(0)
    inputs = band_noise(rng, 200.0, EDGE, 2 * SR)
    contribution = band_noise(rng, EDGE + 500, 20000.0, 2 * SR)
    below = band_noise(np.random.default_rng(0), 200.0, EDGE, 2 * SR)  # the same noise, to measure its band
    taps = signal.firwin(1023, [EDGE - 2000, EDGE - 300], pass_zero=False, fs=SR)
    band = signal.oaconvolve(below, taps[None], mode="same", axes=-1)
    contribution *= 10 ** ((power_db(band) - 25.0 - power_db(contribution)) / 20)
    return inputs.astype(np.float32), contribution.astype(np.float32)


def test_the_reference_is_the_contributions_usual_level(steady):
    inputs, contribution = steady
    assert transients.reference_db(inputs, contribution, EDGE, SR) == pytest.approx(-25.0, abs=1.0)


def test_a_steady_contribution_is_left_alone(steady):
    inputs, contribution = steady
    reference = transients.reference_db(inputs, contribution, EDGE, SR)
    out = transients.limited(inputs, contribution, EDGE, SR, reference)
    np.testing.assert_allclose(out, contribution, rtol=0, atol=1e-7)


def test_a_burst_is_held_to_the_margin(steady):
    inputs, contribution = steady
    reference = transients.reference_db(inputs, contribution, EDGE, SR)
    burst = slice(SR // 2, SR // 2 + 8192)
    loud = contribution.copy()
    loud[:, burst] *= 10 ** (30 / 20)  # 30 dB above its usual level for 186 ms
    out = transients.limited(inputs, loud, EDGE, SR, reference)
    # held to about MARGIN_DB above the usual level (within the windows' smoothing at its ends) ...
    middle = slice(burst.start + transients.WINDOW, burst.stop - transients.WINDOW)
    rise = power_db(out[:, middle]) - power_db(contribution[:, middle])
    assert transients.MARGIN_DB - 1.5 < rise < transients.MARGIN_DB + 1.0
    # ... and untouched farther from it than the limit reaches
    far = np.r_[0 : burst.start - transients.reach(SR), burst.stop + transients.reach(SR) : loud.shape[1]]
    np.testing.assert_allclose(out[:, far], loud[:, far], rtol=0, atol=1e-7)


def test_the_gain_at_a_sample_depends_only_on_audio_within_reach(steady):
    inputs, contribution = steady
    t = SR
    changed_inputs, changed = inputs.copy(), contribution.copy()
    changed[:, : t - transients.reach(SR)] *= 100.0  # everything beyond the reach on one side, louder
    changed_inputs[:, t + transients.reach(SR) + 1 :] *= 0.01
    before = transients.gains(inputs, contribution, EDGE, SR, -25.0)
    after = transients.gains(changed_inputs, changed, EDGE, SR, -25.0)
    assert after[t] == pytest.approx(before[t], abs=1e-9)
    # and it does depend on what lies just within it
    changed[:, t - transients.reach(SR) // 4 : t] *= 100.0
    assert transients.gains(changed_inputs, changed, EDGE, SR, -25.0)[t] < before[t] - 0.1


def test_nothing_to_measure(steady):
    inputs, contribution = steady
    assert transients.reference_db(inputs[:, :500], contribution[:, :500], EDGE, SR) is None  # too short
    assert transients.reference_db(inputs, contribution, 700.0, SR) is None  # no band below the edge
    assert transients.reference_db(inputs, contribution, 2000.0, SR) is None  # too narrow a band below it
    assert transients.limited(inputs, contribution, EDGE, SR, None) is contribution


def test_a_batch_of_blocks_is_limited_block_by_block(steady):
    inputs, contribution = steady
    loud = contribution.copy()
    loud[:, SR // 2 : SR // 2 + 8192] *= 10 ** (30 / 20)
    batch_in, batch = np.stack([inputs, inputs]), np.stack([contribution, loud])
    out = transients.limited(batch_in, batch, EDGE, SR, -25.0)
    np.testing.assert_allclose(out[0], contribution, rtol=0, atol=1e-7)  # the quiet block stays as it is
    np.testing.assert_allclose(out[1], transients.limited(inputs, loud, EDGE, SR, -25.0), rtol=0, atol=1e-7)
    assert power_db(out[1]) < power_db(loud) - 3
