"""Profile CSV (docs/architecture.md): schema, row assembly, validated reading, atomic appends.

Writers take the file's lock (``.NAME.lock`` beside it, codesign_common.locks) around each
read-modify-write, so concurrent writers lose no row; a row replaces an earlier one of the same
device, backend and key, so a key is never in the file twice. A row without the statistic the
predictors learn (``latency_min_ms``: a write cut short, a row of an older format) does not
count as measured: devices.profile times it again and the new row replaces it."""
from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

import pandas as pd

from codesign_common.atomic import write_csv_atomic
from codesign_common.locks import exclusive_lock
from devices import host_identity
from devices.timing import PROFILE_COLUMNS, STATISTIC

# The contract with predictors/ (docs/architecture.md), in this order.
SCHEMA = ["device", "key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h",
          "out_w", "macs", "params", "bytes_in", "bytes_out", "latency_ms", "latency_std_ms",
          "repeats", "trials", "backend", "target", "provenance"]
# What issue 5 asks every row to carry besides the schema.
EXTRA = ["latency_mean_ms", "latency_min_ms", "number", "tuned", "runtime", "fused_tasks",
         "database_hits", "date", "host", "load_1min", "host_id", "foreign_cpu_share"]
COLUMNS = SCHEMA + EXTRA
FEATURES = SCHEMA[2:16]


class ProfileError(ValueError):
    """A profile CSV that cannot be read or does not follow the schema (one-line message)."""


def host_label() -> str:
    """Where the measurement ran: hostname and CPU (e.g. `vm-1 (AMD EPYC, 2 cores, znver4)`)."""
    from devices import host_cpu

    cpu = host_cpu.detect()
    return f"{platform.node()} ({cpu['model']}, {cpu['cores']} cores, {cpu['mcpu']})"


def make_row(device: str, features: dict, measurement) -> dict:
    """One profile row from an op instance's features and a backends.Measurement, labelled
    with the measurement's provenance (untuned TVM rows: `measured:untuned`)."""
    t = measurement.timing
    tvm_untuned = measurement.backend.startswith("tvm") and not measurement.tuned
    row = {"device": device, **{k: features[k] for k in ["key"] + FEATURES},
           "latency_ms": t.median_ms, "latency_std_ms": t.std_ms, "repeats": t.repeats,
           "trials": measurement.trials, "backend": measurement.backend, "target": measurement.target,
           "provenance": "measured:untuned" if tvm_untuned else measurement.provenance,
           "latency_mean_ms": t.mean_ms, "latency_min_ms": t.min_ms, "number": t.number,
           "tuned": measurement.tuned, "runtime": measurement.runtime,
           "fused_tasks": measurement.fused_tasks, "database_hits": measurement.database_hits,
           "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "host": host_label(), "load_1min": round(os.getloadavg()[0], 2),
           "host_id": host_identity.fingerprint()["host_id"] if measurement.foreign_cpu_share is not None else "",
           "foreign_cpu_share": measurement.foreign_cpu_share}
    return {c: row[c] for c in COLUMNS}


def read_profile(path: str | os.PathLike, required: list[str] = SCHEMA) -> pd.DataFrame:
    """A profile CSV with at least the ``required`` columns (default: the whole schema) and
    positive latencies; ProfileError (a ValueError, one line) when unreadable or off-schema."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ProfileError(f"cannot read profile {path}: {str(err).splitlines()[0]}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ProfileError(f"profile {path} lacks columns {missing}")
    latency = pd.to_numeric(df["latency_ms"], errors="coerce")
    if latency.isna().any() or (latency <= 0).any():
        raise ProfileError(f"profile {path}: latency_ms must be positive numbers")
    return df


def has_statistic(df: pd.DataFrame) -> pd.Series:
    """Per row: whether it holds the statistic predictors learn (devices.timing.STATISTIC's
    column) as a positive finite number."""
    column = PROFILE_COLUMNS[STATISTIC]
    if column not in df:
        return pd.Series(False, index=df.index)
    value = pd.to_numeric(df[column], errors="coerce")
    return value.notna() & (value > 0) & (value < float("inf"))


def measured_keys(path: str | os.PathLike, device: str, backend: str) -> set[str]:
    """Keys already in the profile for this device and backend with the learned statistic
    (has_statistic; empty when the file is absent)."""
    if not Path(path).exists():
        return set()
    df = read_profile(path)
    done = (df["device"] == device) & (df["backend"] == backend) & has_statistic(df)
    return set(df.loc[done, "key"].astype(str))


def profile_lock(path: str | os.PathLike):
    """The lock every writer of the profile ``path`` holds (``.NAME.lock`` beside it); a wait
    for it names the holder at once and gives up after $CODESIGN_TIMING_LOCK_TIMEOUT_S, like the
    timing lock's (devices.quiet_timing)."""
    from devices.quiet_timing import lock_timeout_s

    path = Path(path)
    return exclusive_lock(path.with_name(f".{path.name}.lock"), f"the profile {path}", wait=True,
                          timeout_s=lock_timeout_s(), reentrant=True)


def append_rows(path: str | os.PathLike, rows: list[dict]) -> None:
    """Append rows under the profile's lock by rewriting the file atomically; an existing row
    of the same device, backend (or none: a row cut short) and key is replaced."""
    path = Path(path)
    new = pd.DataFrame(rows, columns=COLUMNS)
    with profile_lock(path):
        if path.exists():
            old = read_profile(path)
            keys, backends = set(zip(new["device"], new["key"])), set(new["backend"])
            same = pd.Series([(d, k) in keys and (pd.isna(b) or b in backends)  # NaN: cut short
                              for d, k, b in zip(old["device"], old["key"], old["backend"])],
                             index=old.index, dtype=bool)
            new = pd.concat([old[~same], new], ignore_index=True)
        _write(path, new)


def drop_loaded_rows(path: str | os.PathLike, device: str, backend: str, max_load: float) -> int:
    """Remove this device's and backend's rows timed while the 1-minute load average exceeded
    `max_load` (so that a rerun measures them again); returns how many were removed."""
    path = Path(path)
    if not path.exists():
        return 0
    with profile_lock(path):
        df = read_profile(path)
        loaded = (df["device"] == device) & (df["backend"] == backend) & (pd.to_numeric(df["load_1min"]) > max_load)
        if loaded.any():
            _write(path, df[~loaded])
    return int(loaded.sum())


def _write(path: Path, df: pd.DataFrame) -> None:
    write_csv_atomic(df, path)
