"""Building blocks shared by the architectures."""

from __future__ import annotations

import contextlib
import functools

import torch
import torch.nn.functional as F
from torch import nn

from .fft_conv import conv1d_as_fft

#: On the CPU the built-in networks run their convolutions on a (batch, channels, 1, samples) tensor in
#: channels-last memory (samples x channels, "NWC") instead of PyTorch's (batch, channels, samples):
#: oneDNN then convolves without reordering every activation to its own layout and back. Measured on a
#: 2-core Intel Xeon VM (docs/performance.md): training 1.5-1.7x faster for the quick models, even
#: from 64 to 256 channels, 0.75x for the paper ResNet (512); inference 1.2-2x faster up to the paper
#: ResNet (512: 1.4x), 0.67x for the paper U-Net (1024). Hence the widest layer, in channels, up to
#: which each uses it:
CHANNELS_LAST_TRAINING_MAX_CHANNELS = 128
CHANNELS_LAST_INFERENCE_MAX_CHANNELS = 512


#: memory layouts :func:`forced_layout` accepts: the rule below, PyTorch's own, channels-last
LAYOUTS = ("auto", "pytorch", "channels-last")
#: what :func:`forced_layout` and :func:`forced_conv` force ("auto": the rules). A plain dictionary
#: rather than context variables: ``torch.compile`` reads a global's value (and guards on it) where a
#: ``ContextVar.get`` broke its graph at every convolution
_FORCED = {"layout": "auto", "conv": "auto"}


@contextlib.contextmanager
def _forcing(name: str, value: str, choices: tuple[str, ...]):
    """``_FORCED[name]`` set to ``value`` (one of ``choices``) inside the block."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    saved, _FORCED[name] = _FORCED[name], value
    try:
        yield
    finally:
        _FORCED[name] = saved


def forced_layout(layout: str) -> contextlib.AbstractContextManager:
    """Run the built-in networks in ``layout`` ("pytorch" or "channels-last", on any device) inside
    the block; "auto": the measured rule of :func:`use_channels_last`. For measuring a layout where the
    rule has no measurement yet (``audioenh benchmark --layout``, e.g. channels-last on a GPU in float32)."""
    return _forcing("layout", layout, LAYOUTS)


def use_channels_last(x: torch.Tensor, widest: int) -> bool:
    """Whether a network whose widest layer has ``widest`` channels runs ``x`` (batch, channels,
    samples) in channels-last memory: on the CPU up to ``CHANNELS_LAST_TRAINING_MAX_CHANNELS``
    channels with autograd on (training), up to ``CHANNELS_LAST_INFERENCE_MAX_CHANNELS`` without; on
    CUDA under bf16 or fp16 autocast, at any width (H200, docs/performance.md: the paper U-Net's
    training step 78 -> 86 it/s with its long kernels in the polyphase form, the paper ResNet's in
    bf16 17.2 -> 20.6); elsewhere (CUDA in float32, the meta device) PyTorch's layout. Inside
    :func:`forced_layout`, as forced."""
    if x.dim() != 3 or x.device.type == "meta":
        return False
    forced = _FORCED["layout"]
    if forced != "auto":
        return forced == "channels-last"
    if x.device.type == "cuda":
        return _autocast_dtype("cuda") in (torch.bfloat16, torch.float16)
    if x.device.type != "cpu":
        return False
    limit = CHANNELS_LAST_TRAINING_MAX_CHANNELS if torch.is_grad_enabled() else CHANNELS_LAST_INFERENCE_MAX_CHANNELS
    return widest <= limit


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(batch, channels, samples) -> (batch, channels, 1, samples) in channels-last memory."""
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


def from_channels_last(x: torch.Tensor) -> torch.Tensor:
    """(batch, channels, 1, samples) -> (batch, channels, samples), contiguous."""
    return x.squeeze(2).contiguous()


