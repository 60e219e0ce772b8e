"""Pick the torch device: CUDA when present, CPU otherwise."""
from __future__ import annotations

import torch


def default_device(name: str | None = None) -> torch.device:
    """``torch.device(name)`` if given, else ``cuda`` when available, else ``cpu``."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
