"""Atomic checkpoint files: written to a temporary file in the same folder, then renamed."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch


def save_atomic(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: str | os.PathLike, map_location="cpu"):
    """Load a checkpoint written by :func:`save_atomic` (tensors and plain data only)."""
    return torch.load(path, map_location=map_location, weights_only=True)
