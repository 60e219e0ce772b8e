"""compile_local_cpu: ratios and peak shares stay within one host's rows, resuming honours the
trial budget, tuning time is logged (rows of phase tuning beside the timings) only by builds that
tuned."""
import time
from types import SimpleNamespace

import pandas as pd
import pytest

from benchmarks.latency import compile_local_cpu as bench
from benchmarks.latency.compile_local_cpu import (
    add_ratios,
    logged_tuning_s,
    replace_rows,
    seconds_per_trial,
    timed_with,
)

KEY = "network:espcn:h=90:w=160"
BUDGET = (32, 512, "flops+latency")


def _rows(host: str, peak_ms: float, tvm_ms: float, ort_ms: float) -> list[dict]:
    return [
        {"key": "peak:conv3x3", "backend": "onnxruntime", "tuned": False, "macs": 2e9,
         "latency_ms": peak_ms, "latency_min_ms": peak_ms, "host_id": host},
        {"key": KEY, "backend": "tvm-local", "tuned": True, "macs": 1e9,
         "latency_ms": tvm_ms, "latency_min_ms": tvm_ms * 0.9, "host_id": host},
        {"key": KEY, "backend": "onnxruntime", "tuned": False, "macs": 1e9,
         "latency_ms": ort_ms, "latency_min_ms": ort_ms, "host_id": host},
    ]


def test_ratios_and_peak_shares_are_per_host():
    df = add_ratios(pd.DataFrame(_rows("zen4", 20.0, 12.0, 10.0) + _rows("intel", 10.0, 5.0, 10.0)))
    zen4, intel = df[df.host_id == "zen4"], df[df.host_id == "intel"]
    assert zen4.ratio_tvm_tuned_to_ort.dropna().unique() == pytest.approx([1.2])
    assert zen4.ratio_tvm_tuned_to_ort_min.dropna().unique() == pytest.approx([1.08])
    assert intel.ratio_tvm_tuned_to_ort.dropna().unique() == pytest.approx([0.5])
    # each host's peak row is its own 100 %; the faster host's peak does not shrink the other's
    assert df[df.key.str.startswith("peak")].share_of_peak.tolist() == pytest.approx([1.0, 1.0])


def test_a_network_counts_as_timed_only_with_this_hosts_budget_and_rule():
    rows = pd.DataFrame(_rows("zen4", 20.0, 12.0, 10.0) + _rows("intel", 10.0, 5.0, 10.0))
    rows["trials_floor"], rows["dominant_trials"], rows["trial_rule"] = BUDGET
    assert timed_with(rows, KEY, "intel", BUDGET)
    assert not timed_with(rows, KEY, "intel", (32, 512, "flops"))  # another rule is timed again
    assert not timed_with(rows, KEY, "intel", (32, 128, "flops+latency"))  # and another budget
    assert not timed_with(rows, KEY, "zen5", BUDGET)  # another host's rows do not count
    assert not timed_with(rows.drop(columns="trial_rule"), KEY, "intel", BUDGET)  # rows older than rules
    assert timed_with(rows, "peak:conv3x3", "intel", None)


def test_timing_a_network_again_replaces_this_hosts_rows_only(tmp_path):
    out = tmp_path / "c.csv"
    tuning = {"network": "espcn", "host_id": "intel", "phase": "tuning", "wall_s": 9.0}
    pd.DataFrame(_rows("zen4", 20.0, 12.0, 10.0) + _rows("intel", 10.0, 5.0, 10.0) + [tuning]).to_csv(out, index=False)
    replace_rows(out, KEY, "intel", _rows("intel", 10.0, 8.0, 10.0)[1:])
    df = pd.read_csv(out)
    intel = df[(df.host_id == "intel") & (df.key == KEY)]
    assert len(intel) == 2 and intel.ratio_tvm_tuned_to_ort.unique() == pytest.approx([0.8])
    assert df[df.host_id == "zen4"].ratio_tvm_tuned_to_ort.dropna().unique() == pytest.approx([1.2])
    assert len(df) == 7 and df[df.phase == "tuning"].wall_s.tolist() == [9.0]  # the tuning log kept


class _FakeTvm:
    """Stands for the tvm-local backend: a build that tunes `tunes` trials into attempted.json."""

    def __init__(self, attempts: list, tunes: int):
        self.attempts, self.tunes = attempts, tunes

    def trials_spent(self, module, shape):
        return self.attempts[0]

    def build(self, module, shape):
        time.sleep(0.2 if self.tunes else 0.0)
        self.attempts[0] += self.tunes
        return SimpleNamespace(tuned=True)


def test_only_a_build_that_tuned_logs_its_tuning_time(tmp_path, monkeypatch):
    out, attempts = tmp_path / "c.csv", [100]
    timed = pd.DataFrame(_rows("intel", 10.0, 5.0, 10.0)).assign(phase="timing", wall_s=50.0)  # build + timing
    timed.to_csv(out, index=False)
    monkeypatch.setattr(bench.host_identity, "fingerprint", lambda: {"host_id": "intel"})
    monkeypatch.setattr(bench.host_identity, "describe", lambda fp: "vm")
    monkeypatch.setattr(bench, "tvm_backend", lambda budget: _FakeTvm(attempts, 64))
    bench.tuned_build("espcn", None, (1, 3, 9, 9), BUDGET, out)
    bench.tuned_build("espcn", None, (1, 3, 9, 9), BUDGET, out)
    monkeypatch.setattr(bench, "tvm_backend", lambda budget: _FakeTvm(attempts, 0))
    bench.tuned_build("espcn", None, (1, 3, 9, 9), BUDGET, out)  # all tuned: nothing logged
    every = pd.read_csv(out)
    assert len(every) == len(timed) + 2 and every.key.notna().sum() == len(timed)  # the timings kept
    df = every[every.phase == "tuning"]
    assert df.trials_before.tolist() == [100, 164] and df.trials_after.tolist() == [164, 228]
    assert logged_tuning_s(out, "espcn", "intel", BUDGET) == pytest.approx(df.wall_s.sum())
    assert pd.isna(logged_tuning_s(out, "espcn", "intel", (32, 128, "flops+latency")))  # another budget
    assert pd.isna(logged_tuning_s(out, "espcn", "zen4", BUDGET))
    assert df.wall_s.tolist() == pytest.approx([0.2, 0.2], abs=0.1)
    assert seconds_per_trial(out, "intel") == pytest.approx(df.wall_s.sum() / 128)  # timing rows' wall_s not
    assert pd.isna(seconds_per_trial(out, "zen4"))
    assert pd.isna(seconds_per_trial(tmp_path / "none.csv", "intel"))
    assert pd.isna(logged_tuning_s(tmp_path / "none.csv", "espcn", "intel", BUDGET))
