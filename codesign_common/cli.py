"""One CLI style for every command: bad input is one ``error: …`` line on stderr and exit 2,
argument errors included, and output paths are checked before any work starts."""
from __future__ import annotations

import argparse
import functools
import math
import os
import sys
from pathlib import Path
from typing import Callable, NoReturn


class UsageError(Exception):
    """Bad input or an impossible request: its message is the one line the user sees."""


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line on stderr and exit with status 2."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: …``, exit 2) instead of the usage dump."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def cli_main(*errors: type[BaseException]) -> Callable:
    """Decorate a ``main(argv) -> int``: :class:`UsageError` and the given exception types
    become one ``error:`` line and exit code 2 instead of a traceback."""
    caught = (UsageError, *errors)

    def wrap(main):
        @functools.wraps(main)
        def run(*args, **kwargs):
            try:
                return main(*args, **kwargs)
            except caught as exc:
                fail(str(exc))
        return run
    return wrap


def _writable_dir(folder: Path, what: str) -> None:
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    if not existing.is_dir():
        raise UsageError(f"{what} {folder}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {folder}: {existing} is not writable")


def check_output_file(path: str | os.PathLike, what: str = "--out") -> Path:
    """Refuse an output file path that cannot be written (a folder there, a read-only or
    file-blocked parent) before the work starts; returns it as a Path."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder; give a file path")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{what} {path} is not writable")
    _writable_dir(path.parent, what)
    return path


def check_output_dir(path: str | os.PathLike, what: str = "--out") -> Path:
    """Refuse an output folder that cannot be made or written (a file there, a read-only
    parent) before the work starts; returns it as a Path."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file; give a folder")
    _writable_dir(path, what)
    return path


def number_in(kind: type, low: float, high: float = float("inf"), low_open: bool = False,
              high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite ``kind`` (int or float) in the interval from ``low`` to
    ``high``, each end excluded when its ``*_open`` flag is set."""
    lo, hi = "(" if low_open else "[", ")" if high_open or high == float("inf") else "]"
    span = f"{lo}{low:g}, {high:g}{hi}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        inside = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        if not (math.isfinite(value) and inside):
            if high == float("inf"):
                raise argparse.ArgumentTypeError(f"{text} must be {'above' if low_open else 'at least'} {low:g}")
            raise argparse.ArgumentTypeError(f"{text} is not in {span}")
        return value
    parse.__name__ = f"{kind.__name__} in {span}"
    return parse


positive_int = number_in(int, 1)
nonnegative_int = number_in(int, 0)
positive_float = number_in(float, 0, low_open=True)
share = number_in(float, 0, 1, high_open=True)  # e.g. a held-out share in [0, 1)


def one_line_warnings(message, category, filename, lineno, file=None, line=None):
    """warnings.showwarning for the CLIs: ``warning: …`` on one stderr line."""
    print(f"warning: {message}", file=sys.stderr if file is None else file)
