"""The codec degradations, measured: alignment, length, bitrate, bandwidth, SNR against bitrate."""

import math

import numpy as np
import pytest
import soundfile as sf
from audioenh import plugins
from audioenh.errors import SpecError
from scipy import signal

from audioenh_codecs import MP3, LossyCodec, Opus, Vorbis, base, plugin
from audioenh_codecs.formats import MPEG1_BITRATES, MPEG2_BITRATES

SR = 44100


# -- test signals (channels, samples) -----------------------------------------------------------


def pink(sr, n, channels=2, seed=0):
    """Noise with power falling as 1/f above 20 Hz."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal((channels, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1 / sr)
    spectrum *= np.where(f >= 20, 1 / np.sqrt(np.maximum(f, 20)), 0)
    x = np.fft.irfft(spectrum, n, axis=-1)
    return 0.3 * x / max(np.max(np.abs(x)), 1e-3)


def tones(sr, n, channels=2, seed=0):
    """Six tones with random phases over pink noise, music-like."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    x = sum(
        0.08 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi, (channels, 1)))
        for f in (110.0, 330.0, 440.0, 1250.0, 3000.0, 7000.0)
    )
    return x + pink(sr, n, channels, seed + 1)


def bursts(sr, n, channels=2, seed=0):
    """Decaying noise bursts four times a second, drum-like: sharp onsets."""
    rng = np.random.default_rng(seed)
    x = np.zeros((channels, n))
    for start in range(0, n, sr // 4):
        m = n - start
        x[:, start:] += 0.3 * rng.standard_normal((channels, m)) * np.exp(-np.arange(m) / (0.03 * sr))
    return np.clip(x, -0.9, 0.9)


SIGNALS = {"tones": tones, "pink": pink, "bursts": bursts}


def xcorr_lag(x, y, max_lag=3000):
    """Lag maximising sum over channels of sum_t x[t] y[t + lag] (scipy, independent of the plugin's own)."""
    c = sum(signal.correlate(y[ch], x[ch], mode="full", method="fft") for ch in range(x.shape[0]))
    lags = signal.correlation_lags(y.shape[-1], x.shape[-1], mode="full")
    keep = np.abs(lags) <= max_lag
    return int(lags[keep][np.argmax(c[keep])])


def snr_db(x, y):
    return 10 * np.log10(np.sum(x**2) / np.sum((x - y) ** 2))


def band_db(x, y, sr, lo, hi):
    """Output / input power (dB) between lo and hi Hz (Welch)."""
    f, px = signal.welch(x, sr, nperseg=2048)
    _, py = signal.welch(y, sr, nperseg=2048)
    band = (f >= lo) & (f <= hi)
    return 10 * np.log10(np.sum(py[:, band]) / np.sum(px[:, band]))


def white(sr, seconds=1.0, channels=2):
    return 0.2 * np.random.default_rng(7).standard_normal((channels, int(seconds * sr)))


# -- registration -----------------------------------------------------------------------------


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setenv(plugins.DISABLE_ENV, "1")
    plugins.reset()
    plugins.register_plugin(plugin, name="codecs")
    yield
    plugins.reset()


def test_registered_through_the_hooks(registered):
    registry = plugins.degradations()
    for name, cls in (("mp3", MP3), ("vorbis", Vorbis), ("opus", Opus)):
        entry = registry.get(name)
        assert entry.plugin == "codecs" and entry.doc
        codec = registry.create(cls.example)
        assert isinstance(codec, cls) and codec.local is False
    assert registry.canonical("mp3:128") == "mp3:bitrate=128"
    assert registry.create("opus:bitrate=64").bitrate == 64
    with pytest.raises(SpecError, match="bitrate must be an MP3 bitrate in kbit/s"):
        registry.create("mp3:100")
    with pytest.raises(SpecError, match="quality must be a number from 0 to 1"):
        registry.create("vorbis:1.5")
    with pytest.raises(SpecError, match="bitrate must be a number from 6 to 512 kbit/s"):
        registry.create("opus:1000")


def test_codec_cells_join_audioenhs_matrix_and_recipe_sets(registered):
    """register.extend: the matrix sets and the mixed recipes gain codec members, after the built-ins."""
    from audioenh.degradations import sets
    from audioenh.degradations.chain import resolve_degradations

    registry = plugins.degradations()
    members = registry.sets()
    assert members["matrix"] == sets.MATRIX + plugin.MATRIX_CELLS
    assert members["matrix-quick"] == sets.MATRIX_QUICK + plugin.MATRIX_QUICK_CELLS
    assert members["recipe-mixed"] == sets.RECIPE_MIXED + plugin.RECIPE_MEMBERS
    assert members["recipe-keep"] == sets.RECIPE_KEEP + plugin.RECIPE_MEMBERS
    assert members["recipe-11k"] == sets.RECIPE_11K  # low-passes only
    assert registry.set_extenders("matrix") == ["codecs"]
    assert len(resolve_degradations(["matrix"])) == 73 + 12  # every member builds


def test_codec_chains_is_a_set_of_the_plugin_every_low_pass_through_every_codec(registered):
    """register.set: ``codec-chains`` (safe mode's level limit is measured on it) belongs to the plugin,
    and is ten low-passes each followed by each of three codecs, all of which build."""
    from audioenh.degradations.chain import resolve_degradations
    from audioenh.spec import parse_chain

    registry = plugins.degradations()
    chains = registry.sets()["codec-chains"]
    assert registry.set_plugin("codec-chains") == "codecs" and chains == plugin.CODEC_CHAINS
    assert len(chains) == 30 and len(set(chains)) == 30
    heads = {parse_chain(c)[0].name for c in chains}
    tails = [parse_chain(c)[-1].name for c in chains]
    assert heads == {"cheby1", "butter", "cheby2", "ellip"} and tails.count("opus") == 10
    assert len(resolve_degradations(["codec-chains"])) == 30


def test_unsupported_settings_fail_with_a_sentence():
    with pytest.raises(ValueError, match="mp3 at 16000 Hz takes bitrates 8, 16, .*, 160 kbit/s, not 320"):
        MP3(320)(np.zeros((2, 100)), 16000)
    with pytest.raises(ValueError, match="opus takes 6 to 256 kbit/s per channel; 320 kbit/s for 1 channel"):
        Opus(320)(np.zeros((1, 100)), SR)
    for codec in (MP3(128), Vorbis(0.5), Opus(96)):
        with pytest.raises(ValueError, match="cannot encode audio with NaN"):
            codec(np.full((2, 100), np.nan), SR)


# -- alignment and length -----------------------------------------------------------------------

ALIGNED = [
    ("mp3:32", 44100),  # no LAME info tag fits a 32 kbit/s frame: 1105 samples of delay to take out
    ("mp3:32", 22050),
    ("mp3:48", 48000),
    ("mp3:64", 44100),
    ("mp3:128", 44100),
    ("mp3:128", 32000),
    ("mp3:128", 16000),
    ("mp3:320", 48000),
    ("mp3:192", 96000),  # resampled to 48 kHz and back
    ("vorbis:0", 44100),
    ("vorbis:0.5", 16000),
    ("vorbis:0.5", 44100),
    ("vorbis:1", 96000),
    ("opus:64", 44100),  # resampled to 48 kHz and back
    ("opus:96", 48000),
    ("opus:96", 22050),  # resampled to 24 kHz and back
    ("opus:32", 16000),
    ("opus:256", 44100),
]


@pytest.mark.parametrize("spec, sr", ALIGNED)
def test_output_is_aligned_at_lag_zero_and_has_the_input_length(registered, spec, sr):
    codec = plugins.degradations().create(spec)
    for name, make in SIGNALS.items():
        x = make(sr, sr, seed=len(name))
        y = codec(x, sr)
        assert y.shape == x.shape
        assert xcorr_lag(x, y) == 0, f"{spec} at {sr} Hz, {name}"


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("bitrate", [24, 32, 48])
def test_opus_hybrid_mode_is_aligned_to_one_sample(bitrate, sr):
    # Below 64 kbit/s libopus codes the band under 8 kHz with SILK, which leaves this build's decoder
    # about 2 samples (48 kHz) ahead of the CELT band above: no single shift aligns every spectrum.
    # The delay is measured on pink noise, so music-like spectra land at 0 and others within 1.
    codec = Opus(bitrate)
    assert xcorr_lag(pink(sr, sr, seed=3), codec(pink(sr, sr, seed=3), sr)) == 0
    for make in SIGNALS.values():
        x = make(sr, sr, seed=5)
        assert abs(xcorr_lag(x, codec(x, sr))) <= 1


@pytest.mark.parametrize("codec", [MP3(128), MP3(32), Vorbis(0.3), Opus(64)], ids=repr)
@pytest.mark.parametrize("channels", [1, 2])
def test_exact_length_short_and_long(codec, channels):
    for n in (1, 17, 1000, 1152, 44101):
        x = tones(SR, n, channels)
        y = codec(x, SR)
        assert y.shape == x.shape and np.all(np.isfinite(y))
    assert codec(x[:, :0], SR).shape == (channels, 0)


def test_dtype_determinism_and_input_untouched():
    x = tones(SR, 5000).astype(np.float32)
    before = x.copy()
    for codec in (MP3(128), Vorbis(0.5), Opus(96)):
        y = codec(x, SR)
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y, codec(x, SR))
        np.testing.assert_array_equal(y, type(codec)(*vars(codec).values())(x, SR))  # a fresh object
    np.testing.assert_array_equal(x, before)


