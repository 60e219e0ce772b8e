"""Conv-kernel latency predictors for the ARM CPUs of TVM's TopHub, on held-out workloads.

    python -m benchmarks.predictor_tophub [--log FILE.log] [--folds 5] [--repeats 2] [--out FILE.csv]

Imports the TopHub log (predictors.import_tophub), then for every device with at least
`--min-kernels` distinct workloads runs `--repeats` × `--folds`-fold cross-validation grouped
by workload key (a workload is never both trained on and scored), for each model.
Writes benchmarks/results/predictor_tophub.csv: mean and std over folds of RMSE (ms),
MAPE (%), ±5 % / ±10 % shares and Spearman ρ on the held-out kernels.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from predictors.cli_util import fail, write_csv_atomic
from predictors.kernel_features import kernel_features
from predictors.metrics import accuracy
from predictors.models import create
from predictors.import_tophub import import_tophub

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LOG = REPO.parent / "shared" / "data" / "latency" / "tophub" / "arm_cpu_v0.08.log"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "predictor_tophub.csv"
MODELS = ["xgb", "per_op-xgb", "rf", "roofline", "flops"]
METRICS = ["rmse_ms", "mape_pct", "within_5pct", "within_10pct", "spearman"]


def cross_validate(rows: pd.DataFrame, model: str, folds: int, repeats: int) -> list[dict]:
    """Held-out metrics per fold; folds split the distinct workload keys."""
    op_vocab = sorted(rows["op"].unique())
    X = kernel_features(rows, op_vocab)
    y = rows["latency_ms"].to_numpy()
    keys = rows["key"].to_numpy()
    distinct = np.array(sorted(set(keys)))
    results = []
    for repeat in range(repeats):
        order = np.random.default_rng(repeat).permutation(len(distinct))
        for fold in range(folds):
            test_keys = set(distinct[order[fold::folds]])
            test = np.array([k in test_keys for k in keys])
            fitted = create(model).fit(X[~test], y[~test])
            mean, std = fitted.predict(X[test])
            results.append({**accuracy(y[test], mean),
                            "within_1std": float((np.abs(mean - y[test]) <= std).mean())})
    return results


def run(log, folds: int, repeats: int, min_kernels: int, models: list[str]) -> pd.DataFrame:
    profiles = import_tophub(log)
    records = []
    jobs = [(d, m) for d, rows in profiles.items() if rows["key"].nunique() >= min_kernels for m in models]
    if not jobs:
        raise ValueError(f"no device in {log} has {min_kernels} distinct workloads")
    for device, model in tqdm(jobs, desc="device × model"):
        rows = profiles[device]
        per_fold = pd.DataFrame(cross_validate(rows, model, folds, repeats))
        record = {"device": device, "model": model, "kernels": len(rows),
                  "ops": ";".join(sorted(rows["op"].unique())), "folds": folds, "repeats": repeats,
                  "n_test_mean": float(per_fold["n"].mean())}
        for metric in METRICS + ["within_1std"]:
            record[metric] = float(per_fold[metric].mean())
            record[metric + "_std"] = float(per_fold[metric].std(ddof=0))
        record.update(split="grouped by workload key", source=Path(log).name,
                      measurement_provenance="public:tophub", provenance="predicted")
        records.append(record)
    return pd.DataFrame(records)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.predictor_tophub", description=__doc__.split("\n")[0])
    parser.add_argument("--log", default=str(DEFAULT_LOG))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="random fold assignments")
    parser.add_argument("--min-kernels", type=int, default=100, help="skip devices with fewer workloads")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    if args.folds < 2 or args.repeats < 1:
        fail("--folds must be >= 2 and --repeats >= 1")
    try:
        table = run(args.log, args.folds, args.repeats, args.min_kernels, args.models.split(","))
    except ValueError as err:
        fail(str(err))
    write_csv_atomic(table, args.out)
    print(table[["device", "model", "mape_pct", "within_10pct", "spearman"]].to_string(index=False))


if __name__ == "__main__":
    main()
