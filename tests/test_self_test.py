"""Safe mode's self-test: a pitched-up copy of the input, band-limited like it, tells whether the
network restores this music (audioenh.evaluation.self_test)."""

import dataclasses

import numpy as np
import pytest
from scipy import signal

from audioenh.data.builtin import generate_song
from audioenh.degradations.chain import DegradationSampler, resolve_degradations
from audioenh.evaluation.crossover import Restoration, plan_restoration, restoration_filter
from audioenh.evaluation.self_test import (
    UNTESTABLE_DB,
    band_snr_gain_db,
    moved_spec,
    pitched_copy,
    pitched_up,
    self_test_db,
    self_tested,
)

SR = 44100


def degrade(spec, audio):
    resolved = resolve_degradations([spec], SR)[0]
    sampler = DegradationSampler(resolved.canonical, SR)
    return np.asarray(sampler.build(resolved.canonical)(audio, SR, np.random.default_rng(0)), dtype=np.float32)


@pytest.fixture(scope="module")
def low_passed():
    """4 s of a built-in song low-passed by the Chebyshev I filter a network was "trained" on, and the plan
    safe mode makes for it (full trust, the training response matched)."""
    song = generate_song(5, 4.0, SR).astype(np.float32)
    x = degrade("cheby1:6", song)
    plan = plan_restoration(x, SR, SR, ["cheby1:6"])
    assert plan.gain == 1.0 and plan.response is not None
    return x, plan


@pytest.mark.parametrize(
    "spec, shift, moved",
    [
        ("cheby1:order=4,cutoff=10000,rp=0.05", 512.34, "cheby1:order=4,cutoff=10512.3,rp=0.05"),
        ("resample:rate=16000,quality=HQ", -100.0, "resample:rate=15800.0,quality=HQ"),  # edge ≈ rate / 2
        ("butter:order=4,cutoff=13000+mp3:bitrate=128", 1000.0, "butter:order=4,cutoff=14000.0+mp3:bitrate=128"),
        ("cheby1:order=6,cutoff=11025.0,rp=0.05", 0.0, "cheby1:order=6,cutoff=11025.0,rp=0.05"),
    ],
)
def test_the_matched_degradation_is_moved_to_the_input_edge(spec, shift, moved):
    assert moved_spec(spec, shift) == moved


def test_every_edge_parameter_is_moved():
    from audioenh.evaluation.crossover import EDGE_PARAMETERS
    from audioenh.evaluation.self_test import EDGE_PER_HZ

    assert set(EDGE_PER_HZ) == set(EDGE_PARAMETERS)


def test_pitching_up_multiplies_every_frequency():
    t = np.arange(SR) / SR
    x = np.stack([np.sin(2 * np.pi * 1000 * t), np.sin(2 * np.pi * 3000 * t)])
    y = pitched_up(x, 1.25, SR)
    assert y.shape[0] == 2 and abs(y.shape[1] - SR / 1.25) <= 2  # 1.25 times shorter
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.shape[1]), axis=-1))
    peaks = np.argmax(spectrum, axis=-1) * SR / y.shape[1]
    assert np.allclose(peaks, [1250, 3750], atol=2)


def test_the_band_gain_is_the_snr_change_within_the_band():
    rng = np.random.default_rng(1)
    reference = rng.standard_normal((2, SR))
    # linear filtering: band(a·x) = a·band(x), so the SNRs are those of the scale factors
    gain = band_snr_gain_db(reference, 0.5 * reference, 0.9 * reference, 12000, 15000, SR)
    assert gain == pytest.approx(20 * np.log10(1 / 0.1) - 20 * np.log10(1 / 0.5), abs=1e-9)
    # what lies outside the band does not count
    taps = signal.firwin(2047, 8000, fs=SR)
    outside = signal.oaconvolve(reference, taps[None], mode="same", axes=-1)
    assert abs(band_snr_gain_db(reference, 0.5 * reference, 0.5 * reference + outside, 12000, 15000, SR)) < 0.05


def test_a_network_that_restores_the_copy_passes(low_passed):
    x, plan = low_passed
    copy = pitched_copy(plan, x, SR)
    assert copy.reference.shape[-1] < x.shape[-1] / 1.1  # pitched up by more than 10 %: shorter
    assert copy.low_hz < copy.edge_hz < copy.high_hz <= SR / 2
    calls = []

    def oracle(degraded):  # the copy's own band, as a network that restored it perfectly would
        calls.append(degraded.shape)
        return copy.reference.astype(np.float32)

    gain = self_test_db(plan, x, SR, oracle)
    assert calls == [copy.reference.shape]  # one run, on the copy
    assert gain > 10
    tested = self_tested(plan, x, SR, oracle)
    assert tested.gain == 1.0 and tested.self_test_db == pytest.approx(gain)


