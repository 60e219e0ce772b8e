"""ESRGAN's RRDBNet (Wang et al., ECCV-W 2018) and Real-ESRGAN's SRVGGNetCompact (Wang et al.,
ICCV-W 2021), the graphs Qualcomm AI Hub times as ``esrgan`` / ``real_esrgan_x4plus`` and
``real_esrgan_general_x4v3``.

- ``rrdbnet``: conv 3×3 3→64; 23 residual-in-residual dense blocks (each three dense blocks of
  five 3×3 convs growing by 32 channels, LeakyReLU 0.2, residuals scaled by 0.2); conv 3×3;
  a long residual; per ×2 step a nearest ×2 resize, conv 3×3 and LeakyReLU; conv 3×3 64→64
  with LeakyReLU and conv 3×3 64→3. 16,697,987 parameters at ×4, the zoo's 16.7M (both entries
  build this graph: xinntao/ESRGAN's RRDBNet_arch and BasicSR's rrdbnet_arch).
- ``srvgg_compact``: conv 3×3 3→64 and 32 convs 3×3 64→64, each with a PReLU; conv 3×3
  64→3·scale²; pixel shuffle; plus the input resized by nearest ×scale. 1,213,296 parameters
  at ×4, the zoo's 1.21M.
Written here from those descriptions (no weights).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from codesign.sr.models.registry import register


class _DenseBlock(nn.Module):
    def __init__(self, channels: int = 64, growth: int = 32):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(channels + i * growth, growth if i < 4 else channels, 3, padding=1)
                                   for i in range(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i, conv in enumerate(self.convs):
            y = conv(torch.cat(feats, dim=1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return y * 0.2 + x


class _RRDB(nn.Module):
    def __init__(self, channels: int = 64):
        super().__init__()
        self.blocks = nn.Sequential(*(_DenseBlock(channels) for _ in range(3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x) * 0.2 + x


@register("rrdbnet")
class RRDBNet(nn.Module):
    """RRDBNet for ``scale`` 2 or 4 (×2 steps of nearest resize + conv)."""

    def __init__(self, scale: int, channels: int = 64, blocks: int = 23):
        super().__init__()
        if scale not in (2, 4):
            raise ValueError(f"rrdbnet upsamples by 2 or 4, not {scale}")
        self.first = nn.Conv2d(3, channels, 3, padding=1)
        self.body = nn.Sequential(*(_RRDB(channels) for _ in range(blocks)))
        self.body_conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.ups = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1) for _ in range(scale // 2))
        self.hr = nn.Conv2d(channels, channels, 3, padding=1)
        self.last = nn.Conv2d(channels, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.first(x)
        feat = feat + self.body_conv(self.body(feat))
        for conv in self.ups:
            feat = F.leaky_relu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.last(F.leaky_relu(self.hr(feat), 0.2))


@register("srvgg_compact")
class SRVGGNetCompact(nn.Module):
    """SRVGGNetCompact (realesr-general-x4v3: 64 channels, 32 convs) for an integer ``scale``."""

    def __init__(self, scale: int, channels: int = 64, convs: int = 32):
        super().__init__()
        layers = [nn.Conv2d(3, channels, 3, padding=1), nn.PReLU(channels)]
        for _ in range(convs):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.PReLU(channels)]
        self.body = nn.Sequential(*layers, nn.Conv2d(channels, 3 * scale**2, 3, padding=1),
                                  nn.PixelShuffle(scale))
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + F.interpolate(x, scale_factor=self.scale, mode="nearest")
