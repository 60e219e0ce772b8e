"""Network latency = sum of kernel predictions + a fitted per-network overhead.

The overhead (framework dispatch, memory planning, layout transforms between kernels) is
`overhead_ms + per_kernel_ms · n_kernels`, both non-negative, fitted on whole-network
measurements for least relative squared error.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from predictors.predictor import KernelPredictor


def kernel_sums(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per network: sum of predicted kernel means (ms), their std combined as independent (ms),
    and the number of kernels."""
    out = {}
    for name, kernels in networks.items():
        mean, std = predictor.predict(kernels)
        out[name] = (mean.sum(), float(np.sqrt((std ** 2).sum())), len(kernels))
    return pd.DataFrame.from_dict(out, orient="index", columns=["kernel_sum_ms", "kernel_std_ms", "n_kernels"])


def fit_network_overhead(predictor: KernelPredictor, networks: dict[str, pd.DataFrame],
                         measured_ms: dict[str, float]) -> KernelPredictor:
    """Fit `overhead_ms` and `per_kernel_ms` of `predictor` (in place, returned) so that the
    kernel sums plus overhead match the measured whole-network latencies."""
    names = [n for n in networks if n in measured_ms]
    if len(names) < 2:
        raise ValueError("need whole-network measurements of at least two networks")
    sums = kernel_sums(predictor, {n: networks[n] for n in names})
    y = np.array([measured_ms[n] for n in names], dtype=float)
    residual = y - sums["kernel_sum_ms"].to_numpy()
    A = np.stack([np.ones(len(y)), sums["n_kernels"].to_numpy(dtype=float)], axis=1)
    coef, _ = nnls(A / y[:, None], residual / y)
    predictor.overhead_ms, predictor.per_kernel_ms = float(coef[0]), float(coef[1])
    return predictor


def predict_networks(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Predicted whole-network latency mean and std (ms) per network name."""
    sums = kernel_sums(predictor, networks)
    mean = sums["kernel_sum_ms"] + predictor.overhead_ms + predictor.per_kernel_ms * sums["n_kernels"]
    return pd.DataFrame({"mean_ms": mean, "std_ms": sums["kernel_std_ms"]})
