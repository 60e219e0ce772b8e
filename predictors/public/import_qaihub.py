"""Qualcomm AI Hub model zoo (quic/ai-hub-models) measured latencies → whole-network profile rows.

    python -m predictors.public.import_qaihub REPO_GIT_DIR --commit COMMIT --out data/qaihub/perf.csv.gz

Reads every ``qai_hub_models/models/<model>/perf.yaml`` (and its ``info.yaml``) at COMMIT of a
clone (a bare git dir is enough) and writes one row per (model, component, precision, device,
runtime) job: the profile CSV schema (docs/architecture.md) with ``op = network``,
``key = network:<model>[:<component>]``, ``latency_ms`` = the zoo's
``inference_time_milliseconds``, ``provenance = public:qai-hub``, plus the columns of
``EXTRA``: runtime, precision, primary compute unit, layer counts, tool versions (JSON),
the published input resolution (info.yaml text), job id and commit. The kernel columns
(cin … bytes_out) stay empty: the layer features of the models built here lie in
``data/qaihub/features.csv`` (predictors.public.qaihub_features).

Skipped, each with one line on stderr, never a crash: language and diffusion models
(info.yaml domain ``Generative AI`` or use case ``Text Generation``: LLMs, BERTs, Stable
Diffusion), jobs whose status is not ``Passed`` or that give no latency, and runtimes outside
``RUNTIMES`` (e.g. ``genie``, the LLM runtime).
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from codesign_common.atomic import write_bytes_atomic
from codesign_common.cli import Parser, UsageError, check_output_file, cli_main

SCHEMA = ["device", "key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h",
          "out_w", "macs", "params", "bytes_in", "bytes_out", "latency_ms", "latency_std_ms",
          "repeats", "trials", "backend", "target", "provenance"]
EXTRA = ["model", "component", "runtime", "precision", "compute_unit", "layers_total",
         "layers_npu", "layers_gpu", "layers_cpu", "tool_versions", "input_resolution", "job_id",
         "commit"]
COLUMNS = SCHEMA + EXTRA
RUNTIMES = ("tflite", "qnn_dlc", "onnx", "qnn_context_binary", "precompiled_qnn_onnx")
PROVENANCE = "public:qai-hub"
MODELS_DIR = "qai_hub_models/models"


def skip_reason(info: dict) -> str | None:
    """Why a model is not imported (a language or diffusion model), or None."""
    domain, use = str(info.get("domain", "")), str(info.get("use_case", ""))
    if domain == "Generative AI" or use == "Text Generation":
        return f"language/diffusion model (domain {domain!r}, use case {use!r})"
    return None


def perf_rows(model: str, perf_text: str, info: dict, commit: str) -> tuple[list[dict], list[str]]:
    """Rows (COLUMNS) of one model's perf.yaml text and the lines saying what was skipped."""
    reason = skip_reason(info)
    if reason:
        return [], [f"{model}: skipped, {reason}"]
    try:
        perf = yaml.safe_load(perf_text) or {}
    except yaml.YAMLError as err:
        return [], [f"{model}: skipped, unreadable perf.yaml ({str(err).splitlines()[0]})"]
    resolution = str((info.get("technical_details") or {}).get("Input resolution", ""))
    rows, skipped = [], []
    for precision, pv in (perf.get("precisions") or {}).items():
        components = (pv or {}).get("components") or {}
        for component, cv in components.items():
            name = model if len(components) == 1 else f"{model}:{component}"
            for device, dv in ((cv or {}).get("performance_metrics") or {}).items():
                for runtime, job in (dv or {}).items():
                    where = f"{name} {precision} {device} {runtime}"
                    if runtime not in RUNTIMES:
                        skipped.append(f"{where}: skipped, unknown runtime")
                        continue
                    job = job or {}
                    latency = job.get("inference_time_milliseconds")
                    if job.get("job_status") != "Passed":
                        skipped.append(f"{where}: skipped, job status {job.get('job_status')!r}")
                        continue
                    if not isinstance(latency, (int, float)) or not latency > 0:
                        skipped.append(f"{where}: skipped, no latency ({latency!r})")
                        continue
                    layers = job.get("layer_counts") or {}
                    rows.append({
                        "device": device, "key": f"network:{name}", "op": "network",
                        "latency_ms": float(latency), "backend": f"qai-hub:{runtime}",
                        "target": device, "provenance": PROVENANCE, "model": model,
                        "component": component, "runtime": runtime, "precision": precision,
                        "compute_unit": job.get("primary_compute_unit", ""),
                        **{f"layers_{k}": layers.get(k, 0) for k in ("total", "npu", "gpu", "cpu")},
                        "tool_versions": json.dumps(job.get("tool_versions") or {}, sort_keys=True),
                        "input_resolution": resolution, "job_id": job.get("job_id", ""),
                        "commit": commit})
    return rows, skipped


def _git(git_dir: Path, *args: str) -> str:
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True)
    if done.returncode:
        raise UsageError(f"git {' '.join(args)} in {git_dir}: {done.stderr.strip().splitlines()[-1]}")
    return done.stdout


def import_qaihub(git_dir, commit: str = "HEAD", log=sys.stderr) -> pd.DataFrame:
    """All rows of the zoo at ``commit`` of the clone ``git_dir`` (COLUMNS); one line per
    skipped model or job on ``log``."""
    git_dir = Path(git_dir)
    sha = _git(git_dir, "rev-parse", f"{commit}^{{commit}}").strip()
    paths = [p for p in _git(git_dir, "ls-tree", "-r", "--name-only", sha, MODELS_DIR).splitlines()
             if p.endswith("/perf.yaml") and p.count("/") == 3]
    rows = []
    for path in sorted(paths):
        model = path.split("/")[2]
        try:
            info = yaml.safe_load(_git(git_dir, "show", f"{sha}:{MODELS_DIR}/{model}/info.yaml")) or {}
        except UsageError:
            info = {}
        found, skipped = perf_rows(model, _git(git_dir, "show", f"{sha}:{path}"), info, sha)
        rows += found
        for line in skipped:
            print(line, file=log)
    if not rows:
        raise UsageError(f"{git_dir} at {sha[:12]}: no perf.yaml rows found under {MODELS_DIR}")
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def write_rows(rows: pd.DataFrame, path) -> Path:
    """Write rows as CSV (gzip when the name ends in .gz, with a fixed mtime so the same rows
    give the same bytes), atomically."""
    import gzip

    text = rows.to_csv(index=False).encode()
    data = gzip.compress(text, mtime=0) if str(path).endswith(".gz") else text
    return write_bytes_atomic(path, data)


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.public.import_qaihub", description=__doc__.split("\n")[0])
    parser.add_argument("repo", help="git dir of a quic/ai-hub-models clone (bare is enough)")
    parser.add_argument("--commit", default="HEAD", help="commit to read (default HEAD)")
    parser.add_argument("--out", required=True, help="CSV (.csv or .csv.gz) to write")
    parser.add_argument("--quiet", action="store_true", help="do not list the skipped jobs")
    args = parser.parse_args(argv)
    out = check_output_file(args.out)
    if not Path(args.repo).is_dir():
        raise UsageError(f"{args.repo}: not a folder")
    log = io.StringIO() if args.quiet else sys.stderr
    rows = import_qaihub(args.repo, args.commit, log)
    write_rows(rows, out)
    print(f"{len(rows)} rows, {rows['model'].nunique()} models, {rows['device'].nunique()} devices "
          f"at {rows['commit'].iloc[0][:12]} -> {out}")


if __name__ == "__main__":
    main()
