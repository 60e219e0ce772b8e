"""Where the project keeps what it makes on a user's machine (self-made profiles and
predictors, tuning records): ``$CODESIGN_CACHE``, else ``~/.cache/codesign``."""
from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache folder (not created here)."""
    return Path(os.environ.get("CODESIGN_CACHE") or Path.home() / ".cache" / "codesign")
