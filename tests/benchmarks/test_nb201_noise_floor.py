"""nb201_noise_floor: the best share reached is read from predictor_nb201.csv's per-device rows,
never from the few-shot rows beside them."""
import pandas as pd

from benchmarks.prediction.nb201_noise_floor import best_reached
from benchmarks.prediction.predictor_nb201 import FEW_SHOT, PER_DEVICE


def test_the_best_share_reached_reads_the_per_device_rows_only(tmp_path):
    path = tmp_path / "predictor_nb201.csv"
    row = {"part": PER_DEVICE, "device": "pixel3", "train_size": 900, "subset": "all"}
    pd.DataFrame([{**row, "model": "xgb", "within_10pct": 0.9}, {**row, "model": "roofline", "within_10pct": 0.95},
                  {**row, "train_size": 100, "model": "xgb", "within_10pct": 0.97},
                  {"part": FEW_SHOT, "target": "pixel3", "subset": "all", "within_10pct": 1.0}]).to_csv(path, index=False)
    assert best_reached(path).to_dict("records") == [
        {"device": "pixel3", "best_train_size": 900, "best_model": "roofline", "best_within_10pct": 0.95}]
