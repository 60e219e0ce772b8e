"""Latency predictors for `local-cpu` on held-out kernels of this machine's TVM-tuned profile.

    python -m benchmarks.prediction.predictor_local_cpu [--profile FILE.csv] [--models xgb,roofline,...]
        [--seeds 5] [--holdout 0.25] [--networks benchmarks/results/networks_local_cpu.csv]
        [--out FILE.csv] [--save-best predictors/trained/local-cpu]

For every model and seed, the distinct kernel keys of the profile (devices/profiles/local-cpu.csv,
TVM + MetaSchedule measurements of this host) are split by predictors.profile_io.split_keys:
the model is trained on the training keys only (predictors.train) and scored on the held-out
keys, never seen in training. Writes benchmarks/results/predictor_local_cpu.csv: one row per
model × seed and one `mean` row per model: n_train / n_test (kernels), MAPE (%), Spearman ρ,
share of held-out kernels predicted within ±10 % / ±20 % of the measured latency, RMSE (ms),
and the data they come from (device, profile, MetaSchedule trials, measurement provenance).
Whole networks: the summary rows of ``--networks`` (benchmarks.latency.networks_local_cpu: derived
networks measured end to end, each network-level estimate scored leave-one-out) are appended
with ``level = network``; kernel rows have ``level = kernel``.
`--save-best DIR` refits the model with the lowest mean held-out MAPE on every row and saves it
there (the predictor codesign.search loads), its held-out scores in `meta.heldout_eval`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import REPO, benchmark_parser
from benchmarks.host_rows import replace_rows
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail
from predictors.metrics import accuracy, within
from predictors.profile_io import read_kernel_profile
from predictors.train import train

DEVICE = "local-cpu"
DEFAULT_PROFILE = REPO / "devices" / "profiles" / "local-cpu.csv"
DEFAULT_OUT = REPO / "benchmarks" / "results" / "predictor_local_cpu.csv"
DEFAULT_NETWORKS = REPO / "benchmarks" / "results" / "networks_local_cpu.csv"
MODELS = ["xgb", "per_op-xgb", "rf", "roofline", "per_op-roofline", "flops"]
METRICS = ["mape_pct", "spearman", "within_10pct", "within_20pct", "rmse_ms"]


def heldout_scores(rows: pd.DataFrame, profile, model: str, holdout: float, seed: int) -> dict:
    """Train `model` on the training keys of split `seed`; metrics on the held-out keys."""
    predictor = train(DEVICE, profile, model, holdout=holdout, seed=seed)
    trained = set(predictor.meta["training_keys"])
    test = rows[~rows["key"].astype(str).isin(trained)]
    y = test["latency_ms"].to_numpy()
    mean, _ = predictor.predict(test)
    return {"n_train": predictor.meta["training_rows"], "n_test": len(test),
            **{m: v for m, v in accuracy(y, mean).items() if m in METRICS},
            "within_20pct": float(within(y, mean, 0.20).mean())}


def run(profile, models: list[str], seeds: int, holdout: float) -> pd.DataFrame:
    rows = read_kernel_profile(profile, DEVICE)
    path = Path(profile).resolve()
    data = {"device": DEVICE, "profile": _relative(path),
            "trials": ";".join(str(t) for t in sorted(rows["trials"].unique())),
            "kernels": int(rows["key"].nunique()), "holdout": holdout,
            "split": "distinct kernel keys (predictors.profile_io.split_keys)",
            "measurement_provenance": ";".join(sorted(rows["provenance"].astype(str).unique())),
            "provenance": "predicted"}
    records = []
    for model in models:
        per_seed = [{"model": model, "seed": str(seed), **heldout_scores(rows, profile, model, holdout, seed)}
                    for seed in range(seeds)]
        frame = pd.DataFrame(per_seed)
        mean = {"model": model, "seed": "mean",
                **frame[["n_train", "n_test"] + METRICS].mean().to_dict()}
        records += per_seed + [mean]
    table = pd.DataFrame(records)[["model", "seed", "n_train", "n_test"] + METRICS].assign(**data)
    return table[["device"] + [c for c in table.columns if c != "device"]]


def network_rows(path: Path) -> pd.DataFrame:
    """Summary rows of benchmarks.latency.networks_local_cpu's results as ``level = network`` rows."""
    nets = pd.read_csv(path)
    summary = nets[nets.network.astype(str).str.startswith("summary: ")]
    return pd.DataFrame({"device": DEVICE, "level": "network",
                         "model": summary.network.str.removeprefix("summary: ")
                         + (" [vs " + summary.truth + "]" if "truth" in summary else ""),
                         "seed": "leave-one-network-out", "n_test": summary.n,
                         "mape_pct": summary.mape_pct, "spearman": summary.spearman,
                         "within_10pct": summary.within_10pct, "within_20pct": summary.within_20pct,
                         "networks": _relative(path),
                         "measurement_provenance": "measured", "provenance": "predicted"})


