"""The standard SR data sets by name, where they lie, and the sha256 sums that vouch for them.

Test sets ``set5``, ``set14``, ``b100``, ``urban100``, ``manga109``; training sets ``t91``,
``bsd200``, ``291`` (= both) and ``div2k``. Every file of every set but DIV2K is listed in
``data/sr/manifest.csv`` (public source repository, commit, path, bytes, sha256; see
``data/sr/PROVENANCE.md``). Fetched sets lie under :func:`data_root` (``$CODESIGN_DATA``, else
``~/.cache/codesign/data``); Set5 is also carried in the clone (``data/sr/set5``), so it
resolves with nothing fetched. A name is accepted wherever a data folder is
(:func:`resolve_data`); an existing folder of that name in the working directory wins.
"""
from __future__ import annotations

import csv
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from codesign.sr.data.errors import DataError
from codesign_common.cache import cache_root
from codesign_common.public_data import SR_DIR

MANIFEST = SR_DIR / "manifest.csv"
CARRIED = {"set5": SR_DIR / "set5"}
DIV2K_URL = "https://data.vision.ee.ethz.ch/cvl/DIV2K/"


@dataclass(frozen=True)
class DataSet:
    """A named set: ``folder`` relative to the data root; ``parts`` for a union of sets."""

    name: str
    kind: str  # "test" or "train"
    folder: str
    parts: tuple[str, ...] = ()


SETS = {s.name: s for s in (
    DataSet("set5", "test", "set5"),
    DataSet("set14", "test", "set14"),
    DataSet("b100", "test", "b100"),
    DataSet("urban100", "test", "urban100"),
    DataSet("manga109", "test", "manga109"),
    DataSet("t91", "train", "291/t91"),
    DataSet("bsd200", "train", "291/bsd200"),
    DataSet("291", "train", "291", parts=("t91", "bsd200")),
    DataSet("div2k", "train", "div2k"),
)}
TEST_SETS = tuple(name for name, s in SETS.items() if s.kind == "test")


@dataclass(frozen=True)
class FileEntry:
    """One file of a set: its name in the set's folder and where it comes from."""

    set: str
    file: str
    repo: str
    commit: str
    path: str
    bytes: int
    sha256: str

    @property
    def url_path(self) -> str:
        """``owner/name/commit/path``, as raw.githubusercontent.com serves it."""
        return f"{self.repo}/{self.commit}/{self.path}"


def data_root() -> Path:
    """Where fetched sets lie: ``$CODESIGN_DATA``, else ``<cache>/data`` (not created here)."""
    return Path(os.environ.get("CODESIGN_DATA") or cache_root() / "data")


@functools.lru_cache(maxsize=4)
def _read_manifest(path: Path) -> tuple[FileEntry, ...]:
    with open(path, newline="") as f:
        return tuple(FileEntry(**{**row, "bytes": int(row["bytes"])}) for row in csv.DictReader(f))


def unknown_set(name: str) -> str:
    """The one-line message for a name that is no known set."""
    return f"unknown data set {name!r}; known: {', '.join(SETS)}"


def manifest(name: str) -> list[FileEntry]:
    """Files of set ``name`` in :data:`MANIFEST` (a union lists its parts'; DIV2K none)."""
    if name not in SETS:
        raise KeyError(unknown_set(name))
    names = SETS[name].parts or (name,)
    return [e for e in _read_manifest(Path(MANIFEST)) if e.set in names]


def set_folder(name: str, root: Path | None = None) -> Path:
    """Folder of set ``name`` under ``root`` (default :func:`data_root`)."""
    return (root or data_root()) / SETS[name].folder


def entry_path(entry: FileEntry, root: Path | None = None) -> Path:
    """Where ``entry`` lies once fetched."""
    return set_folder(entry.set, root) / entry.file


def is_present(name: str, root: Path | None = None) -> bool:
    """Whether every file of ``name`` lies in its folder with its recorded size (sums are
    checked by fetch, which alone writes there); DIV2K: whether its training HR folder is."""
    folder = set_folder(name, root)
    if name == "div2k":
        return (folder / "DIV2K_train_HR").is_dir()
    entries = manifest(name)
    return bool(entries) and all(
        entry_path(e, root).is_file() and entry_path(e, root).stat().st_size == e.bytes
        for e in entries)


def located(name: str, root: Path | None = None) -> Path | None:
    """Folder holding set ``name`` complete: the fetched copy, else a carried one, else None."""
    if is_present(name, root):
        return set_folder(name, root)
    return CARRIED.get(name)


def resolve_data(data: str | os.PathLike | None) -> Path | None:
    """``data`` as a folder: None stays None (the built-in photos), an existing path is kept,
    a set name gives its folder. DataError (one line saying how to get it) for a known set
    that is not present."""
    if data is None or Path(data).exists() or str(data).lower() not in SETS:
        return None if data is None else Path(data)
    name = str(data).lower()
    folder = located(name)
    if folder is not None:
        return folder
    if name == "div2k":
        raise DataError(f"DIV2K is not in {set_folder(name)}: the project keeps no sums for it; "
                        f"unpack DIV2K_train_HR.zip and DIV2K_valid_HR.zip from {DIV2K_URL} there")
    raise DataError(f"data set {name!r} is not in {set_folder(name)}; get it with: "
                    f"python -m codesign.data fetch {name}")


def present_test_sets(root: Path | None = None) -> list[str]:
    """Test sets available here (Set5 always: it is carried), in :data:`TEST_SETS` order."""
    return [name for name in TEST_SETS if located(name, root) is not None]