#: ways of computing a long-kernel 1-D convolution :func:`forced_conv` accepts: the rules
#: (:func:`conv_implementation`), PyTorch's (cuDNN, oneDNN), one matrix product over the unfolded input
#: (:func:`conv1d_as_gemm`), a short-kernel convolution over the input's phases
#: (:func:`conv1d_as_polyphase`), or overlap-save transforms (:func:`~audioenh.architectures.fft_conv.conv1d_as_fft`)
CONV_IMPLEMENTATIONS = ("auto", "native", "gemm", "polyphase", "fft")
#: kernels (taps) from which "gemm" applies: the paper U-Net's long kernels (65, 33 and 17 taps), whose
#: bf16 convolutions cuDNN runs with slow, non-tensor-core kernels (docs/performance.md)
GEMM_MIN_KERNEL = 17
#: kernels (taps) from which a forced "fft" applies (strided ones too, over their phases): the paper ResNet's 7 taps too
FFT_MIN_KERNEL = 7
#: The rule for overlap-save FFT convolutions (:func:`~audioenh.architectures.fft_conv.conv1d_as_fft`) on
#: the CPU in float32, from ``tools/fft_conv_speed.py`` on a 2-core Intel Xeon VM without bf16 hardware
#: (docs/performance.md): kernels of at least FFT_LONG_KERNEL taps where taps x channels (the fewer of
#: in and out) reach FFT_MIN_TAPS_X_CHANNELS ran 1.4-11x faster in inference and 1.2-4.5x in training
#: (17 taps from 128 channels, 33 from 64, 65 from 32); below it they gained too little or lost (64
#: channels at 17 taps 1.1 / 1.0x, 32 at 33 taps 1.05 / 1.4x: the quick U-Net stays as it is). Shorter
#: kernels gain less: the rule takes them from FFT_SHORT_KERNEL_MIN_CHANNELS without gradients (7 and 9
#: taps at 512 channels, the paper ResNet's: 1.9 and 2.5x; at 256 channels 1.5-1.7x, a 256-wide ResNet's
#: runtime rate 1.5x, the `small` U-Net's 1.1x; at 128 channels 1.0-1.1x) and from
#: FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS with them (7 and 9 taps at 512 channels 1.2 and 1.6x, the
#: paper ResNet's whole training step 1.4x; at 256 channels 0.9 and 1.2x)
FFT_LONG_KERNEL = 17
FFT_MIN_TAPS_X_CHANNELS = 2048
FFT_SHORT_KERNEL_MIN_CHANNELS = 256
FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS = 512
#: under CPU bf16 autocast (bf16 hardware, inference only) long kernels need this many taps x channels:
#: the paper U-Net's three up-path kernels (16,640-17,408) gained 2.3x there; its strided down-path one
#: (4,352) nothing measurable; the `small` U-Net's (2,112-2,176) lost (runtime rate 0.055 -> 0.058,
#: bare forward 0.022 -> 0.030; 2-core AMX Xeon, docs/performance.md)
FFT_BF16_MIN_TAPS_X_CHANNELS = 8192


def forced_conv(implementation: str) -> contextlib.AbstractContextManager:
    """Compute the built-in networks' 1-D convolutions of at least :data:`GEMM_MIN_KERNEL` taps as
    ``implementation`` inside the block ("native": PyTorch's; "gemm": :func:`conv1d_as_gemm`;
    "polyphase": :func:`conv1d_as_polyphase`; "fft": :func:`~audioenh.architectures.fft_conv.conv1d_as_fft`,
    from :data:`FFT_MIN_KERNEL` taps; "auto": the rule of :func:`conv_implementation`).
    For measuring a formulation on a device (``audioenh benchmark --conv``)."""
    return _forcing("conv", implementation, CONV_IMPLEMENTATIONS)


