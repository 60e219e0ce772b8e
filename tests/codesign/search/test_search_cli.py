import json
import subprocess
import sys

import pandas as pd
import pytest

from codesign.search.cli import main

TINY = ["--input", "24x32", "--nf", "16", "--num-cells", "3", "--steps", "4",
        "--warmup-steps", "1", "--finetune-steps", "2", "--no-measure", "--batch-size", "2",
        "--finetune-batch-size", "2", "--finetune-patch-size", "48"]


def _run(args):
    return subprocess.run([sys.executable, "-m", "codesign.search", *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize("budget", ["50", "-5ms", "abc"])
def test_malformed_budget_is_one_error_line_and_exit_2(budget):
    proc = _run(["--device", "local-cpu", "--budget", budget, "--dry-run"])
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: budget") and len(proc.stderr.splitlines()) == 1


def test_unknown_device_lists_known_ones():
    proc = _run(["--device", "nokia3310", "--budget", "50ms"])
    assert proc.returncode == 2 and "pixel7" in proc.stderr and "local-cpu" in proc.stderr


def test_unreachable_budget_names_the_cheapest_network_and_stops(tmp_path, capsys):
    assert main(["--device", "local-cpu", "--budget", "0.0001GFLOPs", "--out",
                 str(tmp_path / "run"), *TINY]) == 2
    err = capsys.readouterr().err
    assert "below the cheapest network" in err and "GMACs" in err
    assert not (tmp_path / "run").exists()


def test_smoke_search_writes_every_output_and_meets_a_counted_budget(tmp_path):
    out = tmp_path / "run"
    assert main(["--device", "local-cpu", "--budget", "0.02GFLOPs", "--out", str(out),
                 *TINY]) == 0
    for name in ("genotype.json", "weights.safetensors", "model.onnx", "report.csv",
                 "pareto.png", "search.log"):
        assert (out / name).stat().st_size > 0, name
    report = pd.read_csv(out / "report.csv").iloc[0]
    assert report.cost_provenance == "counted" and report.cost <= 0.02
    assert report.gmacs == pytest.approx(report.cost, rel=1e-6)  # table agrees with the counter
    path = "" if pd.isna(report.path) else report.path  # the stem-only path is written empty
    assert json.loads(report.genotype)["path"] == path
    assert "not measured" in report.measurement
    # quality as the field reports it, on the carried Set5, beside bicubic on the same images
    # (MATLAB bicubic, Y in floating point, 4 px shaved: 28.43 dB, the papers' 28.42)
    assert report.set5_psnr_bicubic == pytest.approx(28.43, abs=0.02)
    assert 0 < report.set5_ssim_bicubic < 1 and 0 < report.set5_psnr < 100  # 4 steps: not yet good
    assert not (out / "search_checkpoint.pt").exists()  # deleted once the outputs are written
    assert json.loads((out / "run.json").read_text())["status"] == "complete"


def test_gflops_budget_needs_no_device_and_uses_the_720p_input(capsys):
    assert main(["--budget", "20GFLOPs", "--dry-run"]) == 0
    assert "180x320" in capsys.readouterr().out
    assert main(["--budget", "20ms", "--dry-run"]) == 2
    assert "needs --device" in capsys.readouterr().err


def _dry_run(*extra, env=None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "codesign.search", "--device", "local-cpu",
                           "--budget", "60ms", "--dry-run", *extra], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_a_local_cpu_predictor_from_an_unrecorded_host_is_transferred_with_one_warning(tmp_path):
    from predictors.store import TRAINED_DIR

    proc = _dry_run("--predictor", str(TRAINED_DIR / "local-cpu"), "--network-profile",
                    str(tmp_path / "none.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "transferred-from-unrecorded-host cost" in proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "not on this host" in warnings[0]


def test_this_hosts_own_runtime_predictor_is_predicted_without_warning(tmp_path):
    import json

    from devices.host_identity import fingerprint
    from predictors.store import TRAINED_DIR, predictor_dir

    here = fingerprint()["host_id"]
    state = json.loads((TRAINED_DIR / "local-cpu" / "predictor.json").read_text())
    state["meta"].update(host_id=here, runtime="onnxruntime")
    own = predictor_dir(tmp_path, "local-cpu", here, "onnxruntime")
    own.mkdir(parents=True)
    (own / "predictor.json").write_text(json.dumps(state))
    proc = _dry_run("--network-profile", str(tmp_path / "none.csv"),
                    env={"CODESIGN_PREDICTORS": str(tmp_path), "CODESIGN_TRAINED_DIR": str(tmp_path / "empty")})
    assert proc.returncode == 0, proc.stderr
    assert "local-cpu: predicted cost" in proc.stdout and "warning" not in proc.stderr
    tvm = _dry_run("--runtime", "tvm", "--predictor", str(own), "--network-profile", str(tmp_path / "none.csv"))
    assert "transferred-from-onnxruntime cost" in tvm.stdout  # timed in another runtime


def test_a_host_without_its_own_predictor_profiles_itself_once_and_searches_on_it(tmp_path):
    import os
    import subprocess
    import sys

    import pandas as pd

    from devices.host_identity import fingerprint

    env = {**os.environ, "CODESIGN_CACHE": str(tmp_path / "cache"), "CODESIGN_PREDICTORS": "",
           "CODESIGN_TRAINED_DIR": str(tmp_path / "no-committed-predictors")}
    args = [sys.executable, "-m", "codesign.search", "--device", "local-cpu", "--budget", "2ms",
            "--input", "8x12", "--nf", "8", "--num-cells", "2", "--steps", "2", "--warmup-steps", "1",
            "--finetune-steps", "1", "--batch-size", "1", "--patch-size", "24", "--no-measure",
            "--finetune-batch-size", "1", "--finetune-patch-size", "24",
            "--network-profile", str(tmp_path / "networks.csv"), "--out", str(tmp_path / "run")]
    first = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "profiling the space's op instances" in first.stderr
    host = fingerprint()["host_id"]
    profile = pd.read_csv(tmp_path / "cache" / "profiles" / "local-cpu" / host / "onnxruntime.csv")
    assert len(profile) == 18 and set(profile["backend"]) == {"onnxruntime"}  # the tiny space's instances
    assert (tmp_path / "cache" / "predictors" / "local-cpu" / host / "onnxruntime" / "predictor.json").is_file()
    report = pd.read_csv(tmp_path / "run" / "report.csv")
    assert report["cost_provenance"].iloc[0] == "predicted" and report["runtime"].iloc[0] == "onnxruntime"
    again = subprocess.run(args + ["--force"], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "profiling" not in again.stderr  # cached: this host is profiled once


def test_a_refused_final_timing_keeps_the_search_and_names_the_resume_command(tmp_path, capsys,
                                                                               monkeypatch):
    import codesign.search.cli
    from devices.quiet_timing import DisturbedTiming

    def refused(plan, stop=None):
        raise DisturbedTiming("timing refused: other processes used 40% of the CPU")

    monkeypatch.setattr(codesign.search.cli, "run", refused)
    out = tmp_path / "run"
    assert main(["--budget", "0.05GFLOPs", "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: timing refused")
    assert f"kept in {out}: time it again with: python -m codesign.search" in err
    assert f"--out {out}" in err and err.endswith("--resume")
