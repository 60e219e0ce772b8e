"""benchmarks.prediction.predictor_qaihub.pooled: the design fitted on every family at once,
each family then predicted by the fit on the others, the SR models by the fit on all."""
import numpy as np
import pandas as pd
import pytest

from benchmarks.prediction.predictor_qaihub import pooled
from predictors.public.qaihub_features import FEATURE_COLUMNS
from predictors.public.qaihub_fit import design

S24 = "Samsung Galaxy S24"


def _features(names, rng):
    frame = pd.DataFrame(rng.uniform(1e6, 1e9, size=(len(names), len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)
    return frame.assign(model=names, input_shape="1x3x8x8")


@pytest.mark.parametrize("slow_family", [1.0, 3.0])
def test_a_family_the_others_do_not_describe_is_missed_when_left_out(slow_family):
    rng = np.random.default_rng(1)
    fitted = _features([f"cnn{i}" for i in range(12)], rng)
    unseen = _features([f"seg{i}" for i in range(5)], rng).assign(family="segmenter")
    sr = _features(["xlsr", "sesr_m5"], rng)
    coef = np.array([0.3, 2e-9, 4e-9, 5e-9, 1e-10])            # an exact roofline for the fitted CNNs
    latency = {**dict(zip(fitted["model"], design(fitted, "roofline") @ coef)),
               **dict(zip(unseen["model"], slow_family * design(unseen, "roofline") @ coef)),
               **dict(zip(sr["model"], design(sr, "roofline") @ coef))}
    perf = pd.DataFrame({"model": list(latency), "latency_ms": list(latency.values())}).assign(
        device=S24, runtime="qnn_dlc", precision="float", compute_unit="NPU")
    perf["key"] = "network:" + perf["model"]
    row = pooled(perf, fitted, sr, unseen).set_index("runtime").loc["qnn_dlc"]
    assert row["device"] == S24 and row["cnn_models"] == 17 and row["fitted_models"] == 12
    assert row["segmenter_models"] == 5 and row["sr_models"] == 2
    if slow_family == 1.0:     # one roofline for all: every family predicted from the others
        assert row["loo_mape_pct"] < 1e-3 and row["segmenter_within_20pct"] == 5 and row["sr_within_20pct"] == 2
    else:                      # a family three times slower than the rest says: none of it predicted
        assert row["segmenter_within_20pct"] == 0 and row["loo_mape_pct"] > 10
