"""Low-pass filters against their scipy.signal designs and by measured attenuation."""

import numpy as np
import pytest
from scipy import signal

from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like

WN = 11025 / (SR / 2)

# (spec, the paper's scipy design in b/a form)
PAPER_DESIGNS = [
    ("butter:6", lambda: signal.butter(6, WN)),
    ("butter:12", lambda: signal.butter(12, WN)),
    ("cheby1:6", lambda: signal.cheby1(6, 0.05, WN)),
    ("cheby1:8", lambda: signal.cheby1(8, 0.05, WN)),
    ("cheby1:10", lambda: signal.cheby1(10, 0.05, WN)),
    ("cheby1:12", lambda: signal.cheby1(12, 0.05, WN)),
    ("bessel:6", lambda: signal.bessel(6, WN, norm="mag")),
    ("bessel:12", lambda: signal.bessel(12, WN, norm="mag")),
    ("ellip:6", lambda: signal.ellip(6, 0.05, 20, WN)),
    ("ellip:12", lambda: signal.ellip(12, 0.05, 20, WN)),
    ("cheby2:6", lambda: signal.cheby2(6, 20, WN)),
    ("cheby2:12", lambda: signal.cheby2(12, 20, WN)),
]


@pytest.mark.parametrize("spec, design", PAPER_DESIGNS, ids=[s for s, _ in PAPER_DESIGNS])
def test_response_matches_scipy_design(spec, design):
    b, a = design()
    filt = degradations().create(spec)
    freqs = np.array([100.0, 5000.0, 9000.0, 10500.0, 11025.0, 12000.0, 14000.0, 18000.0])
    _, h = signal.freqz(b, a, worN=freqs, fs=SR)
    expected_db = 20 * np.log10(np.abs(h) ** 2)  # zero-phase: the filter is applied twice
    np.testing.assert_allclose(filt.magnitude_response_db(freqs, SR), expected_db, atol=1e-6)


@pytest.mark.parametrize("spec, design", PAPER_DESIGNS, ids=[s for s, _ in PAPER_DESIGNS])
def test_output_matches_paper_filtfilt(spec, design):
    b, a = design()
    x = music_like(0.25)
    expected = signal.filtfilt(b, a, x, axis=-1)
    out = degradations().create(spec)(x, SR)
    assert out.shape == x.shape and out.dtype == x.dtype
    np.testing.assert_allclose(out, expected, atol=1e-10)


