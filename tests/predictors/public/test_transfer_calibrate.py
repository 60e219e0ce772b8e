"""Few-shot calibration of a transferred predictor, on a TopHub device left out of the transfer,
and the `python -m predictors.calibrate` CLI (good and bad input)."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codesign.space.op_instances import op_instances
from codesign.space.search_space import SearchSpace
from predictors.calibrate import calibrate, suggest
from predictors.cost_model import CostModel
from predictors.metrics import accuracy
from predictors.predictor import KernelPredictor
from predictors.public.transfer import tophub_profiles, transferred_predictor

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def left_out():
    """kirin970 left out: siblings fitted on half A of the workloads, kirin970's half B held."""
    profiles = tophub_profiles()
    keys = np.array(sorted(set(profiles["kirin970"]["key"])))
    half_a = set(np.random.default_rng(0).permutation(keys)[: len(keys) // 2])
    train = {d: r[r["key"].isin(half_a)].reset_index(drop=True) for d, r in profiles.items()}
    test = profiles["kirin970"][~profiles["kirin970"]["key"].isin(half_a)].reset_index(drop=True)
    return transferred_predictor("kirin970", train, ["snapdragon835", "rk3399"]), test


def test_ten_measurements_fix_the_scale_of_a_transferred_predictor(left_out, tmp_path):
    predictor, test = left_out
    chosen = suggest(predictor, test, 10)
    assert len(set(chosen)) == 10
    scored = np.setdiff1d(np.arange(len(test)), chosen)
    y = test["latency_ms"].to_numpy()[scored]
    before = accuracy(y, predictor.predict(test.iloc[scored])[0])
    calibrated = calibrate(predictor, test.iloc[chosen], pool=test.iloc[scored].drop(columns="latency_ms"))
    mean, std = calibrated.predict(test.iloc[scored])
    after = accuracy(y, mean)
    assert before["within_10pct"] < 0.1  # the spec sheets alone miss kirin970's level
    assert after["within_10pct"] > before["within_10pct"] + 0.25
    assert after["mape_pct"] < 0.5 * before["mape_pct"] and after["spearman"] > 0.95
    assert np.all(std > 0)
    assert calibrated.meta["prediction_provenance"] == "transferred"
    assert calibrated.meta["calibration"]["n_measurements"] == 10
    calibrated.save(tmp_path)
    np.testing.assert_array_equal(KernelPredictor.load(tmp_path).predict(test.iloc[scored])[0], mean)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "predictors.calibrate", *args], capture_output=True,
                          text=True, cwd=REPO)


def test_calibrate_cli_writes_a_predictor_the_search_can_load(left_out, tmp_path):
    predictor, test = left_out
    base = predictor.save(tmp_path / "base").parent
    few = tmp_path / "few.csv"
    test.iloc[suggest(predictor, test, 10)].to_csv(few, index=False)
    out = tmp_path / "calibrated"
    result = _cli("--device", "kirin970", "--profile", str(few), "--predictor", str(base), "--out", str(out))
    assert result.returncode == 0, result.stderr
    cost = CostModel.load(out)
    assert cost.provenance == "transferred"
    instances = op_instances(SearchSpace(), (180, 320))
    mean, std = np.array(list(cost.latency_table(instances).values())).T
    assert len(mean) == instances["key"].nunique()
    assert np.all(np.isfinite(mean) & (mean > 0) & np.isfinite(std) & (std > 0))


@pytest.mark.parametrize("case", ["unknown_device", "empty", "missing_columns", "too_few", "unknown_op",
                                  "other_device"])
def test_calibrate_cli_rejects_bad_input_with_one_error_line(case, left_out, tmp_path):
    _, test = left_out
    profile, device = tmp_path / "few.csv", "pixel7"
    rows = test.head(10).assign(device="pixel7")
    if case == "unknown_device":
        device = "pixel99"
        rows.to_csv(profile, index=False)
    elif case == "empty":
        profile.write_text("")
    elif case == "missing_columns":
        rows.drop(columns=["latency_ms"]).to_csv(profile, index=False)
    elif case == "too_few":
        rows.head(2).to_csv(profile, index=False)
    elif case == "unknown_op":
        rows.assign(op="transformer").to_csv(profile, index=False)
    elif case == "other_device":
        rows.assign(device="kirin970").to_csv(profile, index=False)
    result = _cli("--device", device, "--profile", str(profile), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert not (tmp_path / "out").exists()


def test_calibrate_cli_suggests_distinct_search_space_kernels_to_measure(tmp_path):
    pool = tmp_path / "instances.csv"
    instances = op_instances(SearchSpace(), (180, 320))
    instances.to_csv(pool, index=False)
    result = _cli("--device", "pixel7", "--pool", str(pool), "--suggest", "10")
    assert result.returncode == 0, result.stderr
    keys = result.stdout.split()
    assert len(set(keys)) == 10 and set(keys) <= set(instances["key"])
    assert len({k.split(":")[0] for k in keys}) > 1  # not all one op
