"""Accuracy of latency predictions: RMSE (ms), MAPE (%), share within ±5 % / ±10 %, Spearman ρ;
and the one definition of "within ±x %" that every benchmark uses."""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def relative_error(measured_ms, predicted_ms) -> np.ndarray:
    """|predicted - measured| / |measured|, element by element (a share: 0.2 is 20 %)."""
    y = np.asarray(measured_ms, dtype=float)
    return np.abs(np.asarray(predicted_ms, dtype=float) - y) / np.maximum(np.abs(y), 1e-12)


def within(measured_ms, predicted_ms, tolerance: float) -> np.ndarray:
    """Whether each prediction is within ±``tolerance`` (a share: 0.2 is ±20 %) of its
    measurement; ``within(1, ratio, 0.2)`` for ratios predicted / measured."""
    return relative_error(measured_ms, predicted_ms) <= tolerance


def accuracy(measured_ms, predicted_ms) -> dict[str, float]:
    """Metrics of predictions against measurements (both in ms, same order)."""
    y = np.asarray(measured_ms, dtype=float)
    p = np.asarray(predicted_ms, dtype=float)
    if len(y) != len(p) or len(y) < 2:
        raise ValueError("need at least two measured/predicted pairs of equal length")
    rel = relative_error(y, p)
    rho = spearmanr(p, y)[0] if np.ptp(p) > 0 and np.ptp(y) > 0 else float("nan")
    return {"n": int(len(y)), "rmse_ms": float(np.sqrt(np.mean((p - y) ** 2))),
            "mape_pct": float(100 * rel.mean()), "within_5pct": float(within(y, p, 0.05).mean()),
            "within_10pct": float(within(y, p, 0.10).mean()), "spearman": float(rho)}
