"""A trained kernel-latency predictor for one device: features + model + what it was trained on.

Saved as one plain JSON file, `predictor.json`, in a directory: device, op vocabulary,
feature names, model state (XGBoost boosters in XGBoost's JSON schema), training-data hash
and provenance, the keys it was trained on (so evaluation can exclude them), library versions.
Network latency = `overhead_ms` + Σ over its kernels of `in_network` (op scale × kernel
prediction + `ms_per_gmac` × GMACs; see network_overhead.py); 0 ms, scale 1 and 0 ms/GMAC until
fitted on whole-network measurements.
"""
from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from codesign_common.atomic import write_text_atomic
from predictors.kernel_features import kernel_features
from predictors.kinds import calibrated_model, roofline  # noqa: F401  (their model kinds register on import)
from predictors.kinds.models import LatencyModel, create
from predictors.profile_io import data_hash

FILE_NAME = "predictor.json"
FORMAT_VERSION = 1
_LIBRARIES = ["numpy", "pandas", "scikit-learn", "scipy", "xgboost"]


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a predictor's numbers depend on."""
    versions = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@dataclass
class KernelPredictor:
    """Predicts latency (mean, std in ms) of kernel rows on `device`."""

    device: str
    op_vocab: list[str]
    model: LatencyModel
    meta: dict = field(default_factory=dict)
    overhead_ms: float = 0.0
    kernel_scale: float = 1.0                               # the scale of ops without their own
    op_scales: dict[str, float] = field(default_factory=dict)
    ms_per_gmac: float = 0.0
    network_shrinkage: float | None = None                  # λ the op scales were fitted with

    def features(self, rows: pd.DataFrame) -> pd.DataFrame:
        return kernel_features(rows, self.op_vocab)

    def predict(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latency mean and std in ms for each kernel row. A model that prices rows by their
        kernels (the roofline kinds: ``predict_rows``) reads the rows themselves, the others
        their features."""
        if hasattr(self.model, "predict_rows"):
            return self.model.predict_rows(rows)
        return self.model.predict(self.features(rows))

    def in_network(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Each kernel row's share (mean, std in ms) of a network's latency under the fitted
        network model: its op's scale × its prediction + ms_per_gmac × its GMACs."""
        mean, std = self.predict(rows)
        scale = rows["op"].astype(str).map(self.op_scales).fillna(self.kernel_scale).to_numpy(float)
        gmacs = rows["macs"].to_numpy(float) / 1e9 if self.ms_per_gmac else 0.0
        with np.errstate(over="ignore"):  # an overflow gives inf, which the caller refuses
            return scale * mean + self.ms_per_gmac * gmacs, scale * std

    def check_finite(self, rows: pd.DataFrame, what: str = "training rows") -> None:
        """ValueError unless the predicted mean and std of every kernel row are finite."""
        mean, std = self.predict(rows)
        bad = ~(np.isfinite(mean) & np.isfinite(std))
        if bad.any():
            first = rows["key"].astype(str).iloc[int(np.argmax(bad))] if "key" in rows.columns else "?"
            raise ValueError(f"predictor for {self.device} predicts a non-finite latency for "
                             f"{int(bad.sum())} of {len(rows)} {what} (first: {first}); not saved")

    def save(self, out_dir, rows: pd.DataFrame | None = None) -> Path:
        """Write `predictor.json` into `out_dir` (created); atomic per file, never a pickle.

        Refused (ValueError, nothing written) when a stored number is NaN or infinite, or when
        `rows` (e.g. the training rows) are given and a prediction for one of them is not finite.
        """
        out = Path(out_dir)
        state = {"format_version": FORMAT_VERSION, "device": self.device, "op_vocab": self.op_vocab,
                 "overhead_ms": self.overhead_ms, "kernel_scale": self.kernel_scale,
                 "op_scales": self.op_scales, "ms_per_gmac": self.ms_per_gmac,
                 "network_shrinkage": self.network_shrinkage,
                 "meta": self.meta, "model": self.model.to_json()}
        try:
            text = json.dumps(state, allow_nan=False)
        except ValueError:  # NaN or infinity somewhere: say where
            raise ValueError(f"predictor for {self.device} holds a non-finite number at "
                             f"{_nonfinite_at(state)}; not saved") from None
        if rows is not None:
            self.check_finite(rows)
        out.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(out / FILE_NAME, text)

    @classmethod
    def load(cls, model_dir) -> "KernelPredictor":
        """The predictor in `model_dir`; ValueError (one line) when it is unreadable, of another
        format, lacks an entry, holds a NaN or infinite number anywhere, or a network-model
        coefficient (overhead_ms, kernel_scale, op_scales, ms_per_gmac) that is not a number
        >= 0."""
        path = Path(model_dir) / FILE_NAME
        nonfinite = []

        def constant(name):  # json calls this for NaN, Infinity and -Infinity only
            nonfinite.append(name)
            return float(name)

        try:
            state = json.loads(path.read_text(), parse_constant=constant)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read predictor {path}: {err}") from None
        if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
            version = state.get("format_version") if isinstance(state, dict) else None
            raise ValueError(f"{path}: unsupported predictor format {version}")
        if nonfinite:
            raise ValueError(f"{path}: {nonfinite[0]} at {_nonfinite_at(state)}; refusing a predictor "
                             f"that holds non-finite numbers (re-train it)")
        missing = [k for k in ("device", "op_vocab", "model", "meta", "overhead_ms") if k not in state]
        if missing:
            raise ValueError(f"{path}: missing entries {', '.join(missing)}")
        if not isinstance(state["meta"], dict) or not isinstance(state["op_vocab"], list):
            raise ValueError(f"{path}: meta must be an object and op_vocab a list")
        network = {name: _coefficient(path, name, state.get(name, default))
                   for name, default in (("overhead_ms", 0.0), ("kernel_scale", 1.0),
                                         ("ms_per_gmac", 0.0))}
        if network["kernel_scale"] == 0:  # every op without a scale of its own would be free
            raise ValueError(f"{path}: kernel_scale is 0; it must be above 0")
        scales = state.get("op_scales") or {}
        if not isinstance(scales, dict):
            raise ValueError(f"{path}: op_scales must be an object of op: scale")
        scales = {str(op): _coefficient(path, f"op_scales.{op}", v) for op, v in scales.items()}
        shrinkage = state.get("network_shrinkage")
        try:
            model = LatencyModel.from_json(state["model"])
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ValueError(f"{path}: unreadable model ({type(err).__name__}: {err})") from None
        return cls(str(state["device"]), state["op_vocab"], model, state["meta"],
                   network["overhead_ms"], network["kernel_scale"], scales,
                   network["ms_per_gmac"],
                   None if shrinkage is None else _coefficient(path, "network_shrinkage", shrinkage))


def _coefficient(path, name: str, value) -> float:
    """A network-model coefficient of predictor.json as a finite float >= 0; ValueError (one
    line naming the file and entry) otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{path}: {name} is {value!r}, not a number")
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{path}: {name} is {value!r}; it must be a finite number >= 0")
    return float(value)


def _nonfinite_at(obj, where: str = "") -> str | None:
    """JSON path (e.g. `model.coef[3]`) of the first NaN or infinite float in `obj`, or None."""
    if isinstance(obj, float):
        return None if np.isfinite(obj) else (where or "top level")
    if isinstance(obj, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in obj.items())
    elif isinstance(obj, (list, tuple)):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(obj))
    elif isinstance(obj, np.ndarray):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(obj.tolist()))
    elif isinstance(obj, np.floating):
        return _nonfinite_at(float(obj), where)
    else:
        return None
    return next((found for key, value in items if (found := _nonfinite_at(value, key)) is not None), None)


def train_kernel_predictor(rows: pd.DataFrame, device: str, model: str = "xgb") -> KernelPredictor:
    """Fit a predictor of `model` kind on measured kernel rows (profile schema) of `device`."""
    op_vocab = sorted(rows["op"].astype(str).unique())
    fitted = create(model).fit(kernel_features(rows, op_vocab), rows["latency_ms"].to_numpy())
    meta = {"model": model, "training_rows": int(len(rows)), "training_hash": data_hash(rows),
            "training_provenance": sorted(rows["provenance"].astype(str).unique()),
            "training_keys": sorted(rows["key"].astype(str).unique()),
            "library_versions": library_versions()}
    return KernelPredictor(device, op_vocab, fitted, meta)
