"""`fewshot_calibrated`: a transferred roofline predictor (predictors.kinds.roofline) adapted to a few
measurements of the target device by a few-shot blend of its sources (predictors.fewshot);
predictors.calibrate fits it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from predictors.fewshot import SOURCE_PREFIX, FewShotModel
from predictors.fused_ops import decompose
from predictors.kinds.models import LatencyModel, register
from predictors.kinds.roofline import FusedRooflineModel, rows_from_features

TERM_COLUMNS = ["t_compute", "t_memory", "t_calls"]
FLOOR_FRACTION = 0.05


def source_frame(base: FusedRooflineModel, rows: pd.DataFrame) -> pd.DataFrame:
    """Per kernel row: `src:<device>` ms of every source and the geometric-mean roofline terms."""
    return _source_frame(base, decompose(rows), len(rows))


def _source_frame(base: FusedRooflineModel, prims: pd.DataFrame, n_rows: int) -> pd.DataFrame:
    total, comps, _ = base.source_predictions(prims, n_rows)
    frame = pd.DataFrame({f"{SOURCE_PREFIX}{s.device}": np.maximum(t, 1e-12)
                          for s, t in zip(base.sources, total)})
    terms = np.exp(np.log(np.maximum(comps, 1e-15)).mean(axis=0))
    for i, name in enumerate(TERM_COLUMNS):
        frame[name] = terms[:, i]
    return frame


@register
class CalibratedModel(LatencyModel):
    """A FusedRooflineModel's sources and terms → a few-shot blend fitted on target rows."""

    name = "fewshot_calibrated"
    trainable = False

    def __init__(self, base: FusedRooflineModel, fewshot: FewShotModel):
        super().__init__()
        self.base, self.fewshot = base, fewshot
        self.feature_names = list(base.feature_names)

    def _fit(self, X, y):
        raise NotImplementedError("use calibrate()")

    def predict_rows(self, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Latency mean and std in ms of kernel rows (TopHub kernels or rows with `kernels`)."""
        return self._predict_prims(decompose(rows), len(rows))

    def _predict(self, X):
        """From features: TopHub kernels only (see FusedRooflineModel._predict)."""
        rows = rows_from_features(X, self.base.feature_names)
        return self._predict_prims(decompose(rows), len(rows))

    def _predict_prims(self, prims: pd.DataFrame, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        base_mean, _ = self.base.predict_prims(prims, n_rows)
        mean, std = self.fewshot.predict(_source_frame(self.base, prims, n_rows))
        floor = FLOOR_FRACTION * base_mean
        return np.maximum(mean, floor), np.maximum(std, self.fewshot.rel_std * floor)

    def _state(self):
        return {"base": self.base.to_json(), "fewshot": self.fewshot.to_json()}

    def _load(self, s):
        self.base = LatencyModel.from_json(s["base"])
        self.fewshot = FewShotModel.from_json(s["fewshot"])
