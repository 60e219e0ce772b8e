"""Finding and reading HR images: user folders, standard SR layouts, the built-in photos.

Layouts understood by :func:`load_hr_images` / :func:`load_pairs`:
- a standard set's name (``set5``, ``b100``, ``291``, … : :mod:`codesign.sr.data.sets`), unless a
  folder of that name exists;
- ``None``: the built-in photos shipped inside scikit-image's wheel (never downloaded), with the
  fixed split in :data:`BUILTIN_SPLIT`;
- a DIV2K root (``DIV2K_train_HR/``, ``DIV2K_valid_HR/`` and, if present,
  ``DIV2K_train_LR_bicubic/X4/0001x4.png`` …), or one of its HR folders directly;
- a benchmark folder with ``HR/`` (and optionally ``LR_bicubic/X4/``), as Set5/Set14/B100/Urban100
  are usually packed;
- any folder of png/jpg/jpeg/bmp images of any sizes (searched recursively).
Where no LR image is supplied, LR = MATLAB bicubic downsampling of the modcropped HR image.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from codesign.sr.data.errors import DataError
from codesign.sr.data.imresize import imresize, modcrop
from codesign.sr.data.sets import resolve_data

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")

#: Built-in photos of scikit-image's data folder (files inside its wheel). The validation
#: photos are three RGB photographs never used for training; grayscale photos are used for
#: training as 3 identical channels.
BUILTIN_SPLIT = {
    "train": [
        "astronaut.png", "hubble_deep_field.jpg", "ihc.png", "motorcycle_left.png",
        "motorcycle_right.png", "retina.jpg", "brick.png", "camera.png", "cell.png",
        "coins.png", "grass.png", "gravel.png", "moon.png",
    ],
    "val": ["chelsea.png", "coffee.png", "rocket.jpg"],
}


def builtin_data_dir() -> Path:
    """scikit-image's bundled data folder."""
    import skimage

    return Path(skimage.__file__).parent / "data"


def read_rgb(path: Path) -> np.ndarray:
    """Read an image file as uint8 HxWx3 RGB (grayscale replicated, alpha dropped).

    16-bit images are reduced to 8 bits by their high byte (``v >> 8``), whatever their
    content: Pillow does so for 16-bit RGB(A) PNGs, and a 16-bit grayscale PNG (mode ``I;16``,
    which ``convert("RGB")`` would clip to 255) is reduced the same way here. Images that are
    neither 8 nor 16 bits per channel (32-bit integer or float) are refused with DataError."""
    with Image.open(path) as im:
        im.load()
        if im.mode.startswith("I;16") or im.mode == "I":
            values = np.asarray(im).astype(np.int64)
            if values.size and (values.min() < 0 or values.max() > 0xFFFF):
                raise DataError(f"{path}: {im.mode} image with values outside 0..65535 "
                                f"(not 8 or 16 bits per channel)")
            gray = (values >> 8).astype(np.uint8)
            return np.repeat(gray[:, :, None], 3, axis=2)
        if im.mode == "F":
            raise DataError(f"{path}: floating-point image (mode F); give 8- or 16-bit images")
        return np.asarray(im.convert("RGB"), dtype=np.uint8)


def find_images(folder: Path) -> list[Path]:
    """Image files under ``folder`` (recursive, sorted by path)."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )


_WARNED: set[str] = set()  # skipped images already named in this process


def _skip(message: str) -> None:
    """Warn about a skipped image once per process, however often its folder is read."""
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, stacklevel=4)


def _read_many(paths: list[Path], min_size: int, where: str) -> list[tuple[str, np.ndarray]]:
    """Read images, skipping (and naming once) unreadable ones and ones smaller than min_size."""
    images = []
    for path in paths:
        try:
            img = read_rgb(path)
        except Exception as exc:  # PIL raises many types for corrupt/non-image files
            _skip(f"skipping unreadable image {path}: {exc}")
            continue
        if min(img.shape[:2]) < min_size:
            _skip(f"skipping {path}: {img.shape[1]}x{img.shape[0]} is smaller than {min_size} px")
            continue
        images.append((path.stem, img))
    if not images:
        raise DataError(f"no usable images (png/jpg/jpeg/bmp, at least {min_size} px) in {where}")
    return images


def _hr_folder(root: Path, split: str) -> Path:
    """The folder holding HR images of ``split`` under ``root`` for the known layouts."""
    div2k = {"train": "DIV2K_train_HR", "val": "DIV2K_valid_HR"}
    if (root / div2k[split]).is_dir():
        return root / div2k[split]
    if (root / "HR").is_dir():
        return root / "HR"
    for name in ((split,) if split == "train" else ("val", "valid")):
        if (root / name).is_dir():
            return root / name
    return root


def _lr_folder(hr_folder: Path, scale: int) -> Path | None:
    """Matching pre-made LR folder (DIV2K / benchmark layout) for ``scale``, if present."""
    root = hr_folder.parent
    candidates = [
        root / hr_folder.name.replace("_HR", "_LR_bicubic") / f"X{scale}",
        root / "LR_bicubic" / f"X{scale}",
    ]
    return next((c for c in candidates if c.is_dir() and c != hr_folder), None)


def load_hr_images(
    data: str | os.PathLike | None, split: str = "train", min_size: int = 1
) -> list[tuple[str, np.ndarray]]:
    """(name, uint8 HxWx3 RGB) HR images of ``split`` ('train' or 'val') from ``data``."""
    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if data is None:
        folder = builtin_data_dir()
        paths = [folder / name for name in BUILTIN_SPLIT[split]]
        return _read_many(paths, min_size, f"the built-in {split} photos")
    root = resolve_data(data)  # a set name (set5, 291, …) gives its folder
    if not root.is_dir():
        raise DataError(f"data folder {root} does not exist")
    folder = _hr_folder(root, split)
    paths = [p for p in find_images(folder) if "LR_bicubic" not in p.as_posix()]
    if not paths:
        raise DataError(f"no images (png/jpg/jpeg/bmp) in {folder}")
    return _read_many(paths, min_size, str(folder))


def load_pairs(
    data: str | os.PathLike | None, split: str, scale: int, min_size: int = 1
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, LR, HR) uint8 triples: HR modcropped to a multiple of ``scale``; LR read from a
    pre-made ``X{scale}`` folder when the layout has one, else MATLAB-bicubic downsampled."""
    hr_images = load_hr_images(data, split, min_size=max(min_size, scale))
    lr_folder = None
    if data is not None:
        lr_folder = _lr_folder(_hr_folder(resolve_data(data), split), scale)
    pairs = []
    for name, hr in hr_images:
        hr = modcrop(hr, scale)
        lr = None
        if lr_folder is not None:
            for cand in (f"{name}x{scale}", name):
                hits = [lr_folder / f"{cand}{ext}" for ext in IMAGE_EXTENSIONS]
                hit = next((h for h in hits if h.is_file()), None)
                if hit is not None:
                    lr = read_rgb(hit)
                    break
        if lr is None or lr.shape[0] * scale != hr.shape[0] or lr.shape[1] * scale != hr.shape[1]:
            lr = imresize(hr, 1 / scale)
        pairs.append((name, lr, hr))
    return pairs
