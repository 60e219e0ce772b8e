"""Shared CLI plumbing: one `error: ...` line and exit 2 on bad input."""
from __future__ import annotations

import sys


def fail(message: str) -> None:
    """Print one `error:` line on stderr and exit with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)
