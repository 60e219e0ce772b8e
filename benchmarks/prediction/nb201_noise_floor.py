"""How well can any predictor do on the HELP data? Twin networks measured twice over.

    python -m benchmarks.prediction.nb201_noise_floor [--latency FILE.csv.gz] [--archs FILE.csv.gz]
        [--predictions benchmarks/results/predictor_nb201.csv] [--out FILE.csv]

When edge 1→2 of a NAS-Bench-201 cell is ``none``, nodes 1 and 2 both read only node 0, so
swapping them (edges 0→1 ↔ 0→2 and 1→3 ↔ 2→3) gives another architecture string that
computes exactly the same network: the same kernels on the same tensors, in another order.
NAS-Bench-201 has 1500 such twin pairs; each pair is one network measured twice on every
device, so their disagreement is the measurement noise of the data set.

A predictor sees the same network in both twins, so it gives both one number p; p is within
±10 % of both latencies a ≤ b only if b/a ≤ 1.1/0.9. Per device this reports the share of
pairs whose twins agree within that ratio, and the ceiling it puts on the share of networks
any predictor can place within ±10 % (``1 − ½ · share of pairs that disagree``, assuming the
twins are as noisy as other networks), beside the best ±10 % share reached in
``--predictions`` (predictor_nb201.csv, largest training size).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from benchmarks.prediction.predictor_nb201 import PER_DEVICE
from codesign_common import public_data
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail
from predictors.public.nb201 import EDGES, parse_arch

DATA = public_data.LATENCY_DIR
BOTH_WITHIN_10PCT = 1.1 / 0.9  # largest b/a for which one number is within ±10 % of a and b


def twin_of(ops: list[str]) -> list[str] | None:
    """The ops of the architecture with nodes 1 and 2 swapped, or None when 1→2 is not ``none``
    (then node 2 reads node 1 and the swap is not the same network)."""
    edge = {e: op for e, op in zip(EDGES, ops)}
    if edge[(2, 1)] != "none":
        return None
    swapped = dict(edge)
    swapped[(1, 0)], swapped[(2, 0)] = edge[(2, 0)], edge[(1, 0)]
    swapped[(3, 1)], swapped[(3, 2)] = edge[(3, 2)], edge[(3, 1)]
    return [swapped[e] for e in EDGES]


def twin_pairs(archs: pd.DataFrame) -> pd.DataFrame:
    """(arch_a, arch_b) index pairs of distinct strings that are the same network."""
    index = {tuple(parse_arch(s)): i for i, s in zip(archs.arch_index, archs.arch_str)}
    pairs = set()
    for ops, i in index.items():
        twin = twin_of(list(ops))
        if twin is not None and tuple(twin) != ops and tuple(twin) in index:
            pairs.add(tuple(sorted((i, index[tuple(twin)]))))
    return pd.DataFrame(sorted(pairs), columns=["arch_a", "arch_b"])


def noise_floor(latency: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Per device: twin agreement and the ±10 % ceiling it implies."""
    wide = latency.pivot(index="arch_index", columns="device", values="latency_ms")
    rows = []
    for device in wide.columns:
        a = wide[device].reindex(pairs.arch_a).to_numpy()
        b = wide[device].reindex(pairs.arch_b).to_numpy()
        ok = np.isfinite(a) & np.isfinite(b)
        ratio = np.maximum(a[ok], b[ok]) / np.minimum(a[ok], b[ok])
        disagree = float((ratio > BOTH_WITHIN_10PCT).mean())
        rows.append({"device": device, "pairs": int(ok.sum()),
                     "median_twin_diff_pct": float(100 * np.median(ratio - 1)),
                     "p90_twin_diff_pct": float(100 * np.quantile(ratio - 1, 0.9)),
                     "twins_within_10pct_of_each_other": float((ratio <= 1.1).mean()),
                     "twins_one_number_within_10pct": 1 - disagree,
                     "ceiling_within_10pct": 1 - disagree / 2})
    return pd.DataFrame(rows)


def best_reached(predictions: Path) -> pd.DataFrame:
    """Best ±10 % share per device at the largest training size in predictor_nb201.csv."""
    d = pd.read_csv(predictions)
    d = d[d["part"] == PER_DEVICE].astype({"train_size": int})  # float beside the few-shot rows
    d = d[(d.subset == "all") & (d.train_size == d.train_size.max())]
    best = d.sort_values("within_10pct").groupby("device").tail(1)
    return best[["device", "train_size", "model", "within_10pct"]].rename(
        columns={"train_size": "best_train_size", "model": "best_model",
                 "within_10pct": "best_within_10pct"})


@cli_main()
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--latency", default=str(DATA / "nb201_help.csv.gz"))
    p.add_argument("--archs", default=str(DATA / "nb201_archs.csv.gz"))
    p.add_argument("--predictions", default=str(RESULTS / "predictor_nb201.csv"))
    p.add_argument("--out", default=str(RESULTS / "nb201_noise_floor.csv"))
    args = p.parse_args(argv)
    try:
        latency = pd.read_csv(args.latency)
        archs = pd.read_csv(args.archs)
        for frame, cols, path in ((latency, ["arch_index", "device", "latency_ms"], args.latency),
                                  (archs, ["arch_index", "arch_str"], args.archs)):
            if missing := [c for c in cols if c not in frame.columns]:
                raise ValueError(f"{path} lacks columns {missing}")
        pairs = twin_pairs(archs)
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        return fail(f"cannot read input: {err}")
    table = noise_floor(latency, pairs)
    if Path(args.predictions).exists():
        table = table.merge(best_reached(Path(args.predictions)), on="device", how="left")
    table["data"] = Path(args.latency).name
    write_csv_atomic(table, args.out)
    print(f"{len(pairs)} twin pairs")
    print(table.drop(columns="data").round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
