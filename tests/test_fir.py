"""Linear-phase low-passes: ``fir`` against its scipy.signal.firwin design, ``brickwall`` by its DFT."""

import numpy as np
import pytest
from scipy import signal

from audioenh.errors import SpecError
from audioenh.plugins import degradations

from .conftest import SR, music_like

FREQS = np.array([100.0, 2000.0, 5000.0, 9000.0, 10000.0, 11025.0, 12000.0, 13000.0, 16000.0, 20000.0])


def tone_gain_db(spec: str, freq: float, sr: int = SR) -> float:
    """Measured gain (dB) on a sine at ``freq`` Hz, from the middle half of a 1-s signal."""
    t = np.arange(sr) / sr
    x = np.stack([0.5 * np.sin(2 * np.pi * freq * t)] * 2)
    y = degradations().create(spec)(x, sr)
    mid = slice(sr // 4, 3 * sr // 4)
    return 10 * np.log10(np.mean(y[:, mid] ** 2) / np.mean(x[:, mid] ** 2))


@pytest.mark.parametrize(
    "spec, design",
    [
        ("fir", lambda: signal.firwin(255, 11025, window="hann", fs=SR)),
        ("fir:cutoff=8000,taps=101", lambda: signal.firwin(101, 8000, window="hann", fs=SR)),
        ("fir:taps=511,window=blackman", lambda: signal.firwin(511, 11025, window="blackman", fs=SR)),
        ("fir:window=8.6", lambda: signal.firwin(255, 11025, window=("kaiser", 8.6), fs=SR)),
    ],
)
def test_fir_is_the_firwin_design_applied_centred(spec, design):
    h = design()
    filt = degradations().create(spec)
    np.testing.assert_array_equal(filt.coefficients(SR), h)
    _, response = signal.freqz(h, worN=FREQS, fs=SR)
    np.testing.assert_allclose(filt.magnitude_response_db(FREQS, SR), 20 * np.log10(np.abs(response)), atol=1e-9)
    x = music_like(0.25)
    full = np.stack([np.convolve(c, h) for c in x])  # causal: delayed by taps // 2
    expected = full[:, len(h) // 2 : len(h) // 2 + x.shape[1]]
    np.testing.assert_allclose(filt(x, SR), expected, atol=1e-12)
    assert filt.context_samples(SR) == len(h) // 2


@pytest.mark.parametrize(
    "freq, low_db, high_db",
    [
        (2000.0, -0.001, 0.001),  # pass band: hann, 255 taps
        (9000.0, -0.001, 0.001),
        (11025.0, -6.03, -6.01),  # firwin's cutoff is the -6 dB point (amplitude 1/2)
        (12000.0, -200.0, -80.0),  # the design gives -85 dB here
        (16000.0, -200.0, -100.0),
    ],
)
def test_fir_measured_attenuation(freq, low_db, high_db):
    measured = tone_gain_db("fir", freq)
    assert low_db < measured < high_db
    designed = degradations().create("fir").magnitude_response_db(np.array([freq]), SR)[0]
    assert measured == pytest.approx(designed, abs=0.05)


def test_fir_adds_no_delay():
    x = music_like(0.5)
    y = degradations().create("fir:cutoff=4000")(x, SR)
    for c in range(2):
        lags = signal.correlation_lags(x.shape[1], y.shape[1])
        xcorr = signal.correlate(y[c], x[c])
        assert lags[np.argmax(xcorr)] == 0
    # a click stays where it was, symmetric around it
    click = np.zeros((1, 2001))
    click[0, 1000] = 1.0
    out = degradations().create("fir")(click, SR)[0]
    assert np.argmax(out) == 1000
    np.testing.assert_allclose(out[1000 - 127 : 1000], out[1001 : 1000 + 128][::-1], atol=1e-15)


def test_fir_excerpt_with_context_equals_whole_file():
    filt = degradations().create("fir:cutoff=5000,taps=401,window=hamming")  # hamming: end taps are not 0
    x = music_like(0.5)
    c = filt.context_samples(SR)
    assert c == 200
    whole = filt(x, SR)
    for a, b in [(5000, 6000), (0, 300), (x.shape[1] - 300, x.shape[1])]:
        part = filt(x[:, max(0, a - c) : b + c], SR)
        np.testing.assert_allclose(part[:, a - max(0, a - c) :][:, : b - a], whole[:, a:b], atol=1e-12)
    # and one sample less of context is not enough
    part = filt(x[:, 5000 - c + 1 : 6000 + c - 1], SR)
    assert np.max(np.abs(part[:, c - 1 : c - 1 + 1000] - whole[:, 5000:6000])) > 1e-6


def test_brickwall_zeroes_every_bin_above_the_cutoff_and_keeps_the_rest():
    x = music_like(0.3)
    for cutoff in (11025, 4000, 15000.5):
        y = degradations().create(f"brickwall:cutoff={cutoff}")(x, SR)
        freqs = np.fft.rfftfreq(x.shape[1], 1 / SR)
        X, Y = np.fft.rfft(x), np.fft.rfft(y)
        above = freqs > cutoff
        assert np.max(np.abs(Y[:, above])) < 1e-9 * np.max(np.abs(X))
        np.testing.assert_allclose(Y[:, ~above], X[:, ~above], atol=1e-9)


def test_brickwall_measured_attenuation_and_no_delay():
    assert tone_gain_db("brickwall", 2000.0) == pytest.approx(0.0, abs=0.001)
    assert tone_gain_db("brickwall", 11000.0) == pytest.approx(0.0, abs=0.01)
    assert tone_gain_db("brickwall", 11100.0) < -40  # 75 Hz above: only the tone's edges leak
    assert tone_gain_db("brickwall", 16000.0) < -60
    x = music_like(0.5)
    y = degradations().create("brickwall:cutoff=4000")(x, SR)
    lags = signal.correlation_lags(x.shape[1], y.shape[1])
    assert lags[np.argmax(signal.correlate(y[0], x[0]))] == 0


def test_brickwall_is_global_and_its_context_is_the_edge_ringing_distance():
    filt = degradations().create("brickwall")
    assert filt.local is False
    c = filt.context_samples(SR)
    assert c == 2027  # 1 / (pi * (pi / 2) * 1e-4)
    x = music_like(0.5)
    whole = filt(x, SR)
    a, b = 10000, 12000
    part = filt(x[:, a - c : b + c], SR)[:, c : c + b - a]
    # close (the ringing of the excerpt's edges is small there) but not equal
    error = np.max(np.abs(part - whole[:, a:b]))
    assert 1e-7 < error < 1e-3
    assert degradations().create("brickwall:cutoff=100").context_samples(SR) == 1 << 17  # capped


@pytest.mark.parametrize("spec", ["fir", "brickwall"])
@pytest.mark.parametrize("length", [1, 2, 5, 300])
def test_any_length(spec, length):
    x = music_like(0.1)[:, :length].astype(np.float32)
    y = degradations().create(spec)(x, SR)
    assert y.shape == x.shape and y.dtype == np.float32 and np.all(np.isfinite(y))


@pytest.mark.parametrize("spec", ["fir", "brickwall"])
@pytest.mark.parametrize("sr, cutoff", [(22050, 11025), (16000, 11025), (44100, 30000)])
def test_cutoff_at_or_above_nyquist_is_refused(spec, sr, cutoff):
    filt = degradations().create(f"{spec}:cutoff={cutoff}")
    with pytest.raises(ValueError, match=r"at or above the Nyquist frequency .* of sample rate"):
        filt(music_like(0.1, sr=sr), sr)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("fir:taps=254", "taps must be a positive odd integer"),
        ("fir:taps=0", "taps must be a positive odd integer"),
        ("fir:cutoff=0", "cutoff must be a positive frequency in Hz"),
        ("fir:window=kaiser", "is not a scipy.signal window without parameters"),
        ("fir:window=nonsense", "is not a scipy.signal window without parameters"),
        ("fir:window=-1", "Kaiser beta and must be >= 0"),
        ("brickwall:cutoff=-3", "cutoff must be a positive frequency in Hz"),
        ("brickwall:order=3", "unexpected keyword argument 'order'"),
    ],
)
def test_bad_arguments(spec, fragment):
    with pytest.raises(SpecError) as info:
        degradations().create(spec)
    assert fragment in str(info.value)