@pytest.mark.skipif(sf.__libsndfile_version__ != "1.2.2", reason="delays measured with libsndfile 1.2.2")
def test_measured_delays():
    # libsndfile trims encoder delay and padding where the file says how much: an MP3 with a LAME
    # info tag, Vorbis and Opus (pre-skip). A constant-bitrate MP3 frame too small for the tag
    # (stereo 44.1 kHz at 32 to 56 kbit/s) keeps LAME's 576 + 529 = 1105 samples.
    assert [MP3(b).delay(44100, 2) for b in (32, 48, 56, 64, 128, 320)] == [1105, 1105, 1105, 0, 0, 0]
    assert MP3(32).delay(96000, 2) == 2 * 1105  # at 48 kHz, resampled
    assert {Vorbis(q).delay(sr, 2) for q in (0, 0.5, 1) for sr in (16000, 44100, 96000)} == {0}
    assert {Opus(b).delay(sr, 2) for b in (64, 128, 256) for sr in (16000, 44100, 48000)} == {0}
    assert Opus(24).delay(48000, 2) == -1  # hybrid mode, see above


class ShiftingCodec(LossyCodec):
    """A stand-in codec that delays by `shift` samples (advances if negative) and pads, losslessly."""

    frame = 1152

    def __init__(self, shift):
        self.shift = shift
        self.calls = 0

    def key(self):
        return ("shifting", self.shift)

    def write_options(self, codec_rate, channels):
        return {}

    def transcode(self, data, codec_rate):
        self.calls += 1
        if self.shift >= 0:
            return np.concatenate([np.zeros((self.shift, data.shape[1])), data, np.zeros((700, data.shape[1]))])
        return data[-self.shift :]


