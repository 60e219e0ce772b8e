"""Shared CLI plumbing: one `error: ...` line and exit 2 on bad input; atomic CSV writes."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd


def fail(message: str) -> None:
    """Print one `error:` line on stderr and exit with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def write_csv_atomic(frame: pd.DataFrame, path) -> Path:
    """Write `frame` to `path` through a temporary file and os.replace (no half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path
