"""1-D convolutions computed block by block in the frequency domain (overlap-save), as matrix products.

A convolution of ``K`` taps from ``C`` to ``O`` channels costs ``C * O * K`` multiply-adds per output
sample. Cut into blocks of ``N`` samples (``N - K + 1`` outputs kept from each), transformed by a
discrete Fourier transform of ``N`` points, it costs one complex ``C x O`` product per frequency bin
(``N / 2 + 1`` of them) per block instead: about ``K / 2`` times fewer for the paper U-Net's long
kernels, which hold 85 % of its multiply-adds. Every step is a matrix product (the transforms too:
``N`` is small, 32-128, so a product with the transform's matrix is as fast as an FFT and needs no
reordering; the complex products per bin are three real ones), so autograd's backward pass is made of
matrix products as well, and the blocks of all batch items are one long row of frames. The same sums
in another order: equal to ``conv1d`` to float rounding (about 1e-6 relative in float32). Speed and
the rule that picks it: docs/performance.md.
"""

from __future__ import annotations

import functools
import math
import weakref

import torch
import torch.nn.functional as F

#: at most this many blocks (frames) are transformed, mixed and transformed back at once: the frames'
#: spectra then stay in the CPU's caches. Without gradients 128 (the paper ResNet's 512-channel 7-tap
#: convolution 1.1x faster than with 256, the U-Net's long kernels alike); with them 256 (128 took
#: 1.15-1.35x longer: autograd keeps every tile's pieces). 2-core Intel Xeon VM, docs/performance.md.
FRAMES_PER_TILE = 128
FRAMES_PER_TILE_WITH_GRADIENTS = 256


def fft_size(taps: int) -> int:
    """The transform's length ``N`` (samples) for a ``taps``-tap kernel: the power of two above ``taps``
    (at least 32), so that each block keeps about half its samples (17 taps: 32, 33: 64, 65: 128). Twice
    as long ran no faster (tools/fft_conv_speed.py) and holds twice the kernel's spectrum, which is about
    ``N / taps`` times the kernel's size."""
    return max(32, 1 << taps.bit_length())


def _complex_bins(n_fft: int) -> slice:
    """The bins of an ``n_fft``-point real transform whose values may be complex: all but 0 Hz and, for an
    even ``n_fft``, ``n_fft / 2``, where a real signal's spectrum is real."""
    bins = n_fft // 2 + 1
    return slice(1, bins - 1 if n_fft % 2 == 0 else bins)


