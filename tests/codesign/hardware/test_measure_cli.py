"""codesign.measure (over devices.measure): a whole network as `op = network` rows from TVM and onnxruntime on this CPU."""
import pandas as pd
import pytest

from codesign.hardware.measure import main


def test_whole_network_rows_from_tvm_and_onnxruntime(tmp_path):
    out = tmp_path / "nets.csv"
    assert main(["--device", "local-cpu", "--arch", "espcn", "--input", "8x8", "--runtimes",
                 "tvm-untuned,onnxruntime", "--repeats", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df["backend"]) == ["tvm-local", "onnxruntime"]
    assert set(df["op"]) == {"network"} and set(df["key"]) == {"network:espcn:h=8:w=8"}
    assert (df["latency_ms"] > 0).all() and df["macs"].iloc[0] > 0 and df["out_h"].iloc[0] == 32
    assert df["provenance"].tolist() == ["measured:untuned", "measured"]
    assert df["fused_tasks"].iloc[0].count("*") >= 2  # several fused kernels in a network


def test_bad_runtime_and_missing_file_exit_2(tmp_path):
    for argv in (["--device", "local-cpu", "--arch", "espcn", "--runtimes", "tensorrt", "--out", str(tmp_path / "x.csv")],
                 ["--device", "local-cpu", "--onnx", str(tmp_path / "none.onnx"), "--out", str(tmp_path / "x.csv")]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
    assert not (tmp_path / "x.csv").exists()


def test_breakdown_lists_the_kernels_the_network_calls(tmp_path):
    out, breakdown = tmp_path / "nets.csv", tmp_path / "calls.csv"
    assert main(["--device", "local-cpu", "--arch", "espcn", "--input", "8x8", "--runtimes", "tvm",
                 "--trials", "0", "--repeats", "2", "--work-dir", str(tmp_path / "db"),
                 "--breakdown", str(breakdown), "--out", str(out)]) == 0
    calls = pd.read_csv(breakdown)
    kernels = calls[calls.kind == "kernel"]
    assert set(calls.network) == {"espcn"} and set(calls.device) == {"local-cpu"}
    assert len(kernels) >= pd.read_csv(out).fused_tasks.iloc[0].count("*")
    assert (calls.median_ms > 0).all()
