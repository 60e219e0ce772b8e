"""networks_runtime_local_cpu: every runtime's rows in one CSV; the summary is computed from them
per runtime and host, never stored."""
import pandas as pd
import pytest

from benchmarks.latency.networks_runtime_local_cpu import (
    LOO_ESTIMATES,
    PROVENANCE,
    summarise,
)


def _rows(runtime: str, predicted: list[float], provenance: str = PROVENANCE) -> pd.DataFrame:
    return pd.DataFrame({"runtime": runtime, "host_id": "zen5", "statistic": "min", "provenance": provenance,
                         "measured_ms": [10.0, 20.0, 30.0], "predicted_ms": predicted,
                         "kernel_sum_ms": [5.0, 10.0, 15.0], "retest_ms": [10.5, 20.0, 31.0]})


def test_the_summary_scores_each_runtime_apart():
    rows = pd.concat([_rows("onnxruntime", [10.0, 21.0, 30.0]), _rows("tvm", [15.0, 30.0, 45.0])])
    summary = summarise(rows).set_index(["runtime", "estimate"])
    assert summary.loc[("onnxruntime", "network_model_loo"), "within_10pct"] == 1.0
    assert summary.loc[("tvm", "network_model_loo"), "within_10pct"] == 0.0
    assert summary.loc[("tvm", "kernel_sum"), "mape_pct"] == pytest.approx(50.0)
    assert summary.loc[("tvm", "retest (ceiling)"), "n"] == 3


def test_rows_of_the_earlier_network_model_keep_its_name_in_the_summary():
    earlier = next(p for p in LOO_ESTIMATES if p != PROVENANCE)
    summary = summarise(_rows("onnxruntime", [10.0, 20.0, 30.0], earlier))
    assert summary.estimate.tolist() == ["overhead_plus_scaled_kernel_sum_loo", "kernel_sum", "retest (ceiling)"]
