"""Where the public data carried by the project lies (``data/``: measured latency, see its
README for sources, licences and the conversion; ``data/sr/``: the Set5 test images and the
checksums of the SR data sets, see its PROVENANCE.md): read it from here, never from outside
the clone. Installed (`pip install .`), the folder is the package ``codesign_data``."""
from __future__ import annotations

import importlib.util
from pathlib import Path


def _data_root() -> Path:
    """The installed package ``codesign_data`` (an editable install maps it onto the clone's
    ``data/``), else ``data/`` beside this package in a clone run without installing."""
    spec = importlib.util.find_spec("codesign_data")
    if spec is not None and spec.origin:
        return Path(spec.origin).resolve().parent
    return Path(__file__).resolve().parent.parent / "data"


DATA_DIR = _data_root()
LATENCY_DIR = DATA_DIR / "latency"
TOPHUB_DIR = LATENCY_DIR / "tophub"
NB201_HELP = LATENCY_DIR / "nb201_help.csv.gz"
NB201_ARCHS = LATENCY_DIR / "nb201_archs.csv.gz"
SR_DIR = DATA_DIR / "sr"
QAIHUB_DIR = DATA_DIR / "qaihub"  # Qualcomm AI Hub zoo latencies and layer features (predictors.public.import_qaihub)


def tophub_log(name: str) -> Path:
    """A TopHub log by file name, e.g. ``arm_cpu_v0.08.log``."""
    return TOPHUB_DIR / name
