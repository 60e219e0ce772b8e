"""Where the project keeps what it makes on a user's machine (self-made profiles and
predictors, measured networks, tuning records): ``$CODESIGN_CACHE``, else
``~/.cache/codesign``. Nothing made at run time is written inside the installed package."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from codesign_common.cli import UsageError


def cache_root() -> Path:
    """The cache folder (not created here)."""
    return Path(os.environ.get("CODESIGN_CACHE") or Path.home() / ".cache" / "codesign")


def check_cache_dir(sub: str | os.PathLike = "") -> Path:
    """``cache_root() / sub``, created; UsageError (one line naming $CODESIGN_CACHE) when it
    cannot be made or written (a file there, /proc, a read-only folder), tried by creating and
    removing a file in it, before any work whose result would be cached."""
    folder = cache_root() / sub
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe."):
            pass
    except OSError as err:
        raise UsageError(f"cache folder {folder} ($CODESIGN_CACHE, default ~/.cache/codesign) "
                         f"cannot be written: {err.strerror or err}") from None
    return folder
