"""PSNR and SSIM as SR papers report them.

Both are computed on the Y channel (ITU-R BT.601, studio swing 16–235, as MATLAB's
``rgb2ycbcr``) of RGB images in [0, 255], with ``shave`` pixels (the scale, by convention)
removed from every border. For uint8 images Y is rounded to integers, as MATLAB's ``rgb2ycbcr``
does on uint8 input: this reproduces the published MATLAB bicubic numbers to the last digit
(Set5 butterfly ×2/×3/×4: 27.43/24.04/22.10 dB). BasicSR and the EDSR/RCAN MATLAB scripts keep
Y in floating point, as the IMDN and RLFN papers' figures do: on Set5 that is up to 0.09 dB
higher at ×2 and about 0.02 dB at ×4 (`codesign.evaluate` reports both, `*_float_y`). SSIM is Wang et al. 2004: 11×11 Gaussian
window with σ = 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering, mean of the SSIM map.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def rgb_to_y(img: np.ndarray) -> np.ndarray:
    """Y channel in [16, 235] (float64) of an HxWx3 RGB image in [0, 255]."""
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {img.shape}")
    return img.astype(np.float64) @ _Y_WEIGHTS + 16.0


def _prepare(sr: np.ndarray, hr: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != hr.shape:
        raise ValueError(f"SR {sr.shape} and HR {hr.shape} differ in shape")
    y_sr, y_hr = rgb_to_y(sr), rgb_to_y(hr)
    if sr.dtype == np.uint8 and hr.dtype == np.uint8:
        y_sr, y_hr = np.floor(y_sr + 0.5), np.floor(y_hr + 0.5)
    if shave:
        y_sr, y_hr = y_sr[shave:-shave, shave:-shave], y_hr[shave:-shave, shave:-shave]
    return y_sr, y_hr


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    """PSNR in dB on Y with ``shave`` border pixels removed."""
    y_sr, y_hr = _prepare(sr, hr, shave)
    mse = np.mean((y_sr - y_hr) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


SSIM_WINDOW_PX = 11
"""Side of SSIM's Gaussian window (px): an image needs at least this much after shaving."""


def _gaussian_1d(size: int = SSIM_WINDOW_PX, sigma: float = 1.5) -> np.ndarray:
    ax = np.arange(size) - (size - 1) / 2
    g = np.exp(-(ax**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """'valid' filtering with the separable window g·gᵀ (rows, then columns)."""
    a = sliding_window_view(a, len(g), axis=0) @ g
    return sliding_window_view(a, len(g), axis=1) @ g


def ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    """SSIM (Wang et al. 2004) on Y with ``shave`` border pixels removed."""
    x, y = _prepare(sr, hr, shave)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    g = _gaussian_1d()

    def filt(a):
        return _filter_valid(a, g)

    mu_x, mu_y = filt(x), filt(y)
    sxx = filt(x * x) - mu_x**2
    syy = filt(y * y) - mu_y**2
    sxy = filt(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2)
    )
    return float(ssim_map.mean())


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round a float image in [0, 255] to uint8 the way MATLAB's ``uint8()`` does."""
    return np.clip(np.floor(np.asarray(img, dtype=np.float64) + 0.5), 0, 255).astype(np.uint8)
