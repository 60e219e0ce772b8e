"""XLSR (Ayazoglu, CVPR-W 2021, arXiv:2105.10288) as Qualcomm AI Hub deploys it.

The graph of ``XLSRRelease`` in quic/aimet-model-zoo (``aimet_zoo_torch/common/
super_resolution/models.py``), which quic/ai-hub-models' ``xlsr`` wraps: a residual conv 3×3
3→16 beside conv 3×3 3→32, ReLU, conv 1×1 32→32 and three G-blocks (grouped conv 3×3 32→32 in
4 groups, ReLU, conv 1×1 32→32); the two are concatenated (48 channels), then conv 1×1 48→32,
ReLU, conv 3×3 32→3·scale², pixel shuffle and a clipped ReLU (output in [0, 1]). Written here
from that description; 14,144 + 867·scale² parameters: 28,016 at ×4, the zoo's
"28.0K" (its info.yaml names a ×3 checkpoint, but the graph it deploys and times is ×4,
`DEFAULT_SCALE_FACTOR`).
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.registry import register


def _gblock(channels: int = 32) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1, groups=4), nn.ReLU(),
                         nn.Conv2d(channels, channels, 1))


@register("xlsr")
class XLSR(nn.Module):
    """XLSR for an integer ``scale``; (N, 3, h, w) → (N, 3, scale·h, scale·w) in [0, 1]."""

    def __init__(self, scale: int):
        super().__init__()
        self.residual = nn.Conv2d(3, 16, 3, padding=1)
        self.body = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 1),
                                  _gblock(), _gblock(), _gblock())
        self.tail = nn.Sequential(nn.Conv2d(48, 32, 1), nn.ReLU(),
                                  nn.Conv2d(32, 3 * scale**2, 3, padding=1), nn.PixelShuffle(scale),
                                  nn.Hardtanh(0.0, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.tail(torch.cat([self.body(x), self.residual(x)], dim=1))
