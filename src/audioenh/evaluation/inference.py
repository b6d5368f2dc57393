"""Chunked inference with context: whole signals of any length, no seams, no lost samples.

The signal is cut into blocks of ``chunk`` samples. Each block is run through the network
with ``context`` samples of the real signal on each side (zeros beyond the signal's ends),
and only the block's own samples are kept (overlap-save). When ``context`` covers the
network's receptive field the result equals processing the whole signal at once; block
starts are multiples of the network's ``length_multiple`` so strided layers see the same
sample phase everywhere.
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_CHUNK = 32768  # samples kept per block
DEFAULT_CONTEXT = 4096  # samples of context on each side


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available; ``cuda`` without a GPU is refused clearly."""
    from ..errors import AudioenhError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise AudioenhError("--device cuda was asked for but PyTorch sees no CUDA GPU (try --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise AudioenhError(f"unknown device {name!r}; use auto, cpu or cuda") from None


def block_geometry(model: torch.nn.Module, chunk: int, context: int) -> tuple[int, int]:
    """``chunk`` and ``context`` rounded up to multiples of the model's ``length_multiple``."""
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    return _round_up(max(chunk, 1), multiple), _round_up(max(context, 0), multiple)


@torch.no_grad()
def enhance_blocks(model: torch.nn.Module, blocks: np.ndarray, device: torch.device) -> np.ndarray:
    """Run (batch, channels, samples) float32 blocks through the model."""
    x = torch.from_numpy(np.ascontiguousarray(blocks, dtype=np.float32)).to(device)
    return model(x).float().cpu().numpy()


@torch.no_grad()
def enhance_array(
    model: torch.nn.Module,
    audio: np.ndarray,
    *,
    chunk: int = DEFAULT_CHUNK,
    context: int = DEFAULT_CONTEXT,
    batch_size: int = 4,
    device: torch.device | str | None = None,
    progress=None,
) -> np.ndarray:
    """Enhance (channels, samples) audio; returns float32 of exactly the same shape.

    ``progress`` is an optional callable receiving the number of samples finished per step.
    """
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    model.eval()
    channels, n = audio.shape
    if n == 0:
        return np.zeros_like(audio, dtype=np.float32)
    chunk, context = block_geometry(model, chunk, context)
    padded = np.zeros((channels, context + _round_up(n, chunk) + context), dtype=np.float32)
    padded[:, context : context + n] = audio
    starts = list(range(0, n, chunk))
    out = np.empty((channels, len(starts) * chunk), dtype=np.float32)
    for i in range(0, len(starts), batch_size):
        group = starts[i : i + batch_size]
        blocks = np.stack([padded[:, s : s + chunk + 2 * context] for s in group])
        result = enhance_blocks(model, blocks, device)
        for s, block in zip(group, result):
            out[:, s : s + chunk] = block[:, context : context + chunk]
        if progress is not None:
            progress(min(group[-1] + chunk, n) - group[0])
    return out[:, :n]