def test_the_reference_is_the_input_pitched_up_as_it_is(low_passed):
    """No roll-off is undone: a network may not restore more than the input itself shows."""
    x, plan = low_passed
    copy = pitched_copy(plan, x, SR)
    factor = (plan.edge_hz + 2500.0) / plan.edge_hz
    np.testing.assert_array_equal(copy.reference, pitched_up(x, factor, SR))
    assert copy.high_hz == pytest.approx(factor * plan.edge_hz - 300.0)
    assert copy.low_hz == pytest.approx(copy.edge_hz - 2000.0)
    assert abs(copy.edge_hz - plan.edge_hz) < 600  # the copy, band-limited alike, ends about where the input does


def test_a_network_that_changes_nothing_or_adds_noise_fails(low_passed):
    x, plan = low_passed
    assert self_test_db(plan, x, SR, lambda d: d) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(2)
    taps = restoration_filter(plan.edge_hz, SR)

    def noisy(d):  # adds noise above the edge at the music's level
        noise = signal.oaconvolve(rng.standard_normal(d.shape), taps[None], mode="same", axes=-1)
        return (d + 0.05 * noise).astype(np.float32)

    assert self_test_db(plan, x, SR, noisy) < -1
    tested = self_tested(plan, x, SR, noisy)
    assert tested.gain == 0.0 and tested.skip and tested.self_test_db < -1
    assert tested.info()["self_test_db"] == pytest.approx(tested.self_test_db)


def test_plans_without_a_matched_response_or_network_are_not_tested(low_passed):
    x, plan = low_passed

    def never(_):
        raise AssertionError("the network must not run")

    kept = Restoration(plan.edge_hz, None, 0.0, None)  # nothing to restore
    assert self_tested(kept, x, SR, never) is kept
    untrained = dataclasses.replace(plan, response=None)  # a checkpoint without its training degradations
    assert self_tested(untrained, x, SR, never) is untrained
    done = dataclasses.replace(plan, self_test_db=1.0)
    assert self_tested(done, x, SR, never) is done


def test_an_input_too_close_to_nyquist_to_pitch_up_is_not_trusted():
    """A band that ends at 21 kHz cannot be pitched up 5 % and still be scored below 22.05 kHz."""
    song = generate_song(5, 4.0, SR).astype(np.float32)
    x = degrade("cheby1:order=8,cutoff=21000", song)
    plan = plan_restoration(x, SR, SR, ["cheby1:order=8,cutoff=21000"])
    assert not plan.skip and plan.response is not None
    assert pitched_copy(plan, x, SR) is None
    assert self_test_db(plan, x, SR, lambda d: d) == UNTESTABLE_DB
    assert self_tested(plan, x, SR, lambda d: d).gain == 0.0


@pytest.mark.parametrize(
    ("gain", "self_test", "said"),
    [
        (1.0, 2.5, "band ends at 12.10 kHz: restoring 12.10–22.05 kHz"),
        (
            0.0,
            -1.234,
            "band ends at 12.10 kHz, but the model failed its self-test on this music (-1.23 dB on a pitched-up "
            "copy): the input is kept as it is",
        ),
        (
            0.0,
            UNTESTABLE_DB,
            "band ends at 12.10 kHz, too close to 22.05 kHz for the model's self-test: the input is kept as it is",
        ),
    ],
)
def test_enhance_says_when_the_self_test_kept_the_input(gain, self_test, said):
    from audioenh.commands.enhance import describe_plan

    info = {
        "edge_hz": 12100.0,
        "trust": gain,
        "trained_edges_hz": [11000.0, 12600.0],
        "mismatch_db": 1.2,
        "self_test_db": self_test,
    }
    assert describe_plan(info, SR / 2) == said


def test_enhance_keeps_an_input_its_model_fails_the_self_test_on(low_passed, tmp_path):
    """End to end: a network that only adds noise, on its own training filter (full trust before the
    test), fails the self-test; enhance says so and writes the input unchanged; --analyze says the same."""
    import soundfile as sf
    from click.testing import CliRunner

    from audioenh.checkpoint import save_checkpoint
    from audioenh.cli import cli
    from tests.test_do_no_harm import checkpoint, random_model

    x, _ = low_passed
    ckpt = {**checkpoint(random_model(seed=7, scale=0.5)), "degradations": ["cheby1:6"]}  # adds noise
    save_checkpoint(tmp_path / "m.pt", ckpt)
    src = tmp_path / "in.wav"
    sf.write(src, x.T, SR, subtype="FLOAT")
    result = CliRunner().invoke(
        cli, ["enhance", str(tmp_path / "m.pt"), str(src), "-o", str(tmp_path / "o.wav"), "--float"]
    )
    assert result.exit_code == 0, result.output
    assert "but the model failed its self-test on this music (-" in result.output
    np.testing.assert_array_equal(sf.read(tmp_path / "o.wav", dtype="float32", always_2d=True)[0].T, x)
    analyzed = CliRunner().invoke(cli, ["enhance", str(tmp_path / "m.pt"), str(src), "--analyze"])
    assert analyzed.exit_code == 0 and "failed its self-test" in analyzed.output
