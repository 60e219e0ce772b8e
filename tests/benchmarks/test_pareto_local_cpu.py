"""benchmarks.search.pareto_local_cpu: only this host's searched networks, trained alike, are compared."""
import pandas as pd
import pytest

from benchmarks.search.pareto_local_cpu import on_or_above_front, searched_rows
from codesign_common.cli import UsageError


def hits(**overrides) -> pd.DataFrame:
    row = {"runtime": "onnxruntime", "host_id": "host-a", "budget_ms": 20.0, "measured_ms": 18.0,
           "measured_median_ms": 19.0, "statistic": "min", "measurement": "measured: ...",
           "foreign_cpu_share": 0.01, "psnr": 29.9, "ssim": 0.82, "gmacs": 1.0, "params": 5e4,
           "lr_h": 90, "lr_w": 160, "finetune_steps": 3000, "trials": 8}
    return pd.DataFrame([{**row, **overrides}])


def test_searched_rows_of_this_host_and_runtime_only(tmp_path):
    path = tmp_path / "hits.csv"
    pd.concat([hits(), hits(host_id="host-b", budget_ms=40.0), hits(runtime="tvm", host_id="host-b", budget_ms=60.0)]
              ).to_csv(path, index=False)
    rows = searched_rows(path, "onnxruntime", "host-a", 3000)
    assert rows.name.tolist() == ["searched 20 ms"]
    assert rows.measured_ms.tolist() == [18.0] and rows.statistic.tolist() == ["min"]
    with pytest.raises(UsageError, match="no tvm row of this host"):
        searched_rows(path, "tvm", "host-a", 3000)


def test_searched_points_keep_their_budget_hit_columns_and_are_read_again_from_the_pareto_csv(tmp_path):
    hits(predicted_ms=17.0).to_csv(tmp_path / "hits.csv", index=False)
    points = searched_rows(tmp_path / "hits.csv", "onnxruntime", "host-a", 3000)
    reference = {"kind": "reference", "name": "espcn", "measured_ms": 3.0, "psnr": 29.5,
                 "runtime": "onnxruntime", "host_id": "host-a"}
    pareto = tmp_path / "pareto.csv"
    pd.concat([points, pd.DataFrame([reference])]).to_csv(pareto, index=False)
    again = searched_rows(pareto, "onnxruntime", "host-a", 3000)
    assert again.kind.tolist() == ["searched"] and again.name.tolist() == ["searched 20 ms"]
    assert again.predicted_ms.tolist() == [17.0] and again.steps.tolist() == [3000]


def test_searched_rows_fine_tuned_otherwise_are_refused(tmp_path):
    path = tmp_path / "hits.csv"
    hits(finetune_steps=100).to_csv(path, index=False)
    with pytest.raises(UsageError, match=r"fine-tuned for \[100\] steps"):
        searched_rows(path, "onnxruntime", "host-a", 3000)
    with pytest.raises(UsageError, match="does not exist"):
        searched_rows(tmp_path / "none.csv", "onnxruntime", "host-a", 3000)


def test_a_searched_net_is_below_the_front_only_when_a_reference_is_faster_and_better():
    refs = pd.DataFrame({"measured_ms": [10.0, 50.0], "psnr": [29.0, 30.0]})
    searched = pd.DataFrame({"measured_ms": [9.0, 12.0, 60.0, 50.0], "psnr": [28.0, 29.5, 29.9, 30.0]})
    assert on_or_above_front(searched, refs) == [True, True, False, True]
