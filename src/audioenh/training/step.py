"""One optimisation step, the same for ``audioenh train`` and ``audioenh benchmark``."""

from __future__ import annotations

import torch

from ..precision import autocast


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    degraded: torch.Tensor,
    target: torch.Tensor,
    precision: str,
    device: torch.device,
    scaler=None,
) -> torch.Tensor:
    """Forward in ``precision``, MSE loss in float32, backward and optimizer step; returns the loss.

    ``scaler`` (a ``torch.amp.GradScaler``) scales the loss for fp16 training; ``None`` steps plainly.
    """
    with autocast(precision, device):
        output = model(degraded)
    loss = torch.nn.functional.mse_loss(output.float(), target)
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        optimizer.step()
    else:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return loss
