"""IMDN (Hui, Gao, Yang, Wang, ACM MM 2019): information multi-distillation network.

Follows the official code (github.com/Zheng222/IMDN, ``model/architecture.py`` class
``IMDN`` and ``model/block.py``): 64 channels, 6 information multi-distillation blocks
(IMDB: four 3×3 convs that each keep a quarter of their channels and refine the rest,
contrast-aware channel attention over the 64 kept channels, 1×1 fusion, identity skip), a
1×1 fusion of all blocks' outputs with LeakyReLU, a 3×3 conv with a long skip, and a 3×3
conv + pixel shuffle upsampler. LeakyReLU slope 0.05; images in [0, 1], no mean shift
(the official training uses ``rgb_range=1``).

Parameters 694,404 / 703,059 / 715,176 at ×2 / ×3 / ×4, the official code's exact counts
(the paper: 694K / 703K / 715K).
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.registry import register

LRELU_SLOPE = 0.05


def _conv(cin: int, cout: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2)


class ContrastChannelAttention(nn.Module):
    """CCA: per-channel (std + mean) → 1×1 reduce ×1/16 → ReLU → 1×1 expand → sigmoid gate."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.gate = nn.Sequential(
            nn.Conv2d(channels, channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels // reduction, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True).sqrt()
        return x * self.gate(std + mean)


class InformationMultiDistillationBlock(nn.Module):
    """IMDB: progressive refinement keeping ``channels/4`` distilled channels per step."""

    def __init__(self, channels: int):
        super().__init__()
        self.distilled = channels // 4
        self.remaining = channels - self.distilled
        self.c1 = _conv(channels, channels, 3)
        self.c2 = _conv(self.remaining, channels, 3)
        self.c3 = _conv(self.remaining, channels, 3)
        self.c4 = _conv(self.remaining, self.distilled, 3)
        self.act = nn.LeakyReLU(LRELU_SLOPE, inplace=True)
        self.c5 = _conv(self.distilled * 4, channels, 1)
        self.cca = ContrastChannelAttention(self.distilled * 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kept = []
        out = x
        for conv in (self.c1, self.c2, self.c3):
            distilled, out = torch.split(self.act(conv(out)), [self.distilled, self.remaining], 1)
            kept.append(distilled)
        kept.append(self.c4(out))
        return self.c5(self.cca(torch.cat(kept, dim=1))) + x


@register("imdn")
class IMDN(nn.Module):
    """IMDN for an integer ``scale``; (N, 3, h, w) in [0, 1] → (N, 3, scale·h, scale·w)."""

    def __init__(self, scale: int, channels: int = 64, num_blocks: int = 6):
        super().__init__()
        self.head = _conv(3, channels, 3)
        self.blocks = nn.ModuleList(
            InformationMultiDistillationBlock(channels) for _ in range(num_blocks)
        )
        self.fuse = nn.Sequential(
            _conv(channels * num_blocks, channels, 1), nn.LeakyReLU(LRELU_SLOPE, inplace=True)
        )
        self.body_tail = _conv(channels, channels, 3)
        self.upsampler = nn.Sequential(_conv(channels, 3 * scale**2, 3), nn.PixelShuffle(scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        outputs, out = [], features
        for block in self.blocks:
            out = block(out)
            outputs.append(out)
        body = self.body_tail(self.fuse(torch.cat(outputs, dim=1))) + features
        return self.upsampler(body)