def conv_implementation(x: torch.Tensor, taps: int, channels: int = 0, stride: int = 1) -> str:
    """How a 1-D convolution of ``taps`` taps and ``stride`` between ``channels`` channels (the fewer of its
    input's times the stride and its output's; 0: unknown) over (batch, channels, samples) ``x`` (or its
    channels-last form) runs:
    ``native`` (PyTorch's), ``gemm`` (:func:`conv1d_as_gemm`; PyTorch's layout only), ``polyphase``
    (:func:`conv1d_as_polyphase`, :func:`conv_channels_last_as_polyphase`) or ``fft``
    (:func:`~audioenh.architectures.fft_conv.conv1d_as_fft`; a strided convolution as a stride-1 one
    over the input's phases, with a kernel ``stride`` times shorter, which the rule judges by): inside
    :func:`forced_conv` as forced (for kernels of at least
    :data:`GEMM_MIN_KERNEL` taps, "fft" from :data:`FFT_MIN_KERNEL`), else the measured rules
    (docs/performance.md). On the CPU in float32 the FFT form where it was measured faster (the
    constants above: the paper U-Net's long and wide kernels, the wide layers of the ``small`` U-Net, the
    paper ResNet); under CPU bf16 autocast on a CPU with bf16 hardware the FFT form for the widest
    long kernels in inference only (:data:`FFT_BF16_MIN_TAPS_X_CHANNELS`; the paper U-Net's runtime
    rate 2.3x PyTorch's bf16 convolutions, its training step 0.8x, the paper ResNet's 7 taps slower in
    both), PyTorch's elsewhere under autocast (unmeasured without bf16 hardware). On CUDA under
    bf16 or fp16 autocast, where cuDNN's long-kernel convolutions fall to slow kernels, the polyphase
    form in channels-last memory (the layout :func:`use_channels_last` picks there; the paper U-Net on
    an H200: 86 training steps/s, 78 as GEMMs, 9.7 natively) and GEMMs in PyTorch's layout (78; the
    polyphase form 67); elsewhere PyTorch's own."""
    if x.dim() not in (3, 4) or x.device.type == "meta":  # meta: MACs are counted as the plain convolution's
        return "native"
    forced = _FORCED["conv"]
    if forced == "fft":
        return "fft" if taps >= FFT_MIN_KERNEL else "native"
    if forced == "auto" and x.device.type == "cpu":
        phase_taps = -(-taps // stride)
        long_kernel = phase_taps >= FFT_LONG_KERNEL
        reduced = _autocast_dtype("cpu")
        if reduced is None:
            if long_kernel and phase_taps * channels >= FFT_MIN_TAPS_X_CHANNELS:
                return "fft"
            wide = FFT_SHORT_KERNEL_TRAINING_MIN_CHANNELS if torch.is_grad_enabled() else FFT_SHORT_KERNEL_MIN_CHANNELS
            if phase_taps >= FFT_MIN_KERNEL and channels >= wide:
                return "fft"
        elif long_kernel and phase_taps * channels >= FFT_BF16_MIN_TAPS_X_CHANNELS and reduced == torch.bfloat16:
            if not torch.is_grad_enabled() and _cpu_computes_bf16():
                return "fft"
    if taps < GEMM_MIN_KERNEL:
        return "native"
    if forced != "auto":  # the GEMM form takes PyTorch's layout only
        return forced if x.dim() == 3 or forced == "polyphase" else "native"
    if x.device.type != "cuda" or _autocast_dtype("cuda") not in (torch.bfloat16, torch.float16):
        return "native"
    return "polyphase" if x.dim() == 4 else "gemm"


def conv1d_as_gemm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int
) -> torch.Tensor:
    """``F.conv1d(x, weight, bias, stride, padding)`` for (batch, channels, samples) ``x`` as one matrix
    product: the input unfolded into (batch x output samples, channels x taps) rows (im2col) times the
    (channels x taps, output channels) weight. The same sums in another order (equal to float
    rounding); a plain GEMM runs on tensor cores in bf16 where cuDNN's long-kernel convolutions do not.
    Memory: the unfolded input holds ``taps / stride`` times the input's samples. Under autocast the
    input is cast to autocast's type before it is unfolded, so the large copy is made once, in it."""
    dtype = _autocast_dtype(x.device.type)
    if dtype is not None:
        x, weight = x.to(dtype), weight.to(dtype)
        bias = None if bias is None else bias.to(dtype)
    out_channels, channels, taps = weight.shape
    if padding:
        x = F.pad(x, (padding, padding))
    rows = x.unfold(2, taps, stride)  # (batch, channels, samples_out, taps), a view
    batch, _, samples, _ = rows.shape
    rows = rows.permute(0, 2, 1, 3).reshape(batch * samples, channels * taps)
    matrix = weight.reshape(out_channels, channels * taps).t()
    y = rows @ matrix if bias is None else torch.addmm(bias, rows, matrix)
    return y.reshape(batch, samples, out_channels).permute(0, 2, 1).contiguous()


