"""The latency statistic predictors learn (devices.timing.STATISTIC, the minimum of the repeats):
read from a profile where every kernel row has it, recorded in the predictor, and never mixed
with medians in the closed loop's network profile."""
import pandas as pd

from codesign.search.closed_loop import append_network_profile, read_network_profile
from devices.timing import STATISTIC, Timing
from predictors.kernel_features import KERNEL_COLUMNS
from predictors.profile_io import read_kernel_profile
from predictors.train import train


def _profile(tmp_path, with_min: bool):
    rows = []
    for i in range(12):
        row = {c: 1 + i for c in KERNEL_COLUMNS}
        row.update(key=f"conv3x3:{i}", op="conv3x3", device="local-cpu", latency_ms=2.0 + i,
                   provenance="measured")
        if with_min:
            row["latency_min_ms"] = 1.5 + i
        rows.append(row)
    path = tmp_path / "profile.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_the_minimum_is_the_statistic_and_timing_reports_it():
    assert STATISTIC == "min"
    timing = Timing.from_seconds([0.003, 0.001, 0.002], number=1)
    assert timing.value_ms() == 1.0 and timing.value_ms("median") == 2.0


def test_profiles_with_a_minimum_teach_it_and_the_predictor_says_so(tmp_path):
    path = _profile(tmp_path, with_min=True)
    rows = read_kernel_profile(path)
    assert rows.latency_ms.tolist() == [1.5 + i for i in range(12)]
    assert rows.latency_median_ms.tolist() == [2.0 + i for i in range(12)]
    assert set(rows.latency_statistic) == {"min"}
    assert read_kernel_profile(path, statistic="median").latency_ms.tolist() == [2.0 + i for i in range(12)]
    assert train("local-cpu", path, "flops", holdout=0.0).meta["statistic"] == "min"


def test_profiles_without_a_minimum_teach_their_own_latency(tmp_path):
    path = _profile(tmp_path, with_min=False)
    rows = read_kernel_profile(path)
    assert rows.latency_ms.tolist() == [2.0 + i for i in range(12)]
    assert set(rows.latency_statistic) == {"latency_ms"}
    assert train("local-cpu", path, "flops", holdout=0.0).meta["statistic"] == "latency_ms"


def test_the_closed_loop_refits_on_networks_of_its_own_statistic_only(tmp_path):
    path = tmp_path / "networks.csv"
    lr = (90, 160)
    old = pd.DataFrame([{"device": "local-cpu", "lr_h": 90, "lr_w": 160, "measured_ms": 30.0, "genotype": "a"}])
    old.to_csv(path, index=False)  # a row from before statistics were recorded: a median
    append_network_profile(path, "local-cpu", lr, {"measured_ms": 25.0, "measured_statistic": "min", "genotype": "b"})
    append_network_profile(path, "local-cpu", lr, {"measured_ms": 27.0, "measured_statistic": "median", "genotype": "c"})
    rows = read_network_profile(path, lr)
    assert rows.genotype.tolist() == ["b"] and rows.measured_ms.tolist() == [25.0]
