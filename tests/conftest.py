"""Shared test settings: CPU only, two threads (CI has 2 cores), fixed seeds."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
torch.set_num_threads(2)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def butterfly() -> np.ndarray:
    """Set5 butterfly, uint8 256×256×3 RGB (see tests/data/README.md)."""
    from codesign.data import read_rgb

    return read_rgb(DATA / "set5_butterfly.png")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)
