"""Exclusive advisory locks (fcntl.flock) on a lock file: released by the kernel when the process
dies, so a killed run never leaves a stale lock behind."""
from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator


class LockBusy(Exception):
    """Another process holds the lock; the message names the lock file and its holder."""


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, what: str, wait: bool = False) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (created) for the ``with`` block. Without ``wait`` a
    held lock raises :class:`LockBusy` at once, naming ``what`` and the holder's pid."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise LockBusy(f"{what} is in use by another process (pid {holder}; lock {path})") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)
