"""codesign.profile (over devices.profile): rows follow the profile CSV schema, resume skips measured keys, bad input exits 2."""
import subprocess
import sys

import pandas as pd

from codesign.hardware.profile import main
from devices.profile import profile_order
from devices.profile_csv import SCHEMA


def test_profile_rows_follow_the_schema_and_rerun_skips_measured_keys(tmp_path):
    out = tmp_path / "p.csv"
    args = ["--device", "local-cpu", "--trials", "0", "--limit", "1", "--input", "8x12", "--repeats", "2",
            "--out", str(out), "--work-dir", str(tmp_path / "db")]
    assert main(args) == 0
    first = pd.read_csv(out)
    assert list(first.columns[:len(SCHEMA)]) == SCHEMA and len(first) == 1
    row = first.iloc[0]
    assert row["provenance"] == "measured:untuned" and row["latency_ms"] > 0 and row["h"] == 8
    assert row["key"].startswith(f"{row['op']}:cin={row['cin']}:cout={row['cout']}:h=8:w=12")
    assert main(args) == 0
    second = pd.read_csv(out)
    assert len(second) == 2 and second["key"].is_unique  # the measured key was not redone


def test_profile_order_is_stable_and_deduplicated_input_stays_deduplicated():
    keys = [f"conv3x3:cin={c}:cout=8:h=8:w=8" for c in (8, 16, 24, 32)]
    assert profile_order(keys) == profile_order(list(reversed(keys)))
    assert sorted(profile_order(keys)) == sorted(keys)


