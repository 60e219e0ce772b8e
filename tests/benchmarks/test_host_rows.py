import pandas as pd

from benchmarks.host_rows import with_other_hosts
from benchmarks.latency.retest_local_cpu import summarise


def test_a_rerun_replaces_its_hosts_rows_and_keeps_the_others(tmp_path):
    path = tmp_path / "rows.csv"
    old = pd.DataFrame({"network": ["a", "a", "a"], "runtime": ["onnxruntime", "tvm-local", "onnxruntime"],
                        "host_id": ["zen4", "zen4", "intel"], "ms": [1.0, 2.0, 3.0]})
    old.to_csv(path, index=False)
    new = pd.DataFrame({"network": ["a"], "runtime": ["onnxruntime"], "host_id": ["intel"], "ms": [4.0]})
    rows = with_other_hosts(path, new, "onnxruntime", "intel")
    assert sorted(zip(rows.runtime, rows.host_id, rows.ms)) == [
        ("onnxruntime", "intel", 4.0), ("onnxruntime", "zen4", 1.0), ("tvm-local", "zen4", 2.0)]


def test_retest_summary_is_per_host_never_across_hosts():
    def host(host_id, second):
        return pd.DataFrame({"runtime": "onnxruntime", "host_id": host_id, "first_ms": [10.0, 10.0],
                             "second_ms": second, "first_min_ms": [10.0, 10.0], "second_min_ms": second,
                             "first_foreign_cpu_share": 0.0, "second_foreign_cpu_share": 0.0})
    summary = summarise(pd.concat([host("zen4", [10.2, 10.1]), host("intel", [10.2, 13.0])],
                                  ignore_index=True)).set_index(["host_id", "statistic"])
    assert summary.loc[("zen4", "min"), "within_10pct"] == 1.0
    assert summary.loc[("intel", "min"), "within_10pct"] == 0.5
    assert summary.loc[("intel", "min"), "networks"] == 2


def test_retest_summary_separates_a_whole_host_drift_from_inconsistent_networks():
    first = [10.0, 20.0, 30.0, 40.0]
    rows = pd.DataFrame({"runtime": "onnxruntime", "host_id": "zen5", "first_ms": first,
                         "second_ms": [12.0, 24.0, 36.0, 40.0], "first_min_ms": first,
                         "second_min_ms": [12.0, 24.0, 36.0, 40.0],
                         "first_foreign_cpu_share": 0.0, "second_foreign_cpu_share": 0.0})
    summary = summarise(rows).set_index("statistic")
    assert summary.loc["min", "within_10pct"] == 0.25  # only the network that did not move
    assert summary.loc["min", "host_drift"] == 1.2
    assert summary.loc["min", "within_10pct_of_drift"] == 0.75  # 40 ms is 1/1.2 of the drift


def test_a_retest_with_other_rounds_times_both_passes_again(tmp_path, monkeypatch):
    import benchmarks.latency.retest_local_cpu as retest

    networks = {"genotype:a": None, "genotype:b": None}
    timed = []

    def time_pass(nets, runtime, rounds, trials, dominant_trials):
        timed.append(rounds)
        return pd.DataFrame({"network": list(nets), "ms": 10.0, "min_ms": 9.0, "spread": 1.1,
                             "foreign_cpu_share": 0.0, "ended": "2026-12-01T00:00:00+00:00"})

    monkeypatch.setattr(retest, "load_networks", lambda path: networks)
    monkeypatch.setattr(retest, "time_pass", time_pass)
    out = tmp_path / "retest.csv"
    retest.run(tmp_path / "n.csv", out, "onnxruntime", gap_minutes=0, rounds=7)
    retest.run(tmp_path / "n.csv", out, "onnxruntime", gap_minutes=0, rounds=7)  # done: resumed
    assert timed == [7, 7]
    retest.run(tmp_path / "n.csv", out, "onnxruntime", gap_minutes=0, rounds=60)
    assert timed == [7, 7, 60, 60]
    assert (pd.read_csv(out)["rounds"] == 60).all()
    # on TVM the trials the networks were tuned with are part of the protocol too
    retest.run(tmp_path / "n.csv", out, "tvm", gap_minutes=0, rounds=7, trials=8, dominant_trials=8)
    retest.run(tmp_path / "n.csv", out, "tvm", gap_minutes=0, rounds=7, trials=8, dominant_trials=8)
    assert timed == [7, 7, 60, 60, 7, 7]
    retest.run(tmp_path / "n.csv", out, "tvm", gap_minutes=0, rounds=7, trials=8, dominant_trials=32)
    assert timed == [7, 7, 60, 60, 7, 7, 7, 7]
    rows = pd.read_csv(out).set_index("runtime")
    assert (rows.loc["tvm", "dominant_trials"] == 32).all() and rows.loc["onnxruntime", "rounds"].eq(60).all()
    assert rows.loc["tvm", "runtime_version"].notna().all()
    assert [p.name for p in tmp_path.iterdir()] == ["retest.csv"]  # the summary is computed, not stored


def test_replace_rows_swaps_a_runs_own_rows_and_keeps_other_machines_and_schedules(tmp_path):
    from benchmarks.host_rows import replace_rows

    path = tmp_path / "baselines.csv"
    old = pd.DataFrame({"machine": ["gpu", "gpu", "cpu"], "model": ["espcn", "imdn", "espcn"],
                        "steps": [20000, 20000, 1000], "psnr": [29.9, 30.4, 29.5]})
    old.to_csv(path, index=False)
    rerun = pd.DataFrame({"machine": ["cpu", "cpu"], "model": ["espcn", "espcn"], "steps": [1000, 2000],
                          "psnr": [29.6, 29.7]})
    merged = replace_rows(path, rerun, ("machine", "model", "steps"))
    assert len(merged) == 4
    assert merged.set_index(["machine", "model", "steps"])["psnr"].to_dict() == {
        ("gpu", "espcn", 20000): 29.9, ("gpu", "imdn", 20000): 30.4,
        ("cpu", "espcn", 1000): 29.6, ("cpu", "espcn", 2000): 29.7}
    assert replace_rows(tmp_path / "none.csv", rerun, ("machine",)).equals(rerun)
