"""Architectures of AI Hub zoo CNNs that the zoo takes from third-party repositories rather than
torchvision, written here from their papers at the configuration the zoo exports, for counting
layer features only (predictors.public.qaihub_features): no weights, no data.

- `unet_segmentation`: U-Net (Ronneberger, Fischer and Brox, MICCAI 2015, arXiv:1505.04597) as
  the zoo builds it (``torch.hub`` ``milesial/Pytorch-UNet`` ``unet_carvana``, ``bilinear=False``):
  padded 3×3 convolutions with batch norm and ReLU, widths 64…1024, 2×2 max pools, 2×2 stride-2
  transposed convolutions, skip concatenation, a 1×1 convolution to 2 class logits; exported at
  the zoo's ``get_input_spec`` default of 640×1280 (its info.yaml's "224x224" is not what the
  export traces).

Each entry of `ZOO_ARCHITECTURES` gives the builder, the input shape the zoo exports at and the
source the architecture follows.
"""
from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    """Two (3×3 convolution, batch norm, ReLU), padded: the U-Net paper's unit, sizes kept."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """U-Net: an encoder of four 2×2 max pools, each doubling the width from ``base``, and a
    decoder of four 2×2 stride-2 transposed convolutions that halve it, each followed by
    concatenation with the encoder's map of that size and a double convolution."""

    def __init__(self, in_channels: int = 3, classes: int = 2, base: int = 64, depth: int = 4):
        super().__init__()
        widths = [base * 2**i for i in range(depth + 1)]
        self.inc = _double_conv(in_channels, widths[0])
        self.down = nn.ModuleList(nn.Sequential(nn.MaxPool2d(2), _double_conv(a, b))
                                  for a, b in pairwise(widths))
        self.up = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, stride=2)
                                for b, a in pairwise(widths[::-1]))
        self.merge = nn.ModuleList(_double_conv(2 * a, a) for a in widths[::-1][1:])
        self.out = nn.Conv2d(widths[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up, merge in zip(self.up, self.merge):
            x = merge(torch.cat([skips.pop(), up(x)], dim=1))
        return self.out(x)


ZOO_ARCHITECTURES = {
    "unet_segmentation": (UNet, (1, 3, 640, 1280),
                          ("U-Net (arXiv:1505.04597) as milesial/Pytorch-UNet unet_carvana, "
                           "bilinear=False; written here")),
}
"""zoo model id → (builder, input shape the zoo exports at, architecture source)."""
