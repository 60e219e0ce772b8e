"""Profile a new host in minutes: on a machine with no predictor of its own for the search's
op instances, time those it lacks in the deployed runtime, fit the predictor, go on.

The profile is cached per host and runtime under ``$CODESIGN_CACHE`` (default
``~/.cache/codesign``): ``profiles/local-cpu/<host_id>/<runtime>.csv`` and the predictor in
``predictors/local-cpu/<host_id>/<runtime>/`` (a root of predictors.store), fitted on every row
of the profile (its ``meta.training_keys`` say which op instances it may be used for). devices.profile
appends every timed op instance atomically and skips those already there, so an interrupted
profile (Ctrl-C, a kill) resumes where it stopped and loses at most the instance in flight.
The profile's lock is held from the first timing to the saved predictor: a second search
sharing the cache waits (saying for whom), then finds the kernels timed and times none twice.
Rows of another host in the profile (copied caches) are dropped, with a warning, and re-timed.
A host whose profile ships with the project (devices/profiles/local-cpu/<host_id>/) starts its
cached profile from those rows.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from codesign.search.inputs import SearchError
from codesign_common.atomic import write_csv_atomic
from codesign_common.cache import cache_root, check_cache_dir

# The kernel model fitted on a self-made profile (predictors.train's choice of names).
MODEL = "xgb"  # lowest held-out MAPE on this host's onnxruntime profile (benchmarks/results/predictor_local_cpu.csv)


def profile_path(device_name: str, host_id: str, runtime: str) -> Path:
    return cache_root() / "profiles" / device_name / host_id / f"{runtime}.csv"


def shipped_profile(device_name: str, host_id: str, runtime: str) -> Path:
    """Where the project ships a host's profile (devices/profiles/, read-only): a cache without
    one of its own starts from it."""
    from codesign.search.inputs import REPO

    return REPO / "devices" / "profiles" / device_name / host_id / f"{runtime}.csv"


def drop_other_hosts(csv: Path, host_id: str) -> int:
    """Remove the rows of ``csv`` timed on another host (the caller holds its lock); how many."""
    from devices.profile_csv import read_profile

    if not csv.exists():
        return 0
    rows = read_profile(csv)
    other = rows["host_id"].notna() & (rows["host_id"].astype(str) != host_id) \
        if "host_id" in rows else pd.Series(False, index=rows.index)
    if other.any():
        write_csv_atomic(rows[~other], csv)
    return int(other.sum())


def profile_this_host(device, runtime: str, space, lr_hw, progress: bool = True) -> Path:
    """Time the op instances of ``space`` at ``lr_hw`` not yet in this host's cached profile
    in ``runtime``, fit the predictor on the whole profile and return its folder. A cached
    profile that cannot be read raises SearchError (one line naming it)."""
    from codesign.hardware.profile import profile
    from devices.host_identity import fingerprint
    from devices.profile_csv import ProfileError, profile_lock, read_profile
    from predictors.store import predictor_dir
    from predictors.train import train

    host_id = fingerprint()["host_id"]
    csv = profile_path(device.name, host_id, runtime)
    check_cache_dir(csv.parent.relative_to(cache_root()))
    out = predictor_dir(cache_root() / "predictors", device.name, host_id, runtime)
    started = time.perf_counter()
    print(f"no {device.name} predictor of this host ({host_id}) in {runtime} for this space: "
          f"profiling the space's op instances it lacks (cached in {csv}; an interruption "
          f"resumes there)", file=sys.stderr)
    try:
        with profile_lock(csv):
            shipped = shipped_profile(device.name, host_id, runtime)
            if not csv.exists() and shipped.is_file():  # this host's rows that ship: not re-timed
                write_csv_atomic(read_profile(shipped), csv)
                print(f"started from the profile of this host shipped in {shipped}",
                      file=sys.stderr)
            dropped = drop_other_hosts(csv, host_id)
            if dropped:
                print(f"warning: {csv} held {dropped} row(s) timed on another host: dropped, "
                      f"timed again here", file=sys.stderr)
            added = profile(device.name, str(csv), runtime=runtime, space=space,
                            input_hw=lr_hw, progress=progress)
            train(device.name, csv, MODEL, out, holdout=0.0)
    except (ProfileError, ValueError) as exc:
        raise SearchError(f"cached profile {csv}: {str(exc).splitlines()[0]} (fix or delete "
                          f"the file: the search times what is missing)") from None
    print(f"profiled {added} op instances in {time.perf_counter() - started:.0f} s and fitted "
          f"{MODEL} -> {out}", file=sys.stderr)
    return out