def test_a_delay_is_measured_and_taken_out(monkeypatch):
    monkeypatch.setattr(base, "_DELAYS", {})
    x = tones(SR, 3000)
    delaying = ShiftingCodec(1105)
    np.testing.assert_array_equal(delaying(x, SR), x)
    assert delaying.calls == 2  # calibration, then the signal
    delaying(x, SR)
    assert delaying.calls == 3  # the delay is cached
    assert delaying.delay(SR, 2) == 1105
    advancing = ShiftingCodec(-3)
    y = advancing(x, SR)
    np.testing.assert_array_equal(y[:, 3:], x[:, 3:])
    np.testing.assert_array_equal(y[:, :3], 0)


# -- bitrates -----------------------------------------------------------------------------------

MP3_L3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
    0: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2.5
}
MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def mp3_frame_bitrates(data: bytes) -> list[int]:
    """Bitrate (kbit/s) of every MPEG Layer III frame, walking the frame headers."""
    out, i = [], 0
    while i + 4 <= len(data):
        b1, b2 = data[i + 1], data[i + 2]
        assert data[i] == 0xFF and b1 & 0xE0 == 0xE0 and (b1 >> 1) & 3 == 1, f"no Layer III frame at byte {i}"
        version = (b1 >> 3) & 3
        kbps = MP3_L3_KBPS[version][b2 >> 4]
        rate = MP3_RATES[version][(b2 >> 2) & 3]
        out.append(kbps)
        i += (144 if version == 3 else 72) * kbps * 1000 // rate + ((b2 >> 1) & 1)
    return out


@pytest.mark.parametrize(
    "sr, bitrates",
    [(44100, MPEG1_BITRATES), (48000, MPEG1_BITRATES), (22050, MPEG2_BITRATES), (8000, MPEG2_BITRATES[:8])],
)
@pytest.mark.parametrize("channels", [1, 2])
def test_mp3_bitrate_is_the_one_asked_for(sr, bitrates, channels):
    x = np.ascontiguousarray(tones(sr, 2 * sr, channels).T)
    for kbps in bitrates:
        data = MP3(kbps).encode(x, sr)
        frames = mp3_frame_bitrates(data)
        assert set(frames) == {kbps}, f"{kbps} kbit/s at {sr} Hz"
        # and from the size: 2 s of audio plus the info frame, LAME's delay and the last frame's padding
        per_frame = 1152 if sr >= 32000 else 576
        assert 1.0 <= len(data) * 8 / 2 / 1000 / kbps <= 1 + 5 * per_frame / (2 * sr)


def test_opus_and_vorbis_bitrates():
    x = tones(SR, 3 * SR)
    for kbps in (32, 64, 128, 256):
        codec = Opus(kbps)
        data = codec.encode(np.ascontiguousarray(base.soxr.resample(x.T, SR, 48000)), 48000)
        assert 1.0 <= len(data) * 8 / 3 / 1000 / kbps < 1.2  # variable bitrate plus Ogg pages
    sizes = [len(Vorbis(q).encode(np.ascontiguousarray(x.T), SR)) * 8 / 3 / 1000 for q in (0, 0.25, 0.5, 0.75, 1)]
    assert sizes == sorted(sizes)
    assert 50 < sizes[0] < 100 and 120 < sizes[2] < 240 and 350 < sizes[-1] < 650  # ~64, ~160, ~500 nominal


