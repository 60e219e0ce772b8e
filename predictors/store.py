"""Where a device's predictor is found: one lookup for every command that loads one.

Order: an explicit folder (``--predictor DIR``), else ``$CODESIGN_PREDICTORS/<device>``, else
the committed ``predictors/trained/<device>``. A folder counts only when it holds predictor.json.
Light on purpose (no model code imported): commands call it before any work starts.
"""
from __future__ import annotations

import os
from pathlib import Path

FILE_NAME = "predictor.json"
TRAINED_DIR = Path(__file__).resolve().parent / "trained"
ENV_VAR = "CODESIGN_PREDICTORS"


def predictor_roots() -> list[Path]:
    """The folders searched for ``<device>/predictor.json``, first match wins."""
    roots = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    return roots + [TRAINED_DIR]


def find_predictor(device_name: str, explicit: str | os.PathLike | None = None) -> Path | None:
    """The predictor folder of a device: `explicit` (ValueError, one line, when it holds no
    predictor.json), else ``$CODESIGN_PREDICTORS/<device>``, else ``predictors/trained/<device>``;
    None when none of them has one."""
    if explicit:
        path = Path(explicit)
        if not (path / FILE_NAME).is_file():
            raise ValueError(f"--predictor {explicit}: no {FILE_NAME} there")
        return path
    if not device_name or "/" in device_name or device_name in (".", ".."):
        return None
    return next((root / device_name for root in predictor_roots()
                 if (root / device_name / FILE_NAME).is_file()), None)
