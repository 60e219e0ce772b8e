"""Profile CSV (docs/architecture.md): schema, row assembly, validated reading, atomic appends."""
from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

import pandas as pd

from codesign_common.atomic import write_csv_atomic
from devices import host_identity

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


def measured_keys(path: str | os.PathLike, device: str, backend: str) -> set[str]:
    """Keys already in the profile for this device and backend (empty when the file is absent)."""
    if not Path(path).exists():
        return set()
    df = read_profile(path)
    return set(df.loc[(df["device"] == device) & (df["backend"] == backend), "key"].astype(str))


def append_rows(path: str | os.PathLike, rows: list[dict]) -> None:
    """Append rows by rewriting the file through a temp file + os.replace (never half-written)."""
    path = Path(path)
    new = pd.DataFrame(rows, columns=COLUMNS)
    _write(path, pd.concat([read_profile(path), new], ignore_index=True) if path.exists() else new)


def drop_loaded_rows(path: str | os.PathLike, device: str, backend: str, max_load: float) -> int:
    """Remove this device's and backend's rows timed while the 1-minute load average exceeded
    `max_load` (so that a rerun measures them again); returns how many were removed."""
    path = Path(path)
    if not path.exists():
        return 0
    df = read_profile(path)
    loaded = (df["device"] == device) & (df["backend"] == backend) & (pd.to_numeric(df["load_1min"]) > max_load)
    if loaded.any():
        _write(path, df[~loaded])
    return int(loaded.sum())


def _write(path: Path, df: pd.DataFrame) -> None:
    write_csv_atomic(df, path)
