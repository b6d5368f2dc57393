"""Parameter and multiply-accumulate (MAC) counts, computed on the meta device (no memory, no time)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_macs(build: Callable[[], nn.Module], batch: int = 8, channels: int = 2, samples: int = 8192) -> float:
    """Multiply-accumulates of one forward pass over a (batch, channels, samples) input.

    Counts convolutions and linear layers: ``output elements x in_channels / groups x kernel``.
    Bias additions, activations, normalisation and the residual additions are not counted
    (the paper's Table IV convention). ``build`` is called under the meta device, so even
    the paper-size models cost nothing to count.
    """
    total = 0

    def hook(module: nn.Module, inputs, output) -> None:
        nonlocal total
        if isinstance(module, nn.Conv1d):
            per_output = module.in_channels // module.groups * module.kernel_size[0]
        else:
            per_output = module.in_features
        total += output.numel() * per_output

    with torch.device("meta"):
        model = build()
        model.eval()
        handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
        with torch.no_grad():
            model(torch.empty(batch, channels, samples))
    for h in handles:
        h.remove()
    return float(total)
