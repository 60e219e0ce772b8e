"""SR data: MATLAB-compatible bicubic degradation, image folders and training patches."""
from codesign.sr.data.images import (
    BUILTIN_SPLIT,
    DataError,
    find_images,
    load_hr_images,
    load_pairs,
    read_rgb,
)
from codesign.sr.data.imresize import imresize, modcrop
from codesign.sr.data.patches import SRPatchDataset, make_train_loader, to_tensor

__all__ = [
    "BUILTIN_SPLIT", "DataError", "SRPatchDataset", "find_images", "imresize",
    "load_hr_images", "load_pairs", "make_train_loader", "modcrop", "read_rgb", "to_tensor",
]
