import warnings

import numpy as np
import pytest
from PIL import Image

from codesign.sr.data import (
    BUILTIN_SPLIT,
    DataError,
    SRPatchDataset,
    imresize,
    load_hr_images,
    load_pairs,
    modcrop,
)


def _save(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)


def _photo(butterfly, h, w):
    return np.ascontiguousarray(butterfly[:h, :w])


def test_builtin_split_is_fixed_and_disjoint():
    train = load_hr_images(None, "train")
    val = load_hr_images(None, "val")
    assert [n for n, _ in val] == [f.rsplit(".", 1)[0] for f in BUILTIN_SPLIT["val"]]
    assert not {n for n, _ in train} & {n for n, _ in val}
    assert all(img.dtype == np.uint8 and img.shape[2] == 3 for _, img in train + val)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no images"):
        load_hr_images(tmp_path)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_hr_images(tmp_path / "nope")


def test_corrupt_and_small_files_are_skipped_and_named_once(tmp_path, butterfly):
    _save(tmp_path / "good.png", _photo(butterfly, 120, 100))
    _save(tmp_path / "tiny.bmp", _photo(butterfly, 20, 30))
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("ignored: not an image extension")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = load_hr_images(tmp_path, min_size=48)
    messages = [str(w.message) for w in caught]
    assert [n for n, _ in images] == ["good"]
    assert sum("broken.jpg" in m for m in messages) == 1
    assert sum("tiny.bmp" in m for m in messages) == 1


def test_only_unusable_files_is_an_error(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG garbage")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataError, match="no usable images"):
            load_hr_images(tmp_path)


def test_div2k_layout_uses_premade_lr(tmp_path, butterfly):
    hr = _photo(butterfly, 96, 128)
    premade = np.full((24, 32, 3), 7, np.uint8)  # deliberately not the bicubic LR
    _save(tmp_path / "DIV2K_train_HR" / "0001.png", hr)
    _save(tmp_path / "DIV2K_train_LR_bicubic" / "X4" / "0001x4.png", premade)
    _save(tmp_path / "DIV2K_valid_HR" / "0801.png", hr)
    (name, lr, hr_out), = load_pairs(tmp_path, "train", 4)
    assert name == "0001" and np.array_equal(lr, premade) and np.array_equal(hr_out, hr)
    (name, lr, _), = load_pairs(tmp_path, "val", 4)  # no valid LR folder: generated
    assert name == "0801" and np.array_equal(lr, imresize(hr, 1 / 4))


def test_benchmark_layout_generates_matlab_lr_from_modcropped_hr(tmp_path, butterfly):
    hr = _photo(butterfly, 101, 98)
    _save(tmp_path / "Set5" / "HR" / "butterfly.png", hr)
    (name, lr, hr_out), = load_pairs(tmp_path / "Set5", "val", 3)
    assert hr_out.shape == (99, 96, 3)
    assert np.array_equal(lr, imresize(modcrop(hr, 3), 1 / 3))


def test_patches_are_aligned_augmented_and_reproducible(butterfly):
    hr = modcrop(butterfly, 4)
    pairs = [("butterfly", imresize(hr, 1 / 4), hr)]
    ds = SRPatchDataset(pairs, scale=4, patch_size=48, seed=3)
    for i in range(8):
        lr_p, hr_p = ds[i]
        assert lr_p.shape == (3, 12, 12) and hr_p.shape == (3, 48, 48)
        # The LR patch is the bicubic downsampling of its HR patch (up to border effects).
        hr_np = (hr_p.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        lr_np = (lr_p.permute(1, 2, 0).numpy() * 255).round().astype(np.int16)
        inner = np.abs(imresize(hr_np, 1 / 4).astype(np.int16) - lr_np)[2:-2, 2:-2]
        assert inner.max() <= 2
    a, b = ds[5], SRPatchDataset(pairs, 4, 48, seed=3)[5]
    assert all((x == y).all() for x, y in zip(a, b))
    c = SRPatchDataset(pairs, 4, 48, seed=4)[5]
    assert not (a[1] == c[1]).all()


def test_patch_larger_than_every_image_is_a_clear_error(butterfly):
    hr = modcrop(butterfly, 4)[:64, :64]
    with pytest.raises(DataError, match="at least 96 px"):
        SRPatchDataset([("b", imresize(hr, 1 / 4), hr)], scale=4, patch_size=96)
