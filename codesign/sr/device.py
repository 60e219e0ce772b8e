"""Pick the torch device (CUDA when present, CPU otherwise), and the CLI flags that name it;
keep a resumed run on the thread count it started with."""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager

import torch

from codesign_common.cli import UsageError


def default_device(name: str | None = None) -> torch.device:
    """``torch.device(name)`` if given, else ``cuda`` when available, else ``cpu``."""
    if name:
        return torch.device(name)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def keep_threads(recorded: int | None, checkpoint) -> int | None:
    """The torch thread count a run continues with: ``recorded`` in its ``checkpoint`` (set here,
    with a note on stderr, where the current count differs: a CPU's float sums, and so the
    result, depend on it, and a resumed run must end as an uninterrupted one), else the current
    count for a new run; None for a run whose checkpoint predates the record (left as it is)."""
    if recorded is None:
        return None
    if recorded != torch.get_num_threads():
        print(f"note: {checkpoint} was written with {recorded} torch thread(s); continuing with "
              f"{recorded}, not {torch.get_num_threads()}, so that the result is the one an "
              f"uninterrupted run gives", file=sys.stderr)
        torch.set_num_threads(recorded)
    return recorded


@contextmanager
def threads_restored():
    """Put torch's thread count back on leaving: a resumed run sets its own (keep_threads) for
    its duration, not for what the calling process does next."""
    before = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(before)


def describe(device: torch.device) -> str:
    """What ``device`` is, for reports: the GPU's name, or the CPU with torch's thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} torch threads)"


def check_torch_device(name: str | None) -> str | None:
    """Refuse (UsageError) a torch device name torch does not know or this machine lacks."""
    if name is None:
        return None
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--torch-device {name!r} is not a torch device (cpu, cuda, cuda:1, "
                         f"mps, …)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--torch-device {name}: no CUDA device is available here")
    if device.type == "cuda" and device.index is not None and \
            device.index >= torch.cuda.device_count():
        raise UsageError(f"--torch-device {name}: only {torch.cuda.device_count()} CUDA "
                         f"device(s) here")
    return name


def add_device_flags(parser) -> None:
    """--torch-device (the PyTorch device) and a retired --device that explains the rename."""
    parser.add_argument("--torch-device", default=None, metavar="NAME",
                        help="PyTorch device: cpu, cuda, cuda:1, … (default: cuda if present)")
    parser.add_argument("--device", dest="retired_device", default=None, help=argparse.SUPPRESS)


def refuse_retired_device(args) -> None:
    if args.retired_device is not None:
        raise UsageError(f"--device is now --torch-device here (the PyTorch device: "
                         f"--torch-device {args.retired_device}); --device names a catalog "
                         f"device in codesign.search and devices.*")
