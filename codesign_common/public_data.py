"""Where the public data carried by the project lies (``data/``: measured latency, see its
README for sources, licences and the conversion; ``data/sr/``: the Set5 test images and the
checksums of the SR data sets, see its PROVENANCE.md): read it from here, never from outside
the clone."""
from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
LATENCY_DIR = DATA_DIR / "latency"
TOPHUB_DIR = LATENCY_DIR / "tophub"
NB201_HELP = LATENCY_DIR / "nb201_help.csv.gz"
NB201_ARCHS = LATENCY_DIR / "nb201_archs.csv.gz"
SR_DIR = DATA_DIR / "sr"


def tophub_log(name: str) -> Path:
    """A TopHub log by file name, e.g. ``arm_cpu_v0.08.log``."""
    return TOPHUB_DIR / name
