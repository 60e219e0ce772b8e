"""train / evaluate / import_tophub CLIs: held-out split hygiene and bad-input exit codes."""
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from codesign_common import public_data
from predictors.evaluate import evaluate
from predictors.predictor import KernelPredictor
from predictors.public.import_tophub import device_name, parse_record
from predictors.train import train

REPO = Path(__file__).resolve().parents[2]
LOG = public_data.tophub_log("arm_cpu_v0.08.log")


def run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True)


def test_device_names_come_from_parsed_options_not_raw_targets():
    assert device_name("llvm -device=arm_cpu -model=rk3399 -mtriple=aarch64-linux-gnu -mattr=+neon") == \
        device_name("llvm -device=arm_cpu -model=rk3399 -mtriple=aarch64-linux-gnu") == "rk3399-arm_cpu"
    assert device_name("opencl -model=rk3399 -device=mali") == device_name("opencl -device=mali -model=rk3399") \
        == "rk3399-mali"


def test_tophub_record_seconds_become_milliseconds():
    line = ('{"input": ["llvm -device=arm_cpu -model=pynq", "conv2d_nchw_spatial_pack.arm_cpu", '
            '[["TENSOR", [1, 64, 56, 56], "float32"], ["TENSOR", [128, 64, 3, 3], "float32"], [2, 2], '
            '[1, 1, 1, 1], [1, 1], "float32"], {}], "config": {}, "result": [[0.002, 0.004], 0, 1.0, 0]}')
    row = parse_record(line)
    assert row["latency_ms"] == pytest.approx(3.0) and row["latency_std_ms"] == pytest.approx(1.0)
    assert (row["out_h"], row["macs"]) == (28, 128 * 64 * 9 * 28 * 28)
    assert row["provenance"] == "public:tophub" and row["device"] == "pynq-arm_cpu"


def test_evaluation_never_scores_training_keys(tmp_path):
    assert run("predictors.public.import_tophub", str(LOG), "--out", str(tmp_path)).returncode == 0
    profile = tmp_path / "kirin970-arm_cpu.csv"
    predictor = train("kirin970-arm_cpu", profile, "roofline", tmp_path / "model", holdout=0.3, seed=1)
    rows = pd.read_csv(profile)
    table = evaluate(tmp_path / "model", profile)
    overall = table[table["scope"] == "all"].iloc[0]
    trained = set(KernelPredictor.load(tmp_path / "model").meta["training_keys"])
    assert trained == set(predictor.meta["training_keys"])
    assert overall["n"] == (~rows["key"].isin(trained)).sum() > 0.25 * len(rows)
    assert overall["excluded_training_rows"] == rows["key"].isin(trained).sum()
    result = run("predictors.evaluate", "--model", str(tmp_path / "model"), "--profile", str(profile),
                 "--out", str(tmp_path / "eval.csv"))
    assert result.returncode == 0 and pd.read_csv(tmp_path / "eval.csv")["n"].iloc[0] == overall["n"]


def test_bad_inputs_exit_2_with_one_error_line_and_no_output(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("key,op,latency_ms\nx,conv,1.0\n")
    cases = [("predictors.train", "--device", "d", "--profile", str(bad), "--out", str(tmp_path / "m")),
             ("predictors.train", "--device", "d", "--profile", str(tmp_path / "none.csv"), "--out", str(tmp_path / "m")),
             ("predictors.evaluate", "--model", str(tmp_path / "absent"), "--profile", str(bad), "--out", str(tmp_path / "e.csv")),
             ("predictors.public.import_tophub", str(bad), "--out", str(tmp_path / "t"))]
    for args in cases:
        result = run(*args)
        assert result.returncode == 2, args
        assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error: "), result.stderr
    assert not (tmp_path / "m").exists() and not (tmp_path / "e.csv").exists() and not (tmp_path / "t").exists()
