"""Numeric precision of the network: ``fp32``, ``bf16`` or ``fp16`` autocast, and what ``auto`` picks.

``auto`` is bf16 only where bf16 was measured both faster and as accurate as fp32, and fp32
everywhere else (figures and commands in docs/performance.md):

- U-Net on a CPU that computes bfloat16 natively (AMX tiles or AVX-512 BF16): ``bf16``. On a
  2-core AMD EPYC with AVX-512 BF16 the quick preset's U-Nets trained 1.2x faster with the same
  test ΔSNR (within 0.05 dB), and inference ran 1.6x faster, changing ΔSNR by 0.002 dB. On a 2-core
  Intel Xeon with AMX the paper U-Net trained at 4.9-5.4x and inferred at 5.5-6.2x the paper's reference
  code in float32 (its long kernels in the FFT form in inference, ``layers.conv_implementation``).
- ResNet: ``fp32``. bf16 is faster (training 2x, inference 1.1-1.7x on that CPU) but ruins the
  result: the quick preset's ResNet baseline gained +1.28 dB instead of +4.57 dB when trained in
  bf16, and an fp32-trained one scored in bf16 fell from +4.57 dB to -3.53 dB. Keeping its head,
  residual stream and tail in float32 (what the ResNet does under autocast now) narrows the gap
  but does not close it (validation +2.24 dB against +4.48 dB in fp32).
- U-Net on a CUDA GPU with bfloat16: ``bf16``, in channels-last memory with its long convolutions
  rewritten as short ones over the input's phases
  (:func:`~audioenh.architectures.layers.conv_implementation`; cuDNN's own bf16 kernels for
  them are 6x slower than fp32). On an H200 the paper U-Net trained at 86 steps/s (77.9 with the
  long kernels as matrix products, 58.4 in TF32, 14.0 in IEEE float32); the arithmetic is the CPU's
  bf16 U-Net's (bf16 inputs, float32 sums), whose accuracy is measured above. The ResNet stays
  ``fp32`` (accuracy, as above).
- Architectures of plugins: ``fp32`` until measured; ask for ``bf16`` explicitly to try it.

``fp32`` is IEEE float32 on every device: on CUDA GPUs PyTorch's default TF32 convolutions are
turned off (:func:`float32_math`), as TF32 rounding cost the bundled ResNets up to 4.5 dB on an H200;
``tf32`` asks for them (CUDA only; never picked by ``auto``).

The resolved value is what a run stores in its config, so a resumed or repeated run computes
the same way whatever machine it continues on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .errors import AudioenhError
from .spec import parse_spec

if TYPE_CHECKING:
    import torch

# PyTorch is imported where it is used, so that the command line's options and --help load without it.
PRECISIONS = ("auto", "fp32", "tf32", "bf16", "fp16")

#: (device type, architecture) pairs where ``auto`` picks bf16: measured faster *and* as accurate.
AUTO_BF16 = frozenset({("cpu", "unet"), ("cuda", "unet")})


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bfloat16 in hardware (AMX tiles or AVX-512 BF16), as PyTorch sees it."""
    import torch

    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def resolve_precision(requested: str, device: torch.device | str, arch: str | None = None) -> str:
    """The concrete precision (``fp32``, ``bf16`` or ``fp16``) for ``requested`` on ``device`` for the
    architecture spec ``arch``; unknown names and fp16 off CUDA fail with one line."""
    import torch

    requested = str(requested).strip().lower()
    if requested not in PRECISIONS:
        raise AudioenhError(f"unknown precision {requested!r}; use {', '.join(PRECISIONS)}")
    device = torch.device(device)
    if requested in ("fp16", "tf32") and device.type != "cuda":
        raise AudioenhError(f"--precision {requested} needs a CUDA GPU; on the CPU use bf16 or fp32")
    if requested == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise AudioenhError("this GPU has no bfloat16 support; use --precision fp16 or fp32")
    if requested != "auto":
        return requested
    name = parse_spec(arch).name if arch else ""
    if (device.type, name) not in AUTO_BF16:
        return "fp32"
    if device.type == "cpu" and not cpu_has_native_bf16():
        return "fp32"
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return "fp32"
    return "bf16"


@contextlib.contextmanager
def float32_math(precision: str, device: torch.device | str) -> Iterator[None]:
    """On a CUDA GPU, let float32 convolutions and matrix products round their inputs to TF32 (10
    significant bits, tensor cores) only under ``tf32``: everywhere else float32 means IEEE float32,
    also in the float32 parts of a bf16 or fp16 network and in backward passes. PyTorch's default
    lets cuDNN use TF32, and the ResNets' activations carry detail 60 dB and more below their level
    that 10 bits round away (docs/performance.md, "TF32"). A no-op off CUDA."""
    import torch

    if torch.device(device).type != "cuda":
        yield
        return
    allow = precision == "tf32"
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = allow
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


@contextlib.contextmanager
def autocast(precision: str, device: torch.device | str) -> Iterator[None]:
    """Run the enclosed forward pass in ``precision``: plain float32 for fp32 (IEEE float32 on CUDA,
    too) and tf32 (:func:`float32_math`), bf16 or fp16 autocast otherwise."""
    import torch

    device = torch.device(device)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    with float32_math(precision, device):
        if dtype is None:
            yield
            return
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield
