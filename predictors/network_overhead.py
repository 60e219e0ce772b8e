"""Network latency = overhead_ms + kernel_scale × the sum of kernel predictions, fitted.

Kernels are profiled one at a time, each as its own session; inside a network the runtime
plans memory once, fuses across ops and pays its per-call cost once, so a network is not the
plain sum of its kernels: on this host's onnxruntime, 50 derived networks measured 0.88× their
kernel sums (median) with a few ms of fixed cost. Both are fitted on whole-network
measurements, non-negative, for least relative squared error.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from predictors.predictor import KernelPredictor


def kernel_sums(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per network: sum of predicted kernel means (ms), their std summed (ms; errors of one
    predictor are correlated), and the number of kernels."""
    out = {}
    for name, kernels in networks.items():
        mean, std = predictor.predict(kernels)
        out[name] = (float(mean.sum()), float(std.sum()), len(kernels))
    return pd.DataFrame.from_dict(out, orient="index", columns=["kernel_sum_ms", "kernel_std_ms", "n_kernels"])


def fit_network_overhead(predictor: KernelPredictor, networks: dict[str, pd.DataFrame],
                         measured_ms: dict[str, float]) -> KernelPredictor:
    """Fit ``overhead_ms`` and ``kernel_scale`` of ``predictor`` (in place, returned) so that
    overhead + scale × kernel sum matches the measured whole-network latencies."""
    names = [n for n in networks if n in measured_ms]
    if len(names) < 2:
        raise ValueError("need whole-network measurements of at least two networks")
    sums = kernel_sums(predictor, {n: networks[n] for n in names})["kernel_sum_ms"].to_numpy()
    y = np.array([measured_ms[n] for n in names], dtype=float)
    A = np.stack([np.ones(len(y)), sums], axis=1)
    coef, _ = nnls(A / y[:, None], np.ones(len(y)))
    predictor.overhead_ms, predictor.kernel_scale = float(coef[0]), float(coef[1])
    return predictor


def predict_networks(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Predicted whole-network latency mean and std (ms) per network name."""
    sums = kernel_sums(predictor, networks)
    return pd.DataFrame({"mean_ms": predictor.overhead_ms + predictor.kernel_scale * sums["kernel_sum_ms"],
                         "std_ms": predictor.kernel_scale * sums["kernel_std_ms"]})
