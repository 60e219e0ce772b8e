"""Reading profile CSVs (schema in docs/architecture.md), hashing them, and held-out splits."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from devices.profile_csv import read_profile
from predictors.kernel_features import KERNEL_COLUMNS

REQUIRED_COLUMNS = ["key"] + KERNEL_COLUMNS + ["latency_ms", "provenance"]


def read_kernel_profile(path, device: str | None = None) -> pd.DataFrame:
    """Kernel rows of a profile CSV (network rows and untuned TVM timings, provenance
    ``measured:untuned``, dropped: latencies users see come from tuned builds), checked;
    optionally one device's.

    Raises ValueError with a one-line reason on a malformed profile.
    """
    profile = read_profile(path, REQUIRED_COLUMNS)
    if device is not None and "device" in profile.columns:
        profile = profile[profile["device"] == device]
    untuned = profile["provenance"].astype(str).str.endswith(":untuned")
    profile = profile[(profile["op"] != "network") & ~untuned].reset_index(drop=True)
    if profile.empty:
        raise ValueError(f"profile {path} has no kernel rows" + (f" for device {device}" if device else ""))
    profile["latency_ms"] = pd.to_numeric(profile["latency_ms"])
    return profile


def data_hash(rows: pd.DataFrame) -> str:
    """SHA-256 of the rows' keys, features and latencies (order-independent)."""
    cols = [c for c in REQUIRED_COLUMNS if c in rows.columns]
    text = rows[cols].astype(str).agg("|".join, axis=1).sort_values().str.cat(sep="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def split_keys(keys, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split distinct keys into (train, held-out) arrays; all rows of a key stay on one side."""
    distinct = np.array(sorted(set(map(str, keys))))
    if not 0.0 <= holdout < 1.0:
        raise ValueError("holdout must be in [0, 1)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(distinct))
    n_test = int(round(holdout * len(distinct)))
    if len(distinct) - n_test < 2:
        raise ValueError(f"too few distinct kernels ({len(distinct)}) to train")
    return np.sort(distinct[order[n_test:]]), np.sort(distinct[order[:n_test]])
