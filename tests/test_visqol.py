"""ViSQOL through visqol-python (skipped when it is not installed), and its unavailable path."""

import sys

import numpy as np
import pytest
from scipy import signal

from audioenh.errors import MetricUnavailableError
from audioenh.plugins import metrics

from .conftest import SR, music_like


def test_unavailable_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "visqol", None)  # makes `import visqol` raise ImportError
    with pytest.raises(MetricUnavailableError) as info:
        metrics().create("visqol")
    message = str(info.value)
    assert "\n" not in message and "pip install 'audioenh[visqol]'" in message


def test_identity_near_the_maximum_and_harsh_lowpass_lower():
    pytest.importorskip("visqol", reason="visqol-python is not installed (pip install 'audioenh[visqol]')")
    metric = metrics().create("visqol")
    assert metric.higher_is_better is True
    x = music_like(1.0)
    identical = metric(x, x, SR)
    assert 4.5 < identical <= 5.0
    harsh = signal.filtfilt(*signal.butter(8, 4000 / 22050), x, axis=-1)
    assert metric(x, harsh, SR) < identical - 1.0


def test_too_short_or_silent_is_a_clear_error():
    pytest.importorskip("visqol", reason="visqol-python is not installed")
    metric = metrics().create("visqol")
    with pytest.raises(ValueError, match="at least 1 s"):
        metric(music_like(0.3), music_like(0.3), SR)
    with pytest.raises(ValueError, match="silent reference"):
        metric(np.zeros((2, SR)), music_like(1.0), SR)
