"""Chunked inference with context: whole signals of any length, no seams, no lost samples.

The signal is cut into blocks of ``chunk`` samples. Each block is run through the network
with ``context`` samples of the real signal on each side (zeros beyond the signal's ends),
and only the block's own samples are kept (overlap-save). When ``context`` covers the
network's receptive field the result equals processing the whole signal at once; block
starts are multiples of the network's ``length_multiple`` so strided layers see the same
sample phase everywhere.

:func:`overlap_save` is the one implementation, a generator over a stream of blocks: it serves
whole arrays (:func:`enhance_array`, used for test songs and validation) and streamed files
(:func:`audioenh.evaluation.streaming.enhance_file`) with the same blocks and batches, so both
give the same samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np
import torch

from ..precision import autocast
from .blocks import DEFAULT_CHUNK, DEFAULT_CONTEXT, default_enhance_batch
from .level import model_gain


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


def block_geometry(model: torch.nn.Module, chunk: int, context: int | None) -> tuple[int, int]:
    """``chunk`` and ``context`` rounded up to multiples of the model's ``length_multiple``;
    ``context=None`` is the model's receptive field (:func:`~audioenh.architectures.receptive.receptive_field`),
    the least that joins blocks without seams."""
    if context is None:
        from ..architectures.receptive import receptive_field

        context = receptive_field(model)
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    return _round_up(max(chunk, 1), multiple), _round_up(max(context, 0), multiple)


@torch.no_grad()
def enhance_blocks(
    model: torch.nn.Module, blocks: np.ndarray, device: torch.device, precision: str = "fp32", input_gain: float = 1.0
) -> np.ndarray:
    """Run (batch, channels, samples) float32 blocks through the model in ``precision``
    (:mod:`audioenh.precision`), scaled by ``input_gain`` on the way in and back on the way out
    (:mod:`~audioenh.evaluation.level`); returns float32."""
    x = torch.from_numpy(np.ascontiguousarray(blocks, dtype=np.float32)).to(device)
    if input_gain != 1.0:
        x = x * input_gain
    with autocast(precision, device):
        y = model(x)
    y = y.float()
    if input_gain != 1.0:
        y = y / input_gain
    return y.cpu().numpy()


def overlap_save(
    blocks: Iterable[np.ndarray],
    run: Callable[[np.ndarray], np.ndarray],
    channels: int,
    chunk: int,
    context: int,
    batch_size: int = 4,
) -> Iterator[np.ndarray]:
    """Overlap-save over a stream of (channels, frames) blocks of any sizes; the one implementation.

    Yields (channels, frames) float32 pieces, one per batch, in order and of the same total length
    as the input stream. The signal is cut into blocks of ``chunk`` samples starting at multiples
    of ``chunk``; each is given ``context`` samples of the signal on both sides (zeros beyond its
    ends), ``batch_size`` of them are stacked into one (batch, channels, chunk + 2 * context) array
    for ``run`` (e.g. :func:`enhance_blocks` with a model, or a channel mapping around it), and
    only each block's own ``chunk`` samples are kept. ``chunk`` and ``context`` are used as given
    (round them with :func:`block_geometry` first). Memory holds one batch plus one input block;
    the blocks and batches do not depend on how the input is cut into pieces.
    """
    if chunk < 1 or context < 0 or batch_size < 1:
        raise ValueError(
            f"overlap_save needs chunk >= 1, context >= 0, batch_size >= 1; got {chunk}, {context}, {batch_size}"
        )
    span = chunk + 2 * context
    step = batch_size * chunk
    buf = np.zeros((channels, context), dtype=np.float32)  # buf[:, 0] is signal sample (next start - context)

    def process(buffer: np.ndarray, count: int) -> np.ndarray:
        out = run(np.stack([buffer[:, i * chunk : i * chunk + span] for i in range(count)]))
        return np.concatenate([o[:, context : context + chunk] for o in out], axis=1, dtype=np.float32)

    for x in blocks:
        if np.ndim(x) != 2 or np.shape(x)[0] != channels:
            raise ValueError(f"overlap_save expects ({channels}, frames) blocks, got shape {np.shape(x)}")
        buf = np.concatenate([buf, x], axis=1, dtype=np.float32)
        while buf.shape[1] >= step + 2 * context:  # a whole batch of real signal (plus right context)
            yield process(buf, batch_size)
            buf = buf[:, step:]
    remaining = buf.shape[1] - context  # real samples from the next block start on
    if remaining <= 0:
        return
    n_blocks = -(-remaining // chunk)
    pad = np.zeros((channels, n_blocks * chunk + 2 * context - buf.shape[1]), dtype=np.float32)
    buf = np.concatenate([buf, pad], axis=1)
    done = 0
    for first in range(0, n_blocks, batch_size):
        out = process(buf[:, first * chunk :], min(batch_size, n_blocks - first))
        keep = min(out.shape[1], remaining - done)
        done += keep
        yield out[:, :keep]


@torch.no_grad()
def enhance_array(
    model: torch.nn.Module,
    audio: np.ndarray,
    *,
    chunk: int = DEFAULT_CHUNK,
    context: int | None = DEFAULT_CONTEXT,
    batch_size: int | None = None,
    device: torch.device | str | None = None,
    precision: str = "fp32",
    input_gain: float | None = None,
    progress=None,
) -> np.ndarray:
    """Enhance (channels, samples) audio; returns float32 of exactly the same shape.

    :func:`overlap_save` over the whole array, with ``chunk`` and ``context`` rounded by
    :func:`block_geometry`. ``input_gain``: the network runs on the audio times this, its output
    divided by it; ``None``: the gain that brings ``audio`` to the level the model runs at, where its
    checkpoint names one (:mod:`~audioenh.evaluation.level`), else 1. ``progress`` is an optional
    callable receiving the number of samples finished per step (one batch of blocks).
    """
    if device is None:
        device = next(model.parameters()).device
    device = torch.device(device)
    batch_size = batch_size or default_enhance_batch(device)
    model.eval()
    channels, n = audio.shape
    out = np.zeros((channels, n), dtype=np.float32)
    if n == 0:
        return out
    chunk, context = block_geometry(model, chunk, context)
    if input_gain is None:
        input_gain = model_gain(model, audio)
    done = 0

    def run(blocks: np.ndarray) -> np.ndarray:
        return enhance_blocks(model, blocks, device, precision, input_gain)

    for piece in overlap_save([audio], run, channels, chunk, context, batch_size):
        k = piece.shape[1]
        out[:, done : done + k] = piece
        done += k
        if progress is not None:
            progress(k)
    return out
