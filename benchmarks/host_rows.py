"""Per-host results in one CSV: a run on one host replaces that host's rows and keeps the rest.

Ratios count only within one run on one host, so every row carries ``host_id`` and ``runtime``,
summaries are computed per (runtime, host_id), and a re-run never mixes or drops another host's
measurements.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

KEYS = ("runtime", "host_id")


def other_hosts_rows(path: Path, runtime: str, host_id: str) -> pd.DataFrame:
    """Rows of ``path`` (if it exists) measured in another runtime or on another host."""
    if not Path(path).exists():
        return pd.DataFrame()
    old = pd.read_csv(path)
    if not set(KEYS) <= set(old.columns):
        return pd.DataFrame()  # rows without a host are not comparable with anything: dropped
    return old[(old["runtime"] != runtime) | (old["host_id"] != host_id)]


def with_other_hosts(path: Path, rows: pd.DataFrame, runtime: str, host_id: str) -> pd.DataFrame:
    """``rows`` (this host's, in ``runtime``) after the other hosts' and runtimes' rows of ``path``."""
    return pd.concat([other_hosts_rows(path, runtime, host_id), rows], ignore_index=True)


def replace_rows(path: Path, rows: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``path`` (if it exists) whose ``keys`` differ from every row of ``rows``,
    then ``rows``: a re-run replaces its own rows (same machine, network, schedule …) and keeps
    every other run's. Old rows lacking a key column count as different."""
    if not Path(path).exists():
        return rows.reset_index(drop=True)
    old = pd.read_csv(path)
    if not set(keys) <= set(old.columns):
        return pd.concat([old, rows], ignore_index=True)
    new = set(map(tuple, rows[list(keys)].astype(str).itertuples(index=False)))
    mine = old[list(keys)].astype(str).apply(tuple, axis=1).isin(new)
    return pd.concat([old[~mine], rows], ignore_index=True)
