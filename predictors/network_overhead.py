"""Network latency = overhead + Σ over its kernels of (op scale × kernel prediction + ms per
GMAC × the kernel's GMACs), fitted on whole-network measurements.

Kernels are profiled one at a time, each as its own session; inside a network the runtime
plans memory once, fuses across ops and pays its per-call cost once, so a network is not the
plain sum of its kernels, and not by one factor either: on the Zen 5 VM's TVM, 50 derived
networks took 0.42× the predicted cost of their ×4 heads and 0.59× of their upsamplers but
0.78× of their 3×3 convs and 1.08× of their skips, and onnxruntime's kernel predictions fell
short in proportion to the MACs (0.45× + 1.6 ms per GMAC).
Every op gets its own scale, shrunk toward one shared scale (a ridge penalty λ · Σ (s_op − s)²
on the relative squared errors), plus a non-negative cost per GMAC; λ is chosen by repeated
5-fold cross-validation over the networks (``SHRINKAGE``), so a few networks give one shared
scale (λ large) and many let each op have its own. An op no measured network ran keeps the
shared scale. Below ``MIN_NETWORKS_PER_OP`` networks the model is the plain overhead + one
scale × kernel sum. Every per-kernel term is additive, so the search's cost table holds each
op instance's share (``KernelPredictor.in_network``) and the network costs stay sums.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import lsq_linear

from predictors.predictor import KernelPredictor

SHRINKAGE = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)  # candidate λ, relative-error² units
MIN_NETWORKS_PER_OP = 10    # fewer networks than this: overhead + one shared scale only
FOLDS, REPEATS = 5, 10


def kernel_sums(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per network: sum of raw predicted kernel means (ms), their std summed (ms; errors of one
    predictor are correlated), and the number of kernels."""
    out = {}
    for name, kernels in networks.items():
        mean, std = predictor.predict(kernels)
        out[name] = (float(mean.sum()), float(std.sum()), len(kernels))
    return pd.DataFrame.from_dict(out, orient="index", columns=["kernel_sum_ms", "kernel_std_ms", "n_kernels"])


def _design(predictor: KernelPredictor, networks: dict[str, pd.DataFrame], names: list[str],
            ops: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(per network and op: sum of raw kernel predictions in ms; per network: GMACs)."""
    by_op = np.zeros((len(names), len(ops)))
    gmacs = np.zeros(len(names))
    for i, name in enumerate(names):
        kernels = networks[name]
        mean, _ = predictor.predict(kernels)
        sums = pd.Series(mean).groupby(kernels["op"].astype(str).to_numpy()).sum()
        by_op[i] = [sums.get(op, 0.0) for op in ops]
        gmacs[i] = float(kernels["macs"].sum()) / 1e9 if "macs" in kernels else 0.0
    return by_op, gmacs


def _solve(by_op: np.ndarray, gmacs: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Non-negative [overhead, shared scale, op scales…, ms per GMAC] for least relative squared
    error + λ Σ (op scale − shared scale)²."""
    n, n_ops = by_op.shape
    fit = np.column_stack([np.ones(n), np.zeros(n), by_op, gmacs]) / y[:, None]
    ridge = np.zeros((n_ops, n_ops + 3))
    ridge[:, 1] = -np.sqrt(lam)
    ridge[np.arange(n_ops), 2 + np.arange(n_ops)] = np.sqrt(lam)
    a = np.vstack([fit, ridge])
    b = np.concatenate([np.ones(n), np.zeros(n_ops)])
    return lsq_linear(a, b, bounds=(0, np.inf), method="bvls").x


def _predict(x: np.ndarray, by_op: np.ndarray, gmacs: np.ndarray) -> np.ndarray:
    return x[0] + by_op @ x[2:-1] + gmacs * x[-1]


def _cv_error(by_op: np.ndarray, gmacs: np.ndarray, y: np.ndarray, lam: float) -> float:
    """Mean squared relative error of held-out networks, repeated k-fold (fixed seed)."""
    rng, errors = np.random.default_rng(0), []
    for _ in range(REPEATS):
        order = rng.permutation(len(y))
        for fold in range(FOLDS):
            test = order[fold::FOLDS]
            train = np.setdiff1d(order, test)
            x = _solve(by_op[train], gmacs[train], y[train], lam)
            errors.extend((_predict(x, by_op[test], gmacs[test]) / y[test] - 1) ** 2)
    return float(np.mean(errors))


def fit_network_overhead(predictor: KernelPredictor, networks: dict[str, pd.DataFrame],
                         measured_ms: dict[str, float]) -> KernelPredictor:
    """Fit the network model of ``predictor`` (in place, returned: ``overhead_ms``,
    ``kernel_scale``, ``op_scales``, ``ms_per_gmac``, ``network_shrinkage``) so that its whole-
    network predictions match ``measured_ms``."""
    names = [n for n in networks if n in measured_ms]
    if len(names) < 2:
        raise ValueError("need whole-network measurements of at least two networks")
    y = np.array([measured_ms[n] for n in names], dtype=float)
    if len(names) < MIN_NETWORKS_PER_OP:
        sums = kernel_sums(predictor, {n: networks[n] for n in names})["kernel_sum_ms"].to_numpy()
        x = lsq_linear(np.stack([np.ones(len(y)), sums], axis=1) / y[:, None], np.ones(len(y)),
                       bounds=(0, np.inf), method="bvls").x
        predictor.overhead_ms, predictor.kernel_scale = float(x[0]), float(x[1])
        predictor.op_scales, predictor.ms_per_gmac, predictor.network_shrinkage = {}, 0.0, None
        return predictor
    ops = sorted({str(op) for n in names for op in networks[n]["op"]})
    by_op, gmacs = _design(predictor, networks, names, ops)
    lam = min(SHRINKAGE, key=lambda lam: _cv_error(by_op, gmacs, y, lam))
    x = _solve(by_op, gmacs, y, lam)
    predictor.overhead_ms, predictor.kernel_scale = float(x[0]), float(x[1])
    predictor.op_scales = {op: float(s) for op, s in zip(ops, x[2:-1])}
    predictor.ms_per_gmac, predictor.network_shrinkage = float(x[-1]), lam
    return predictor


def predict_networks(predictor: KernelPredictor, networks: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Predicted whole-network latency mean and std (ms) per network name."""
    out = {}
    for name, kernels in networks.items():
        mean, std = predictor.in_network(kernels)
        out[name] = (predictor.overhead_ms + float(mean.sum()), float(std.sum()))
    return pd.DataFrame.from_dict(out, orient="index", columns=["mean_ms", "std_ms"])
