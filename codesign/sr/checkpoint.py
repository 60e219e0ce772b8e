"""Atomic checkpoint files: written to a temporary file in the same folder, then renamed.

A file that cannot be read back (missing, empty, truncated, random bytes, a plain pickle, a
folder, a file holding something else than tensors and plain data) raises
:class:`CheckpointError` with a one-line message naming the file, never a bare torch or pickle
error.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from codesign_common.atomic import atomic_path
from codesign_common.cli import UsageError


class CheckpointError(UsageError, ValueError):
    """A checkpoint that cannot be used; the message is one line naming the file."""


def save_atomic(obj, path: str | os.PathLike) -> None:
    """``torch.save`` to ``path`` so that a crash never leaves a half-written file."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def stale_temporaries(folder: str | os.PathLike, *names: str,
                      suffixes: tuple[str, ...] = (".tmp",)) -> list[Path]:
    """Temporary files that :func:`save_atomic` (or the atomic writer, codesign_common.atomic)
    left in ``folder`` when the process was killed while writing: ``.NAME.XXXXXXXX<suffix>``
    beside each of ``names``, or beside any file when no names are given."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    patterns = [f".{name}.*" for name in names] or [".*.*"]
    return sorted({p for pattern in patterns for p in folder.glob(pattern)
                   if p.is_file() and p.suffix in suffixes})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load(path: str | os.PathLike, map_location="cpu", required: tuple[str, ...] = ()):
    """Load a checkpoint written by :func:`save_atomic` (tensors and plain data only).

    ``required`` keys must be present in the (dict) checkpoint. Raises :class:`CheckpointError`
    for anything that is not such a checkpoint."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty")
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the error says it
            warnings.simplefilter("ignore")
            obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # noqa: BLE001 (torch/pickle/zip raise many types for damaged files)
        text = str(exc)
        if "Weights only load failed" in text and "Unsupported global" in text:
            raise CheckpointError(f"checkpoint {path} holds objects other than tensors and plain "
                                  f"data (not a checkpoint of this program; not loaded, as "
                                  f"unpickling them could run code)") from None
        detail = "" if "Weights only load failed" in text else f": {_first_line(exc)}"
        raise CheckpointError(f"checkpoint {path} cannot be read (truncated, corrupt or not a "
                              f"torch checkpoint){detail}") from None
    if required:
        if not isinstance(obj, dict):
            raise CheckpointError(f"checkpoint {path} holds a {type(obj).__name__}, "
                                  f"not a checkpoint dictionary")
        missing = [key for key in required if key not in obj]
        if missing:
            raise CheckpointError(f"checkpoint {path} lacks {', '.join(map(repr, missing))}: "
                                  f"not written by this program")
    return obj


def state_dict_mismatch(model, state: dict) -> str | None:
    """Why ``state`` cannot be loaded into ``model`` (missing, unexpected and differently shaped
    weights, counted and the first of each named), or None when it fits."""
    if not isinstance(state, dict):
        return f"the weights are a {type(state).__name__}, not a state dict"
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shape = [k for k in own if k in state and getattr(state[k], "shape", None) != own[k].shape]
    parts = [f"{len(keys)} {what} (e.g. {keys[0]})"
             for what, keys in (("missing", missing), ("unexpected", unexpected),
                                ("of another shape", shape)) if keys]
    return "weights " + ", ".join(parts) if parts else None