#: the polyphase form's kernels: phases are added (powers of two) until each phase's kernel spans at
#: most this many taps, the length of the paper U-Net's short kernels, which cuDNN runs fast in bf16
POLYPHASE_MAX_TAPS = 9


def polyphase_count(taps: int, stride: int) -> int:
    """Phases (a multiple of ``stride``) :func:`conv1d_as_polyphase` splits a ``taps``-tap kernel's input
    into: the fewest for which each phase's kernel spans at most :data:`POLYPHASE_MAX_TAPS` taps."""
    phases = stride
    while (taps - 1) / phases > POLYPHASE_MAX_TAPS - 1:
        phases *= 2
    return phases


def _polyphase_layout(taps: int, stride: int, padding: int, phases: int) -> tuple[int, int, int, int, tuple[int, ...]]:
    """For :func:`conv1d_as_polyphase`: (lowest block offset, phase kernel taps, zeros before and after
    the kernel's taps, where each output phase's window starts in the zero-padded kernel).

    Output sample ``t = m * phases / stride + r`` (block ``m``, output phase ``r``) reads input ``stride *
    t + k - padding``, which lies in block ``m + d`` at phase ``q`` with ``d * phases + q = stride * r +
    k - padding``: for each ``r`` the phase kernel's (offset, phase) cells read one contiguous window of
    the kernel's taps, shifted by ``stride`` per output phase."""
    out_phases = phases // stride
    low = (-padding) // phases  # the lowest block offset: r = 0, k = 0
    high = (stride * (out_phases - 1) + taps - 1 - padding) // phases
    span = high - low + 1
    starts = [phases * low - stride * r + padding for r in range(out_phases)]
    before = max(0, -min(starts))
    after = max(0, max(starts) + phases * span - taps)
    return low, span, before, after, tuple(start + before for start in starts)


def _phase_kernel(weight: torch.Tensor, stride: int, padding: int, phases: int, phases_major: bool) -> torch.Tensor:
    """The (out channels x output phases, in channels x phases, taps) kernel of :func:`conv1d_as_polyphase`
    (channel ``o * output phases + r`` and ``c * phases + q``) or, ``phases_major``, the (output phases x out
    channels, phases x in channels, 1, taps) kernel of :func:`conv_channels_last_as_polyphase` (``r * out
    channels + o`` and ``q * in channels + c``, in channels-last memory),
    stacked from views of the zero-padded ``weight``: one copy the kernel's size (it holds P / stride
    copies of the weights: the paper U-Net's largest, 75 million), whose gradient is a few additions.
    Cast ``weight`` to the type the convolution runs in first: the large copy is then made in it."""
    out_channels, channels, taps = weight.shape
    _, span, before, after, starts = _polyphase_layout(taps, stride, padding, phases)
    window = phases * span  # output phase r reads taps start_r .. start_r + window - 1: (block offset, phase)
    if phases_major:  # (output phase, out, block offset, phase, in): channels-last memory, as conv2d wants it
        padded = F.pad(weight, (before, after)).transpose(1, 2)  # (out, taps, in), a view
        kernel = torch.stack([padded[:, s : s + window].reshape(out_channels, span, phases, channels) for s in starts])
        return kernel.reshape(len(starts) * out_channels, 1, span, phases * channels).permute(0, 3, 1, 2)
    padded = F.pad(weight, (before, after))  # (out, in, taps)
    cells = [padded[:, :, s : s + window].reshape(out_channels, channels, span, phases) for s in starts]
    kernel = torch.stack([cell.transpose(2, 3) for cell in cells], dim=1)  # (out, output phase, in, phase, offset)
    return kernel.reshape(out_channels * len(starts), channels * phases, span)


