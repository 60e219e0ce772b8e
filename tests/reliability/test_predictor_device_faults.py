"""Issue 17, predictors/ and devices/ commands: bad input is one `error:` line on stderr and exit
code 2 with no traceback, output paths are checked before any work, and nothing is left
half-written (no predictor.json, no temporary file). Cases 8, 14, 15 and the usage lines;
also the one predictor lookup (predictors.store.find_predictor) that calibrate uses."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from predictors.kernel_features import conv_row
from predictors.predictor import KernelPredictor, train_kernel_predictor
from predictors.profile_io import read_kernel_profile
from predictors.store import find_predictor

REPO = Path(__file__).resolve().parents[2]
DEVICE = "d"


def profile_rows(n: int = 10, device: str = DEVICE) -> pd.DataFrame:
    """`n` distinct conv kernels of `device`, latency roughly proportional to MACs."""
    rows = []
    for i in range(n):
        row = conv_row("conv3x3" if i % 2 else "conv2d", 8 + 8 * i, 16, 3, 16, 16)
        rows.append({"device": device, **row, "latency_ms": 1e-7 * row["macs"] + 0.01 * (i + 1),
                     "provenance": "measured"})
    return pd.DataFrame(rows)


def write_profile(path: Path, rows: pd.DataFrame, **cells) -> Path:
    """Write `rows` as CSV, with cell overrides `column=(row_position, text)` written verbatim."""
    rows = rows.astype(object)
    for column, (position, text) in cells.items():
        rows.loc[position, column] = text
    rows.to_csv(path, index=False)
    return path


def leftovers(folder: Path) -> list[str]:
    """Temporary or half-written files anywhere under `folder`."""
    return [str(p) for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def run_cli(module: str, argv, capsys) -> tuple[int, str, str]:
    """Run `module`.main(argv) in this process; (exit code, stderr, stdout), exit code None or 0
    on success. An exception other than SystemExit (a traceback) fails the test."""
    main = __import__(module, fromlist=["main"]).main
    try:
        code = main([str(a) for a in argv])
    except SystemExit as done:
        code = done.code
    captured = capsys.readouterr()
    return code, captured.err, captured.out


def assert_one_error_line(code: int, err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# Case 8: non-finite latencies never reach a predictor, and a predictor with NaN/inf is never
# written or loaded.

@pytest.mark.parametrize("model", ["per_op-roofline", "xgb"])
@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "0", "-1"])
def test_train_refuses_non_finite_or_non_positive_latency_naming_file_row_column(model, text, tmp_path, capsys):
    profile = write_profile(tmp_path / "p.csv", profile_rows(), latency_ms=(3, text))
    out = tmp_path / "model"
    code, err, _ = run_cli("predictors.train", ["--device", DEVICE, "--profile", profile, "--model", model,
                                             "--out", out], capsys)
    assert_one_error_line(code, err, str(profile), "data row 4 (line 5)", "column latency_ms")
    assert not out.exists() and not leftovers(tmp_path)


def test_calibrate_refuses_an_infinite_latency(tmp_path, capsys):
    rows = profile_rows(device="pixel7")
    profile = write_profile(tmp_path / "few.csv", rows, latency_ms=(0, "inf"))
    out = tmp_path / "calibrated"
    code, err, _ = run_cli("predictors.calibrate", ["--device", "pixel7", "--profile", profile, "--out", out], capsys)
    assert_one_error_line(code, err, str(profile), "data row 1 (line 2)", "column latency_ms")
    assert not out.exists() and not leftovers(tmp_path)


def _roofline(tmp_path) -> tuple[KernelPredictor, pd.DataFrame]:
    rows = profile_rows()
    return train_kernel_predictor(rows, DEVICE, "roofline"), rows


def test_save_refuses_a_predictor_holding_nan(tmp_path):
    predictor, _ = _roofline(tmp_path)
    predictor.model.coef[0] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite number at model\.coef\[0\]; not saved"):
        predictor.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_save_refuses_a_predictor_whose_training_predictions_are_not_finite(tmp_path):
    predictor, rows = _roofline(tmp_path)
    predictor.model.coef = [1e308] * len(predictor.model.coef)  # finite, but overflows to inf
    with pytest.raises(ValueError, match="predicts a non-finite latency for 10 of 10 training rows"):
        predictor.save(tmp_path / "m", rows=rows)
    assert not (tmp_path / "m").exists()


def test_load_refuses_a_predictor_holding_nan_or_infinity(tmp_path, capsys):
    predictor, rows = _roofline(tmp_path)
    path = predictor.save(tmp_path / "m", rows=rows)
    state = json.loads(path.read_text())
    assert KernelPredictor.load(tmp_path / "m").device == DEVICE
    for constant in ("NaN", "Infinity", "-Infinity"):
        state["model"]["coef"][1] = "@"
        path.write_text(json.dumps(state).replace('"@"', constant))
        with pytest.raises(ValueError, match=rf"{constant} at model\.coef\[1\]"):
            KernelPredictor.load(tmp_path / "m")
    profile = write_profile(tmp_path / "p.csv", rows)
    code, err, _ = run_cli("predictors.evaluate", ["--model", tmp_path / "m", "--profile", profile,
                                                "--out", tmp_path / "e.csv"], capsys)
    assert_one_error_line(code, err, "non-finite")
    assert not (tmp_path / "e.csv").exists() and not leftovers(tmp_path)


def test_committed_predictors_hold_only_finite_numbers():
    for folder in sorted((REPO / "predictors" / "trained").iterdir()):
        if (folder / "predictor.json").is_file():
            KernelPredictor.load(folder)  # raises on NaN / Infinity


# Case 14: output paths are checked before any work starts.

def test_evaluate_out_onto_a_folder_and_train_out_onto_a_file_exit_2(tmp_path, capsys):
    rows = profile_rows()
    profile = write_profile(tmp_path / "p.csv", rows)
    predictor = train_kernel_predictor(rows, DEVICE, "roofline")
    predictor.save(tmp_path / "m")
    folder = tmp_path / "existing"
    folder.mkdir()
    code, err, _ = run_cli("predictors.evaluate", ["--model", tmp_path / "m", "--profile", profile,
                                                "--out", folder], capsys)
    assert_one_error_line(code, err, "--out", "is a folder")
    assert list(folder.iterdir()) == [] and not leftovers(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("keep")
    for out in (blocker, blocker / "sub"):
        code, err, _ = run_cli("predictors.train", ["--device", DEVICE, "--profile", profile, "--model", "roofline",
                                                 "--out", out], capsys)
        assert_one_error_line(code, err, "--out")
    assert blocker.read_text() == "keep" and not leftovers(tmp_path)


@pytest.mark.parametrize("module", ["predictors.public.import_tophub", "predictors.calibrate", "predictors.public.transfer"])
def test_other_predictor_commands_refuse_a_file_as_output_folder(module, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep")
    profile = write_profile(tmp_path / "p.csv", profile_rows(device="pixel7"))
    argv = {"predictors.public.import_tophub": [tmp_path / "none.log", "--out", blocker],
            "predictors.calibrate": ["--device", "pixel7", "--profile", profile, "--out", blocker],
            "predictors.public.transfer": ["--out", blocker]}[module]
    code, err, _ = run_cli(module, argv, capsys)
    assert_one_error_line(code, err, "--out", "is a file")
    assert blocker.read_text() == "keep" and not leftovers(tmp_path)


def test_measure_checks_its_outputs_before_building_anything(tmp_path, capsys, monkeypatch):
    import codesign.hardware.measure as measure

    def no_work(*args, **kwargs):
        raise AssertionError("measure_network ran before the output paths were checked")

    monkeypatch.setattr(measure, "measure_network", no_work)
    blocker = tmp_path / "a-file"
    blocker.write_text("keep")
    common = ["--device", "local-cpu", "--arch", "espcn", "--input", "8x8"]
    for extra in (["--out", blocker / "nets.csv"], ["--out", tmp_path],
                  ["--out", tmp_path / "n.csv", "--breakdown", blocker / "calls.csv"],
                  ["--out", tmp_path / "n.csv", "--work-dir", blocker]):
        code, err, _ = run_cli("codesign.measure", common + extra, capsys)
        assert_one_error_line(code, err)
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, err, _ = run_cli("codesign.measure", common + ["--out", locked / "nets.csv"], capsys)
        assert_one_error_line(code, err, "not writable")
    assert blocker.read_text() == "keep" and not leftovers(tmp_path)


def test_profile_checks_its_output_before_measuring(tmp_path, capsys):
    code, err, _ = run_cli("codesign.profile", ["--device", "local-cpu", "--out", tmp_path], capsys)
    assert_one_error_line(code, err, "--out", "is a folder")


# Case 15: numbers and sizes.

@pytest.mark.parametrize("module", ["codesign.measure", "codesign.profile"])
@pytest.mark.parametrize("scale", ["0", "-2", "5", "x"])
def test_scale_is_2_3_or_4(module, scale, tmp_path, capsys):
    argv = ["--device", "local-cpu", "--scale", scale, "--out", tmp_path / "o.csv"]
    if module == "codesign.measure":
        argv += ["--arch", "espcn"]
    code, err, _ = run_cli(module, argv, capsys)
    assert_one_error_line(code, err, "--scale")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("column,text,says", [("cin", "abc", "'abc' is not a number"),
                                              ("cin", "", "empty cell"),
                                              ("macs", "-5", "-5 is not >= 0"),
                                              ("h", "inf", "inf is not a finite number")])
def test_train_names_file_row_and_column_of_a_bad_feature(column, text, says, tmp_path, capsys):
    profile = write_profile(tmp_path / "p.csv", profile_rows(), **{column: (6, text)})
    out = tmp_path / "model"
    code, err, _ = run_cli("predictors.train", ["--device", DEVICE, "--profile", profile, "--model", "roofline",
                                             "--out", out], capsys)
    assert_one_error_line(code, err, str(profile), "data row 7 (line 8)", f"column {column}", says)
    assert not out.exists() and not leftovers(tmp_path)


def test_calibrate_pool_names_file_row_and_column_of_a_bad_feature(tmp_path, capsys):
    pool = write_profile(tmp_path / "pool.csv", profile_rows(device="pixel7").drop(columns="latency_ms"),
                         cout=(4, "many"))
    code, err, _ = run_cli("predictors.calibrate", ["--device", "pixel7", "--pool", pool, "--suggest", "3"], capsys)
    assert_one_error_line(code, err, str(pool), "data row 5 (line 6)", "column cout", "'many' is not a number")


def test_row_numbers_count_blank_lines_as_lines(tmp_path):
    profile = write_profile(tmp_path / "p.csv", profile_rows(4), cin=(2, "abc"))
    lines = profile.read_text().splitlines()
    profile.write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n")
    with pytest.raises(ValueError, match=r"line 5\), column cin"):
        read_kernel_profile(profile)


def test_a_profile_too_small_to_hold_out_is_refused_and_holdout_is_reported(tmp_path, capsys):
    small = write_profile(tmp_path / "small.csv", profile_rows(3))
    out = tmp_path / "model"
    code, err, _ = run_cli("predictors.train", ["--device", DEVICE, "--profile", small, "--model", "roofline",
                                             "--out", out], capsys)
    assert_one_error_line(code, err, "3 distinct kernels", "1 held out", "--holdout 0")
    assert not out.exists()
    code, _, said = run_cli("predictors.train", ["--device", DEVICE, "--profile", small, "--model", "roofline",
                                                 "--holdout", "0", "--out", out], capsys)
    assert not code and KernelPredictor.load(out).meta["training_rows"] == 3
    assert "on 3 rows; 0 rows (0 kernels) held out" in said
    profile = write_profile(tmp_path / "p.csv", profile_rows(10))
    code, _, said = run_cli("predictors.train", ["--device", DEVICE, "--profile", profile, "--model", "roofline",
                                                 "--out", out], capsys)
    assert not code and "on 8 rows; 2 rows (2 kernels) held out for predictors.evaluate" in said
    assert KernelPredictor.load(out).meta["heldout_rows"] == 2


@pytest.mark.parametrize("argv", [["--holdout", "1.5"], ["--holdout", "abc"], ["--seed", "-1"],
                                  ["--model", "nope"]])
def test_train_argument_errors_are_one_line(argv, tmp_path, capsys):
    profile = write_profile(tmp_path / "p.csv", profile_rows())
    code, err, _ = run_cli("predictors.train", ["--device", DEVICE, "--profile", profile, "--out", tmp_path / "m"]
                        + argv, capsys)
    assert_one_error_line(code, err, argv[0])
    assert not (tmp_path / "m").exists()


def test_no_traceback_from_the_command_line(tmp_path):
    """The same through `python -m`: exactly one stderr line, exit 2."""
    profile = write_profile(tmp_path / "p.csv", profile_rows(), latency_ms=(0, "inf"))
    result = subprocess.run([sys.executable, "-m", "predictors.train", "--device", DEVICE, "--profile",
                             str(profile), "--model", "xgb", "--out", str(tmp_path / "m")],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "m").exists()


# Usage lines, devices.list speed.

@pytest.mark.parametrize("module", ["devices.list", "codesign.profile", "codesign.measure", "predictors.train",
                                    "predictors.evaluate", "predictors.calibrate", "predictors.public.import_tophub",
                                    "predictors.public.transfer", "predictors.list"])
def test_commands_name_themselves_as_python_m_and_argument_errors_are_one_line(module, capsys):
    code, _, out = run_cli(module, ["--help"], capsys)
    assert code == 0 and out.startswith(f"usage: python -m {module} "), out[:80]
    code, err, _ = run_cli(module, ["--no-such-option"], capsys)
    assert_one_error_line(code, err)


def test_every_benchmark_parser_names_its_module():
    """Each benchmark's --help names the command that runs it: every parser under benchmarks/
    is benchmark_parser(__spec__.name, ...), whose prog is `python -m <that module>`."""
    for path in sorted((REPO / "benchmarks").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            assert name not in ("ArgumentParser", "Parser") or path.name == "benchmark_args.py", path
            if name == "benchmark_parser":
                assert ast.unparse(node.args[0]) == "__spec__.name", path
    shown = subprocess.run([sys.executable, "-m", "benchmarks.search.budget_hit", "--help"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert shown.stdout.startswith("usage: python -m benchmarks.search.budget_hit "), shown.stderr


def test_local_cpu_without_tvm_is_what_tvm_detects():
    from tvm.target import codegen

    from devices import catalog, host_cpu

    assert host_cpu.detect()["mcpu"] == str(codegen.llvm_get_system_cpu())
    device = catalog.get_device("local-cpu")
    assert device.target == host_cpu.local_target()
    assert device.description.endswith(f"Detected: {host_cpu.describe()}.")


@pytest.mark.parametrize("family,model,name", [(25, 0x11, "znver4"), (25, 0x61, "znver4"), (25, 0x21, "znver3"),
                                               (25, 0x01, "znver3"), (23, 0x31, "znver2"), (23, 0x01, "znver1"),
                                               (23, 0x71, "znver2"), (26, 0x02, "znver5"), (26, 0x44, "znver5"),
                                               (26, 0x80, None), (6, 0x8f, None)])
def test_llvm_cpu_name_from_cpuinfo(family, model, name):
    from devices.host_cpu import llvm_cpu_from_cpuinfo

    info = {"vendor_id": "AuthenticAMD", "cpu family": str(family), "model": str(model)}
    assert llvm_cpu_from_cpuinfo(info) == name
    assert llvm_cpu_from_cpuinfo({**info, "vendor_id": "HygonGenuine"}) is None
    assert llvm_cpu_from_cpuinfo({}) is None


@pytest.mark.parametrize("model,name", [(0xcf, "emeraldrapids"), (0x8f, "sapphirerapids"),
                                        (0x6a, "icelake-server"), (0xad, "graniterapids"),
                                        (0xa7, "rocketlake"), (0x55, None), (0x9e, None)])
def test_llvm_cpu_name_of_intel_xeons_from_cpuinfo(model, name):
    from devices.host_cpu import llvm_cpu_from_cpuinfo

    info = {"vendor_id": "GenuineIntel", "cpu family": "6", "model": str(model)}
    assert llvm_cpu_from_cpuinfo(info) == name
    assert llvm_cpu_from_cpuinfo({**info, "cpu family": "25"}) is None


# Issue 15: one predictor lookup.

def test_find_predictor_honours_explicit_then_environment_then_committed(tmp_path, monkeypatch):
    monkeypatch.delenv("CODESIGN_PREDICTORS", raising=False)
    assert find_predictor("pixel7") == REPO / "predictors" / "trained" / "pixel7"
    assert find_predictor("no-such-device") is None
    predictor, _ = _roofline(tmp_path)
    predictor.save(tmp_path / "runs" / "pixel7")
    monkeypatch.setenv("CODESIGN_PREDICTORS", str(tmp_path / "runs"))
    assert find_predictor("pixel7") == tmp_path / "runs" / "pixel7"
    assert find_predictor("rk3399") == REPO / "predictors" / "trained" / "rk3399"  # falls through
    assert find_predictor("pixel7", tmp_path / "runs" / "pixel7") == tmp_path / "runs" / "pixel7"
    with pytest.raises(ValueError, match="no predictor.json"):
        find_predictor("pixel7", tmp_path)


def test_calibrate_finds_its_base_predictor_through_the_environment(tmp_path, monkeypatch, capsys):
    predictor, rows = _roofline(tmp_path)
    path = predictor.save(tmp_path / "runs" / "pixel7", rows=rows)
    state = json.loads(path.read_text())
    state["model"]["coef"][0] = "@"
    path.write_text(json.dumps(state).replace('"@"', "NaN"))  # a broken copy shadows the committed one
    monkeypatch.setenv("CODESIGN_PREDICTORS", str(tmp_path / "runs"))
    profile = write_profile(tmp_path / "few.csv", profile_rows(device="pixel7"))
    code, err, _ = run_cli("predictors.calibrate", ["--device", "pixel7", "--profile", profile,
                                                 "--out", tmp_path / "out"], capsys)
    assert_one_error_line(code, err, str(path), "NaN")
    assert not (tmp_path / "out").exists()
    np.testing.assert_equal(find_predictor("pixel7"), tmp_path / "runs" / "pixel7")
