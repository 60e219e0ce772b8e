"""Slimmable convolutions: a width-w version of a conv uses the first w channels of the full one.

The supernet keeps every operation at full width and expresses a width choice as a channel
mask: ``width_mask`` turns a distribution over candidate widths into one weight per channel,
Σⱼ qⱼ·1[c < wⱼ] (a one-hot q zeroes every channel from wⱼ on). With a one-hot mask a full conv on
masked inputs computes exactly what the narrow conv with the leading weight slice computes;
``copy_leading_channels`` cuts that slice out for the standalone derived network.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def width_mask(probs: torch.Tensor, widths: Sequence[int], channels: int) -> torch.Tensor:
    """Per-channel weight (…, channels) of a width distribution ``probs`` (…, len(widths))."""
    c = torch.arange(channels, device=probs.device)
    keep = (c[None, :] < torch.as_tensor(widths, device=probs.device)[:, None]).to(probs.dtype)
    return probs @ keep


def apply_mask(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Multiply NCHW ``x`` by a per-channel ``mask`` (C,); None leaves x unchanged."""
    return x if mask is None else x * mask.view(1, -1, 1, 1)


@torch.no_grad()
def copy_leading_channels(narrow: nn.Module, full: nn.Module) -> nn.Module:
    """Fill every parameter of ``narrow`` with the leading slice of the same-named parameter of
    ``full`` (conv weights [out, in/groups, k, k] → [:out', :in'/groups']; biases [:out'])."""
    full_params = dict(full.named_parameters())
    for name, param in narrow.named_parameters():
        source = full_params[name]
        if any(n > s for n, s in zip(param.shape, source.shape)) or param.dim() != source.dim():
            raise ValueError(f"{name}: cannot cut {tuple(param.shape)} out of {tuple(source.shape)}")
        param.copy_(source[tuple(slice(0, n) for n in param.shape)])
    return narrow
