"""A trained kernel-latency predictor for one device: features + model + what it was trained on.

Saved as one plain JSON file, `predictor.json`, in a directory: device, op vocabulary,
feature names, model state (XGBoost boosters in XGBoost's JSON schema), training-data hash
and provenance, the keys it was trained on (so evaluation can exclude them), library versions.
Network latency = sum of kernel predictions + `overhead_ms` per network + `per_kernel_ms`
per kernel (see network_overhead.py); both are 0 until fitted on whole-network measurements.
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
from predictors.models import LatencyModel, create
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


def _register_model_kinds() -> None:
    """Import the modules that add model kinds to predictors.models.MODELS (transferred and
    calibrated predictors); lazily, as they import this module."""
    import predictors.calibrate  # noqa: F401  (fewshot_calibrated)
    import predictors.transfer  # noqa: F401  (fused_roofline)


@dataclass
class KernelPredictor:
    """Predicts latency (mean, std in ms) of kernel rows on `device`."""

    device: str
    op_vocab: list[str]
    model: LatencyModel
    meta: dict = field(default_factory=dict)
    overhead_ms: float = 0.0
    per_kernel_ms: float = 0.0

    def features(self, rows: pd.DataFrame) -> pd.DataFrame:
        return kernel_features(rows, self.op_vocab)

    def predict(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latency mean and std in ms for each kernel row."""
        return self.model.predict(self.features(rows))

    def save(self, out_dir) -> Path:
        """Write `predictor.json` into `out_dir` (created); atomic per file, never a pickle."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        state = {"format_version": FORMAT_VERSION, "device": self.device, "op_vocab": self.op_vocab,
                 "overhead_ms": self.overhead_ms, "per_kernel_ms": self.per_kernel_ms,
                 "meta": self.meta, "model": self.model.to_json()}
        return write_text_atomic(out / FILE_NAME, json.dumps(state))

    @classmethod
    def load(cls, model_dir) -> "KernelPredictor":
        path = Path(model_dir) / FILE_NAME
        try:
            state = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ValueError(f"cannot read predictor {path}: {err}") from None
        if state.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported predictor format {state.get('format_version')}")
        _register_model_kinds()
        return cls(state["device"], state["op_vocab"], LatencyModel.from_json(state["model"]),
                   state["meta"], state["overhead_ms"], state["per_kernel_ms"])


def train_kernel_predictor(rows: pd.DataFrame, device: str, model: str = "xgb") -> KernelPredictor:
    """Fit a predictor of `model` kind on measured kernel rows (profile schema) of `device`."""
    op_vocab = sorted(rows["op"].astype(str).unique())
    fitted = create(model).fit(kernel_features(rows, op_vocab), rows["latency_ms"].to_numpy())
    meta = {"model": model, "training_rows": int(len(rows)), "training_hash": data_hash(rows),
            "training_provenance": sorted(rows["provenance"].astype(str).unique()),
            "training_keys": sorted(rows["key"].astype(str).unique()),
            "library_versions": library_versions()}
    return KernelPredictor(device, op_vocab, fitted, meta)
