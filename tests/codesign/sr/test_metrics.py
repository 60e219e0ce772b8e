import numpy as np
import pytest
from skimage.metrics import structural_similarity

from codesign.sr.metrics import psnr_y, rgb_to_y, ssim_y


def test_psnr_of_uniform_offset_matches_hand_value():
    hr = np.full((32, 32, 3), 100, np.uint8)
    sr = np.full((32, 32, 3), 110, np.uint8)
    # Y(100) = 16 + 100·219/255 = 101.88 → 102; Y(110) = 110.47 → 110; MSE = 64.
    assert psnr_y(sr, hr, shave=4) == pytest.approx(10 * np.log10(255**2 / 64), abs=1e-9)


def test_shave_ignores_border_pixels():
    hr = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:3] = 0
    sr[:, -3:] = 255
    assert psnr_y(sr, hr, shave=3) == float("inf")
    assert np.isfinite(psnr_y(sr, hr, shave=2))


def test_y_channel_is_bt601_studio_swing():
    assert rgb_to_y(np.zeros((1, 1, 3)))[0, 0] == pytest.approx(16)
    assert rgb_to_y(np.full((1, 1, 3), 255.0))[0, 0] == pytest.approx(235)


def test_ssim_matches_scikit_image_gaussian_ssim(butterfly):
    noisy = np.clip(butterfly + np.random.default_rng(0).normal(0, 12, butterfly.shape), 0, 255)
    noisy = noisy.astype(np.uint8)
    y_a = np.floor(rgb_to_y(noisy) + 0.5)[4:-4, 4:-4]
    y_b = np.floor(rgb_to_y(butterfly) + 0.5)[4:-4, 4:-4]
    reference = structural_similarity(y_a, y_b, gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=255)
    assert ssim_y(noisy, butterfly, shave=4) == pytest.approx(reference, abs=1e-6)
    assert ssim_y(butterfly, butterfly, shave=4) == pytest.approx(1.0)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        psnr_y(np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8), 0)
