"""Latency predictors proven on NAS-Bench-201 networks measured on 27 devices (HELP data).

    python -m benchmarks.prediction.predictor_nb201 [--latency FILE.csv.gz] [--archs FILE.csv.gz]
        [--train-sizes 10,50,100,900] [--splits 3] [--out FILE.csv]

Every architecture string becomes the real NAS-Bench-201 network (predictors.public.nb201) →
kernels → network features (kernel sums, eager and after dead-code elimination, and the cell
one-hot). Per device and training size, `--splits` random splits: train on n networks,
score every other network of that device (Spearman ρ, ±5/10 %, RMSE, MAPE) for the FLOPs
baseline, the roofline sum of kernels and XGBoost. Devices with networks timed below 0.5 ms
(pixel3, raspi4: the networks whose cells disconnect input from output) are scored on all
held-out networks and again without those. These rows have ``part`` per_device.

Few-shot transfer (HELP's split, unless --sources/--targets say otherwise): for each target
device, 10 networks chosen from the source devices' latencies (predictors.fewshot), fitted,
and scored on all the other networks: the rows of ``part`` few_shot (a run without sources or
targets keeps the few-shot rows already in --out, benchmarks.host_rows).
Any CSV with columns arch_index, device, latency_ms is accepted.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmarks.benchmark_args import REPO, benchmark_parser
from benchmarks.host_rows import replace_rows
from codesign_common import public_data
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail
from predictors.fewshot import SOURCE_PREFIX, choose_samples, fit_few_shot
from predictors.kinds.models import create
from predictors.metrics import accuracy
from predictors.public.nb201 import nb201_features

DATA = public_data.LATENCY_DIR
DEFAULT_OUT = REPO / "benchmarks" / "results" / "predictor_nb201.csv"
HELP_SOURCES = ["1080ti_1", "1080ti_32", "1080ti_256", "silver_4114", "silver_4210r",
                "samsung_a50", "pixel3", "essential_ph_1", "samsung_s7"]
HELP_TARGETS = ["titan_rtx_256", "gold_6226", "fpga", "pixel2", "raspi4", "eyeriss"]
FEWSHOT_FEATURES = ["n:relu_conv3x3_bn", "n:relu_conv1x1_bn", "n:avgpool3x3", "n:zero"]
ARTEFACT_MS = 0.5
METRICS = ["spearman", "within_5pct", "within_10pct", "rmse_ms", "mape_pct"]
PER_DEVICE, FEW_SHOT = "per_device", "few_shot"
"""Values of the ``part`` column: a predictor per device and training size, or few-shot transfer."""


def load(latency_path, archs_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(latency ms, arch_index × device) and network features indexed by arch_index."""
    try:
        lat = pd.read_csv(latency_path)
        archs = pd.read_csv(archs_path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read input: {err}") from None
    for frame, cols, path in ((lat, ["arch_index", "device", "latency_ms"], latency_path),
                              (archs, ["arch_index", "arch_str"], archs_path)):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{path} lacks columns {missing}")
    lat["latency_ms"] = pd.to_numeric(lat["latency_ms"], errors="coerce")
    if lat["latency_ms"].isna().any() or (lat["latency_ms"] <= 0).any():
        raise ValueError(f"{latency_path}: latency_ms must be positive numbers")
    if lat.duplicated(["arch_index", "device"]).any():
        raise ValueError(f"{latency_path}: repeated (arch_index, device) rows")
    table = lat.pivot(index="arch_index", columns="device", values="latency_ms")
    archs = archs[archs["arch_index"].isin(table.index)].drop_duplicates("arch_index").set_index("arch_index")
    if len(archs) < len(table):
        raise ValueError(f"{archs_path} lacks {len(table) - len(archs)} arch_index values of {latency_path}")
    features = nb201_features(list(archs.loc[table.index, "arch_str"]))
    features.index = table.index
    return table, features


def _subsets(y: np.ndarray) -> list[tuple[str, np.ndarray]]:
    subsets = [("all", np.ones(len(y), dtype=bool))]
    if (y < ARTEFACT_MS).any():
        subsets.append((f"without_below_{ARTEFACT_MS}ms", y >= ARTEFACT_MS))
    return subsets


def per_device(table, features, sizes, splits, models) -> pd.DataFrame:
    """Mean/std over random splits of held-out metrics, per device × training size × model."""
    records = []
    jobs = [(d, n) for d in table.columns for n in sizes]
    for device, n in tqdm(jobs, desc="device × size"):
        measured = table[device].dropna()
        if n >= len(measured) - 1:
            continue
        X, y = features.loc[measured.index], measured.to_numpy()
        runs = {}
        for split in range(splits):
            order = np.random.default_rng(split).permutation(len(y))
            train, test = order[:n], order[n:]
            for model in models:
                mean, _ = create(model).fit(X.iloc[train], y[train]).predict(X.iloc[test])
                for subset, mask in _subsets(y[test]):
                    runs.setdefault((model, subset), []).append(accuracy(y[test][mask], mean[mask]))
        for (model, subset), results in runs.items():
            frame = pd.DataFrame(results)
            records.append({"device": device, "train_size": n, "model": model, "subset": subset,
                            "splits": splits, "n_test": int(frame["n"].iloc[0]),
                            **{m: frame[m].mean() for m in METRICS},
                            **{m + "_std": frame[m].std(ddof=0) for m in METRICS}})
    return pd.DataFrame(records)


def few_shot(table, features, sources, targets, shots, repeats) -> pd.DataFrame:
    """Held-out metrics of few-shot predictors per target device, selection and repeat."""
    pool = pd.concat([features[FEWSHOT_FEATURES + ["macs"]],
                      table[sources].add_prefix(SOURCE_PREFIX)], axis=1).dropna()
    records = []
    for target in tqdm(targets, desc="few-shot targets"):
        y_all = table.loc[pool.index, target].to_numpy()
        for repeat in range(repeats):
            for selection in ("kmeans", "random"):
                if selection == "kmeans":
                    chosen = choose_samples(pool, FEWSHOT_FEATURES, shots, seed=repeat)
                else:
                    chosen = np.random.default_rng(repeat).choice(len(pool), shots, replace=False)
                model = fit_few_shot(pool, FEWSHOT_FEATURES, chosen, y_all[chosen])
                test = np.setdiff1d(np.arange(len(pool)), chosen)
                mean, _ = model.predict(pool.iloc[test])
                y = y_all[test]
                for subset, mask in _subsets(y):
                    base = accuracy(y[mask], pool["macs"].to_numpy()[test][mask])["spearman"]
                    records.append({"target": target, "shots": shots, "selection": selection,
                                    "repeat": repeat, "subset": subset, "best_loo_model": model.best_candidate,
                                    **accuracy(y[mask], mean[mask]), "flops_spearman": base,
                                    "sources": ";".join(sources), "source_features": "measured source latencies"})
    return pd.DataFrame(records)


@cli_main()
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--latency", default=str(DATA / "nb201_help.csv.gz"), help="CSV: arch_index,device,latency_ms")
    parser.add_argument("--archs", default=str(DATA / "nb201_archs.csv.gz"), help="CSV: arch_index,arch_str")
    parser.add_argument("--train-sizes", default="10,50,100,900")
    parser.add_argument("--splits", type=int, default=3, help="random splits per device and size")
    parser.add_argument("--models", default="flops,roofline,xgb")
    parser.add_argument("--devices", default="", help="comma list (default: all in --latency)")
    parser.add_argument("--sources", default=",".join(HELP_SOURCES))
    parser.add_argument("--targets", default=",".join(HELP_TARGETS))
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--fewshot-repeats", type=int, default=5)
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.train_sizes.split(",") if s]
    except ValueError:
        fail(f"--train-sizes must be comma-separated integers, got {args.train_sizes!r}")
    if not sizes or min(sizes) < 3 or args.splits < 1 or args.shots < 3:
        fail("--train-sizes must be >= 3, --splits >= 1, --shots >= 3")
    try:
        table, features = load(args.latency, args.archs)
        devices = [d for d in args.devices.split(",") if d] or list(table.columns)
        unknown = [d for d in devices if d not in table.columns]
        if unknown:
            raise ValueError(f"devices not in {args.latency}: {unknown}")
        results = per_device(table[devices], features, sizes, args.splits, args.models.split(","))
        sources = [d for d in args.sources.split(",") if d in table.columns]
        targets = [d for d in args.targets.split(",") if d in table.columns]
        fewshot = few_shot(table, features, sources, targets, args.shots, args.fewshot_repeats) \
            if sources and targets else None
    except ValueError as err:
        fail(str(err))
    results["data"] = Path(args.latency).name
    results["measurement_provenance"] = "public:help"
    parts = [results.assign(part=PER_DEVICE)] + ([fewshot.assign(part=FEW_SHOT)] if fewshot is not None else [])
    write_csv_atomic(replace_rows(Path(args.out), pd.concat(parts, ignore_index=True), ("part",)), args.out)
    if fewshot is not None:
        summary = fewshot.groupby(["selection", "subset", "target"])["spearman"].mean().unstack("target")
        summary["mean"] = summary.mean(axis=1)
        print(summary.round(4).to_string())
    best = results[results["subset"] == "all"].pivot_table(index="device", columns=["model", "train_size"],
                                                           values="within_10pct")
    print(best.round(4).to_string())


if __name__ == "__main__":
    main()
