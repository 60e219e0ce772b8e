"""What codesign sees of a predictor: a table of predicted latency per candidate op instance.

    cost = CostModel.load("predictors/out/rk3399")
    table = cost.latency_table(instances)   # {key: (mean_ms, std_ms)}

`instances` is a DataFrame of candidate op instances with the profile-schema kernel columns
(op, cin, cout, kernel, groups, stride, h, w, out_h, out_w, macs, params, bytes_in,
bytes_out) and `key`, the op-instance key. Every value is labelled `provenance`
("predicted", or "transferred" for a predictor transferred from sibling devices; the
predictor's training data keeps its own labels in `training_provenance`).
The supernet turns the table's means into a differentiable expected cost over its architecture
probabilities (codesign.supernet.Supernet.expected_cost).
"""
from __future__ import annotations

import pandas as pd

from predictors.predictor import KernelPredictor


class CostModel:
    """Latency predictions (ms) of one device's predictor, keyed by op-instance key."""

    def __init__(self, predictor: KernelPredictor):
        self.predictor = predictor

    @classmethod
    def load(cls, model_dir) -> "CostModel":
        return cls(KernelPredictor.load(model_dir))

    @property
    def device(self) -> str:
        return self.predictor.device

    @property
    def provenance(self) -> str:
        """Label of every value of the table: `predicted` (a predictor trained on the device's
        own measurements) or `transferred` (from sibling devices, predictors.transfer)."""
        return str(self.predictor.meta.get("prediction_provenance", "predicted"))

    @property
    def training_provenance(self) -> list[str]:
        return list(self.predictor.meta.get("training_provenance", []))

    @property
    def network_model(self) -> tuple[float, float]:
        """(overhead ms, kernel scale): a network takes overhead + scale × Σ its kernels."""
        return self.predictor.overhead_ms, self.predictor.kernel_scale

    def latency_table(self, instances: pd.DataFrame) -> dict[str, tuple[float, float]]:
        """{key: (mean_ms, std_ms)} for every distinct key of `instances`."""
        if "key" not in instances.columns:
            raise ValueError("instances need a `key` column")
        unique = instances.drop_duplicates("key").reset_index(drop=True)
        mean, std = self.predictor.predict(unique)
        return {str(k): (float(m), float(s)) for k, m, s in zip(unique["key"], mean, std)}
