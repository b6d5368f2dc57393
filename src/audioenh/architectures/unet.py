"""The paper's U-Net (Kuleshov et al. style, as in Sulun & Davies 2021, Fig. 1a)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .layers import (
    BatchNorm1d,
    Dropout,
    SubPixel1d,
    dropout_rate,
    from_channels_last,
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
    # 56,424,324 parameters: channels 128-256-512-512, kernels 65-33-17-9.
    "paper": dict(width=128, depth=4, kernel=65, max_channels=512, final_kernel=9),
    "small": dict(width=32, depth=4, kernel=33, max_channels=128, final_kernel=9),
    "tiny": dict(width=4, depth=2, kernel=9, max_channels=8, final_kernel=5),
}


class UNet(nn.Module):
    """1-D U-Net with sub-pixel upsampling and an additive input-to-output connection.

    Down level ``i`` has ``min(width * 2**i, max_channels)`` channels and kernel
    ``(kernel - 1) / 2**i + 1`` (65, 33, 17, 9 for the paper); every down conv has stride 2.
    The bottleneck halves once more and sub-pixel shuffles back. Each up level concatenates
    the matching down output, convolves to twice the target channels and shuffles x2.
    BatchNorm (down path only) and dropout (bottleneck and up path only) are optional.
    Inputs of any length are zero-padded to a multiple of ``2**(depth + 1)`` samples and
    cropped back.
    """

    def __init__(
        self,
        width: int,
        depth: int,
        kernel: int,
        max_channels: int,
        final_kernel: int,
        batchnorm: bool = False,
        dropout: float = 0.0,
        audio_channels: int = 2,
    ):
        super().__init__()
        width, depth = positive_int("width", width), positive_int("depth", depth)
        kernel, final_kernel = odd_kernel("kernel", kernel), odd_kernel("final_kernel", final_kernel)
        max_channels, audio_channels = (
            positive_int("max_channels", max_channels),
            positive_int("audio_channels", audio_channels),
        )
        dropout = dropout_rate(dropout)
        self.audio_channels = audio_channels
        self.depth = depth
        channels = [min(width * 2**i, max_channels) for i in range(depth)]
        kernels = [max((kernel - 1) // 2**i + 1, 3) for i in range(depth)]
        kernels = [k if k % 2 else k + 1 for k in kernels]

        def dropout_layer():
            return [Dropout(dropout)] if dropout > 0 else []

        self.down = nn.ModuleList()
        in_ch = audio_channels
        for ch, k in zip(channels, kernels):
            layers: list[nn.Module] = [same_conv(in_ch, ch, k, stride=2, bias=not batchnorm)]
            if batchnorm:
                layers.append(BatchNorm1d(ch))
            layers.append(nn.ReLU(inplace=True))
            self.down.append(nn.Sequential(*layers))
            in_ch = ch
        b_ch, b_k = channels[-1], kernels[-1]
        self.bottleneck = nn.Sequential(
            same_conv(b_ch, b_ch, b_k, stride=2),
            *dropout_layer(),
            nn.ReLU(inplace=True),
            same_conv(b_ch, 2 * b_ch, b_k),
            *dropout_layer(),
            nn.ReLU(inplace=True),
            SubPixel1d(2),
        )
        self.up = nn.ModuleList()
        y_ch = b_ch
        for level in reversed(range(depth)):
            target = channels[level - 1] if level > 0 else audio_channels
            k = kernels[level - 1] if level > 0 else final_kernel
            layers = [same_conv(y_ch + channels[level], 2 * target, k), *dropout_layer()]
            if level > 0:
                layers.append(nn.ReLU(inplace=True))
            layers.append(SubPixel1d(2))
            self.up.append(nn.Sequential(*layers))
            y_ch = target
        init_normal(self)
        self.widest = widest_layer(self)
        # Receptive field, samples each side: a conv of kernel k on features at stride s (input samples
        # per feature step) adds (k - 1) / 2 * s; plus one length_multiple for the strided phase.
        field = sum((k - 1) // 2 * 2**i for i, k in enumerate(kernels))  # down path
        field += (b_k - 1) // 2 * (2**depth + 2 ** (depth + 1))  # bottleneck
        field += sum((up_k - 1) // 2 * 2 ** (level + 1) for level, up_k in enumerate([final_kernel, *kernels[:-1]]))
        self.receptive_field = field + 2 ** (depth + 1)

    @property
    def length_multiple(self) -> int:
        """Input lengths (samples) the network takes without padding."""
        return 2 ** (self.depth + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[-1]
        pad = (-n) % self.length_multiple
        y = F.pad(x, (0, pad)) if pad else x
        # On the CPU the convolutions run in channels-last memory (layers.use_channels_last)
        channels_last = use_channels_last(x, self.widest)
        if channels_last:
            y = to_channels_last(y)
        skips = []
        for block in self.down:
            y = block(y)
            skips.append(y)
        y = self.bottleneck(y)
        for block, skip in zip(self.up, reversed(skips)):
            y = block(torch.cat((y, skip), dim=1))
        if channels_last:
            y = from_channels_last(y)
        return x + y[..., :n]


def unet(
    preset: str = "paper",
    width: int | None = None,
    depth: int | None = None,
    kernel: int | None = None,
    max_channels: int | None = None,
    final_kernel: int | None = None,
    batchnorm: bool = False,
    dropout: float = 0.0,
    audio_channels: int = 2,
) -> UNet:
    """The paper's U-Net (56,424,324 parameters with preset 'paper'); presets: paper, small, tiny.

    width: channels of the first level; depth: down levels; kernel: first-level kernel (samples),
    halved per level; max_channels: channel cap; batchnorm: BN in the down path; dropout: rate in
    the bottleneck and up path (the paper's DO variant uses 0.5).
    """
    options = resolve_preset(
        PRESETS,
        preset,
        dict(width=width, depth=depth, kernel=kernel, max_channels=max_channels, final_kernel=final_kernel),
    )
    return UNet(**options, batchnorm=bool(batchnorm), dropout=dropout, audio_channels=audio_channels)


unet.resolve_arguments = preset_resolver(lambda: PRESETS, ("width", "depth", "kernel", "max_channels", "final_kernel"))
