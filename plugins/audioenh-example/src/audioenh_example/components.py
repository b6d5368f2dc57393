"""The template audioenh plugin's pieces: one degradation, one architecture and one metric.

Copy this package, rename it and the three names, and keep the shape:

* a degradation subclasses ``audioenh.degradations.Degradation`` and implements ``apply``;
* an architecture is a factory ``f(preset="paper", ..., audio_channels=2)`` returning a
  ``torch.nn.Module`` that maps (batch, channels, samples) to the same shape;
* a metric subclasses ``audioenh.metrics.Metric`` and implements ``compute``;
* plugin.py registers them by name, one ``@hookimpl`` function per kind.

The contracts are in audioenh's docs/hooks.md, and audioenh's tests/test_registry_wide.py checks
them for every registered name, these included. This file and plugin.py are reproduced in full in
docs/writing-plugins.md.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from audioenh.degradations import Degradation
from audioenh.metrics import Metric
from scipy import signal
from torch import nn
from torch.nn import functional as F

# -- A degradation ----------------------------------------------------------------------------


class Tilt(Degradation):
    """Spectral tilt (first-order high shelf): 0 dB at DC, gain dB at Nyquist, gain/2 dB at frequency Hz.

    gain: shelf gain in dB reached at the Nyquist frequency, negative to darken (default -6);
    frequency: middle of the transition in Hz, where the gain is exactly gain/2 dB (default 2000).
    A causal one-pole IIR filter (bilinear transform, prewarped at ``frequency``) on each channel.
    """

    # The registry builds objects from specs such as "example-tilt", "example-tilt:-12" or
    # "example-tilt:gain=-12,frequency=1000": the __init__ parameters are the spec's arguments
    # and the docstring's first paragraph is what `audioenh list` shows. `example` is a typical
    # spec for listings and the registry-wide tests (needed when a parameter has no default).
    example = "example-tilt:gain=-6"

    # A degradation that draws random numbers sets `random = True` and gets a third argument,
    # apply(audio, sample_rate, rng): a numpy Generator to draw every random number from, so
    # that a seed reproduces it. This one is deterministic.
    random = False

    def __init__(self, gain: float = -6.0, frequency: float = 2000.0):
        # Check parameters here and raise ValueError with one clear sentence: the user sees it
        # as one line, "Error: degradation spec 'example-tilt:...': <the sentence>".
        if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not abs(gain) <= 60:
            raise ValueError(f"gain must be a number of dB between -60 and 60, got {gain!r}")
        if isinstance(frequency, bool) or not isinstance(frequency, (int, float)) or not 0 < frequency < math.inf:
            raise ValueError(f"frequency must be a positive number of Hz, got {frequency!r}")
        self.gain = float(gain)
        self.frequency = float(frequency)

    def coefficients(self, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        """The filter's (b, a) at ``sample_rate`` Hz."""
        nyquist = sample_rate / 2
        if self.frequency >= nyquist:
            raise ValueError(
                f"example-tilt frequency {self.frequency:g} Hz is at or above the Nyquist frequency {nyquist:g} Hz"
            )
        g = 10 ** (self.gain / 20)  # linear gain at the Nyquist frequency
        k = math.tan(math.pi * self.frequency / sample_rate)  # `frequency`, prewarped
        # Analog prototype g (s + zero) / (s + pole): gain 1 at DC, g at infinity, sqrt(g) at s = jk.
        pole, zero = k * math.sqrt(g), k / math.sqrt(g)
        b = g * np.array([1 + zero, zero - 1]) / (1 + pole)
        a = np.array([1.0, (pole - 1) / (1 + pole)])
        return b, a

    def apply(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        # `audio` is float32 or float64, shaped (channels, samples); return the same shape and never
        # modify `audio` in place. The base class has checked the input, passes empty audio through
        # and casts the result back to the input's dtype.
        b, a = self.coefficients(sample_rate)
        return signal.lfilter(b, a, audio, axis=-1)

    def context_samples(self, sample_rate: int) -> int:
        # A filter has memory, so an excerpt degraded on its own differs from the same samples of
        # the degraded whole file near its start. Training reads this many samples of real signal
        # on each side of every chunk to make them equal. This filter's impulse response decays
        # like |p|**n (p its pole): after log(1e-6) / log|p| samples its tail holds less than 1e-12
        # of its energy. A memoryless degradation (a gain, clipping) keeps the default, 0.
        p = abs(self.coefficients(sample_rate)[1][1])
        return 1 if p < 1e-6 else math.ceil(math.log(1e-6) / math.log(p)) + 1


# -- An architecture --------------------------------------------------------------------------

# Named sizes. Every architecture accepts preset="paper" (the default: audioenh's built-ins use
# the paper's sizes; here it is simply the full size) and preset="tiny" (well under 200,000
# parameters, for the tests).
PRESETS = {
    "paper": dict(width=32, blocks=4, kernel=9),  # 74,530 parameters in stereo
    "tiny": dict(width=8, blocks=1, kernel=5),  # 794 parameters in stereo
}


class ExampleConv(nn.Module):
    """Strided conv down by 2, residual conv blocks, transposed conv back up, plus the input."""

    #: Lengths the network takes without padding. audioenh's chunked inference places chunk
    #: starts on multiples of it, so that every chunk sees the same grid of strided samples.
    length_multiple = 2

    def __init__(self, width: int, blocks: int, kernel: int, audio_channels: int = 2):
        super().__init__()
        self.down = nn.Conv1d(audio_channels, width, kernel_size=4, stride=2, padding=1)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(width, width, kernel, padding=kernel // 2),
                nn.ReLU(),
                nn.Conv1d(width, width, kernel, padding=kernel // 2),
            )
            for _ in range(blocks)
        )
        self.up = nn.ConvTranspose1d(width, audio_channels, kernel_size=4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Inputs of any length must work: pad to the multiple, crop back.
        n = x.shape[-1]
        y = F.pad(x, (0, (-n) % self.length_multiple))
        y = F.relu(self.down(y))
        for block in self.blocks:
            y = y + block(y)
        # Predict what the degradation removed and add it to the input (as the paper's networks do).
        return x + self.up(y)[..., :n]


def example_conv(
    preset: str = "paper",
    width: int | None = None,
    blocks: int | None = None,
    kernel: int | None = None,
    audio_channels: int = 2,
) -> ExampleConv:
    """A small convolutional residual network working at half the sample rate; presets: paper, tiny.

    width: channels; blocks: residual blocks of two convolutions; kernel: odd kernel size (samples).
    Options given override the preset's.
    """
    # Spec arguments arrive as written ("example-conv:preset=tiny,width=16"); check them here.
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    options = dict(PRESETS[preset])
    options.update({k: v for k, v in dict(width=width, blocks=blocks, kernel=kernel).items() if v is not None})
    for name, value in [*options.items(), ("audio_channels", audio_channels)]:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if options["kernel"] % 2 == 0:
        raise ValueError(f"kernel must be odd, got {options['kernel']}")
    return ExampleConv(**options, audio_channels=audio_channels)


# -- A metric ---------------------------------------------------------------------------------


class PeakError(Metric):
    """Peak error in dB relative to the reference's peak: 20 log10(max |x - x_hat| / max |x|), all channels.

    -inf when the estimate equals the reference; +inf when the reference is silent and the estimate
    is not. Lower is better.
    """

    higher_is_better = False
    unit = "dB"

    def compute(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
        # The base class has checked that both are float64 arrays of one shape (channels, samples).
        error = float(np.max(np.abs(reference - estimate)))
        peak = float(np.max(np.abs(reference)))
        if error == 0.0:
            return -math.inf
        if peak == 0.0:
            return math.inf
        return 20 * math.log10(error / peak)


def _resolve_example_conv(**arguments):
    """Every argument of ``example_conv`` written out: the preset's values replace the ``None`` ones.

    audioenh calls a factory's ``resolve_arguments`` (when it has one) to store the fully resolved
    architecture in checkpoints, so that saved models still load if ``PRESETS`` changes later.
    """
    resolved = dict(arguments)
    for key, value in PRESETS[arguments["preset"]].items():
        if resolved.get(key) is None:
            resolved[key] = value
    return resolved


example_conv.resolve_arguments = _resolve_example_conv
