"""Fault injection for ``python -m codesign.search`` (issue 17: cases 1-5, 7, 9, 10, 15, 16).

Bad input: exit 2 and exactly one ``error:`` line, no traceback, nothing written. Interruption:
a clean exit naming the resume command, and the resumed run equals an uninterrupted one.
"""
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from codesign.search.cli import main
from codesign_common.locks import exclusive_lock

REPO = Path(__file__).resolve().parents[2]
TINY = ["--budget", "0.02GFLOPs", "--input", "24x32", "--nf", "8", "--num-cells", "2",
        "--warmup-steps", "1", "--finetune-steps", "2", "--no-measure", "--batch-size", "1",
        "--patch-size", "16", "--finetune-batch-size", "1", "--finetune-patch-size", "16"]
LONG = [*TINY, "--steps", "40", "--checkpoint-every-s", "0.5"]  # long enough to interrupt
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "",
       "PYTHONPATH": str(REPO)}


def _main(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _one_error(rc, err, *words):
    assert rc == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])


def _spawn(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "codesign.search", *args], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _run(args):
    return subprocess.run([sys.executable, "-m", "codesign.search", *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=300, check=False)


def _result(out: Path) -> dict:
    """What a finished run produced, minus wall times and paths."""
    report = pd.read_csv(out / "report.csv").iloc[0]
    log = pd.read_csv(out / "search_log.csv").drop(columns="step_s")
    return {"genotype": (out / "genotype.json").read_text(),
            "weights": (out / "weights.safetensors").read_bytes(),
            "psnr": report.psnr, "cost": report.cost, "log": log.to_csv(index=False)}


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    """The long search run straight through, with a second copy of it started at the same
    time into the same folder (case 2): that one refuses in one line."""
    out = tmp_path_factory.mktemp("straight") / "run"
    copies = [_spawn([*LONG, "--out", str(out)]) for _ in range(2)]
    results = [(p.returncode, *p.communicate(timeout=300)) for p in copies]
    results = [(p.returncode, so, se) for p, (_, so, se) in zip(copies, results)]
    assert sorted(rc for rc, _, _ in results) == [0, 2], [se for _, _, se in results]
    _, _, err = next(r for r in results if r[0] == 2)
    _one_error(2, err)
    assert "in use by another process" in err or "--resume" in err
    return _result(out)


def _interrupt(out: Path, signum: int) -> subprocess.CompletedProcess:
    """Start the long search, send ``signum`` once its first checkpoint is on disk."""
    proc = _spawn([*LONG, "--out", str(out)])
    deadline = time.monotonic() + 120
    while not (out / "search_log.csv").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_names_the_resume_command_and_resume_equals_uninterrupted(
        tmp_path, signum, uninterrupted):
    """Cases 4 (signal), 1 (re-run without --resume), 5 (changed setting) and 3 (stale
    temporaries)."""
    out = tmp_path / "run"
    proc = _interrupt(out, signum)
    assert proc.returncode == 128 + signum, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert f"interrupted by {signal.Signals(signum).name} at search step" in last
    assert "resume with: python -m codesign.search" in last and last.endswith("--resume")
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert not (out / "report.csv").exists() and not (out / "genotype.json").exists()
    checkpoint = (out / "search_checkpoint.pt").read_bytes()

    # 1: the same command again, without --resume, refuses and leaves the checkpoint alone
    again = _run([*LONG, "--out", str(out)])
    _one_error(again.returncode, again.stderr, "--resume", "--force")
    # 5: --resume with another setting names it
    changed = _run([*LONG, "--out", str(out), "--resume", "--steps", "41", "--seed", "3"])
    _one_error(changed.returncode, changed.stderr, "--steps 40 (this run: 41)", "--seed")
    assert (out / "search_checkpoint.pt").read_bytes() == checkpoint

    # 3: a SIGKILL during a checkpoint write leaves the atomic writer's temporaries behind
    stale = [out / ".search_checkpoint.pt.k1ll3d_x.tmp", out / ".search_log.csv.abcd_123.tmp"]
    for path in stale:
        path.write_bytes(checkpoint[:1000])

    command = shlex.split(last.split("resume with: ", 1)[1])
    assert command[:3] == ["python", "-m", "codesign.search"] and "--resume" in command
    before = pd.read_csv(out / "search_log.csv")
    resumed = _run(command[3:])
    assert resumed.returncode == 0, resumed.stderr
    # the report's wall time counts the steps before the interruption too
    steps = pd.read_csv(out / "search_log.csv")
    pd.testing.assert_frame_equal(steps.iloc[:len(before)], before)
    finetune_s = pd.read_csv(out / "finetune" / "train_log.csv").train_s.iloc[-1]
    assert pd.read_csv(out / "report.csv").search_finetune_wall_s.iloc[0] == \
        pytest.approx(steps.step_s.sum() + finetune_s, abs=0.051)
    assert not any(path.exists() for path in stale)
    assert "removed 2 temporary file(s)" in (out / "search.log").read_text()
    assert _result(out) == uninterrupted
    # a finished run deletes its big checkpoint, says so, and is not resumed again
    assert not (out / "search_checkpoint.pt").exists()
    assert "deleted the search checkpoint" in (out / "search.log").read_text()
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    # --resume of a finished run runs nothing and returns its report (benchmarks rely on it)
    done = _run(command[3:])
    assert done.returncode == 0 and "finished: its report is the result" in done.stderr
    assert f"outputs in {out}" in done.stdout
    assert _result(out) == uninterrupted


def test_a_locked_output_folder_is_refused_in_one_line(tmp_path, capsys):
    """Case 2: the output folder is locked for the whole run (OUT/.lock)."""
    out = tmp_path / "run"
    with exclusive_lock(out / ".lock", "test"):
        rc, _, err = _main([*TINY, "--steps", "2", "--out", str(out)], capsys)
    _one_error(rc, err, "in use by another process", str(out))
    assert [p.name for p in out.iterdir()] == [".lock"]


def test_a_failed_run_looks_unfinished_and_force_starts_over(tmp_path, capsys, monkeypatch):
    """Case 7 (no complete-looking folder after a failure), 1 (--force) and 10 (a budget above
    the whole space)."""
    from codesign.search import report as search_report

    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")

    def broken_export(*args, **kwargs):
        raise RuntimeError("injected export failure")

    monkeypatch.setattr(search_report, "export_onnx", broken_export)
    with pytest.raises(RuntimeError, match="injected"):
        main([*TINY, "--steps", "2", "--out", str(out)])
    assert not (out / "report.csv").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    capsys.readouterr()
    rc, _, err = _main([*TINY, "--steps", "2", "--out", str(out)], capsys)
    _one_error(rc, err, "--resume", "--force")

    monkeypatch.undo()
    # 10: 1 GFLOPs is above the dearest network of this tiny space (0.091 GMACs)
    args = [*TINY, "--steps", "2", "--out", str(out), "--force", "--budget", "1GFLOPs"]
    rc, _, _ = _main(args, capsys)
    assert rc == 0
    assert (out / "notes.txt").read_text() == "mine"  # --force deletes only the run's files
    log = (out / "search.log").read_text()
    assert "--force: cleared the earlier run" in log
    assert "above the dearest network of the space" in log
    assert "the least-regret network inside it" not in log
    report = pd.read_csv(out / "report.csv").iloc[0]
    assert report.cost < 0.85 * 1.0  # not inside the band, and the log does not claim it is
    assert not (out / "search_checkpoint.pt").exists()


@pytest.mark.parametrize("bad, words", [
    (["--steps", "0"], ["--steps", "at least 1"]),
    (["--steps", "-5"], ["--steps"]),
    (["--warmup-steps", "-1"], ["--warmup-steps"]),
    (["--finetune-steps", "-1"], ["--finetune-steps"]),
    (["--batch-size", "0"], ["--batch-size"]),            # 15
    (["--patch-size", "10"], ["--patch-size 10", "multiple of the scale"]),
    (["--patch-size", "4"], ["--patch-size 4"]),
    (["--nf", "0"], ["--nf"]),
    (["--num-cells", "0"], ["--num-cells"]),
    (["--checkpoint-every-s", "0"], ["--checkpoint-every-s"]),
    (["--strength", "nan"], ["--strength", "nan is not in [0, 5]"]),
    (["--strength", "-1"], ["--strength", "-1 is not in [0, 5]"]),
    (["--strength-step", "-0.5"], ["--strength-step", "must be above 0"]),
    (["--strength-step", "nan"], ["--strength-step"]),
    (["--order-weight", "-0.01"], ["--order-weight", "must be at least 0"]),
    (["--order-weight", "inf"], ["--order-weight"]),
    (["--resume", "--force"], ["--force"]),
])
def test_bad_schedule_is_refused_before_anything_is_written(tmp_path, capsys, bad, words):
    """Cases 7 and 15."""
    out = tmp_path / "run"
    rc, _, err = _main([*TINY, "--steps", "2", *bad, "--out", str(out)], capsys)
    _one_error(rc, err, *words)
    assert not out.exists()


@pytest.mark.parametrize("bad, words", [
    (["--data", "/no/such/folder"], ["/no/such/folder", "does not exist"]),
    (["--out", "README.md"], ["README.md is a file"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--budget", "1e400ms", "--device", "local-cpu"], ["1e400ms", "not a finite number"]),
    (["--budget", "1e400GFLOPs"], ["not a finite number"]),
    (["--patch-size", "10"], ["--patch-size"]),
])
def test_dry_run_checks_the_inputs(tmp_path, capsys, monkeypatch, bad, words):
    """Case 16: --dry-run refuses what the run would refuse, and only then says reachable."""
    monkeypatch.chdir(REPO)
    rc, out, err = _main([*TINY, "--dry-run", *bad], capsys)
    _one_error(rc, err, *words)
    assert "reachable" not in out


def test_dry_run_refuses_an_earlier_run_and_says_reachable_otherwise(tmp_path, capsys):
    out = tmp_path / "run"
    rc, text, err = _main([*TINY, "--dry-run", "--out", str(out)], capsys)
    assert rc == 0 and "is reachable" in text and not out.exists(), err
    out.mkdir()
    (out / "search_checkpoint.pt").write_bytes(b"x")
    rc, text, err = _main([*TINY, "--dry-run", "--out", str(out)], capsys)
    _one_error(rc, err, "--resume", "--force")


def test_dry_run_says_plainly_when_the_budget_is_above_the_whole_space(capsys):
    """Case 10: 5000 GFLOPs against a space whose dearest network is 1.5e3 GMACs."""
    rc, text, _ = _main(["--budget", "5000GFLOPs", "--dry-run"], capsys)
    assert rc == 0
    assert "above the dearest network" in text and "1.5e+03" in text
    assert "is reachable" not in text


def test_a_predictor_of_another_device_is_refused_unless_forced(tmp_path, capsys, monkeypatch):
    """Case 9, also through $CODESIGN_PREDICTORS (the one lookup, predictors.store)."""
    small = ["--nf", "8", "--num-cells", "2", "--dry-run"]
    local = str(REPO / "predictors" / "trained" / "local-cpu")
    rc, _, err = _main(["--device", "pixel7", "--budget", "50ms", "--predictor", local, *small],
                       capsys)
    _one_error(rc, err, "trained for local-cpu, not pixel7", "--force-predictor")
    rc, text, _ = _main(["--device", "pixel7", "--budget", "50ms", "--predictor", local,
                         "--force-predictor", *small], capsys)
    assert rc == 0 and "transferred-from-local-cpu" in text

    shutil.copytree(local, tmp_path / "pixel7")
    monkeypatch.setenv("CODESIGN_PREDICTORS", str(tmp_path))
    rc, _, err = _main(["--device", "pixel7", "--budget", "50ms", *small], capsys)
    _one_error(rc, err, str(tmp_path / "pixel7"), "trained for local-cpu")


@pytest.mark.parametrize("budget", ["50ms", "0.05s", "50 ms"])
def test_default_output_folder_uses_the_normalised_budget(tmp_path, capsys, monkeypatch, budget):
    monkeypatch.chdir(tmp_path)
    rc, text, _ = _main(["--device", "pixel7", "--budget", budget, "--nf", "8",
                         "--num-cells", "2", "--dry-run"], capsys)
    assert rc == 0 and text.rstrip().endswith("outputs would go to runs/search/pixel7-50ms")


def test_unreached_device_names_the_network_measuring_command():
    from codesign.search.report import measure_on_device
    from devices.catalog import get_device

    row = measure_on_device(None, get_device("pixel7"), (180, 320), Path("OUT"), trials=1)
    assert row["measured_ms"] is None
    assert "python -m codesign.measure --device pixel7 --genotype OUT/genotype.json" in \
        row["measurement"]
    assert "codesign.profile" not in row["measurement"]
