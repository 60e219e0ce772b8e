"""Fetch the standard SR sets by name into :func:`codesign.sr.data.sets.data_root`.

From their public sources over HTTP(S) (``raw.githubusercontent.com`` at the commit each
manifest row names), or from a local mirror (``mirror``: a folder laid out as a data root,
e.g. another machine's ``$CODESIGN_DATA``). Every file is checked against its sha256 in
``data/sr/manifest.csv`` before it takes its name, so a reader never sees an unverified file;
a download grows a partial file under ``<root>/.partial/`` and resumes from it (HTTP Range);
files already verified are kept and not fetched again. The first failure stops the fetch with
one line (:class:`FetchError`); what was verified before it stays.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterable

from codesign.sr.data.errors import DataError
from codesign.sr.data.sets import (
    DIV2K_URL,
    SETS,
    FileEntry,
    data_root,
    entry_path,
    is_present,
    located,
    manifest,
    set_folder,
    unknown_set,
)
from codesign_common.atomic import current_umask, write_bytes_atomic

DEFAULT_BASE_URL = "https://raw.githubusercontent.com"
PARTIAL_DIR = ".partial"
CHUNK = 1 << 20  # bytes read per network read
TIMEOUT_S = 60


class FetchError(DataError):
    """A file that could not be fetched or verified (one-line message)."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def is_verified(entry: FileEntry, root: Path) -> bool:
    """Whether ``entry`` lies in place with its recorded size and sha256."""
    path = entry_path(entry, root)
    return (path.is_file() and path.stat().st_size == entry.bytes
            and sha256_of(path) == entry.sha256)


def _from_mirror(entry: FileEntry, root: Path, mirror: Path) -> None:
    source = mirror / SETS[entry.set].folder / entry.file
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise FetchError(f"mirror file {source} cannot be read: {exc.strerror or exc}") from None
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise FetchError(f"mirror file {source} ({len(data)} bytes) does not match its recorded "
                         f"sha256 {entry.sha256[:12]}… ({entry.bytes} bytes); nothing written")
    write_bytes_atomic(entry_path(entry, root), data)


def _download(entry: FileEntry, root: Path, base_url: str) -> None:
    url = f"{base_url.rstrip('/')}/{urllib.parse.quote(entry.url_path)}"
    part = root / PARTIAL_DIR / entry.set / f"{entry.file}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if have < entry.bytes:
        request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                mode = "ab" if have and response.status == 206 else "wb"  # 200: server restarts
                with open(part, mode) as f:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        f.write(block)
        except urllib.error.HTTPError as exc:
            if not (exc.code == 416 and have):  # 416: the partial file is already whole
                raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError,
                http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            kept = part.stat().st_size if part.is_file() else 0
            raise FetchError(f"{url}: {reason} ({kept} of {entry.bytes} bytes kept in {part}; "
                             f"fetch again to resume)") from None
    size = part.stat().st_size
    if size < entry.bytes:
        raise FetchError(f"{url} stopped at {size} of {entry.bytes} bytes (kept in {part}; "
                         f"fetch again to resume)")
    got = sha256_of(part)
    if size != entry.bytes or got != entry.sha256:
        part.unlink()
        raise FetchError(f"{url}: {size} bytes with sha256 {got[:12]}…, not the recorded "
                         f"{entry.bytes} bytes {entry.sha256[:12]}…; the download was removed")
    with open(part, "rb+") as f:
        os.fsync(f.fileno())
    os.chmod(part, 0o666 & ~current_umask())
    dest = entry_path(entry, root)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, dest)


def check_names(names: Iterable[str]) -> list[str]:
    """Lower-cased known set names; DataError for an unknown one or DIV2K (no sums kept)."""
    out = []
    for name in names:
        name = name.lower()
        if name not in SETS:
            raise DataError(unknown_set(name))
        if name == "div2k":
            raise DataError(f"DIV2K cannot be fetched by the project (no sums kept): unpack "
                            f"DIV2K_train_HR.zip and DIV2K_valid_HR.zip from {DIV2K_URL} into "
                            f"{set_folder('div2k')}")
        out.append(name)
    return out


def fetch_sets(names: Iterable[str], root: Path | None = None, mirror: Path | None = None,
               base_url: str = DEFAULT_BASE_URL,
               log: Callable[[str], None] = print) -> dict[str, int]:
    """Fetch and verify every file of ``names`` into ``root``; returns files written per set.
    FetchError/DataError (one line) on the first file that fails; verified files stay."""
    root = Path(root) if root else data_root()
    names = check_names(names)
    if mirror is not None and not Path(mirror).is_dir():
        raise DataError(f"mirror {mirror} is not a folder")
    written = {}
    for name in names:
        entries = manifest(name)
        todo = [e for e in entries if not is_verified(e, root)]
        for entry in todo:
            try:
                if mirror is not None:
                    _from_mirror(entry, root, Path(mirror))
                else:
                    _download(entry, root, base_url)
            except OSError as exc:  # disk full, read-only root, …: verified files stay
                raise FetchError(f"{name}/{entry.file}: cannot write under {root}: "
                                 f"{exc.strerror or exc}") from None
        written[name] = len(todo)
        megabytes = sum(e.bytes for e in entries) / 1e6
        log(f"{name}: {len(entries)} files ({megabytes:.1f} MB) verified, {len(todo)} fetched "
            f"-> {set_folder(name, root)}")
    return written


def list_sets(root: Path | None = None) -> list[dict]:
    """One row per set: name, kind, files, bytes, present (bool) and where it lies."""
    root = Path(root) if root else data_root()
    rows = []
    for name, spec in SETS.items():
        entries = manifest(name)
        where = located(name, root)
        rows.append({"name": name, "kind": spec.kind, "files": len(entries),
                     "bytes": sum(e.bytes for e in entries),
                     "present": is_present(name, root) or where is not None,
                     "where": str(where or set_folder(name, root))})
    return rows
