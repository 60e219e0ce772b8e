"""Profile a new host in minutes: on a machine with no predictor of its own, time the op
instances the search space needs in the deployed runtime, fit the predictor, go on.

The profile is cached per host and runtime under ``$CODESIGN_CACHE`` (default
``~/.cache/codesign``): ``profiles/local-cpu/<host_id>/<runtime>.csv`` and the predictor in
``predictors/local-cpu/<host_id>/<runtime>/`` (a root of predictors.store). devices.profile
appends every timed op instance atomically and skips those already there, so an interrupted
profile (Ctrl-C, a kill) resumes where it stopped and loses at most the instance in flight.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from codesign_common.cache import cache_root

# The kernel model fitted on a self-made profile (predictors.train's choice of names).
MODEL = "xgb"  # lowest held-out MAPE on this host's onnxruntime profile (predictor_local_cpu_onnxruntime.csv)


def profile_path(device_name: str, host_id: str, runtime: str) -> Path:
    return cache_root() / "profiles" / device_name / host_id / f"{runtime}.csv"


def profile_this_host(device, runtime: str, space, lr_hw, progress: bool = True) -> Path:
    """Time every op instance of ``space`` at ``lr_hw`` on this host in ``runtime`` (resuming a
    cached partial profile), fit the predictor and return its folder."""
    from devices.host_identity import fingerprint
    from codesign.profile import profile
    from predictors.store import predictor_dir
    from predictors.train import train

    host_id = fingerprint()["host_id"]
    csv = profile_path(device.name, host_id, runtime)
    started = time.perf_counter()
    print(f"no {device.name} predictor of this host ({host_id}) in {runtime}: profiling the "
          f"space's op instances (cached in {csv}; an interruption resumes there)", file=sys.stderr)
    added = profile(device.name, str(csv), runtime=runtime, space=space, input_hw=lr_hw,
                    progress=progress)
    out = predictor_dir(cache_root() / "predictors", device.name, host_id, runtime)
    train(device.name, csv, MODEL, out, holdout=0.0)
    print(f"profiled {added} op instances in {time.perf_counter() - started:.0f} s and fitted "
          f"{MODEL} -> {out}", file=sys.stderr)
    return out
