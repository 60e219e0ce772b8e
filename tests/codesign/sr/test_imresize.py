import numpy as np
import pytest

from codesign.sr.data.imresize import contributions, imresize, modcrop
from codesign.sr.metrics import psnr_y

# Published MATLAB bicubic PSNR-Y (dB) of Set5 "butterfly" (SRCNN, Dong et al. TPAMI 2016).
PUBLISHED_BUTTERFLY_BICUBIC = {2: 27.43, 3: 24.04, 4: 22.10}


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_round_trip_reproduces_published_psnr(butterfly, scale):
    hr = modcrop(butterfly, scale)
    sr = imresize(imresize(hr, 1 / scale), scale)
    assert round(psnr_y(sr, hr, shave=scale), 2) == PUBLISHED_BUTTERFLY_BICUBIC[scale]


def test_output_size_and_dtype_follow_matlab():
    img = np.random.default_rng(0).integers(0, 256, (255, 101, 3), dtype=np.uint8)
    out = imresize(img, 1 / 3)
    assert out.shape == (85, 34, 3) and out.dtype == np.uint8  # ceil(101/3) = 34
    assert imresize(img.astype(np.float64), 1 / 3).dtype == np.float64


def test_weights_sum_to_one_and_mirror_indices_stay_in_range():
    for scale in (1 / 4, 1 / 3, 1 / 2, 2, 3, 4):
        w, idx = contributions(17, int(np.ceil(17 * scale)), scale)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-12)
        assert idx.min() >= 0 and idx.max() <= 16


def test_sample_positions_follow_matlab_convention():
    # Cubic convolution reproduces linear functions, so away from the borders the output of a
    # ramp is the ramp at MATLAB's sample position u = x/s + 0.5(1 - 1/s) (1-based x).
    for scale in (1 / 4, 1 / 3, 1 / 2, 2, 3):
        n = 64
        ramp = np.tile(np.arange(n, dtype=np.float64)[:, None], (1, 4))
        out = imresize(ramp, scale)[:, 0]
        x = np.arange(1, len(out) + 1)
        u = x / scale + 0.5 * (1 - 1 / scale) - 1  # 0-based input coordinate
        inner = (u > 2 / min(scale, 1) + 1) & (u < n - 2 / min(scale, 1) - 2)
        np.testing.assert_allclose(out[inner], u[inner], atol=1e-9)


def test_uint8_is_rounded_after_each_pass():
    img = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    one_rounding = np.clip(np.floor(imresize(img.astype(np.float64), 1 / 4) + 0.5), 0, 255)
    two_roundings = imresize(img, 1 / 4)
    assert not np.array_equal(one_rounding.astype(np.uint8), two_roundings)
    assert np.abs(one_rounding - two_roundings).max() <= 1


def test_constant_image_stays_constant_including_borders():
    img = np.full((30, 22, 3), 173, dtype=np.uint8)
    for scale in (1 / 4, 1 / 3, 3):
        assert np.all(imresize(img, scale) == 173)


def test_bad_shapes_and_scales_are_rejected():
    with pytest.raises(ValueError):
        imresize(np.zeros((2, 3, 4, 5), np.uint8), 0.5)
    with pytest.raises(ValueError):
        imresize(np.zeros((8, 8, 3), np.uint8), 0)
