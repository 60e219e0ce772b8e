"""MATLAB-compatible bicubic ``imresize`` (antialiased when shrinking), in NumPy.

Reproduces MATLAB's ``imresize(img, scale, 'bicubic')``, the degradation every SR paper uses:
- cubic kernel with a = -0.5; when shrinking, the kernel is stretched by 1/scale (antialiasing);
- the output pixel x (1-based) samples the input at u = x/scale + 0.5·(1 − 1/scale);
- indices beyond the border are mirrored (``[1..n, n..1]``, edge pixel repeated);
- weights are normalised to sum 1 per output pixel, all-zero taps are dropped;
- the two 1-D passes run along the dimension scaled most first (rows first on ties), and a
  uint8 image is rounded (half away from zero) and saturated to uint8 after *each* pass.
torch's ``interpolate(antialias=True)`` and PIL differ from this at the borders and in rounding.
"""
from __future__ import annotations

import math

import numpy as np

KERNEL_WIDTH = 4.0  # support of the cubic kernel, in input pixels at scale 1


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    absx = np.abs(x)
    absx2, absx3 = absx**2, absx**3
    return (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1) + (
        -0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2
    ) * ((absx > 1) & (absx <= 2))


def contributions(in_len: int, out_len: int, scale: float, antialias: bool = True):
    """Weights (out_len, P) and 0-based mirrored input indices (out_len, P) of one 1-D pass."""
    if scale < 1 and antialias:
        width = KERNEL_WIDTH / scale

        def kernel(x):
            return scale * cubic(scale * x)
    else:
        width = KERNEL_WIDTH
        kernel = cubic
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based
    weights = kernel(u[:, None] - indices)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_len)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _resize_axis(img: np.ndarray, axis: int, out_len: int, scale: float, antialias: bool):
    weights, indices = contributions(img.shape[axis], out_len, scale, antialias)
    moved = np.moveaxis(img.astype(np.float64), axis, 0)  # (in_len, ...)
    gathered = moved[indices]  # (out_len, P, ...)
    w = weights.reshape(weights.shape + (1,) * (moved.ndim - 1))
    out = np.moveaxis((gathered * w).sum(axis=1), 0, axis)
    if img.dtype == np.uint8:
        out = np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)
    return out


def output_size(shape: tuple[int, int], scale: float) -> tuple[int, int]:
    """MATLAB's output size for a scalar scale: ceil(scale · size) per dimension."""
    return tuple(int(math.ceil(scale * s - 1e-9)) for s in shape)


def imresize(img: np.ndarray, scale: float, antialias: bool = True) -> np.ndarray:
    """Resize an HxW or HxWxC image by ``scale`` (e.g. 1/4 or 4) exactly as MATLAB does.

    uint8 in → uint8 out (rounded after each pass); float in → float64 out (unclamped).
    """
    if img.ndim not in (2, 3):
        raise ValueError(f"expected an HxW or HxWxC image, got shape {img.shape}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_hw = output_size(img.shape[:2], scale)
    # MATLAB sorts dimensions by scale; with one scalar scale it resizes rows (dim 1) first.
    out = img
    for axis in (0, 1):
        out = _resize_axis(out, axis, out_hw[axis], scale, antialias)
    return out


def modcrop(img: np.ndarray, scale: int) -> np.ndarray:
    """Crop an HR image so both sides are multiples of ``scale`` (the papers' ``modcrop``)."""
    h, w = img.shape[:2]
    return img[: h - h % scale, : w - w % scale]
