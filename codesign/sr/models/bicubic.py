"""Bicubic upsampling as a network with no parameters: the floor every SR network must beat.

Exactly MATLAB's ``imresize(lr, scale, 'bicubic')`` on float images (cubic kernel a = -0.5,
mirrored borders), taking its taps from ``codesign.sr.data.imresize`` so that degradation and
baseline share one definition; no rounding to uint8 (models return unclamped floats).
``torch.nn.functional.interpolate(mode="bicubic")`` is *not* used: it uses a = -0.75 and
replicates border pixels, which changes the published bicubic PSNR.

The two 1-D passes gather 4 taps per output pixel and contract them with ``einsum``, so the
flop counter sees the true cost: 4 MACs per output element per pass (rows, then columns).
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from codesign.sr.data.imresize import contributions
from codesign.sr.models.registry import register


@lru_cache(maxsize=64)
def _taps(in_len: int, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (out_len, taps) float64 and 0-based input indices (out_len, taps) of one pass."""
    weights, indices = contributions(in_len, in_len * scale, float(scale), antialias=False)
    return torch.from_numpy(weights), torch.from_numpy(indices).long()


def _upsample_axis(x: torch.Tensor, dim: int, scale: int) -> torch.Tensor:
    weights, indices = _taps(x.shape[dim], scale)
    out_len, taps = indices.shape
    gathered = x.index_select(dim, indices.reshape(-1).to(x.device))
    shape = list(x.shape)
    shape[dim : dim + 1] = [out_len, taps]
    gathered = gathered.reshape(shape)
    weights = weights.to(device=x.device, dtype=x.dtype)
    if dim == 2:
        return torch.einsum("ncopw,op->ncow", gathered, weights)
    return torch.einsum("nchop,op->ncho", gathered, weights)


@register("bicubic")
class Bicubic(nn.Module):
    """MATLAB-bicubic upsampling by an integer ``scale``; (N, C, h, w) → (N, C, s·h, s·w)."""

    def __init__(self, scale: int):
        super().__init__()
        if scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale}")
        self.scale = int(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = _upsample_axis(x, 2, self.scale)  # rows first, as MATLAB does on equal scales
        return _upsample_axis(x, 3, self.scale)
