"""Network latency = overhead + per-op scales x kernel predictions + ms per GMAC, fitted on
measured networks."""
import numpy as np
import pandas as pd
import pytest

from predictors.network_overhead import (
    MIN_NETWORKS_PER_OP,
    fit_network_overhead,
    predict_networks,
)
from predictors.predictor import KernelPredictor


class _ColumnModel:
    """A stand-in latency model: each kernel row predicts its `ms` feature, std 10 %."""

    def predict(self, features):
        return features["ms"].to_numpy(float), 0.1 * features["ms"].to_numpy(float)


def _predictor() -> KernelPredictor:
    predictor = KernelPredictor("test", ["conv", "add"], _ColumnModel())
    predictor.features = lambda rows: rows
    return predictor


def _networks(n: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {f"n{i}": pd.DataFrame({"op": rng.choice(["conv", "add"], size=k), "ms": rng.uniform(1, 10, size=k),
                                   "macs": rng.uniform(1e8, 1e9, size=k)})
            for i, k in enumerate(rng.integers(4, 14, size=n))}


def _truth(kernels: pd.DataFrame, scales: dict[str, float], overhead: float, per_gmac: float) -> float:
    return overhead + float((kernels["op"].map(scales) * kernels["ms"]).sum() + per_gmac * kernels["macs"].sum() / 1e9)


def test_per_op_scales_overhead_and_gmac_cost_are_recovered():
    networks = _networks(40)
    scales = {"conv": 0.8, "add": 0.4}
    measured = {n: _truth(k, scales, 3.0, 0.5) for n, k in networks.items()}
    fitted = fit_network_overhead(_predictor(), networks, measured)
    assert fitted.op_scales == pytest.approx(scales, rel=1e-2)  # shrunk a little toward one scale
    assert (fitted.overhead_ms, fitted.ms_per_gmac) == pytest.approx((3.0, 0.5), rel=1e-2)
    held_out = _networks(5, seed=1)
    predicted = predict_networks(fitted, held_out)["mean_ms"]
    assert predicted.to_dict() == pytest.approx({n: _truth(k, scales, 3.0, 0.5) for n, k in held_out.items()},
                                                rel=1e-2)


def test_an_op_no_network_ran_takes_the_shared_scale():
    networks = _networks(30)
    measured = {n: 2.0 + 0.7 * k["ms"].sum() for n, k in networks.items()}
    fitted = fit_network_overhead(_predictor(), networks, measured)
    unseen = pd.DataFrame({"op": ["pool"], "ms": [10.0], "macs": [0.0]})
    mean, std = fitted.in_network(unseen)
    assert fitted.kernel_scale == pytest.approx(0.7, rel=1e-2)
    assert mean[0] == pytest.approx(10 * fitted.kernel_scale) and std[0] == pytest.approx(fitted.kernel_scale)


def test_few_networks_fit_one_shared_scale():
    networks = _networks(MIN_NETWORKS_PER_OP - 1)
    measured = {n: 4.0 + 0.85 * k["ms"].sum() for n, k in networks.items()}
    fitted = fit_network_overhead(_predictor(), networks, measured)
    assert (fitted.overhead_ms, fitted.kernel_scale) == pytest.approx((4.0, 0.85), rel=1e-6)
    assert fitted.op_scales == {} and fitted.ms_per_gmac == 0.0
    out = predict_networks(fitted, networks)
    assert out["mean_ms"].to_dict() == pytest.approx(measured)
    assert out.loc["n0", "std_ms"] == pytest.approx(0.85 * 0.1 * networks["n0"]["ms"].sum())


def test_the_fitted_model_survives_save_and_load(tmp_path):
    from predictors.kinds.models import create

    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"op": ["conv"] * 20, "cin": 16, "cout": 16, "kernel": 3, "groups": 1, "stride": 1,
                         "h": rng.integers(8, 64, 20), "w": 32, "out_h": 32, "out_w": 32,
                         "macs": rng.uniform(1e6, 1e8, 20), "params": 1, "bytes_in": 1, "bytes_out": 1})
    predictor = KernelPredictor("test", ["conv"], create("flops"))
    predictor.model.fit(predictor.features(rows), rows["macs"].to_numpy() / 1e7)
    predictor.overhead_ms, predictor.op_scales, predictor.ms_per_gmac = 1.5, {"conv": 0.6}, 0.25
    loaded = KernelPredictor.load(predictor.save(tmp_path).parent)
    assert loaded.in_network(rows)[0] == pytest.approx(predictor.in_network(rows)[0])
    assert (loaded.overhead_ms, loaded.op_scales, loaded.ms_per_gmac) == (1.5, {"conv": 0.6}, 0.25)


def test_one_network_is_not_enough():
    with pytest.raises(ValueError, match="at least two"):
        fit_network_overhead(_predictor(), {"a": pd.DataFrame({"op": ["conv"], "ms": [1.0], "macs": [1.0]})},
                             {"a": 2.0})
