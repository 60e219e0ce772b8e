"""Reading profile CSVs (schema in docs/architecture.md), hashing them, and held-out splits.

`read_kernel_profile` is the one place where a profile's numbers are checked before any
predictor sees them: every error names the file, the data row (1-based, the header not
counted; the CSV line is one more) and the column.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from devices.profile_csv import ProfileError
from devices.timing import PROFILE_COLUMNS, STATISTIC
from predictors.kernel_features import KERNEL_COLUMNS

REQUIRED_COLUMNS = ["key"] + KERNEL_COLUMNS + ["latency_ms", "provenance"]
# Numeric feature columns: finite and >= 0 (a pooling kernel has no params, a skip no MACs).
COUNT_COLUMNS = [c for c in KERNEL_COLUMNS if c != "op"]


def _where(path, index: int, column: str) -> str:
    return f"profile {path}, data row {index + 1} (line {index + 2}), column {column}"


def _number(path, index: int, column: str, value) -> float:
    """`value` of one cell as a float; ProfileError naming file, row and column otherwise."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or (
            isinstance(value, str) and not value.strip()):
        raise ProfileError(f"{_where(path, index, column)}: empty cell")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProfileError(f"{_where(path, index, column)}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ProfileError(f"{_where(path, index, column)}: {number:g} is not a finite number")
    return number


def check_numbers(rows: pd.DataFrame, path, positive: list[str], nonnegative: list[str]) -> None:
    """Every cell of `positive` columns a finite number > 0, of `nonnegative` ones finite and
    >= 0; the first bad cell raises ProfileError naming file, data row (rows' index, 0-based
    in the file) and column."""
    for column, low_ok in [(c, False) for c in positive] + [(c, True) for c in nonnegative]:
        values = rows[column]
        numeric = pd.to_numeric(values, errors="coerce").astype(float)
        bad = ~np.isfinite(numeric) | ((numeric < 0) if low_ok else (numeric <= 0))
        if bad.any():
            index = bad[bad].index[0]
            number = _number(path, index, column, values.loc[index])
            need = ">= 0" if low_ok else "> 0"
            raise ProfileError(f"{_where(path, index, column)}: {number:g} is not {need}")


def _read_csv(path, required: list[str]) -> pd.DataFrame:
    """A CSV with at least the `required` columns, its index the 0-based data row in the file
    (blank lines counted, so that errors can name the line); ProfileError otherwise."""
    try:
        frame = pd.read_csv(path, skip_blank_lines=False, dtype={"key": str, "op": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ProfileError(f"cannot read profile {path}: {str(err).splitlines()[0]}") from None
    frame = frame.dropna(how="all")  # blank lines, kept until here so rows keep their line
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ProfileError(f"profile {path} lacks columns {missing}")
    return frame


def read_kernel_rows(path) -> pd.DataFrame:
    """Unlabelled kernel rows (the schema's kernel columns, no latency needed: e.g. the op
    instances a search will ask for), checked like read_kernel_profile's features."""
    rows = _read_csv(path, KERNEL_COLUMNS)
    if rows.empty:
        raise ProfileError(f"profile {path} has no rows")
    check_numbers(rows, path, [], COUNT_COLUMNS)
    rows = rows.reset_index(drop=True)
    for column in COUNT_COLUMNS:
        rows[column] = pd.to_numeric(rows[column])
    return rows


def read_kernel_profile(path, device: str | None = None, statistic: str = STATISTIC) -> pd.DataFrame:
    """Kernel rows of a profile CSV (network rows and untuned TVM timings, provenance
    ``measured:untuned``, dropped: latencies users see come from tuned builds), checked;
    optionally one device's.

    ``latency_ms`` of the result is the latency the predictors learn: the `statistic`
    (devices.timing.STATISTIC) where the profile has it (a profile made by devices.profile has
    ``latency_min_ms``; a kernel row without it is refused, never mixed in), else the profile's
    own ``latency_ms`` (imported profiles: TopHub's mean, HELP's). Column ``latency_statistic`` names which ("min", "median", or
    "latency_ms" for a profile's own); ``latency_median_ms`` keeps the profile's ``latency_ms``.

    Raises ProfileError (a ValueError) with a one-line reason on a malformed profile: a missing
    column, or a latency that is not a finite positive number, or a feature that is not a
    finite number >= 0, named by file, data row and column.
    """
    profile = _read_csv(path, REQUIRED_COLUMNS)
    check_numbers(profile, path, ["latency_ms"], [])
    if device is not None and "device" in profile.columns:
        profile = profile[profile["device"] == device]
    untuned = profile["provenance"].astype(str).str.endswith(":untuned")
    profile = profile[(profile["op"] != "network") & ~untuned]
    if profile.empty:
        raise ProfileError(f"profile {path} has no kernel rows" + (f" for device {device}" if device else ""))
    check_numbers(profile, path, [], COUNT_COLUMNS)
    column = PROFILE_COLUMNS[statistic]
    has_column = column in profile.columns and profile[column].notna().any()
    if has_column and profile[column].isna().any():  # one fit never mixes two statistics
        lacking = profile.index[profile[column].isna()]
        raise ProfileError(f"{_where(path, lacking[0], column)}: empty, and {len(lacking)} of "
                           f"{len(profile)} kernel rows lack it (a row cut short, or of an older "
                           f"format): time them again (codesign.profile re-times rows without "
                           f"it) or remove them")
    if has_column:
        check_numbers(profile, path, [column], [])
    profile = profile.reset_index(drop=True)
    profile["latency_median_ms"] = pd.to_numeric(profile["latency_ms"])
    profile["latency_ms"] = pd.to_numeric(profile[column]) if has_column else profile["latency_median_ms"]
    profile["latency_statistic"] = statistic if has_column else "latency_ms"
    for column in COUNT_COLUMNS:
        profile[column] = pd.to_numeric(profile[column])
    return profile


def data_hash(rows: pd.DataFrame) -> str:
    """SHA-256 of the rows' keys, features and latencies (order-independent)."""
    cols = [c for c in REQUIRED_COLUMNS if c in rows.columns]
    text = rows[cols].astype(str).agg("|".join, axis=1).sort_values().str.cat(sep="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def split_keys(keys, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split distinct keys into (train, held-out) arrays; all rows of a key stay on one side."""
    distinct = np.array(sorted(set(map(str, keys))))
    if not 0.0 <= holdout < 1.0:
        raise ValueError("holdout must be in [0, 1)")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(distinct))
    n_test = int(round(holdout * len(distinct)))
    if len(distinct) - n_test < 2:
        raise ValueError(f"too few distinct kernels ({len(distinct)}) to train")
    return np.sort(distinct[order[n_test:]]), np.sort(distinct[order[:n_test]])