def tone_gain_db(spec: str, freq: float, sr: int = SR) -> float:
    """Measured gain (dB) of a filter on a sine at ``freq`` Hz, from the middle of a 1-s signal."""
    n = sr
    t = np.arange(n) / sr
    x = np.stack([np.sin(2 * np.pi * freq * t)] * 2)
    y = degradations().create(spec)(x, sr)
    mid = slice(n // 4, 3 * n // 4)
    return 10 * np.log10(np.mean(y[:, mid] ** 2) / np.mean(x[:, mid] ** 2))


@pytest.mark.parametrize(
    "spec, passband_max_loss_db, stop_freq, stop_min_atten_db",
    [
        ("butter:6", 0.01, 16000, 2 * 33.0),  # |H|^2 of order 6 Butterworth at 16 kHz
        ("cheby1:6", 0.1, 13000, 30.0),  # 0.05 dB ripple, applied twice
        ("cheby1:12", 0.1, 12000, 60.0),
        ("ellip:6", 0.1, 12000, 40.0),  # 20 dB stop band, twice
        ("ellip:12", 0.1, 11600, 40.0),
        ("bessel:6", 1.0, 20000, 25.0),  # gentle slope
        ("cheby2:8", 0.01, 11025, 39.9),  # stop band (20 dB per pass) starts at the cutoff
    ],
)
def test_measured_attenuation(spec, passband_max_loss_db, stop_freq, stop_min_atten_db):
    assert tone_gain_db(spec, 2000.0) > -passband_max_loss_db
    measured = tone_gain_db(spec, stop_freq)
    assert measured < -stop_min_atten_db
    # and the measurement agrees with the design's |H|^2
    designed = degradations().create(spec).magnitude_response_db(np.array([stop_freq]), SR)[0]
    assert measured == pytest.approx(designed, abs=0.1)


def test_minus_six_db_at_cutoff_for_butterworth_and_bessel():
    # -3 dB per pass at the cutoff, applied forwards and backwards
    assert tone_gain_db("butter:6", 11025.0) == pytest.approx(-6.02, abs=0.05)
    assert tone_gain_db("bessel:6", 11025.0) == pytest.approx(-6.02, abs=0.05)


def test_cutoff_is_in_hz_at_any_sample_rate():
    assert tone_gain_db("butter:6,cutoff=4000", 2000.0, sr=16000) > -0.1
    assert tone_gain_db("butter:6,cutoff=4000", 6000.0, sr=16000) < -40


@pytest.mark.parametrize("spec", ["cheby1:12,cutoff=200", "ellip:12,cutoff=150", "butter:12,cutoff=60"])
def test_order_12_stays_stable_at_low_cutoffs(spec):
    filt = degradations().create(spec)
    d = filt.design(SR)
    b, a = d.b, d.a
    x = music_like(1.0)
    with np.errstate(all="ignore"):
        naive = signal.filtfilt(b, a, x, axis=-1)
    out = filt(x, SR)
    assert d.form == "sos"
    assert np.all(np.isfinite(out))
    assert np.max(np.abs(out)) < 2 * np.max(np.abs(x))
    # the b/a route is what breaks here (blows up or is far off); ours matches sosfiltfilt
    assert not np.all(np.isfinite(naive)) or np.max(np.abs(naive - out)) > 1e-3
    np.testing.assert_allclose(out, signal.sosfiltfilt(d.sos, x, axis=-1), atol=1e-9)


@pytest.mark.parametrize("family", ["butter", "cheby1", "cheby2", "bessel", "ellip"])
def test_form_is_chosen_as_against_the_second_order_sections(family):
    """The (b, a) form is used where its response matches the design's within 1e-3 dB. The design's
    response is taken from its zeros, poles and gain (the sections are made only when used); the
    choice is the same as against scipy's second-order sections (19200 designs checked once: orders
    1-16, cut-offs 500-21000 Hz, 44.1 and 48 kHz)."""
    for order in range(1, 13):
        for cutoff in (200.0, 1500.0, 6000.0, 9000.0, 11025.0, 13000.0, 17000.0, 21000.0):
            d = degradations().create(f"{family}:order={order},cutoff={cutoff}").design(SR)
            w = np.linspace(0, np.pi, 512)
            with np.errstate(all="ignore"):
                ba = 20 * np.log10(np.maximum(np.abs(signal.freqz(d.b, d.a, worN=w)[1]), 1e-12))
            sections = 20 * np.log10(np.maximum(np.abs(signal.sosfreqz(d.sos, worN=w)[1]), 1e-12))
            stable = np.max(np.abs(np.roots(d.a)), initial=0.0) < 1 - 1e-9
            relevant = sections > -60
            matches = stable and np.all(np.isfinite(ba)) and np.max(np.abs(ba - sections)[relevant]) < 1e-3
            assert d.form == ("ba" if matches else "sos"), (family, order, cutoff)
            np.testing.assert_array_equal(d.sos, signal.zpk2sos(*d.zpk))


@pytest.mark.parametrize("spec", ["butter:6", "cheby1:12", "ellip:12", "bessel:12", "cheby2:6"])
@pytest.mark.parametrize("length", [0, 1, 2, 5, 40, 1000])
def test_any_length(spec, length):
    x = music_like(1.0)[:, :length]
    out = degradations().create(spec)(x, SR)
    assert out.shape == x.shape
    assert np.all(np.isfinite(out))


def test_float32_in_float32_out_and_mono_and_multichannel():
    filt = degradations().create("cheby1:6")
    for channels in (1, 2, 6):
        x = music_like(0.1, channels=channels).astype(np.float32)
        y = filt(x, SR)
        assert y.dtype == np.float32 and y.shape == x.shape


@pytest.mark.parametrize("sr, cutoff", [(22050, 11025), (16000, 11025), (44100, 30000)])
def test_cutoff_at_or_above_nyquist_is_refused(sr, cutoff):
    filt = degradations().create(f"butter:6,cutoff={cutoff}")
    with pytest.raises(ValueError, match=r"at or above the Nyquist frequency .* of sample rate"):
        filt(music_like(0.1, sr=sr), sr)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("butter:0", "order must be a positive integer"),
        ("butter:6.5", "order must be a positive integer"),
        ("butter:6,cutoff=-5", "cutoff must be a positive frequency"),
        ("cheby1:6,rp=0", "rp (passband ripple, dB) must be positive"),
        ("ellip:6,rp=3,rs=1", "need 0 < rp < rs"),
        ("bessel:6,norm=foo", "norm must be"),
        ("butter:6,rp=1", "unexpected keyword argument 'rp'"),
    ],
)
def test_bad_filter_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)


def test_paper_multi_is_table_one():
    assert degradations().expand(["paper-multi"]) == [
        "cheby1:6",
        "cheby1:8",
        "cheby1:10",
        "cheby1:12",
        "bessel:6",
        "bessel:12",
        "ellip:6",
        "ellip:12",
    ]


def test_defaults_are_the_papers():
    reg = degradations()
    assert reg.canonical("cheby1:6") == "cheby1:order=6,cutoff=11025.0,rp=0.05"
    assert reg.canonical("ellip:6") == "ellip:order=6,cutoff=11025.0,rp=0.05,rs=20.0"
    assert reg.canonical("bessel:6") == "bessel:order=6,cutoff=11025.0,norm=mag"
    assert reg.canonical("butter:6") == "butter:order=6,cutoff=11025.0"


@pytest.mark.parametrize("spec", ["ellip:12", "ellip:12,cutoff=11000", "butter:12,cutoff=1000", "cheby1:6"])
def test_impulse_response_grows_as_one_long_call(spec):
    """context_samples extends the impulse response trial by trial, running the recursion on: the
    samples of one long call ((b, a): lfilter's, bit for bit; sections: sosfilt's to float rounding)."""
    from audioenh.degradations.filters import _ImpulseResponse

    d = degradations().create(spec).design(SR)
    grown = _ImpulseResponse(d)
    grown.extend_to(4096)
    grown.extend_to(40_000)
    h = grown.extend_to(40_000)
    np.testing.assert_array_equal(h, _ImpulseResponse(d).extend_to(40_000))
    impulse = np.zeros(40_000)
    impulse[0] = 1.0
    if d.form == "ba":
        np.testing.assert_array_equal(h, signal.lfilter(d.b, d.a, impulse))
    else:
        np.testing.assert_allclose(h, signal.sosfilt(d.sos, impulse), rtol=0, atol=1e-15)
