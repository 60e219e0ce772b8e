"""Network latency = overhead + scale x kernel sum, fitted on measured networks."""
import numpy as np
import pandas as pd
import pytest

from predictors.network_overhead import fit_network_overhead, predict_networks


class _SumOfColumn:
    """A stand-in kernel predictor: each kernel row predicts its `ms` column, std 10 %."""

    overhead_ms, kernel_scale = 0.0, 1.0

    def predict(self, rows):
        return rows["ms"].to_numpy(float), 0.1 * rows["ms"].to_numpy(float)


def test_overhead_and_scale_are_recovered_and_predicted():
    rng = np.random.default_rng(0)
    networks = {f"n{i}": pd.DataFrame({"ms": rng.uniform(1, 10, size=rng.integers(3, 12))})
                for i in range(12)}
    measured = {n: 4.0 + 0.85 * k["ms"].sum() for n, k in networks.items()}
    fitted = fit_network_overhead(_SumOfColumn(), networks, measured)
    assert (fitted.overhead_ms, fitted.kernel_scale) == pytest.approx((4.0, 0.85), rel=1e-6)
    out = predict_networks(fitted, networks)
    assert out["mean_ms"].to_dict() == pytest.approx(measured)
    assert out.loc["n0", "std_ms"] == pytest.approx(0.85 * 0.1 * networks["n0"]["ms"].sum())


def test_one_network_is_not_enough():
    with pytest.raises(ValueError, match="at least two"):
        fit_network_overhead(_SumOfColumn(), {"a": pd.DataFrame({"ms": [1.0]})}, {"a": 2.0})
