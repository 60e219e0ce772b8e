import pandas as pd

from predictors.profile_io import read_kernel_profile
from predictors.kernel_features import KERNEL_COLUMNS


def test_untuned_tvm_rows_never_train_a_predictor(tmp_path):
    row = {c: 1 for c in KERNEL_COLUMNS}
    rows = [{**row, "key": f"k{i}", "op": "conv3x3", "latency_ms": 1.0 + i,
             "provenance": p} for i, p in enumerate(["measured", "measured:untuned", "measured"])]
    path = tmp_path / "p.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    assert read_kernel_profile(path)["key"].tolist() == ["k0", "k2"]
