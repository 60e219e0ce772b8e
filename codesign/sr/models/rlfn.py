"""RLFN (Kong et al., CVPRW 2022): residual local feature network, NTIRE 2022 efficient SR.

Follows the official code (github.com/bytedance/RLFN, ``model/block.py`` and ``model/rlfn*.py``):
3×3 head conv; residual local feature blocks (RLFB: three 3×3 conv + LeakyReLU(0.05) with an
identity skip, a 1×1 conv, then enhanced spatial attention, ESA, with 16 channels); a 3×3 conv
with a long skip; 3×3 conv + pixel shuffle upsampler. No mean shift. The official release runs
on images in [0, 255]; here images are in [0, 1] as everywhere in codesign (no weights loaded).
ESA downsamples by a stride-2 conv and a 7×7/3 max pool, so LR inputs need h, w ≥ 15.

Three registered configurations, parameters at ×2 / ×3 / ×4 equal to the official code's:
- ``rlfn``: the paper's RLFN, 52 channels, 6 RLFBs: 526,856 / 533,891 / 543,740 (0.543 M).
- ``rlfn_s``: the paper's RLFN-S, 48 channels, 6 RLFBs: 454,620 / 461,115 / 470,208.
- ``rlfn_ntire``: the NTIRE 2022 runtime-track winner (``RLFN_Prune`` in ``rlfn_ntire.py``),
  46 channels with 48 inside each RLFB, 4 RLFBs: 302,278 / 308,503 / 317,218 — the
  "0.317 M at ×4" of the challenge report and of the official README.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from codesign.sr.models.registry import register

LRELU_SLOPE = 0.05
ESA_MIN_SIDE = 15  # smallest input side for which ESA's stride-2 conv + 7×7 max pool fit


def _conv(cin: int, cout: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2)


class EnhancedSpatialAttention(nn.Module):
    """ESA as RLFN uses it (without RFANet's conv_max and conv3_): a sigmoid spatial gate."""

    def __init__(self, channels: int, esa_channels: int = 16):
        super().__init__()
        f = esa_channels
        self.conv1 = nn.Conv2d(channels, f, 1)
        self.conv_f = nn.Conv2d(f, f, 1)
        self.conv2 = nn.Conv2d(f, f, 3, stride=2)
        self.conv3 = nn.Conv2d(f, f, 3, padding=1)
        self.conv4 = nn.Conv2d(f, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < ESA_MIN_SIDE:
            raise ValueError(
                f"RLFN needs LR inputs of at least {ESA_MIN_SIDE} px a side, "
                f"got {tuple(x.shape[-2:])}"
            )
        reduced = self.conv1(x)
        coarse = F.max_pool2d(self.conv2(reduced), kernel_size=7, stride=3)
        coarse = F.interpolate(
            self.conv3(coarse), x.shape[-2:], mode="bilinear", align_corners=False
        )
        return x * torch.sigmoid(self.conv4(coarse + self.conv_f(reduced)))


class ResidualLocalFeatureBlock(nn.Module):
    """RLFB: 3 × (3×3 conv + LeakyReLU) with identity skip → 1×1 conv → ESA."""

    def __init__(self, channels: int, mid_channels: int, esa_channels: int = 16):
        super().__init__()
        self.c1_r = _conv(channels, mid_channels, 3)
        self.c2_r = _conv(mid_channels, mid_channels, 3)
        self.c3_r = _conv(mid_channels, channels, 3)
        self.c5 = _conv(channels, channels, 1)
        self.esa = EnhancedSpatialAttention(channels, esa_channels)
        self.act = nn.LeakyReLU(LRELU_SLOPE, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for conv in (self.c1_r, self.c2_r, self.c3_r):
            out = self.act(conv(out))
        return self.esa(self.c5(out + x))


class RLFN(nn.Module):
    """RLFN for an integer ``scale``; (N, 3, h, w) in [0, 1] → (N, 3, scale·h, scale·w)."""

    def __init__(
        self,
        scale: int,
        feature_channels: int = 52,
        mid_channels: int | None = None,
        num_blocks: int = 6,
        esa_channels: int = 16,
    ):
        super().__init__()
        mid = feature_channels if mid_channels is None else mid_channels
        self.head = _conv(3, feature_channels, 3)
        self.blocks = nn.Sequential(
            *(
                ResidualLocalFeatureBlock(feature_channels, mid, esa_channels)
                for _ in range(num_blocks)
            )
        )
        self.body_tail = _conv(feature_channels, feature_channels, 3)
        self.upsampler = nn.Sequential(
            _conv(feature_channels, 3 * scale**2, 3), nn.PixelShuffle(scale)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.head(x)
        return self.upsampler(self.body_tail(self.blocks(features)) + features)


@register("rlfn")
def rlfn(scale: int, **kwargs) -> RLFN:
    """The paper's RLFN: 52 channels, 6 RLFBs (0.543 M parameters at ×4)."""
    return RLFN(scale, **{"feature_channels": 52, "num_blocks": 6, **kwargs})


@register("rlfn_s")
def rlfn_s(scale: int, **kwargs) -> RLFN:
    """The paper's RLFN-S: 48 channels, 6 RLFBs (0.470 M parameters at ×4)."""
    return RLFN(scale, **{"feature_channels": 48, "num_blocks": 6, **kwargs})


@register("rlfn_ntire")
def rlfn_ntire(scale: int, **kwargs) -> RLFN:
    """The NTIRE 2022 runtime winner: 46 channels, 48 inside RLFBs, 4 RLFBs (0.317 M at ×4)."""
    return RLFN(scale, **{"feature_channels": 46, "mid_channels": 48, "num_blocks": 4, **kwargs})
