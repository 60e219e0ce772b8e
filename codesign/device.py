"""Pick the torch device: CUDA when present, CPU otherwise."""
from __future__ import annotations

import torch


def default_device(name: str | None = None) -> torch.device:
    """``torch.device(name)`` if given, else ``cuda`` when available, else ``cpu``."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe(device: torch.device) -> str:
    """What ``device`` is, for reports: the GPU's name, or the CPU with torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} torch threads)"