def _polyphase_geometry(samples: int, taps: int, stride: int, padding: int) -> tuple[int, ...]:
    """For the polyphase forms: (phases, output phases, lowest block offset, phase kernel taps,
    output samples, input blocks, output blocks) of a convolution over ``samples`` samples."""
    phases = polyphase_count(taps, stride)
    out_phases = phases // stride
    low, span, _, _, _ = _polyphase_layout(taps, stride, padding, phases)
    outputs = (samples + 2 * padding - taps) // stride + 1
    return phases, out_phases, low, span, outputs, -(-samples // phases), -(-outputs // out_phases)


def conv1d_as_polyphase(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int
) -> torch.Tensor:
    """``F.conv1d(x, weight, bias, stride, padding)`` for (batch, channels, samples) ``x`` as a convolution
    with a short kernel over the input's phases: the samples cut into blocks of P (:func:`polyphase_count`)
    and the P phases stacked as channels (channels x P), the kernel rearranged so that each of the
    P / stride output phases is a channel of its own (a 65-tap kernel of stride 2 becomes 9 taps over 8
    phases and 4 output phases). The same sums (plus products with zeros, about 10 % more) in another
    order; every copy is the size of the input or output, unlike :func:`conv1d_as_gemm`'s taps-fold
    unfolded input, and the short kernel is one cuDNN runs fast in bf16 where the long one is slow.
    The rearranged kernel is made of slices of the kernel, so its gradient is a few additions."""
    dtype = _autocast_dtype(x.device.type)
    if dtype is not None:
        x = x.to(dtype)
    batch, channels, samples = x.shape
    out_channels, _, taps = weight.shape
    phases, out_phases, low, span, outputs, blocks_in, blocks_out = _polyphase_geometry(samples, taps, stride, padding)
    x = F.pad(x, (0, blocks_in * phases - samples))
    x = x.reshape(batch, channels, blocks_in, phases).transpose(2, 3).reshape(batch, channels * phases, blocks_in)
    # block m + d of the input for output block m, d from low to low + span - 1 (negative padding crops)
    x = F.pad(x, (-low, blocks_out - blocks_in + low + span - 1))
    kernel = _phase_kernel(weight if dtype is None else weight.to(dtype), stride, padding, phases, phases_major=False)
    phase_bias = None if bias is None else bias.repeat_interleave(out_phases)
    y = F.conv1d(x, kernel, phase_bias)  # (batch, out x output phases, blocks)
    y = y.reshape(batch, out_channels, out_phases, blocks_out).transpose(2, 3)
    return y.reshape(batch, out_channels, blocks_out * out_phases)[..., :outputs]


def conv_channels_last_as_polyphase(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: int, padding: int
) -> torch.Tensor:
    """:func:`conv1d_as_polyphase` on the channels-last form (batch, channels, 1, samples) of
    :func:`to_channels_last`, returning that form. In channels-last memory the samples' channels are
    contiguous, so the P phases of a block stacked as channels (phase-major) are a view of the input,
    and the output phases a view of the output: no copy at all where the lengths are multiples of
    the phases and the block padding is symmetric (a "same" convolution's)."""
    dtype = _autocast_dtype(x.device.type)
    if dtype is not None:
        x = x.to(dtype)
    batch, channels, _, samples = x.shape
    out_channels, _, taps = weight.shape
    phases, out_phases, low, span, outputs, blocks_in, blocks_out = _polyphase_geometry(samples, taps, stride, padding)
    rows = x.permute(0, 2, 3, 1).reshape(batch, samples, channels)  # a view in channels-last memory
    if blocks_in * phases != samples:
        rows = F.pad(rows, (0, 0, 0, blocks_in * phases - samples))
    blocks = rows.reshape(batch, blocks_in, phases * channels)  # channel q * channels + c
    left, right = -low, blocks_out - blocks_in + low + span - 1
    if left != right:
        blocks, left = F.pad(blocks, (0, 0, left, right)), 0
    blocks = blocks.unsqueeze(1).permute(0, 3, 1, 2)  # (batch, phases x channels, 1, blocks), channels-last
    kernel = _phase_kernel(weight if dtype is None else weight.to(dtype), stride, padding, phases, phases_major=True)
    phase_bias = None if bias is None else bias.repeat(out_phases)
    y = F.conv2d(blocks, kernel, phase_bias, 1, (0, left))  # (batch, output phases x out, 1, blocks)
    y = y.permute(0, 2, 3, 1).reshape(batch, blocks_out * out_phases, out_channels)[:, :outputs]
    return y.unsqueeze(1).permute(0, 3, 1, 2)


@functools.lru_cache(maxsize=1)
def _cpu_computes_bf16() -> bool:
    """:func:`~audioenh.precision.cpu_has_native_bf16`, asked once per process."""
    from ..precision import cpu_has_native_bf16

    return cpu_has_native_bf16()


def _autocast_dtype(device_type: str) -> torch.dtype | None:
    """Autocast's type on ``device_type`` where it is on there, else ``None``."""
    if not _autocast_enabled(device_type):
        return None
    getter = getattr(torch, "get_autocast_dtype", None)
    if getter is not None:
        return getter(device_type)
    return torch.get_autocast_gpu_dtype() if device_type == "cuda" else torch.get_autocast_cpu_dtype()


class Conv1d(nn.Conv1d):
    """``nn.Conv1d`` (same parameters, same state dict) that also takes the channels-last form
    (batch, channels, 1, samples) of ``to_channels_last`` and returns that form; it runs as
    :func:`conv_implementation` says (PyTorch's convolution, one matrix product, a short kernel over
    the input's phases, or overlap-save transforms)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stride = self.stride[0]
        channels = min(self.in_channels * stride, self.out_channels)  # a strided one runs over the phases
        implementation = conv_implementation(x, self.kernel_size[0], channels, stride)
        if implementation == "fft":
            if self.dilation[0] == 1 and self.groups == 1 and self.padding_mode == "zeros":
                return conv1d_as_fft(x, self.weight, self.bias, self.padding[0], stride=stride)
            implementation = "native"
        if x.dim() != 4:
            if implementation == "gemm":
                return conv1d_as_gemm(x, self.weight, self.bias, self.stride[0], self.padding[0])
            if implementation == "polyphase":
                return conv1d_as_polyphase(x, self.weight, self.bias, self.stride[0], self.padding[0])
            return super().forward(x)
        if implementation == "polyphase":
            return conv_channels_last_as_polyphase(x, self.weight, self.bias, self.stride[0], self.padding[0])
        weight = self.weight.unsqueeze(2)
        dtype = _autocast_dtype(x.device.type)
        if dtype is not None:  # cast once, into the memory format conv2d would copy it to next
            weight = weight.to(dtype, memory_format=torch.channels_last)
        return F.conv2d(
            x,
            weight,
            self.bias,
            (1, self.stride[0]),
            (0, self.padding[0]),
            (1, self.dilation[0]),
            self.groups,
        )


def widest_layer(module: nn.Module) -> int:
    """The most channels into or out of any 1-D convolution of ``module`` (0 without any)."""
    return max((max(m.in_channels, m.out_channels) for m in module.modules() if isinstance(m, nn.Conv1d)), default=0)


class BatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` that also takes the channels-last form (batch, channels, 1, samples)."""

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 3, 4):
            raise ValueError(f"expected 2-D, 3-D or 4-D input (got {x.dim()}-D input)")


