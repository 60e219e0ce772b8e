"""Learned whole-model predictors beside the NNLS fits on AI Hub's NPU times: do they rank the
CNNs better, leave-one-model-out? (Issue 43 allows a learned model where it predicts better.)

    python -m benchmarks.prediction.predictor_qaihub_learned [--device "Samsung Galaxy S24"]
        [--out benchmarks/results/predictor_qaihub_learned.csv]

For each runtime and precision of the AI Hub device with at least qaihub_fit.MIN_MODELS CNNs on
the NPU: the NNLS variant qaihub_fit chooses, and three learned regressors of log latency on the
same features (data/qaihub/features.csv): ridge on log(1 + every non-zero feature), ridge on
log(1 + total MACs, parameters and op calls per class), and gradient-boosted trees (XGBoost,
depth 2, 200 trees) on log(1 + every non-zero feature). Each is scored leave-one-model-out:
Spearman ρ, MAPE and the share within ±20 %. The learned ones are not additive over op instances,
so even where one ranked better the search's penalty could not use it as it stands.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import check_output_file, cli_main
from predictors.metrics import accuracy, within
from predictors.public import qaihub_fit
from predictors.public.qaihub_features import CLASSES, FEATURE_COLUMNS, read_features


def _ridge():
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-3, 3, 13))


def _trees():
    import xgboost

    return xgboost.XGBRegressor(n_estimators=200, max_depth=2, learning_rate=0.05, n_jobs=1, random_state=0)


def learned_inputs(rows: pd.DataFrame) -> dict[str, tuple]:
    """name → (regressor factory, log features) of each learned predictor."""
    every = np.log1p(rows[[c for c in FEATURE_COLUMNS if rows[c].sum() > 0]].to_numpy(float))
    totals = np.log1p(rows[["macs_f", "params_f", *[f"n:{c}" for c in CLASSES]]].to_numpy(float))
    return {"ridge_log_features": (_ridge, every), "ridge_log_totals": (_ridge, totals),
            "xgboost_log_features": (_trees, every)}


def leave_one_out_log(make, x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """Latency (ms) of each model predicted by a regressor fitted on the others' log latency."""
    out = np.empty(len(log_y))
    for i in range(len(log_y)):
        keep = np.arange(len(log_y)) != i
        out[i] = make().fit(x[keep], log_y[keep]).predict(x[i:i + 1])[0]
    return np.exp(out)


def scores(y: np.ndarray, pred: np.ndarray) -> dict:
    """Leave-one-out ρ, MAPE (%) and share within ±20 % of predictions ``pred`` of ``y``
    (predictors.metrics.accuracy)."""
    got = accuracy(y, pred)
    return {"loo_spearman": round(got["spearman"], 4), "loo_mape_pct": round(got["mape_pct"], 2),
            "loo_within_20pct": round(float(within(y, pred, 0.20).mean()), 3)}


def compare(perf: pd.DataFrame, features: pd.DataFrame, device: str) -> pd.DataFrame:
    """One row per (runtime, precision, predictor) of ``device``."""
    rows = []
    groups = perf[(perf["device"] == device) & perf["runtime"].isin(qaihub_fit.FITTED_RUNTIMES)
                  & perf["precision"].isin(qaihub_fit.FITTED_PRECISIONS)][["runtime", "precision"]]
    for runtime, precision in groups.drop_duplicates().itertuples(index=False):
        try:
            fitted = qaihub_fit.fit_device(perf, features, device, runtime, precision)
        except ValueError:
            continue
        data, variant = fitted["rows"], fitted["variant"]
        y = data["latency_ms"].to_numpy(float)
        found = {f"nnls {variant}": qaihub_fit.leave_one_out(data, y, variant)}
        found |= {name: leave_one_out_log(make, x, np.log(y)) for name, (make, x) in learned_inputs(data).items()}
        rows += [{"device": device, "runtime": runtime, "precision": precision, "predictor": name,
                  "cnn_models": len(y), **scores(y, pred),
                  "provenance": "public:qai-hub measured vs predicted (leave-one-model-out)"}
                 for name, pred in found.items()]
    return pd.DataFrame(rows)


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--device", default="Samsung Galaxy S24", help="AI Hub device name")
    parser.add_argument("--out", default=str(RESULTS / "predictor_qaihub_learned.csv"))
    args = parser.parse_args(argv)
    out = check_output_file(args.out)
    table = compare(qaihub_fit.read_perf(), read_features(), args.device)
    if table.empty:
        raise ValueError(f"--device {args.device!r}: no group with {qaihub_fit.MIN_MODELS} CNNs on the NPU")
    write_csv_atomic(table, out)
    print(table.drop(columns="provenance").to_string(index=False))


if __name__ == "__main__":
    main()
