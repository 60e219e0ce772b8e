"""Roofline latency models: one device's roofline fitted on kernel rows, rescaled to another
device by spec sheets, and `fused_roofline`, the model kind a transferred predictor stores.

A device's cost of a primitive kernel (predictors.fused_ops: `conv2d`, `conv2d_winograd`,
`depthwise_conv2d`, `elementwise`) is `ms = macs · a + bytes · b + calls · c` per class (a, b,
c ≥ 0); predictors.public.transfer fits and transfers them (its docstring states the method).
A fused roofline prices kernel *rows* (``predict_rows``): each row's primitive kernels come
from predictors.fused_ops.decompose, so an op it never saw is priced by the kernels it lists.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from predictors.fused_ops import TOPHUB_OPS, decompose, ops_from_features
from predictors.kernel_features import kernel_features
from predictors.kinds.models import LatencyModel, register

FITTED_CLASSES = ("conv2d", "conv2d_winograd", "depthwise_conv2d")
PRICED_AS = {"pointwise_conv2d": "conv2d"}
"""A primitive a roofline may have no rate for → the primitive whose rate prices it then (TopHub's
conv2d rows, which a TopHub roofline is fitted on, include 1×1 kernels)."""
SHAPE_COLUMNS = ["cin", "cout", "kernel", "groups", "stride", "h", "w", "macs", "params",
                 "bytes_in", "bytes_out"]


@dataclass(frozen=True)
class DeviceSpec:
    """The spec-sheet numbers a transfer uses: peak FP32 GFLOP/s, memory GB/s, clock GHz."""

    name: str
    peak_gflops: float
    bandwidth_gbs: float
    clock_ghz: float

    @classmethod
    def from_catalog(cls, name: str) -> DeviceSpec:
        from devices.catalog import get_device

        spec = get_device(name).spec
        return cls(name, float(spec["peak_fp32_gflops"]["value"]),
                   float(spec["mem_bandwidth_gbs"]["value"]), float(spec["clock_ghz"]["value"]))

    def to_json(self) -> dict:
        return dict(vars(self))


def nnls_relative(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative coefficients `coef` (one per column of A) minimising Σ((A·coef − y)/y)², the
    least relative squared error: every row (e.g. a kernel's ms) weighs by its relative miss."""
    scale = np.abs(A).max(axis=0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(A / scale / y[:, None], np.ones(len(y)), maxiter=50 * A.shape[1])
    return coef / scale


@dataclass
class Roofline:
    """One device's ms per MAC (a), per byte (b) and per call (c) of every primitive class,
    and the σ (log) of its elementwise price."""

    device: str
    coef: dict[str, list[float]]
    elementwise_sigma: float

    @classmethod
    def fit(cls, rows: pd.DataFrame, spec: DeviceSpec) -> Roofline:
        """Fit on TopHub kernel rows (profile schema, ops of FITTED_CLASSES) of one device."""
        prims = decompose(rows)
        y = rows["latency_ms"].to_numpy(dtype=float)[prims["instance"].to_numpy()]
        coef = {}
        for name in FITTED_CLASSES:
            part = (prims["primitive"] == name).to_numpy()
            if part.sum() < 3:
                raise ValueError(f"{spec.name}: {part.sum()} {name} rows, need at least 3")
            A = prims.loc[part, ["macs", "bytes", "calls"]].to_numpy(dtype=float)
            coef[name] = nnls_relative(A, y[part]).tolist()
        dw = (prims["primitive"] == "depthwise_conv2d").to_numpy()
        measured = float(np.median(y[dw] / prims.loc[dw, "bytes"].to_numpy()))  # ms per byte
        spec_bound = 1.0 / (spec.bandwidth_gbs * 1e6)                           # ms per byte
        coef["elementwise"] = [0.0, float(np.sqrt(measured * spec_bound)), coef["conv2d"][2]]
        return cls(spec.name, coef, float(0.5 * abs(np.log(measured / spec_bound))))

    def scaled(self, source: DeviceSpec, target: DeviceSpec) -> Roofline:
        """This roofline moved from `source`'s spec sheet to `target`'s (module docstring)."""
        compute = source.peak_gflops / target.peak_gflops
        memory = source.bandwidth_gbs / target.bandwidth_gbs
        launch = source.clock_ghz / target.clock_ghz
        coef = {k: [a * compute, b * memory, c * launch] for k, (a, b, c) in self.coef.items()}
        return Roofline(self.device, coef, self.elementwise_sigma)

    def components(self, prims: pd.DataFrame, n_rows: int) -> np.ndarray:
        """(n_rows, 3) ms of compute, memory and calls per instance, and (n_rows,) elementwise ms."""
        coef = np.array([self.coef[p] if p in self.coef else self.coef[PRICED_AS[p]]
                         for p in prims["primitive"]])
        terms = prims[["macs", "bytes", "calls"]].to_numpy(dtype=float) * coef
        out = np.zeros((n_rows, 3))
        np.add.at(out, prims["instance"].to_numpy(), terms)
        ew = np.zeros(n_rows)
        is_ew = (prims["primitive"] == "elementwise").to_numpy()
        np.add.at(ew, prims["instance"].to_numpy()[is_ew], terms[is_ew].sum(axis=1))
        return out, ew

    def predict_rows(self, rows: pd.DataFrame) -> np.ndarray:
        comp, _ = self.components(decompose(rows), len(rows))
        return comp.sum(axis=1)

    def to_json(self) -> dict:
        return {"device": self.device, "coef": self.coef, "elementwise_sigma": self.elementwise_sigma}

    @classmethod
    def from_json(cls, s: dict) -> Roofline:
        return cls(s["device"], {k: list(v) for k, v in s["coef"].items()}, s["elementwise_sigma"])


def rows_from_features(X: np.ndarray, feature_names: list[str]) -> pd.DataFrame:
    """Kernel rows (SHAPE_COLUMNS and op) back from a feature matrix with `feature_names`."""
    rows = pd.DataFrame(X[:, [feature_names.index(c) for c in SHAPE_COLUMNS]], columns=SHAPE_COLUMNS)
    rows["op"] = ops_from_features(X, feature_names)
    return rows


@register
class FusedRooflineModel(LatencyModel):
    """Latency of fused op instances and TopHub kernels from one or more (rescaled) rooflines.

    mean = geometric mean over `sources`; relative σ² = spread² across sources + `rel_std`²
    (held-out error of the roofline, or leave-one-sibling-out transfer error) + (elementwise
    share · its σ)².
    """

    name = "fused_roofline"
    trainable = False

    def __init__(self, sources: list[Roofline] | None = None, rel_std: float = 0.0):
        super().__init__()
        self.sources, self.rel_std = list(sources or []), float(rel_std)
        self.feature_names = list(kernel_features(_empty_rows(), list(TOPHUB_OPS)).columns)

    def _fit(self, X, y):
        raise NotImplementedError("build a FusedRooflineModel from fitted Rooflines (transfer.py)")

    def source_predictions(self, prims: pd.DataFrame, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per source, for `n_rows` rows decomposed into `prims` (predictors.fused_ops.decompose):
        total ms (S, n), components ms (S, n, 3: compute, memory, calls) and elementwise ms (S, n)."""
        parts = [s.components(prims, n_rows) for s in self.sources]
        comps = np.stack([p[0] for p in parts])
        return comps.sum(axis=2), comps, np.stack([p[1] for p in parts])

    def predict_rows(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latency mean and std in ms of kernel rows (a TopHub kernel, or any row with its
        `kernels` split)."""
        return self.predict_prims(decompose(rows), len(rows))

    def predict_prims(self, prims: pd.DataFrame, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        total, _, ew = self.source_predictions(prims, n_rows)
        logs = np.log(np.maximum(total, 1e-12))
        mean = np.exp(logs.mean(axis=0))
        ew_sigma = np.mean([s.elementwise_sigma for s in self.sources])
        share = (ew / total).mean(axis=0)
        sigma = np.sqrt(logs.var(axis=0) + self.rel_std ** 2 + (share * ew_sigma) ** 2)
        return mean, mean * sigma

    def _predict(self, X):
        """From features: TopHub kernels only (features do not carry a fused op's split)."""
        rows = rows_from_features(X, self.feature_names)
        return self.predict_prims(decompose(rows), len(rows))

    def _state(self):
        return {"sources": [s.to_json() for s in self.sources], "rel_std": self.rel_std}

    def _load(self, s):
        self.sources = [Roofline.from_json(r) for r in s["sources"]]
        self.rel_std = float(s["rel_std"])


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float) for c in SHAPE_COLUMNS + ["out_h", "out_w"]}
                        | {"op": pd.Series(dtype=str)})
