"""Time a given list of kernels on a device into a profile CSV, resumably.

Each kernel is a row of profile-schema features with its `key`; the caller gives them and a
function that builds a row's PyTorch module and NCHW input shape (codesign.profile gives the
op instances of the search space). Each is timed by the device's backend for `runtime`
(devices.backends.for_device): TVM compiles and tunes it (`trials` per fused task, database in
`work_dir` reused across runs), onnxruntime and PyTorch run it on this CPU, the simulator
costs it. Every timing is guarded (devices.quiet_timing) and its row names the host and the
foreign CPU share. Keys already in the CSV for this device and backend are skipped; every
finished row is appended atomically. `limit` measures at most that many new kernels, in a fixed
pseudo-random order (hash of the key) so a partial profile covers all ops and sizes;
`redo_above_load` first drops rows timed while the 1-minute load average was above it. A
kernel whose timing is refused (devices.quiet_timing) is skipped with one warning line at once
and the others are timed; the profile then ends with DisturbedTiming naming how many are missing, and a re-run times them.
"""
from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable

import pandas as pd
from tqdm import tqdm

from devices.backends import for_device
from devices.catalog import Device
from devices.profile_csv import append_rows, drop_loaded_rows, make_row, measured_keys
from devices.quiet_timing import DisturbedTiming
from devices.tvm_compile.tuning import TuningSettings


def profile_order(keys) -> list[str]:
    """Keys in a fixed pseudo-random order (SHA-1 of the key): stable across runs and machines."""
    return sorted(keys, key=lambda k: hashlib.sha1(k.encode()).hexdigest())


def profile_kernels(device: Device, out: str, kernels: pd.DataFrame, build_module: Callable,
                    *, runtime: str = "tvm", trials: int = 64,
                    dominant_share: float = TuningSettings.dominant_share, limit: int | None = None,
                    rpc_tracker: str | None = None, rpc_key: str | None = None, work_dir=None,
                    repeats: int = 10, redo_above_load: float | None = None,
                    progress: bool = True) -> int:
    """Measure the ``kernels`` (indexed by key) not yet in ``out``; ``build_module(row)`` gives
    a row's (module, NCHW input shape). Returns how many rows were added."""
    backend = for_device(device, runtime, rpc_tracker=rpc_tracker, rpc_key=rpc_key,
                         repeats=repeats, trials=trials, dominant_share=dominant_share,
                         work_dir=work_dir)
    if redo_above_load is not None:
        drop_loaded_rows(out, device.name, backend.name, redo_above_load)
    done = measured_keys(out, device.name, backend.name)
    todo = [k for k in profile_order(kernels.index) if k not in done][:limit]
    added, refused = 0, []
    try:
        for key in tqdm(todo, desc=f"profile {device.name}", disable=not progress, file=sys.stderr):
            if key in measured_keys(out, device.name, backend.name):
                continue  # another process sharing the profile timed it meanwhile
            row = kernels.loc[key]
            module, shape = build_module(row)
            try:
                measurement = backend.measure(module, shape)
            except DisturbedTiming as exc:  # the others are still timed; a re-run retries it
                refused.append(str(exc))
                tqdm.write(f"warning: {key} not timed ({exc}); the others go on, a re-run "
                           f"times it", file=sys.stderr)
                continue
            append_rows(out, [make_row(device.name, row.to_dict(), measurement)])
            added += 1
    finally:
        backend.close()
    if refused:
        raise DisturbedTiming(f"{len(refused)} of {len(todo)} kernels were not timed ({refused[-1]}); "
                              f"the {added} timed are in {out}: run the same command again to "
                              "time the rest")
    return added
