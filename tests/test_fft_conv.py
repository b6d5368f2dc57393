"""Overlap-save FFT convolutions (audioenh.architectures.fft_conv) against PyTorch's conv1d."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from audioenh.architectures import fft_conv
from audioenh.architectures.fft_conv import conv1d_as_fft, conv_rows_as_fft, fft_size, kernel_spectrum
from audioenh.architectures.layers import to_channels_last


def close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=0, atol=2e-5 * float(expected.detach().abs().max()))


@pytest.mark.parametrize(
    "channels,out_channels,taps,batch,samples,padding",
    [
        (3, 5, 7, 2, 300, 3),  # the ResNet's "same" convolution
        (4, 4, 65, 1, 100, 32),  # fewer samples than one block keeps
        (2, 3, 17, 3, 1000, 8),
        (5, 2, 9, 2, 257, 0),  # no padding: fewer outputs than inputs
        (3, 3, 33, 2, 4099, 16),  # many blocks, not a multiple of the hop
        (2, 2, 8, 1, 64, 3),  # an even kernel
    ],
)
def test_equals_conv1d_in_both_layouts(channels, out_channels, taps, batch, samples, padding):
    torch.manual_seed(0)
    x = torch.randn(batch, channels, samples)
    weight, bias = torch.randn(out_channels, channels, taps), torch.randn(out_channels)
    expected = F.conv1d(x, weight, bias, padding=padding)
    y = conv1d_as_fft(x, weight, bias, padding)
    assert y.shape == expected.shape and y.is_contiguous()
    close(y, expected)
    y_cl = conv1d_as_fft(to_channels_last(x), weight, bias, padding)
    assert y_cl.shape == (batch, out_channels, 1, expected.shape[-1])
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    close(y_cl.squeeze(2), expected)
    close(conv1d_as_fft(x, weight, None, padding), F.conv1d(x, weight, None, padding=padding))


@pytest.mark.parametrize("n_fft", [15, 16, 32, 128])
def test_every_transform_length_and_tiling_gives_the_same_convolution(monkeypatch, n_fft):
    """The frames are cut into tiles (here 3 frames: several tiles, a short last one), the blocks of
    every batch item in one row of frames (the frames that straddle two items are dropped); without
    gradients the tiles' products share one buffer, with them each tile's are summed by autograd."""
    monkeypatch.setattr(fft_conv, "FRAMES_PER_TILE", 3)
    monkeypatch.setattr(fft_conv, "FRAMES_PER_TILE_WITH_GRADIENTS", 3)
    torch.manual_seed(1)
    x, weight, bias = torch.randn(3, 4, 211), torch.randn(6, 4, 9), torch.randn(6)
    expected = F.conv1d(x, weight, bias, padding=4)
    with torch.no_grad():
        close(conv1d_as_fft(x, weight, bias, 4, n_fft), expected)
    bias.requires_grad_(True)  # only the bias learns (a frozen kernel): the tiles' products with gradients
    y = conv1d_as_fft(x, weight, bias, 4, n_fft)
    close(y, expected)
    (gradient,) = torch.autograd.grad(y.sum(), bias)
    close(gradient, torch.full((6,), float(expected.shape[0] * expected.shape[-1])))


def test_gradients_equal_conv1d_s():
    torch.manual_seed(2)
    x = torch.randn(2, 6, 500, requires_grad=True)
    weight = torch.randn(5, 6, 17, requires_grad=True)
    bias = torch.randn(5, requires_grad=True)
    target = torch.randn(2, 5, 500)
    grads = []
    for conv in (lambda: F.conv1d(x, weight, bias, padding=8), lambda: conv1d_as_fft(x, weight, bias, 8)):
        for t in (x, weight, bias):
            t.grad = None
        ((conv() - target) ** 2).mean().backward()
        grads.append([t.grad.clone() for t in (x, weight, bias)])
    for fft_grad, native_grad in zip(grads[1], grads[0]):
        close(fft_grad, native_grad)


def test_kernel_spectrum_is_the_kernels_discrete_fourier_transform():
    torch.manual_seed(3)
    weight = torch.randn(3, 2, 7, dtype=torch.float64)
    spectrum = kernel_spectrum(weight, 32)  # Re W at 17 bins, then -Re W - Im W and Re W - Im W at bins 1-15
    expected = torch.fft.rfft(weight, n=32).permute(2, 1, 0)  # (bins, in, out)
    real, imag = expected.real, expected.imag
    assert [part.shape for part in spectrum] == [(17, 2, 3), (15, 2, 3), (15, 2, 3)]
    for part, value in zip(spectrum, (real, (-real - imag)[1:16], (real - imag)[1:16])):
        np.testing.assert_allclose(part, value, atol=1e-12)
    np.testing.assert_allclose(imag[[0, 16]], 0, atol=1e-12)  # the bins left out: real


def test_fft_size_is_the_power_of_two_above_the_kernel():
    for taps in (3, 7, 9, 16, 17, 33, 65, 129):
        n = fft_size(taps)
        assert n & (n - 1) == 0 and n >= 32 and n > taps and (n == 32 or n <= 2 * taps)
    assert [fft_size(t) for t in (7, 17, 33, 65)] == [32, 32, 64, 128]


def test_an_input_shorter_than_the_kernel_is_refused():
    with pytest.raises(ValueError, match="shorter than the kernel"):
        conv_rows_as_fft(torch.zeros(1, 5, 2), torch.zeros(2, 2, 9), None, 0)


def test_long_kernels_spectra_are_kept_between_inference_calls_while_the_weights_stay_the_same():
    """Without gradients a long kernel's spectrum is computed once (enhance's blocks reuse it); a change
    of the weights (an optimizer step, a loaded state dict) is seen, a call with gradients drops the
    copy, short kernels (spectra several times their size) are never kept, and an entry goes with its
    weight."""
    import gc

    torch.manual_seed(4)
    conv = torch.nn.Conv1d(4, 4, 33, padding=16)
    x = torch.randn(1, 4, 300)
    computed = []
    original = fft_conv.kernel_spectrum

    def counted(weight, n_fft):
        computed.append(weight.shape[-1])
        return original(weight, n_fft)

    fft_conv.kernel_spectrum = counted
    try:
        with torch.no_grad():
            first = conv1d_as_fft(x, conv.weight, conv.bias, 16)
            again = conv1d_as_fft(x, conv.weight, conv.bias, 16)
            assert computed == [33] and torch.equal(first, again)
            conv.weight.mul_(2.0)  # in place, as an optimizer's step: the version changes
            close(conv1d_as_fft(x, conv.weight, conv.bias, 16), F.conv1d(x, conv.weight, conv.bias, padding=16))
            assert computed == [33, 33]
            conv.load_state_dict({"weight": torch.randn(4, 4, 33), "bias": torch.zeros(4)})
            close(conv1d_as_fft(x, conv.weight, conv.bias, 16), F.conv1d(x, conv.weight, conv.bias, padding=16))
            assert len(computed) == 3 and id(conv.weight) in fft_conv._SPECTRA
        conv1d_as_fft(x, conv.weight, conv.bias, 16)  # with gradients: computed afresh, the copy dropped
        assert len(computed) == 4 and id(conv.weight) not in fft_conv._SPECTRA
        short = torch.nn.Conv1d(4, 4, 7, padding=3)
        with torch.no_grad():
            conv1d_as_fft(x, short.weight, short.bias, 3)
            conv1d_as_fft(x, short.weight, short.bias, 3)
        assert computed[-2:] == [7, 7] and id(short.weight) not in fft_conv._SPECTRA
        with torch.no_grad():
            conv1d_as_fft(x, conv.weight, conv.bias, 16)
        key = id(conv.weight)
        assert key in fft_conv._SPECTRA
        del conv
        gc.collect()
        assert key not in fft_conv._SPECTRA
    finally:
        fft_conv.kernel_spectrum = original


def test_a_kept_spectrum_is_not_reused_in_another_precision():
    """A spectrum kept from inference under CPU bf16 autocast (bfloat16) is not reused by float32
    inference afterwards (``precision_accuracy.py``, ``benchmark`` after a bf16 run), nor the reverse:
    each pass computes in its own type."""
    torch.manual_seed(7)
    conv = torch.nn.Conv1d(8, 8, 33, padding=16)
    x = torch.randn(1, 8, 300)
    expected = F.conv1d(x, conv.weight, conv.bias, padding=16)
    with torch.no_grad():
        for precision in ("bf16", "fp32", "bf16"):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                y = conv1d_as_fft(x, conv.weight, conv.bias, 16)
            error = float((y.float() - expected).norm() / expected.norm())
            assert (1e-4 < error < 2e-2) if precision == "bf16" else error < 1e-5


@pytest.mark.parametrize(
    "taps,stride,padding,samples", [(33, 2, 16, 1000), (17, 2, 8, 257), (9, 3, 4, 100), (8, 2, 0, 64)]
)
def test_a_strided_convolution_runs_over_the_inputs_phases(taps, stride, padding, samples):
    torch.manual_seed(5)
    x = torch.randn(2, 3, samples, requires_grad=True)
    weight, bias = torch.randn(4, 3, taps, requires_grad=True), torch.randn(4, requires_grad=True)
    expected = F.conv1d(x, weight, bias, stride=stride, padding=padding)
    y = conv1d_as_fft(x, weight, bias, padding, stride=stride)
    assert y.shape == expected.shape
    close(y, expected)
    y_cl = conv1d_as_fft(to_channels_last(x), weight, bias, padding, stride=stride)
    assert y_cl.is_contiguous(memory_format=torch.channels_last)
    close(y_cl.squeeze(2), expected)
    grads = [torch.autograd.grad(out.square().sum(), (x, weight, bias)) for out in (expected, y)]
    for native, fft in zip(*grads):
        close(fft, native)


@pytest.mark.parametrize("gradients", [False, True])
def test_under_cpu_bf16_autocast_the_products_run_in_bf16(gradients):
    """``benchmark --conv fft --precision bf16`` (the measurement for CPUs with bf16 hardware): under
    autocast the transforms and products run in bfloat16, with or without gradients, in both layouts,
    equal to float32's convolution within bfloat16's rounding (8 significant bits)."""
    torch.manual_seed(6)
    x, weight, bias = torch.randn(2, 64, 500), torch.randn(32, 64, 17) * 0.1, torch.randn(32)
    expected = F.conv1d(x, weight, bias, padding=8)
    weight.requires_grad_(gradients)
    with torch.set_grad_enabled(gradients), torch.autocast("cpu", dtype=torch.bfloat16):
        for y in (conv1d_as_fft(x, weight, bias, 8), conv1d_as_fft(to_channels_last(x), weight, bias, 8).squeeze(2)):
            error = float((y.float() - expected).norm() / expected.norm())
            assert 1e-4 < error < 2e-2  # bf16's rounding, not float32's, and no worse than a few of its steps
