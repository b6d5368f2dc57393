"""The paper's ResNet (Sulun & Davies 2021, Fig. 1b; EDSR-like residual blocks)."""

from __future__ import annotations

import torch
from torch import nn

from .layers import (
    BatchNorm1d,
    Dropout,
    dropout_rate,
    from_channels_last,
    full_precision,
    init_normal,
    odd_kernel,
    positive_int,
    preset_resolver,
    resolve_preset,
    same_conv,
    to_channels_last,
    use_channels_last,
    widest_layer,
)

PRESETS = {
    # 55,074,306 parameters: 512 channels, 15 blocks, kernel 7.
    "paper": dict(width=512, blocks=15, kernel=7),
    "small": dict(width=64, blocks=8, kernel=7),
    "tiny": dict(width=8, blocks=2, kernel=3),
}


class ResidualBlock(nn.Module):
    """conv -> (BN) -> (dropout) -> ReLU -> conv -> (BN) -> (dropout), scaled and added to the input."""

    def __init__(self, width: int, kernel: int, batchnorm: bool, dropout: float, scale: float):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(2):
            layers.append(same_conv(width, width, kernel, bias=not batchnorm))
            if batchnorm:
                layers.append(BatchNorm1d(width))
            if dropout > 0:
                layers.append(Dropout(dropout))
            if i == 0:
                layers.append(nn.ReLU(inplace=True))  # on its own fresh input: no other user of it
        self.body = nn.Sequential(*layers)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # In place on the body's fresh output (a convolution's, BN's or dropout's, none of which autograd
        # keeps): the same two roundings as ``x + scale * body``, bit for bit, without two new tensors
        # of the stream's size (a third of the bare forward pass on a 2-core CPU: docs/performance.md).
        return self.body(x).to(x.dtype).mul_(self.scale).add_(x)


class ResNet(nn.Module):
    """Head conv (no activation), ``blocks`` residual blocks, 1x1 tail conv, plus the input.

    Keeps the input length (no resampling inside), so any input length works.
    """

    def __init__(
        self,
        width: int,
        blocks: int,
        kernel: int,
        batchnorm: bool = False,
        dropout: float = 0.0,
        residual_scale: float = 0.1,
        audio_channels: int = 2,
    ):
        super().__init__()
        width, blocks = positive_int("width", width), positive_int("blocks", blocks)
        kernel = odd_kernel("kernel", kernel)
        audio_channels = positive_int("audio_channels", audio_channels)
        dropout = dropout_rate(dropout)
        self.audio_channels = audio_channels
        self.kernel = kernel
        self.head = same_conv(audio_channels, width, kernel)
        self.blocks = nn.Sequential(
            *[ResidualBlock(width, kernel, batchnorm, dropout, float(residual_scale)) for _ in range(blocks)]
        )
        self.tail = same_conv(width, audio_channels, 1)
        init_normal(self)
        self.widest = widest_layer(self)

    length_multiple = 1

    @property
    def receptive_field(self) -> int:
        """Samples on each side of an output sample that reach it: (kernel - 1) / 2 per conv."""
        return (self.kernel - 1) // 2 * (1 + 2 * len(self.blocks))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Under bf16/fp16 autocast only the blocks' convolutions run in low precision: the head, the
        # residual stream (each block's output is added to a float32 stream) and the tail stay in
        # float32. The stream carries the whole band at full level while the blocks add corrections
        # 20-40 dB below it; rounded to bf16 (8 significant bits) it buried them (docs/performance.md).
        # Without autocast this is plain float32 throughout. On the CPU the convolutions run in
        # channels-last memory (layers.use_channels_last: faster, the same function).
        channels_last = use_channels_last(x, self.widest)
        with full_precision(x.device.type):
            stream = self.head(to_channels_last(x) if channels_last else x)
        stream = self.blocks(stream)
        with full_precision(x.device.type):
            correction = self.tail(stream)
            return x + (from_channels_last(correction) if channels_last else correction)


def resnet(
    preset: str = "paper",
    width: int | None = None,
    blocks: int | None = None,
    kernel: int | None = None,
    batchnorm: bool = False,
    dropout: float = 0.0,
    residual_scale: float = 0.1,
    audio_channels: int = 2,
) -> ResNet:
    """The paper's ResNet (55,074,306 parameters with preset 'paper'); presets: paper, small, tiny.

    width: channels; blocks: residual blocks; kernel: conv kernel (samples); batchnorm: BN in each
    block (conv bias off); dropout: rate in each block (the paper's DO variant uses 0.5);
    residual_scale: factor on each block's output (0.1).
    """
    options = resolve_preset(PRESETS, preset, dict(width=width, blocks=blocks, kernel=kernel))
    return ResNet(
        **options,
        batchnorm=bool(batchnorm),
        dropout=dropout,
        residual_scale=residual_scale,
        audio_channels=audio_channels,
    )


resnet.resolve_arguments = preset_resolver(lambda: PRESETS, ("width", "blocks", "kernel"))
