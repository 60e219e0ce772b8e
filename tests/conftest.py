"""Shared test settings: CPU only, two threads (CI has 2 cores), fixed seeds."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
# Tests check behaviour, not this machine's quietness: timings record their foreign CPU share but
# are never refused for it (tests/devices/test_quiet_timing.py sets its own limit), and they take
# a lock of their own so a test run never waits for a benchmark's timings.
os.environ.setdefault("CODESIGN_FOREIGN_LIMIT", "1")
# Whole-network timings span 1 s, not the 24 s a measurement on a noisy host needs.
os.environ.setdefault("CODESIGN_NETWORK_SPAN_S", "1")
os.environ.setdefault("CODESIGN_TIMING_LOCK", "/tmp/codesign-timing-tests.lock")
# Tuning tests start from empty databases, not from the record sets shipped for this host's target.
os.environ.setdefault("CODESIGN_TUNING_RECORDS", "/nonexistent/codesign-tuning-records")
# Searches report quality on every standard test set present: in tests only the carried Set5,
# whatever a developer has fetched into ~/.cache/codesign/data.
os.environ.setdefault("CODESIGN_DATA", "/nonexistent/codesign-data")
torch.set_num_threads(2)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def butterfly() -> np.ndarray:
    """Set5 butterfly, uint8 256×256×3 RGB (see tests/data/README.md)."""
    from codesign.sr.data import read_rgb

    return read_rgb(DATA / "set5_butterfly.png")


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    np.random.seed(0)
