"""CARN-M (Ahn, Kang, Sohn, ECCV 2018): the mobile cascading residual network.

Follows the official code (github.com/nmhkahn/CARN-pytorch, ``carn/model/carn_m.py`` and
``ops.py``, run with ``--group 4``): 64 channels; three cascading blocks, each applying
*one* residual-E block (3×3 group conv → ReLU → 3×3 group conv → ReLU → 1×1 conv, + input,
ReLU) three times with shared weights and fusing the cascade with 1×1 convs; a global cascade
of 1×1 convs; sub-pixel upsampler(s) of 3×3 group convs + ReLU + pixel shuffle; exit 3×3 conv.
The DIV2K RGB mean is subtracted at the input and added back at the output (fixed, no params).

Parameter count: the paper's 412K / 415K / 412K (×2 / ×3 / ×4) is the *multi-scale* model,
which holds the ×2, ×3 and ×4 upsamplers at once (the same convention gives CARN's
1,592K exactly). ``multi_scale=True`` (default) reproduces it: 414,787 trainable parameters
at every scale, equal to the official multi-scale network and its released checkpoint
(414,811 tensors' entries minus the 24 of its frozen mean-shift convs); the forward pass uses
only the upsampler of ``scale``. ``multi_scale=False`` keeps one upsampler:
257,027 / 303,427 / 294,147 parameters at ×2 / ×3 / ×4.
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.registry import register

DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)  # the official code's mean, images in [0, 1]


def _conv1x1_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 1), nn.ReLU(inplace=True))


class EfficientResidualBlock(nn.Module):
    """Residual-E block: two 3×3 group convs and a 1×1 conv, identity skip, ReLU after add."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + x)


class Cascade(nn.Module):
    """Three units cascaded: o_i = fuse_i(cat(x, u(o_0), …, u(o_{i-1}))) with 1×1 fusions."""

    def __init__(self, units: list[nn.Module], channels: int):
        super().__init__()
        self.units = nn.ModuleList(units)
        self.fuse = nn.ModuleList(_conv1x1_relu(channels * (i + 2), channels) for i in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cascade, out = x, x
        for unit, fuse in zip(self.units, self.fuse):
            cascade = torch.cat([cascade, unit(out)], dim=1)
            out = fuse(cascade)
        return out


def _local_block(channels: int, groups: int) -> Cascade:
    shared = EfficientResidualBlock(channels, groups)  # recursive: the same weights thrice
    return Cascade([shared, shared, shared], channels)


def _upsampler(channels: int, scale: int, groups: int) -> nn.Sequential:
    """3×3 group conv to factor²·C, ReLU, pixel shuffle; ×4 as two ×2 stages."""
    factors = {2: [2], 3: [3], 4: [2, 2]}[scale]
    layers: list[nn.Module] = []
    for f in factors:
        layers += [
            nn.Conv2d(channels, f * f * channels, 3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.PixelShuffle(f),
        ]
    return nn.Sequential(*layers)


@register("carn_m")
class CARNM(nn.Module):
    """CARN-M for ``scale`` in {2, 3, 4}; (N, 3, h, w) in [0, 1] → (N, 3, scale·h, scale·w)."""

    def __init__(self, scale: int, channels: int = 64, groups: int = 4, multi_scale: bool = True):
        super().__init__()
        if scale not in (2, 3, 4):
            raise ValueError(f"CARN-M supports scales 2, 3, 4, got {scale}")
        self.scale = scale
        self.register_buffer("rgb_mean", torch.tensor(DIV2K_RGB_MEAN).view(1, 3, 1, 1))
        self.entry = nn.Conv2d(3, channels, 3, padding=1)
        self.body = Cascade([_local_block(channels, groups) for _ in range(3)], channels)
        scales = (2, 3, 4) if multi_scale else (scale,)
        self.upsample = nn.ModuleDict({f"x{s}": _upsampler(channels, s, groups) for s in scales})
        self.exit = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.body(self.entry(x - self.rgb_mean))
        return self.exit(self.upsample[f"x{self.scale}"](features)) + self.rgb_mean
