"""`fewshot_calibrated`: a transferred roofline predictor (predictors.kinds.roofline) adapted to a few
measurements of the target device by a few-shot blend of its sources (predictors.fewshot);
predictors.calibrate fits it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from predictors.fewshot import SOURCE_PREFIX, FewShotModel
from predictors.kinds.models import LatencyModel, register
from predictors.kinds.roofline import FusedRooflineModel

TERM_COLUMNS = ["t_compute", "t_memory", "t_calls"]
FLOOR_FRACTION = 0.05


def source_frame(base: FusedRooflineModel, X: np.ndarray) -> pd.DataFrame:
    """Per kernel: `src:<device>` ms of every source and the geometric-mean roofline terms."""
    total, comps, _ = base.source_predictions(X)
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

    def _predict(self, X):
        base_mean, _ = self.base._predict(X)
        mean, std = self.fewshot.predict(source_frame(self.base, X))
        floor = FLOOR_FRACTION * base_mean
        return np.maximum(mean, floor), np.maximum(std, self.fewshot.rel_std * floor)

    def _state(self):
        return {"base": self.base.to_json(), "fewshot": self.fewshot.to_json()}

    def _load(self, s):
        self.base = LatencyModel.from_json(s["base"])
        self.fewshot = FewShotModel.from_json(s["fewshot"])
