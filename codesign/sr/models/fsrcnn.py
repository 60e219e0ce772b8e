"""FSRCNN (Dong, Loy, Tang, ECCV 2016), the configuration FSRCNN(d=56, s=12, m=4).

conv 5×5 d → PReLU → shrink 1×1 s → PReLU → m × (conv 3×3 s → PReLU) → expand 1×1 d → PReLU
→ deconvolution 9×9 with stride ``scale`` to the output channels. PReLU slopes per channel.

The paper works on the Y channel and counts conv weights only: 25d + sd + 9ms² + ds + 81d
= 12,464 for (56, 12, 4), every scale. ``in_channels=1`` reproduces that network; its full
count is 12,464 weights + 173 biases + 172 PReLU slopes = 12,809. The default here is RGB in
and out (first and last layers 3× wider): 24,683 parameters at every scale.
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.registry import register


def _conv_prelu(cin: int, cout: int, kernel: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2), nn.PReLU(cout)]


@register("fsrcnn")
class FSRCNN(nn.Module):
    """FSRCNN(d, s, m) for an integer ``scale``; (N, C, h, w) → (N, C, scale·h, scale·w)."""

    def __init__(self, scale: int, in_channels: int = 3, d: int = 56, s: int = 12, m: int = 4):
        super().__init__()
        layers = _conv_prelu(in_channels, d, 5) + _conv_prelu(d, s, 1)
        for _ in range(m):
            layers += _conv_prelu(s, s, 3)
        layers += _conv_prelu(s, d, 1)
        self.body = nn.Sequential(*layers)
        # padding 4 and output_padding scale-1 give exactly scale·h output rows
        self.deconv = nn.ConvTranspose2d(
            d, in_channels, 9, stride=scale, padding=4, output_padding=scale - 1
        )
        # the paper's initialisation of the deconvolution: N(0, 0.001²), zero bias
        nn.init.normal_(self.deconv.weight, std=1e-3)
        nn.init.zeros_(self.deconv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.body(x))
