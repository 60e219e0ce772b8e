"""Random LR/HR training patches with flips and rotations, reproducible per sample index.

Sample ``i`` is drawn from ``numpy.random.default_rng([seed, i])``: the batch of step ``t`` is
always samples ``t·B … t·B + B − 1``, so a resumed run sees exactly the batches it would have
seen, whatever the number of DataLoader workers.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from codesign.sr.data.images import DataError, load_pairs


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 HxWx3 → float32 3xHxW in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float().div_(255.0)


def augment(rng: np.random.Generator, *images: np.ndarray) -> list[np.ndarray]:
    """The 8 dihedral transforms (h-flip, v-flip, transpose), applied to all images alike."""
    if rng.random() < 0.5:
        images = [a[:, ::-1] for a in images]
    if rng.random() < 0.5:
        images = [a[::-1] for a in images]
    if rng.random() < 0.5:
        images = [a.transpose(1, 0, 2) for a in images]
    return list(images)


class SRPatchDataset(Dataset):
    """(LR, HR) float32 patch pairs; ``patch_size`` is the HR side in pixels (÷ scale for LR).
    Pairs with a fourth, HR-sized image (a teacher's output, codesign.sr.teacher.taught_pairs)
    give (LR, HR, T) patches, T cut and flipped as HR."""

    def __init__(self, pairs, scale: int, patch_size: int, augment: bool = True, seed: int = 0,
                 length: int = 2**40):
        if patch_size % scale:
            raise ValueError(f"patch size {patch_size} is not a multiple of scale {scale}")
        lr_patch = patch_size // scale
        self.pairs = [pair for pair in pairs if min(pair[1].shape[:2]) >= lr_patch]
        if not self.pairs:
            raise DataError(f"no training image is at least {patch_size} px (HR patch size)")
        self.scale, self.lr_patch = scale, lr_patch
        self.augment, self.seed, self.length = augment, seed, length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, index])
        _, lr, *high = self.pairs[rng.integers(len(self.pairs))]
        p, s = self.lr_patch, self.scale
        y = int(rng.integers(lr.shape[0] - p + 1))
        x = int(rng.integers(lr.shape[1] - p + 1))
        patches = [lr[y : y + p, x : x + p],
                   *(h[y * s : (y + p) * s, x * s : (x + p) * s] for h in high)]
        if self.augment:
            patches = augment(rng, *patches)
        return tuple(to_tensor(a) for a in patches)


class StepSampler(Sampler):
    """Sample indices from ``start_step · batch_size`` onwards, for ``steps`` batches."""

    def __init__(self, start_step: int, steps: int, batch_size: int):
        self.first, self.count = start_step * batch_size, max(steps - start_step, 0) * batch_size

    def __iter__(self):
        return iter(range(self.first, self.first + self.count))

    def __len__(self) -> int:
        return self.count


def make_train_loader(data=None, scale: int = 4, patch_size: int = 96, batch_size: int = 16,
                      seed: int = 0, steps: int = 1000, start_step: int = 0,
                      num_workers: int = 0, dataset: SRPatchDataset | None = None) -> DataLoader:
    """Loader yielding batches ``start_step … steps − 1`` of (LR, HR) patches from ``data``
    (a folder, or None for the built-in photos), or from an already built ``dataset``."""
    if dataset is None:
        pairs = load_pairs(data, "train", scale, min_size=patch_size)
        dataset = SRPatchDataset(pairs, scale, patch_size, seed=seed)
    return DataLoader(dataset, batch_size=batch_size,
                      sampler=StepSampler(start_step, steps, batch_size),
                      num_workers=num_workers, drop_last=True)
