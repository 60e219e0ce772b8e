"""Latency models on real TopHub kernels: held-out accuracy and JSON save/load round trips."""

import numpy as np
import pytest

from codesign_common import public_data
from predictors.kernel_features import kernel_features
from predictors.kinds.models import LatencyModel, create
from predictors.metrics import accuracy
from predictors.predictor import KernelPredictor, train_kernel_predictor
from predictors.profile_io import split_keys
from predictors.public.import_tophub import import_tophub

LOG = public_data.tophub_log("arm_cpu_v0.08.log")


@pytest.fixture(scope="module")
def rk3399():
    rows = import_tophub(LOG)["rk3399-arm_cpu"]
    train_keys, test_keys = split_keys(rows["key"], 0.25, seed=0)
    return rows[rows["key"].isin(train_keys)], rows[rows["key"].isin(test_keys)]


def test_xgb_beats_flops_baseline_on_held_out_workloads(rk3399):
    train, test = rk3399
    xgb = train_kernel_predictor(train, "rk3399-arm_cpu", "xgb")
    flops = train_kernel_predictor(train, "rk3399-arm_cpu", "flops")
    y = test["latency_ms"].to_numpy()
    xgb_acc, flops_acc = accuracy(y, xgb.predict(test)[0]), accuracy(y, flops.predict(test)[0])
    assert xgb_acc["spearman"] > 0.97
    assert xgb_acc["mape_pct"] < 0.7 * flops_acc["mape_pct"]


@pytest.mark.parametrize("name", ["xgb", "rf", "roofline", "lookup", "flops", "per_op-roofline"])
def test_saved_model_predicts_identically_and_never_pickles(rk3399, tmp_path, name):
    train, test = rk3399
    predictor = train_kernel_predictor(train, "rk3399-arm_cpu", name)
    mean, std = predictor.predict(test)
    assert np.all(mean > 0) and np.all(std >= 0) and np.all(np.isfinite(std))
    path = predictor.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["predictor.json"]
    assert b"pickle" not in path.read_bytes()[:200]
    loaded = KernelPredictor.load(tmp_path)
    mean2, std2 = loaded.predict(test)
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(std, std2)
    assert loaded.meta["training_hash"] == predictor.meta["training_hash"]
    assert "xgboost" in loaded.meta["library_versions"]


def test_lookup_returns_measured_values_for_measured_rows(rk3399):
    train, _ = rk3399
    X = kernel_features(train, sorted(train["op"].unique()))
    model = create("lookup").fit(X, train["latency_ms"].to_numpy())
    assert model.covers(X).all()
    np.testing.assert_allclose(model.predict(X)[0], train["latency_ms"].to_numpy())


def test_models_refuse_frames_missing_their_features(rk3399):
    train, test = rk3399
    X = kernel_features(train, sorted(train["op"].unique()))
    model = create("roofline").fit(X, train["latency_ms"].to_numpy())
    with pytest.raises(ValueError):
        model.predict(X.drop(columns=["macs"]))
    assert LatencyModel.from_json(model.to_json()).feature_names == list(X.columns)