@functools.lru_cache(maxsize=32)
def _transforms(n_fft: int, taps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The real matrices (float64, cached per length and taps) of the three-product form (below):

    - the input's: ``Re X_f + Im X_f`` at every bin, then ``Re X_f`` and ``Im X_f`` at the complex ones
      ((bins + 2 x complex bins) x N), the other factors of ``k1``, ``k2``, ``k3``;
    - the kernel's: ``Re W_f`` at every bin, then ``-Re W_f - Im W_f`` and ``Re W_f - Im W_f`` at the complex
      ones (:func:`_complex_bins`): ((bins + 2 x complex bins) x taps), the factors of ``k1``, ``k2``, ``k3``;
    - the inverse transform of the first ``N - taps + 1`` samples from the three products side by side
      (hop x (bins + 2 x complex bins)): ``k1`` at every bin, ``k2`` and ``k3`` at the complex ones
      (:func:`_complex_bins`) only.

    ``X conj(W)`` in three real products instead of four: with ``k1 = (Re X + Im X) Re W``, ``k2 = Re X
    (-Re W - Im W)`` and ``k3 = Im X (Re W - Im W)``, its real part is ``k1 - k3`` and its imaginary part
    ``k1 + k2``; the inverse transform's columns for ``k1``, ``k2`` and ``k3`` combine those. At 0 Hz and
    ``N / 2`` the spectra are real (``Im X = Im W = 0``): ``X conj(W) = k1`` there, so ``k2`` and ``k3``
    are not computed for those bins (their inverse columns would be 0)."""
    bins = n_fft // 2 + 1
    hop = n_fft - taps + 1
    f = torch.arange(bins, dtype=torch.float64)
    angle = 2 * math.pi * torch.outer(f, torch.arange(n_fft, dtype=torch.float64)) / n_fft  # (bins, N)
    cos, sin = torch.cos(angle), torch.sin(angle)  # X_f = sum_t x_t exp(-2 pi i f t / N): Re = cos, Im = -sin
    complex_bins = _complex_bins(n_fft)
    forward = torch.cat([cos - sin, cos[complex_bins], -sin[complex_bins]])
    kernel = torch.cat([cos, (sin - cos)[complex_bins], (cos + sin)[complex_bins]])[:, :taps]
    weight = torch.full((bins,), 2.0, dtype=torch.float64)  # the bins between 0 and N / 2 stand for two
    weight[0] = 1.0
    if n_fft % 2 == 0:
        weight[-1] = 1.0
    from_real = (weight[:, None] * cos[:, :hop]).t() / n_fft  # (hop, bins): x_t = sum_f from_real Re + from_imag Im
    from_imag = (-weight[:, None] * sin[:, :hop]).t() / n_fft
    inverse = torch.cat([from_real + from_imag, from_imag[:, complex_bins], -from_real[:, complex_bins]], 1)
    return forward, kernel.contiguous(), inverse.contiguous()


def kernel_spectrum(weight: torch.Tensor, n_fft: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``weight`` (out, in, taps) transformed: the factors of the three products (:func:`_transforms`), each
    (bins, in, out): ``Re W_f`` at every bin, ``-Re W_f - Im W_f`` and ``Re W_f - Im W_f`` at the complex
    ones. Three products with the kernel's rows, not one split afterwards: with gradients, each part's
    gradient then flows straight back to the kernel (a product the kernel's size) instead of being joined
    into a copy of the whole spectrum first."""
    out_channels, channels, taps = weight.shape
    matrix = _transforms(n_fft, taps)[1].to(weight.device, weight.dtype)
    by_tap = weight.permute(2, 1, 0).reshape(taps, channels * out_channels)
    return tuple((rows @ by_tap).view(-1, channels, out_channels) for rows in matrix.split(_parts(n_fft)))


def _parts(n_fft: int) -> list[int]:
    """Rows of each of the three products' factors (:func:`_transforms`): every bin, the complex ones twice."""
    complex_bins = _complex_bins(n_fft)
    return [n_fft // 2 + 1] + [complex_bins.stop - complex_bins.start] * 2


#: kernels' spectra kept between calls without gradients (inference: ``enhance`` runs block after block
#: through the same weights): ``id(weight) -> (key, spectrum)``, the key holding the weight's storage
#: and ``_version`` (a step of the optimizer or a loaded state changes it) and the type the spectrum is
#: computed in (bf16 under CPU autocast: float32 inference after bf16 inference must not reuse it),
#: the entry dropped with the weight. Only for spectra at most SPECTRUM_CACHE_RATIO times the kernel's
#: size (the long kernels: about 3 bins / taps = 2.8-2.9); short kernels' are several times their kernel
#: (the paper ResNet's 7 taps: 6.7x, 1.5 GB for its 30).
_SPECTRA: dict[int, tuple[tuple, tuple[torch.Tensor, ...]]] = {}
SPECTRUM_CACHE_RATIO = 3.5


def spectrum_for(
    weight: torch.Tensor, n_fft: int, stride: int = 1, kernel: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """:func:`kernel_spectrum` of ``weight`` (of its :func:`phase_kernel`, ``kernel`` if the caller has it,
    for a ``stride`` above 1), kept in :data:`_SPECTRA` where no gradient is computed (and dropped when
    one is, so that training does not hold a stale copy between validations). A change made through
    ``weight.data`` is one PyTorch does not count (its ``_version`` stays): change weights in place under
    ``torch.no_grad()``, as optimizers and ``load_state_dict`` do."""
    if kernel is None:
        kernel = weight if stride == 1 else phase_kernel(weight, stride)
    if torch.is_grad_enabled():
        _SPECTRA.pop(id(weight), None)
        return kernel_spectrum(kernel, n_fft)
    from .layers import _autocast_dtype  # layers imports this module

    computed_in = _autocast_dtype(weight.device.type) or weight.dtype
    key = (weight.data_ptr(), weight._version, n_fft, stride, computed_in, weight.device)
    kept = _SPECTRA.get(id(weight))
    if kept is not None and kept[0] == key:
        return kept[1]
    spectrum = kernel_spectrum(kernel, n_fft)
    if sum(part.numel() for part in spectrum) <= SPECTRUM_CACHE_RATIO * weight.numel():
        if kept is None:
            weakref.finalize(weight, _SPECTRA.pop, id(weight), None)
        _SPECTRA[id(weight)] = (key, spectrum)
    return spectrum


def padded_rows(rows: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """``rows`` (batch, samples, channels) with ``before`` and ``after`` zero samples around each item:
    ``F.pad``'s result, writing the zeros only where they go (``F.pad`` fills all of its output first,
    a pass over the activations that cost as much as a tenth of a wide convolution's time)."""
    batch, samples, channels = rows.shape
    padded = rows.new_empty(batch, before + samples + after, channels)
    padded[:, :before] = 0
    padded[:, before + samples :] = 0
    padded[:, before : before + samples] = rows
    return padded


def conv_rows_as_fft(
    rows: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    padding: int,
    n_fft: int | None = None,
    spectrum: tuple[torch.Tensor, ...] | None = None,
) -> torch.Tensor:
    """``conv1d`` (stride 1, zero ``padding`` each side) of ``rows`` (batch, samples, channels; the
    channels contiguous: the channels-last form's samples) by ``weight`` (out, in, taps), returned as
    (batch, output samples, out) rows, computed by overlap-save transforms of ``n_fft`` samples
    (default :func:`fft_size`): per frequency bin, the cross-correlation ``X_f conj(W_f)`` summed over
    the input channels is three real (frames x in) by (in x out) products (:func:`_transforms`).
    ``spectrum``: ``weight``'s :func:`kernel_spectrum` for ``n_fft``, if the caller has it."""
    batch, samples, channels = rows.shape
    out_channels, _, taps = weight.shape
    n_fft = n_fft or fft_size(taps)
    hop = n_fft - taps + 1  # outputs kept per block
    outputs = samples + 2 * padding - taps + 1
    if outputs <= 0:
        raise ValueError(f"input of {samples} samples is shorter than the kernel ({taps} taps, padding {padding})")
    forward, _, inverse = (m.to(rows.device, rows.dtype) for m in _transforms(n_fft, taps))
    blocks = -(-outputs // hop)
    spill = -(-(n_fft - hop) // hop)  # frames that reach into the next batch item: computed, not kept
    per_item = blocks + spill
    padded = padded_rows(rows, padding, per_item * hop - samples - padding).view(batch * per_item * hop, channels)
    frames = padded.unfold(0, n_fft, hop).transpose(1, 2)  # (frames, N, channels), a view
    if spectrum is None:
        spectrum = spectrum_for(weight, n_fft)
    y = rows.new_empty(batch, outputs, out_channels)
    parts = _parts(n_fft)  # k1's bins, k2's and k3's (the complex ones): the inverse transform's columns
    stacked = sum(parts)
    differentiable = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (rows, *spectrum, bias))
    per_tile = FRAMES_PER_TILE_WITH_GRADIENTS if differentiable else FRAMES_PER_TILE
    columns = inverse.split(parts, 1)  # the inverse transform's columns for k1, k2 and k3
    buffer = None  # without gradients: the products of one tile, in the transform's dtype (bf16 under autocast)
    for start in range(0, frames.shape[0], per_tile):
        tile = frames[start : start + per_tile]
        count = tile.shape[0]
        # (frames, stacked, channels), its three parts seen as (bins, frames, channels): views, no copy
        x = torch.matmul(forward, tile).transpose(0, 1).split(parts)
        # k1 = (Re X + Im X) Re W, k2 = Re X (-Re W - Im W), k3 = Im X (Re W - Im W)
        factors = tuple(zip(x, spectrum))
        if differentiable:  # autograd takes no out=: three products, three inverse products summed
            k1, k2, k3 = (torch.bmm(a, b).view(-1, count * out_channels) for a, b in factors)
            # the bias, one per frame and output channel, added on every kept sample by the first product
            first = columns[0] @ k1 if bias is None else torch.addmm(bias.repeat(count), columns[0], k1)
            block = torch.addmm(torch.addmm(first, columns[1], k2), columns[2], k3)
        else:  # written side by side into one buffer, reused from tile to tile, and one inverse product
            if buffer is None or buffer.shape[1] != count:
                buffer = x[0].new_empty(stacked, count, out_channels)
            k = buffer
            for (a, b), rows_of_k in zip(factors, k.split(parts)):
                torch.bmm(a, b, out=rows_of_k)
            if bias is not None:  # N x bias on the 0 Hz bin's real part is the bias on every sample
                k[0] += n_fft * bias
            block = inverse @ k.view(stacked, count * out_channels)  # (hop, frames x out)
        _keep(y, block.view(hop, count, out_channels).transpose(0, 1), start, per_item)
    return y


def _keep(y: torch.Tensor, produced: torch.Tensor, first: int, per_item: int) -> None:
    """Write the samples each of the frames ``first, first + 1, ...`` (``produced``: (frames, hop, out))
    keeps into ``y`` (batch, outputs, out): frame ``f`` is frame ``f % per_item`` of item ``f // per_item``
    and holds its outputs from ``hop`` times that on; what lies beyond an item's outputs (its spilled
    frames, the last frame's tail) is dropped."""
    frames, hop, out_channels = produced.shape
    outputs = y.shape[1]
    full_frames, remainder = divmod(outputs, hop)
    frame = first
    while frame < first + frames:
        item, j = divmod(frame, per_item)
        stop = min(first + frames, frame - j + per_item)  # this item's last frame in the tile, plus one
        at = frame - first
        whole = max(0, min(stop - frame, full_frames - j))
        if whole:
            y[item, j * hop : (j + whole) * hop].view(whole, hop, out_channels).copy_(produced[at : at + whole])
        if remainder and j + whole == full_frames and frame + whole < stop:
            y[item, full_frames * hop :].copy_(produced[at + whole, :remainder])
        frame = stop


def conv1d_as_fft(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    padding: int,
    n_fft: int | None = None,
    stride: int = 1,
) -> torch.Tensor:
    """``F.conv1d(x, weight, bias, stride, padding)`` for (batch, channels, samples) ``x``, or its
    channels-last form (batch, channels, 1, samples), returned in the same form, by
    :func:`conv_rows_as_fft`. The channels-last form's samples are its rows already (no copy); PyTorch's
    layout is transposed to rows and back. A ``stride`` of ``s`` is a stride-1 convolution over the
    input's ``s`` phases stacked as channels (:func:`phase_rows`), with a kernel ``s`` times shorter."""
    if x.dim() == 4:
        batch, channels, _, samples = x.shape
        rows = x.permute(0, 2, 3, 1).reshape(batch, samples, channels)  # a view in channels-last memory
    else:
        rows = x.transpose(1, 2)
    if stride == 1:
        y = conv_rows_as_fft(rows, weight, bias, padding, n_fft)
    else:
        kernel = phase_kernel(weight, stride)
        n_fft = n_fft or fft_size(kernel.shape[-1])
        outputs = (rows.shape[1] + 2 * padding - weight.shape[-1]) // stride + 1
        phases = phase_rows(rows, padding, stride)
        spectrum = spectrum_for(weight, n_fft, stride, kernel)
        y = conv_rows_as_fft(phases, kernel, bias, 0, n_fft, spectrum)[:, :outputs].contiguous()
    if x.dim() == 4:
        return y.unsqueeze(1).permute(0, 3, 1, 2)  # (batch, out, 1, samples), channels-last memory
    return y.transpose(1, 2).contiguous()


def phase_rows(rows: torch.Tensor, padding: int, stride: int) -> torch.Tensor:
    """``rows`` (batch, samples, channels) zero-padded and cut into blocks of ``stride`` samples, each block
    one row of ``stride x channels`` values (phase ``q`` of channel ``c`` at ``q * channels + c``): a
    strided convolution over ``rows`` is a stride-1 one over these by :func:`phase_kernel`. Output ``t``
    reads input ``t * stride + j * stride + q`` through tap ``j * stride + q``: phase ``q`` of block
    ``t + j``."""
    batch, samples, channels = rows.shape
    length = -(-(samples + 2 * padding) // stride) * stride
    return padded_rows(rows, padding, length - samples - padding).view(batch, length // stride, stride * channels)


def phase_kernel(weight: torch.Tensor, stride: int) -> torch.Tensor:
    """``weight`` (out, in, taps) rearranged for :func:`phase_rows`: (out, stride x in, taps / stride,
    rounded up), tap ``j`` of input channel ``q * in + c`` being tap ``j * stride + q`` of channel ``c``."""
    out_channels, channels, taps = weight.shape
    phase_taps = -(-taps // stride)
    kernel = F.pad(weight, (0, phase_taps * stride - taps)).view(out_channels, channels, phase_taps, stride)
    return kernel.permute(0, 3, 1, 2).reshape(out_channels, stride * channels, phase_taps)
