"""predictors.public.import_qaihub on a small perf.yaml fixture: what is kept, what is skipped with a
line (failed job, unknown runtime, no latency, language model), never a crash."""
import io
import subprocess
import sys

import pytest

from predictors.public.import_qaihub import (
    COLUMNS,
    PROVENANCE,
    import_qaihub,
    perf_rows,
)

INFO = {"domain": "Computer Vision", "use_case": "Super Resolution",
        "technical_details": {"Input resolution": "128x128"}}
PERF = """
supported_devices:
- Samsung Galaxy S24
- Samsung Galaxy S23
precisions:
  float:
    components:
      XLSR:
        performance_metrics:
          Samsung Galaxy S24:
            tflite:
              job_id: j1
              job_status: Passed
              inference_time_milliseconds: 1.456
              primary_compute_unit: NPU
              layer_counts: {total: 19, npu: 19}
              tool_versions: {tflite: 2.17.0}
            qnn_dlc:
              job_id: j2
              job_status: Failed
            mystery_runtime:
              job_id: j3
              job_status: Passed
              inference_time_milliseconds: 0.3
            onnx:
              job_id: j4
              job_status: Passed
              inference_time_milliseconds: null
          Samsung Galaxy S25: null
"""


def test_kept_row_has_schema_latency_and_provenance():
    rows, skipped = perf_rows("xlsr", PERF, INFO, "abc123")
    assert len(rows) == 1
    row = rows[0]
    assert set(row) <= set(COLUMNS)
    assert (row["device"], row["runtime"], row["precision"], row["compute_unit"]) == (
        "Samsung Galaxy S24", "tflite", "float", "NPU")
    assert row["latency_ms"] == 1.456 and row["provenance"] == PROVENANCE == "public:qai-hub"
    assert row["op"] == "network" and row["key"] == "network:xlsr" and row["commit"] == "abc123"
    assert row["layers_total"] == 19 and row["layers_cpu"] == 0
    assert row["input_resolution"] == "128x128"


def test_failed_job_unknown_runtime_and_missing_latency_are_skipped_with_one_line_each():
    _, skipped = perf_rows("xlsr", PERF, INFO, "abc123")
    assert len(skipped) == 3
    assert any("qnn_dlc" in s and "Failed" in s for s in skipped)
    assert any("mystery_runtime" in s and "unknown runtime" in s for s in skipped)
    assert any("onnx" in s and "no latency" in s for s in skipped)


def test_device_without_jobs_and_device_not_measured_give_no_rows():
    rows, _ = perf_rows("xlsr", PERF, INFO, "abc123")
    assert {r["device"] for r in rows} == {"Samsung Galaxy S24"}  # S25: null, S23: only listed


def test_language_model_is_skipped_with_a_reason():
    rows, skipped = perf_rows("llama", PERF, {"domain": "Generative AI", "use_case": "Text Generation"}, "c")
    assert rows == [] and len(skipped) == 1 and "language/diffusion" in skipped[0]


def test_unreadable_yaml_is_skipped_not_raised():
    rows, skipped = perf_rows("xlsr", "precisions: [unclosed", INFO, "c")
    assert rows == [] and "unreadable" in skipped[0]


def _repo(tmp_path):
    work = tmp_path / "zoo"
    (work / "qai_hub_models/models/xlsr").mkdir(parents=True)
    (work / "qai_hub_models/models/xlsr/perf.yaml").write_text(PERF)
    (work / "qai_hub_models/models/xlsr/info.yaml").write_text(
        "domain: Computer Vision\nuse_case: Super Resolution\n")
    git = ["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-qm", "fixture"], check=True)
    return work / ".git"


def test_import_from_a_git_dir_records_the_commit(tmp_path):
    log = io.StringIO()
    rows = import_qaihub(_repo(tmp_path), "HEAD", log)
    assert list(rows.columns) == COLUMNS and len(rows) == 1
    assert len(rows["commit"].iloc[0]) == 40
    assert len(log.getvalue().strip().splitlines()) == 3


def test_cli_writes_gzip_and_refuses_a_bad_repo_with_one_line(tmp_path):
    out = tmp_path / "perf.csv.gz"
    ok = subprocess.run([sys.executable, "-m", "predictors.public.import_qaihub", str(_repo(tmp_path)),
                         "--out", str(out), "--quiet"], capture_output=True, text=True)
    assert ok.returncode == 0 and out.read_bytes()[:2] == b"\x1f\x8b"
    bad = subprocess.run([sys.executable, "-m", "predictors.public.import_qaihub", str(tmp_path / "nope"),
                          "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:")
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.parametrize("commit", ["no-such-commit"])
def test_unknown_commit_is_one_error(tmp_path, commit):
    proc = subprocess.run([sys.executable, "-m", "predictors.public.import_qaihub", str(_repo(tmp_path)),
                           "--commit", commit, "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and not (tmp_path / "x.csv").exists()
