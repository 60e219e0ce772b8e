"""Learned NPU predictors beside the NNLS fit (benchmarks.prediction.predictor_qaihub_learned):
every predictor is scored leave-one-model-out on the same CNNs, and the scores mean what they say."""
import numpy as np
import pandas as pd
import pytest

from benchmarks.prediction.predictor_qaihub_learned import compare, scores
from predictors.public.qaihub_features import FEATURE_COLUMNS
from predictors.public.qaihub_fit import design


def test_scores_are_rank_correlation_mape_and_share_within_20pct():
    y = np.array([1.0, 2.0, 4.0, 8.0])
    got = scores(y, np.array([1.1, 2.0, 3.0, 8.0]))
    assert got == {"loo_spearman": 1.0, "loo_mape_pct": pytest.approx(8.75), "loo_within_20pct": 0.75}


def test_every_predictor_is_scored_on_the_same_models_and_an_exact_roofline_wins():
    rng = np.random.default_rng(1)
    cnn = pd.DataFrame(rng.uniform(1e6, 1e9, size=(12, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)
    cnn["model"] = [f"cnn{i}" for i in range(12)]
    cnn["params"] = rng.uniform(1e5, 1e7, size=12)
    cnn["macs"] = cnn[[c for c in FEATURE_COLUMNS if c.startswith("macs:")]].sum(axis=1)
    latency = design(cnn, "roofline") @ np.array([0.3, 2e-9, 4e-9, 5e-9, 1e-10])
    perf = pd.DataFrame({"model": cnn["model"], "latency_ms": latency, "macs": 0.0, "params": 0.0}).assign(
        device="npu", runtime="qnn_dlc", precision="float", compute_unit="NPU", commit="c")
    table = compare(perf, cnn, "npu").set_index("predictor")
    assert (table["cnn_models"] == 12).all() and len(table) == 4
    nnls = table.loc[[p for p in table.index if p.startswith("nnls")]].iloc[0]
    assert nnls["loo_mape_pct"] < 1e-4
    assert (table["loo_mape_pct"] >= nnls["loo_mape_pct"]).all()
