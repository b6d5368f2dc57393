"""Shared fixtures. Third-party plugin autoloading is off in tests."""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("AUDIOENH_NO_PLUGINS", "1")
# Tests never write into the user's cache (corpora, resampled and degraded songs go here); VGGish
# weights already fetched into it are still used.
_user_vggish = os.path.join(
    os.environ.get("AUDIOENH_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "audioenh")), "vggish.pth"
)
if os.path.isfile(_user_vggish):
    os.environ.setdefault("AUDIOENH_VGGISH_WEIGHTS", _user_vggish)
if "AUDIOENH_CACHE" not in os.environ:
    # a fresh cache per test session, removed when it ends (it grows to about 45 MB)
    os.environ["AUDIOENH_CACHE"] = tempfile.mkdtemp(prefix="audioenh-test-cache-")
    atexit.register(shutil.rmtree, os.environ["AUDIOENH_CACHE"], ignore_errors=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from audioenh import plugins  # noqa: E402

SR = 44100


@pytest.fixture(autouse=True)
def _fresh_plugins():
    """Each test sees freshly built registries (and none of another test's inline plugins)."""
    plugins.reset()
    yield
    plugins.reset()


def music_like(seconds: float = 0.5, sr: int = SR, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Broadband test signal: harmonic tones plus pink-ish noise, (channels, samples) float64."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros((channels, n))
    for c in range(channels):
        for f in (220.0, 440.0 * (1 + 0.01 * c), 3000.0, 9000.0, 14000.0, 19000.0):
            out[c] += 0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
        white = rng.standard_normal(n)
        spectrum = np.fft.rfft(white)
        spectrum /= np.sqrt(np.maximum(np.arange(spectrum.size), 1))
        out[c] += 0.05 * np.fft.irfft(spectrum, n) / np.std(np.fft.irfft(spectrum, n))
    return out


@pytest.fixture
def self_test_passes(monkeypatch):
    """Safe mode's self-test passes whatever the network does: for tests of the rest of safe mode with
    untrained networks, whose self-test hovers around 0 dB (tests/test_self_test.py tests it)."""
    from audioenh.evaluation import self_test

    monkeypatch.setattr(self_test, "MIN_GAIN_DB", float("-inf"))


@pytest.fixture
def stereo_wav(tmp_path):
    """A 0.5-s stereo 44.1 kHz 16-bit WAV file."""
    path = tmp_path / "in.wav"
    sf.write(path, music_like().T * 0.8, SR, subtype="PCM_16")
    return path


@pytest.fixture
def float_wav(tmp_path):
    """A 0.5-s stereo 44.1 kHz 32-bit float WAV file."""
    path = tmp_path / "in_float.wav"
    sf.write(path, music_like(seed=1).T * 0.8, SR, subtype="FLOAT")
    return path


ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def tool_module(name: str):
    """``tools/NAME.py`` imported as module ``NAME`` (registered while in use: dataclasses look their
    module up), for tests of the repository's scripts."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)
