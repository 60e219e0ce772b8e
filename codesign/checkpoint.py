"""Atomic checkpoint files: written to a temporary file in the same folder, then renamed."""
from __future__ import annotations

import os

import torch

from codesign_common.atomic import atomic_path


def save_atomic(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that a crash never leaves a half-written file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load(path: str | os.PathLike, map_location="cpu"):
    """Load a checkpoint written by :func:`save_atomic` (tensors and plain data only)."""
    return torch.load(path, map_location=map_location, weights_only=True)