def _relative(path) -> str:
    """``path`` relative to the repository where it lies inside it."""
    path = Path(path).resolve()
    return path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)


def save_best(table: pd.DataFrame, profile, holdout: float, out, scores, model: str | None = None) -> str:
    """Refit `model` (default: the one with the lowest mean held-out MAPE) on all rows, save it
    to ``out``; ``scores`` names the CSV the held-out scores were written to."""
    means = table[(table["seed"] == "mean") & (table["level"] == "kernel")].set_index("model")
    best = model or str(means["mape_pct"].idxmin())
    predictor = train(DEVICE, profile, best, holdout=0.0)
    predictor.meta["profile"] = _relative(profile)
    e = means.loc[best]
    predictor.meta["heldout_eval"] = {
        "mape_pct": round(float(e.mape_pct), 2), "spearman": round(float(e.spearman), 3),
        "within_10pct": round(float(e.within_10pct), 3), "within_20pct": round(float(e.within_20pct), 3),
        "n": int(e.n_test),
        "split": f"same model type trained with {holdout:.0%} of the kernel keys held out "
                 "(python -m predictors.train --holdout H --seed S), scored on them; mean over "
                 f"the seeds of {_relative(scores)}; n is held-out kernels "
                 f"per split; this file is then refit on all {predictor.meta['training_rows']} rows"}
    predictor.meta["prediction_provenance"] = "predicted"
    predictor.save(out)
    return best


ROW_KEYS = ("profile", "level")
"""The rows of one profile's evaluation; a run replaces its profile's rows and keeps the others'."""


@cli_main()
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--profile", default=str(DEFAULT_PROFILE))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seeds", type=int, default=5, help="random key splits (seeds 0..N-1)")
    parser.add_argument("--holdout", type=float, default=0.25, help="share of kernel keys held out")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--networks", default=str(DEFAULT_NETWORKS),
                        help="benchmarks.latency.networks_local_cpu results to append (skipped when absent)")
    parser.add_argument("--save-best", help="directory for the best model refit on all rows")
    parser.add_argument("--save-model", choices=MODELS, help="save this model instead of the lowest kernel MAPE's "
                        "(e.g. the one that predicts whole networks best, benchmarks.latency.networks_runtime_local_cpu)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or not 0 < args.holdout < 1:
        fail("--seeds must be >= 1 and --holdout in (0, 1)")
    try:
        table = run(args.profile, args.models.split(","), args.seeds, args.holdout)
    except ValueError as err:
        fail(str(err))
    table.insert(1, "level", "kernel")
    if Path(args.networks).exists():
        table = pd.concat([table, network_rows(Path(args.networks).resolve())], ignore_index=True)
    write_csv_atomic(replace_rows(args.out, table, ROW_KEYS), args.out)
    means = table[(table["seed"] == "mean") & (table["level"] == "kernel")]
    print(means[["model", "n_train", "n_test"] + METRICS].to_string(index=False, float_format="%.3f"))
    if args.save_best:
        print(f"saved {save_best(table, args.profile, args.holdout, args.save_best, args.out, args.save_model)} -> {args.save_best}")


if __name__ == "__main__":
    main()
