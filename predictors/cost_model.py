"""What codesign sees of a predictor: a table of predicted latency per candidate op instance.

    cost = CostModel.load("predictors/out/rk3399")
    table = cost.latency_table(instances)   # {key: (mean_ms, std_ms)}

`instances` is a DataFrame of candidate op instances with the profile-schema kernel columns
(op, cin, cout, kernel, groups, stride, h, w, out_h, out_w, macs, params, bytes_in,
bytes_out) and `key`, the op-instance key. Every value is labelled `provenance`
("predicted", or "transferred" for a predictor transferred from sibling devices; the
predictor's training data keeps its own labels in `training_provenance`).
The supernet turns the table's means into a differentiable expected cost over its architecture
probabilities (codesign.space.supernet.Supernet.expected_cost).
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
        own measurements) or `transferred` (from sibling devices, predictors.public.transfer)."""
        return str(self.predictor.meta.get("prediction_provenance", "predicted"))

    @property
    def training_provenance(self) -> list[str]:
        return list(self.predictor.meta.get("training_provenance", []))

    @property
    def network_overhead_ms(self) -> float:
        """The fixed cost (ms) a network pays once, beside its kernels' shares."""
        return self.predictor.overhead_ms

    def latency_table(self, instances: pd.DataFrame) -> dict[str, tuple[float, float]]:
        """{key: (mean_ms, std_ms)} of every distinct key of `instances`, each kernel alone."""
        return self._table(instances, self.predictor.predict)

    def network_table(self, instances: pd.DataFrame) -> dict[str, tuple[float, float]]:
        """{key: (mean_ms, std_ms)}: each op instance's share of a network's latency under the
        predictor's network model (KernelPredictor.in_network); a network takes
        ``network_overhead_ms`` + the sum of its instances' shares."""
        return self._table(instances, self.predictor.in_network)

    @staticmethod
    def _table(instances: pd.DataFrame, predict) -> dict[str, tuple[float, float]]:
        if "key" not in instances.columns:
            raise ValueError("instances need a `key` column")
        unique = instances.drop_duplicates("key").reset_index(drop=True)
        mean, std = predict(unique)
        return {str(k): (float(m), float(s)) for k, m, s in zip(unique["key"], mean, std)}
