"""Exclusive advisory locks (fcntl.flock) on a lock file: released by the kernel when the process
dies, so a killed run never leaves a stale lock behind. The lock file holds the holder's pid."""
from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from codesign_common.cli import UsageError

POLL_S = 0.2   # how often a waiting process tries the lock again (s)
_HELD: set[Path] = set()   # locks this process holds: taking one again is a no-op (re-entrant)


class LockBusy(UsageError):
    """Another process holds the lock (or held it past the wait's timeout), or the lock file
    cannot be used; the message names the lock file and its holder."""


def holder(fd: int) -> str:
    """``pid N (command line)`` of the process whose pid the lock file holds, as far as known."""
    pid = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
    try:
        command = Path(f"/proc/{int(pid)}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace").strip()
    except (OSError, ValueError):
        command = ""
    return f"pid {pid}" + (f", {command[:200]}" if command else "")


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, what: str, wait: bool = False,
                   timeout_s: float | None = None, reentrant: bool = False,
                   notify: Callable[[str], None] = _say) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (created) for the ``with`` block. Without ``wait`` a
    held lock raises :class:`LockBusy` at once, naming ``what`` and the holder (pid, command).
    With ``wait`` it waits: one ``notify`` line naming the holder at once, and LockBusy after
    ``timeout_s`` seconds (None: no limit). A lock path that cannot be opened (a folder, /proc)
    raises LockBusy too. With ``reentrant`` a lock this process holds (taken reentrant) is
    taken again at once."""
    path = Path(path)
    if reentrant and path.resolve() in _HELD:
        yield path
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as err:
        raise LockBusy(f"cannot use {path} as the lock file of {what}: "
                       f"{err.strerror or err}") from None
    try:
        started, told = time.monotonic(), False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not wait:
                    raise LockBusy(f"{what} is in use by another process ({holder(fd)}; lock "
                                   f"{path})") from None
                waited = time.monotonic() - started
                if timeout_s is not None and waited >= timeout_s:
                    raise LockBusy(f"gave up after waiting {waited:.0f} s for {what}, held by "
                                   f"{holder(fd)} (lock {path})") from None
                if not told:
                    limit = f"up to {timeout_s:g} s" if timeout_s is not None else "until it ends"
                    notify(f"waiting for {what}, held by {holder(fd)} (lock {path}; waiting "
                           f"{limit})")
                    told = True
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        if not reentrant:
            yield path
            return
        _HELD.add(path.resolve())
        try:
            yield path
        finally:
            _HELD.discard(path.resolve())
    finally:
        os.close(fd)