def test_malformed_existing_csv_exits_2_and_is_left_alone(tmp_path):
    out = tmp_path / "bad.csv"
    out.write_text("device,key\nlocal-cpu,x\n")
    proc = subprocess.run([sys.executable, "-m", "codesign.profile", "--device", "local-cpu", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and "lacks columns" in proc.stderr
    assert out.read_text() == "device,key\nlocal-cpu,x\n"


def exit_code(argv) -> int:
    """main's return value, or the status it exits with (bad input: 2 after one error line)."""
    try:
        return main(argv)
    except SystemExit as done:
        return done.code


def test_bad_input_size_exits_2(tmp_path):
    assert exit_code(["--device", "local-cpu", "--input", "90by160", "--out", str(tmp_path / "p.csv")]) == 2


def test_rows_timed_under_load_are_dropped_for_remeasurement(tmp_path):
    from devices.profile_csv import COLUMNS, append_rows, drop_loaded_rows, read_profile

    base = {c: 1 for c in COLUMNS} | {"device": "local-cpu", "backend": "tvm-local", "op": "conv3x3"}
    rows = [base | {"key": "a", "load_1min": 0.5}, base | {"key": "b", "load_1min": 6.0},
            base | {"key": "c", "load_1min": 6.0, "device": "pixel7"}]
    out = tmp_path / "p.csv"
    append_rows(out, rows)
    assert drop_loaded_rows(out, "local-cpu", "tvm-local", 2.0) == 1
    assert sorted(read_profile(out)["key"]) == ["a", "c"]


def test_keys_measures_only_the_named_instances_and_rejects_unknown_ones(tmp_path):
    from codesign.space.op_instances import op_instances
    from codesign.space.search_space import SearchSpace

    key = op_instances(SearchSpace(), (8, 12)).key.iloc[-1]
    out = tmp_path / "p.csv"
    common = ["--device", "local-cpu", "--trials", "0", "--input", "8x12", "--repeats", "2",
              "--out", str(out), "--work-dir", str(tmp_path / "db")]
    assert main(common + ["--keys", f"{key},{key}"]) == 0
    assert pd.read_csv(out)["key"].tolist() == [key]
    assert exit_code(common + ["--keys", "conv3x3:cin=1:cout=1:h=8:w=12"]) == 2
    assert len(pd.read_csv(out)) == 1


def test_an_onnxruntime_profile_of_a_few_kernels_names_runtime_host_and_disturbance(tmp_path):
    from devices.host_identity import fingerprint

    out = tmp_path / "ort.csv"
    assert main(["--device", "local-cpu", "--runtime", "onnxruntime", "--limit", "3", "--input", "8x12",
                 "--repeats", "3", "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert len(rows) == 3 and set(rows["backend"]) == {"onnxruntime"}
    assert set(rows["provenance"]) == {"measured"} and (rows["latency_ms"] > 0).all()
    assert set(rows["host_id"]) == {fingerprint()["host_id"]}
    assert rows["runtime"].str.startswith("onnxruntime-").all()
    assert rows["foreign_cpu_share"].between(0, 1).all()


def test_a_refused_timing_skips_its_kernel_and_a_rerun_times_it(tmp_path, monkeypatch, capsys):
    from devices.backends.base import Backend
    from devices.quiet_timing import DisturbedTiming

    real, calls = Backend.run_measurement, []

    def second_refused(self, artifact):
        calls.append(1)
        if len(calls) == 2:
            raise DisturbedTiming("timing refused: other processes used 40% of the CPU")
        return real(self, artifact)

    monkeypatch.setattr(Backend, "run_measurement", second_refused)
    out = tmp_path / "ort.csv"
    args = ["--device", "local-cpu", "--runtime", "onnxruntime", "--limit", "3", "--input", "8x12",
            "--repeats", "2", "--out", str(out)]
    try:
        main(args)
    except SystemExit as exc:
        assert exc.code == 2
    assert "1 of 3 kernels were not timed" in capsys.readouterr().err
    first = list(pd.read_csv(out)["key"])
    assert len(first) == 2  # the other two are saved
    monkeypatch.setattr(Backend, "run_measurement", real)
    assert main(args) == 0  # --limit 3 new kernels: the refused one comes first, then two more
    order = profile_order(pd.read_csv(out)["key"])
    assert len(order) == 5 and [order.index(k) for k in first] == [0, 2]


def test_a_phone_cannot_be_profiled_in_a_host_runtime(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "codesign.profile", "--device", "pixel7", "--runtime",
                           "onnxruntime", "--out", str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and "this machine's CPU only" in proc.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_simulated_accelerator_is_profiled_like_any_device(tmp_path):
    """--runtime simulator: rows equal the committed simulated profile (cycles from its cache)."""
    out = tmp_path / "p.csv"
    assert main(["--device", "eyeriss_sim", "--runtime", "simulator", "--limit", "3",
                 "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    committed = pd.read_csv("devices/simulator/profiles/eyeriss_sim.csv").set_index("key")
    assert set(rows["provenance"]) == {"simulated:zigzag"} and set(rows["backend"]) == {"simulator"}
    assert rows["latency_ms"].tolist() == committed.loc[rows["key"], "latency_ms"].tolist()
    assert rows["target"].tolist() == committed.loc[rows["key"], "target"].tolist()


def test_dominant_trials_reach_the_backend_and_below_trials_exit_2(tmp_path, monkeypatch):
    import devices.profile

    seen = {}

    class Backend:
        name = "tvm-local"

        def close(self):
            pass

    def for_device(device, runtime, **options):
        seen.update(options)
        return Backend()

    monkeypatch.setattr(devices.profile, "for_device", for_device)
    out = tmp_path / "p.csv"
    common = ["--device", "local-cpu", "--input", "8x12", "--limit", "0", "--out", str(out)]
    assert main(common + ["--trials", "8", "--dominant-trials", "8"]) == 0
    assert (seen["trials"], seen["dominant_share"]) == (8, 1.0)
    assert main(common + ["--trials", "8"]) == 0
    assert seen["dominant_share"] == 4.0
    assert exit_code(common + ["--trials", "8", "--dominant-trials", "4"]) == 2
    assert not out.exists()