# -- what the codecs do to the signal -----------------------------------------------------------


def test_low_bitrate_mp3_removes_high_frequencies():
    x = white(SR)
    y64, y128 = MP3(64)(x, SR), MP3(128)(x, SR)
    # stereo mp3:64 keeps up to ~11 kHz and removes everything above 12 kHz
    assert abs(band_db(x, y64, SR, 100, 8000)) < 1.5
    assert band_db(x, y64, SR, 12000, 22050) < -60
    # stereo mp3:128 keeps up to ~16.6 kHz
    assert abs(band_db(x, y128, SR, 12000, 16000)) < 1
    assert band_db(x, y128, SR, 17500, 22050) < -60
    # mono at 64 kbit/s has the same bandwidth as stereo at 128
    assert band_db(x[:1], MP3(64)(x[:1], SR), SR, 17500, 22050) < -60
    assert abs(band_db(x[:1], MP3(64)(x[:1], SR), SR, 12000, 16000)) < 1


def test_bandwidth_rises_with_mp3_bitrate():
    x = white(SR)
    f, px = signal.welch(x, SR, nperseg=2048)

    def edge(kbps):
        _, py = signal.welch(MP3(kbps)(x, SR), SR, nperseg=2048)
        kept = 10 * np.log10(py.mean(0) / px.mean(0)) > -20
        return f[kept].max()

    edges = [edge(b) for b in (32, 64, 96, 128, 192, 320)]
    assert edges == sorted(edges) and len(set(edges)) == len(edges)
    assert 10000 < edges[1] < 12000 and 16000 < edges[3] < 17500 and edges[-1] > 19500


def test_vorbis_and_opus_bandwidth():
    x = white(SR)
    assert band_db(x, Vorbis(0)(x, SR), SR, 17000, 22050) < -60
    assert band_db(x, Vorbis(1)(x, SR), SR, 17000, 22050) > -1
    # Opus codes at most 20 kHz, at any bitrate
    for kbps in (24, 256):
        assert band_db(x, Opus(kbps)(x, SR), SR, 20500, 22050) < -50
        assert abs(band_db(x, Opus(kbps)(x, SR), SR, 100, 8000)) < 1


@pytest.mark.parametrize("make", [tones, pink], ids=["tones", "pink"])
def test_snr_rises_with_bitrate(make):
    x = make(SR, SR, seed=4)
    for codec, settings in (
        (MP3, (32, 64, 96, 128, 192, 320)),
        (Vorbis, (0, 0.25, 0.5, 0.75, 1)),
        (Opus, (24, 48, 96, 192, 512)),
    ):
        snrs = [snr_db(x, codec(s)(x, SR)) for s in settings]
        assert all(a < b for a, b in zip(snrs, snrs[1:])), f"{codec.__name__}: {np.round(snrs, 1)}"
    assert snr_db(x, MP3(320)(x, SR)) > 15


def test_loud_input_is_not_clipped():
    x = 2.5 * tones(SR, SR)  # peaks well above full scale
    for codec in (MP3(192), Vorbis(0.7), Opus(192)):
        y = codec(x, SR)
        assert np.max(np.abs(y)) > 0.9 * np.max(np.abs(x))
        assert snr_db(x, y) > 10


def test_context_gives_excerpts_the_whole_files_statistics():
    # A codec is not local (local = False): an excerpt never equals the whole file's samples, but
    # with context_samples() on each side its error level matches the whole file's.
    x = tones(SR, 3 * SR, seed=9)
    a, b = SR, SR + 4096
    for codec in (MP3(64), MP3(128), Vorbis(0.2), Opus(96)):
        c = codec.context_samples(SR)
        assert 0 < c < SR // 4
        whole = codec(x, SR)[:, a:b]
        excerpt = codec(x[:, a - c : b + c], SR)[:, c : c + b - a]
        assert abs(snr_db(x[:, a:b], excerpt) - snr_db(x[:, a:b], whole)) < 3, repr(codec)


def test_context_samples_are_a_few_frames():
    assert MP3(128).context_samples(44100) == 4 * 1152
    assert MP3(128).context_samples(96000) == 2 * 4 * 1152  # frames of the 48 kHz stream
    assert Vorbis(0.5).context_samples(44100) == 4 * 2048
    assert Opus(96).context_samples(48000) == 4 * 960 + 312
    assert Opus(96).context_samples(44100) == math.ceil((4 * 960 + 312) * 44100 / 48000)
