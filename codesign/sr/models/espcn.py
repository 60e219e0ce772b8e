"""ESPCN (Shi et al., CVPR 2016): efficient sub-pixel convolution network.

conv 5×5 64 → tanh → conv 3×3 32 → tanh → conv 3×3 (scale²·C) → pixel shuffle, the
configuration (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3 of the paper, last layer linear.
The paper super-resolves the Y channel (``in_channels=1``: 22,729 parameters at ×3); the
default here is RGB in and out: 4,864 + 18,464 + 867·scale² parameters (26,796 / 31,131 /
37,200 at ×2 / ×3 / ×4). No mean subtraction in the paper.
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.registry import register


@register("espcn")
class ESPCN(nn.Module):
    """ESPCN for an integer ``scale``; (N, C, h, w) → (N, C, scale·h, scale·w)."""

    def __init__(self, scale: int, in_channels: int = 3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 64, 5, padding=2),
            nn.Tanh(),
            nn.Conv2d(64, 32, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(32, in_channels * scale**2, 3, padding=1),
            nn.PixelShuffle(scale),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)