class SubPixel1d(nn.Module):
    """1-D sub-pixel shuffle: (B, C*r, T) -> (B, C, T*r).

    Output sample ``t*r + i`` of channel ``c`` is input channel ``i*C + c`` at time ``t``.
    """

    def __init__(self, factor: int = 2):
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.factor
        if x.dim() == 4:  # channels-last (batch, channels, 1, samples): samples x channels in memory
            b, c, _, t = x.shape
            rows = x.squeeze(2).transpose(1, 2).contiguous()  # (b, t, c): a view when channels-last
            # input channel i*C + c at time t is output sample t*r + i: a plain reshape of the rows
            return rows.reshape(b, t * r, c // r).transpose(1, 2).unsqueeze(2)
        b, c, t = x.shape
        return x.reshape(b, r, c // r, t).permute(0, 2, 3, 1).reshape(b, c // r, t * r)


class Dropout(nn.Dropout):
    """``nn.Dropout`` (same rate, same scaling by 1 / (1 - p), no parameters) with a faster mask on
    the CPU, where PyTorch draws it with ``bernoulli_``: one random float per element, which made the
    paper's DO ResNet train at a third of the baseline's speed. Here each element takes 16 random
    bits of one 64-bit draw, so it is kept with probability 1 - round(p * 65536) / 65536 (exactly
    1 - p for the paper's 0.5). CUDA keeps PyTorch's fused kernel. Speed: docs/performance.md."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.is_cuda:
            return super().forward(x)
        n = x.numel()
        words = torch.randint(-(2**63), 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=x.device)
        levels = words.view(torch.int16)[:n].view(x.shape)  # uniform on -32768 ... 32767
        # the mask holds 0 or 1 / (1 - p): one multiplication forward and backward (the same values)
        mask = (levels >= round(self.p * 65536) - 32768).to(x.dtype).mul_(1.0 / (1.0 - self.p))
        return x * mask


def full_precision(device_type: str) -> contextlib.AbstractContextManager:
    """A context that turns off autocast on ``device_type`` where it is on (a no-op elsewhere, e.g.
    on the ``meta`` device that counts MACs)."""
    enabled = _autocast_enabled(device_type)
    return torch.autocast(device_type, enabled=False) if enabled else contextlib.nullcontext()


def _autocast_enabled(device_type: str) -> bool:
    """Whether autocast is on for ``device_type`` (never for devices other than "cpu" and "cuda")."""
    if device_type not in ("cpu", "cuda"):
        return False
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4: no device argument
        return torch.is_autocast_cpu_enabled() if device_type == "cpu" else torch.is_autocast_enabled()


def same_conv(in_ch: int, out_ch: int, kernel: int, stride: int = 1, bias: bool = True) -> Conv1d:
    """Conv1d with zero "same" padding ((kernel - 1) // 2 each side)."""
    return Conv1d(in_ch, out_ch, kernel, stride=stride, padding=(kernel - 1) // 2, bias=bias)


def init_normal(module: nn.Module, std: float = 0.02) -> None:
    """Initialise every convolution weight from N(0, std) (the paper's initialisation)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def resolve_preset(presets: dict[str, dict], preset: str, overrides: dict) -> dict:
    """Options of ``preset`` with every non-``None`` override applied."""
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(presets)}")
    options = dict(presets[preset])
    options.update({k: v for k, v in overrides.items() if v is not None})
    return options


def preset_resolver(module_presets, keys: tuple[str, ...]):
    """A ``resolve_arguments(**arguments)`` for a factory with presets: the arguments with the
    preset's values written in for every ``key`` left ``None``.

    ``module_presets`` is a callable returning the presets table, read at call time.
    """

    def resolve_arguments(**arguments):
        given = {k: arguments.get(k) for k in keys}
        out = dict(arguments)
        out.update(resolve_preset(module_presets(), arguments["preset"], given))
        return out

    return resolve_arguments


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def odd_kernel(name: str, value) -> int:
    k = positive_int(name, value)
    if k % 2 == 0:
        raise ValueError(f"{name} must be odd for 'same' padding, got {k}")
    return k


def dropout_rate(value) -> float:
    p = float(value)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {value!r}")
    return p
