"""The output folder of a search run: what the run writes there, its settings and status
(``run.json``), and what ``--force`` clears and a restart tidies.

The caller holds the folder's lock (``OUT/.lock``, codesign_common.locks) around everything
here that deletes or writes.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from codesign.search.train import CHECKPOINT
from codesign.sr.checkpoint import stale_temporaries
from codesign_common.atomic import write_text_atomic

RUN_FILE = "run.json"          # the run's settings and status (running/interrupted/failed/complete)
START_NETWORKS = "networks_at_start.csv"  # the measured networks the run's costs were re-fitted on
FIRST_ROUND = "report_round0.csv"  # the closed loop's round 0 (report.csv holds every round at the end)
# What a run writes in its folder: what --force clears (nothing else is ever deleted).
RUN_FILES = (CHECKPOINT, "search_log.csv", "genotype.json", "report.csv", "weights.safetensors",
             "model.onnx", "model_tvm.so", "pareto.png", "search.log", RUN_FILE, START_NETWORKS, FIRST_ROUND)
RUN_DIRS = ("finetune", "round*")
TMP_SUFFIXES = (".tmp", ".png", ".onnx", ".so")   # codesign_common.atomic temporaries


def existing_run(out: Path) -> list[str]:
    """The files and folders of an earlier run in ``out`` (RUN_FILES, RUN_DIRS)."""
    if not out.is_dir():
        return []
    found = [n for n in RUN_FILES if (out / n).exists()]
    return found + sorted(p.name for pattern in RUN_DIRS for p in out.glob(pattern) if p.is_dir())


def clear_run(out: Path) -> None:
    """--force: delete the earlier run's files and folders (only those)."""
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    for pattern in RUN_DIRS:
        for folder in out.glob(pattern):
            if folder.is_dir():
                shutil.rmtree(folder)


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete the atomic writer's temporaries a killed run left in ``out`` and its
    fine-tuning/round folders (codesign.sr.checkpoint.stale_temporaries); returns them."""
    folders = [out, *(p for pattern in ("finetune", "round*", "round*/finetune")
                      for p in out.glob(pattern) if p.is_dir())]
    stale = [p for folder in folders for p in stale_temporaries(folder, suffixes=TMP_SUFFIXES)]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def read_run(out: Path) -> dict:
    """``run.json`` of ``out`` ({"status": …, "settings": {…}}), {} when absent or unreadable."""
    try:
        return json.loads((out / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}


def write_run(out: Path, settings: dict, status: str) -> None:
    """Record the run's settings and its status (running, interrupted, failed, complete)."""
    write_text_atomic(out / RUN_FILE, json.dumps({"status": status, "settings": settings},
                                                 indent=1) + "\n")


def setting_differences(out: Path, settings: dict) -> list[str]:
    """``--option saved (this run: now)`` for every setting of the run in ``out`` that differs
    from ``settings``."""
    old = read_run(out).get("settings") or {}
    return [f"{k} {old[k]} (this run: {settings.get(k)})" for k in settings
            if k in old and old[k] != settings.get(k)]


def finished(out: Path) -> bool:
    """Whether ``out`` holds a complete run (its report is the result)."""
    return read_run(out).get("status") == "complete" and (out / "report.csv").is_file()
