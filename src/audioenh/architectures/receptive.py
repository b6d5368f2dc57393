"""How far a network looks: its receptive field, in samples on each side of an output sample.

Block-wise inference needs that much real signal around each block for the blocks to join
without seams; more is wasted work. Architectures declare it as a ``receptive_field`` attribute
(the built-ins compute it from their layers); for others it is measured once with autograd.
"""

from __future__ import annotations

import torch


def measure_receptive_field(model: torch.nn.Module, *, start: int = 2048, limit: int = 1 << 17) -> int:
    """Samples on each side of an output sample that reach it, measured: the farthest input sample
    with a non-zero gradient of ``length_multiple`` consecutive output samples (every phase of a
    strided network; random input, eval mode, on the model's device).

    The input doubles from ``start`` samples until the field fits well inside it (at most
    ``limit``); a network that reaches further than ``limit / 4`` raises ``ValueError``.
    """
    was_training = model.training
    model.eval()
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    channels = int(getattr(model, "audio_channels", 2) or 2)
    multiple = int(getattr(model, "length_multiple", 1) or 1)
    length = max(start, 4 * multiple)
    generator = torch.Generator().manual_seed(0)
    try:
        while length <= limit:
            n = -(-length // multiple) * multiple
            x = (0.1 * torch.randn(1, channels, n, generator=generator)).to(device).requires_grad_(True)
            centre = (n // 2 // multiple) * multiple
            last = centre + multiple - 1  # every phase of a strided network
            with torch.enable_grad():  # also when called under no_grad (inference)
                (grad,) = torch.autograd.grad(model(x)[..., centre : last + 1].sum(), x)
            reached = torch.nonzero(grad.abs().sum(dim=(0, 1)) > 0).flatten()
            field = int(max(centre - int(reached.min()), int(reached.max()) - last)) if reached.numel() else 0
            if field < n // 4:
                return field
            length *= 2
    finally:
        model.train(was_training)
    raise ValueError(f"the network reaches further than {limit // 4} samples; give the context explicitly")


def receptive_field(model: torch.nn.Module) -> int:
    """The model's declared ``receptive_field`` (samples each side), else a measured one (cached on the model)."""
    declared = getattr(model, "receptive_field", None)
    if declared is None:
        declared = measure_receptive_field(model)
        try:
            model.receptive_field = declared  # measured once per model object
        except AttributeError:
            pass
    return int(declared)
