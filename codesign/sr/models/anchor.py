"""Nearest upsampling as convolution weights, for the networks whose authors start (or fix) an
output path at it (QuickSRNet, SESR): a conv whose output channel k feeds, after a pixel shuffle
by ``scale``, colour channel k // scale², so taking input channel k // scale² at the centre tap
makes the shuffled output the nearest-upsampled input."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def add_nearest_taps_(conv: nn.Conv2d, scale: int) -> nn.Conv2d:
    """Adds 1 to ``conv``'s centre tap from input channel k // scale² to every output channel k
    (in place; the rest of its weights stay)."""
    centre = conv.kernel_size[0] // 2
    for k in range(conv.out_channels):
        conv.weight[k, k // scale**2, centre, centre] += 1.0
    return conv


@torch.no_grad()
def nearest_anchor_(conv: nn.Conv2d, scale: int, trainable: bool) -> nn.Conv2d:
    """``conv`` (3 → 3·scale², 1×1) set to exactly nearest upsampling (zero bias), left
    ``trainable`` or frozen (its parameters need no gradient)."""
    conv.weight.zero_()
    conv.bias.zero_()
    add_nearest_taps_(conv, scale)
    conv.requires_grad_(trainable)
    return conv
