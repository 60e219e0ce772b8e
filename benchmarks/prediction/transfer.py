"""Leave-one-device-out transfer and 10-shot calibration on public measurements.

    python -m benchmarks.prediction.transfer [--splits 3] [--shots 10] [--random-repeats 2] [--no-nb201]
                                  [--out benchmarks/results/transfer.csv]

TopHub ARM CPUs (public:tophub, the same 208 conv2d workloads on every device): for every
target device and sibling set, the workload keys are split in two halves A and B (`--splits`
random splits, each used both ways). The siblings' rooflines are fitted on their A rows only
and transferred to the target through the spec sheets (predictors.public.transfer, exactly the
pixel7 code path); the 10 workloads to measure on the target are chosen among its B rows
before any of its measurements is used (k-means, predictors.calibrate.suggest; `random` rows
for comparison), the transferred predictor is calibrated on them (predictors.calibrate) and
both predictors are scored on the other B rows: no scored workload was seen by any model.
For reference, `own_roofline` is the target's own roofline fitted on its ~104 A rows.

NAS-Bench-201 (HELP data, whole networks, `--no-nb201` skips it): every phone / edge device
in turn is the target, all other 26 device configurations the sources. `before` ranks the
networks by the sources' mean log-latency (no target measurement, no spec sheet: ±10 % not
defined); `after` is predictors.fewshot fitted on 10 k-means-chosen networks of the target;
both scored on the other networks.

Writes every run (target × siblings × selection × split, half and repeat) to
benchmarks/results/transfer.csv. The summary (``summarize``: means and stds over the runs per
target × siblings × selection) is printed by a run and computed from the runs wherever it is
read, never stored.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmarks.benchmark_args import REPO, benchmark_parser
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail
from predictors.calibrate import calibrate, suggest
from predictors.kinds.roofline import DeviceSpec, FusedRooflineModel, Roofline
from predictors.metrics import accuracy
from predictors.public.transfer import (
    TOPHUB_DEVICES,
    TOPHUB_LOG,
    tophub_profiles,
    transferred_predictor,
)

DEFAULT_OUT = REPO / "benchmarks" / "results" / "transfer.csv"
PIXEL7_SIBLINGS = ["snapdragon835", "kirin970", "rk3399"]
NB201_TARGETS = ["pixel2", "pixel3", "essential_ph_1", "samsung_a50", "samsung_s7", "raspi4"]
SUMMARY = ["spearman_before", "within_10pct_before", "within_1std_before",
           "spearman_after", "within_10pct_after", "within_1std_after",
           "spearman_own_roofline", "within_10pct_own_roofline"]


def _scores(y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, tag: str) -> dict:
    acc = accuracy(y, mean)
    out = {f"spearman_{tag}": acc["spearman"], f"within_10pct_{tag}": acc["within_10pct"],
           f"mape_pct_{tag}": acc["mape_pct"]}
    if std is not None:
        out[f"within_1std_{tag}"] = float((np.abs(mean - y) <= std).mean())
    return out


def sibling_sets(target: str) -> dict[str, list[str]]:
    """`pixel7_siblings`: pixel7's catalog siblings without the target; `all_other`: every
    other TopHub ARM CPU."""
    return {"pixel7_siblings": [s for s in PIXEL7_SIBLINGS if s != target],
            "all_other": [s for s in TOPHUB_DEVICES if s != target]}


def tophub_runs(profiles: dict[str, pd.DataFrame], splits: int, shots: int,
                random_repeats: int) -> list[dict]:
    keys = np.array(sorted(set(profiles[TOPHUB_DEVICES[0]]["key"])))
    jobs = [(t, name, sibs, s, half) for t in profiles for name, sibs in sibling_sets(t).items()
            for s in range(splits) for half in (0, 1)]
    records = []
    for target, set_name, siblings, split, half in tqdm(jobs, desc="tophub leave-one-out"):
        order = np.random.default_rng(split).permutation(len(keys))
        halves = (set(keys[order[: len(keys) // 2]]), set(keys[order[len(keys) // 2:]]))
        fit_keys, test_keys = halves[half], halves[1 - half]
        train = {d: rows[rows["key"].isin(fit_keys)].reset_index(drop=True) for d, rows in profiles.items()}
        test = profiles[target][profiles[target]["key"].isin(test_keys)].reset_index(drop=True)
        y = test["latency_ms"].to_numpy()
        predictor = transferred_predictor(target, train, siblings)
        spec = DeviceSpec.from_catalog(target)
        own = FusedRooflineModel([Roofline.fit(train[target], spec)])
        selections = [("kmeans", 0, suggest(predictor, test, shots))]
        selections += [("random", r, np.random.default_rng(100 + r).choice(len(test), shots, replace=False))
                       for r in range(random_repeats)]
        before_mean, before_std = predictor.predict(test)
        own_mean, _ = own.predict(predictor.features(test))
        for selection, repeat, chosen in selections:
            scored = np.setdiff1d(np.arange(len(test)), chosen)
            calibrated = calibrate(predictor, test.iloc[chosen], pool=test.iloc[scored].drop(columns="latency_ms"))
            after_mean, after_std = calibrated.predict(test.iloc[scored])
            records.append({
                "data": "tophub", "target": target, "siblings_setting": set_name,
                "siblings": ";".join(siblings), "selection": selection, "repeat": repeat,
                "split_seed": split, "half": half, "shots": shots, "n_scored": len(scored),
                **_scores(y[scored], before_mean[scored], before_std[scored], "before"),
                **_scores(y[scored], after_mean, after_std, "after"),
                **_scores(y[scored], own_mean[scored], None, "own_roofline"),
                "best_loo_model": calibrated.model.fewshot.best_candidate,
                "before": "siblings' rooflines (A half) rescaled by spec sheets (predictors.public.transfer)",
                "after": f"predictors.calibrate on {shots} target kernels of the B half",
                "own_roofline": "target's own roofline fitted on its A half (~104 kernels)",
                "measurement_provenance": "public:tophub", "provenance": "transferred"})
    return records


def nb201_runs(shots: int) -> list[dict]:
    from benchmarks.prediction.predictor_nb201 import DATA, FEWSHOT_FEATURES, load
    from predictors.fewshot import SOURCE_PREFIX, choose_samples, fit_few_shot

    table, features = load(DATA / "nb201_help.csv.gz", DATA / "nb201_archs.csv.gz")
    records = []
    for target in tqdm(NB201_TARGETS, desc="nb201 leave-one-out"):
        sources = [d for d in table.columns if d != target]
        pool = pd.concat([features[FEWSHOT_FEATURES], table[sources].add_prefix(SOURCE_PREFIX)], axis=1)
        y = table[target].to_numpy()
        chosen = choose_samples(pool, FEWSHOT_FEATURES, shots, seed=0)
        scored = np.setdiff1d(np.arange(len(pool)), chosen)
        model = fit_few_shot(pool, FEWSHOT_FEATURES, chosen, y[chosen])
        after_mean, after_std = model.predict(pool.iloc[scored])
        rank_score = np.exp(np.log(table[sources].to_numpy()).mean(axis=1))[scored]
        before = accuracy(y[scored], rank_score)
        records.append({
            "data": "nb201", "target": target, "siblings_setting": "all_other",
            "siblings": ";".join(sources), "selection": "kmeans", "repeat": 0, "split_seed": 0,
            "half": -1, "shots": shots, "n_scored": len(scored),
            "spearman_before": before["spearman"], "within_10pct_before": np.nan,
            **_scores(y[scored], after_mean, after_std, "after"),
            "best_loo_model": model.best_candidate,
            "before": "rank by the sources' mean log-latency (no spec sheet: no ms scale)",
            "after": f"predictors.fewshot on {shots} k-means-chosen networks of the target",
            "measurement_provenance": "public:help", "provenance": "transferred"})
    return records


def summarize(runs: pd.DataFrame) -> pd.DataFrame:
    """Per target × siblings × selection: mean and std over the runs of every SUMMARY score,
    the runs and their mean scored count, and how before / after / own_roofline were made."""
    keys = ["data", "target", "siblings_setting", "siblings", "selection", "shots"]
    metrics = [c for c in SUMMARY if c in runs.columns]
    grouped = runs.groupby(keys, sort=False)
    out = grouped[metrics].mean()
    out = out.join(grouped[metrics].std(ddof=0).add_suffix("_std"))
    out["runs"] = grouped.size()
    out["n_scored_mean"] = grouped["n_scored"].mean()
    for col in ("before", "after", "own_roofline", "measurement_provenance", "provenance"):
        out[col] = grouped[col].first()
    out["split"] = np.where(out.index.get_level_values("data") == "tophub",
                            "workload keys halved (A: siblings fitted, B: shots chosen and scored), "
                            "seeds × both ways", "all networks; the shots never scored")
    return out.reset_index()


@cli_main()
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--log", default=str(TOPHUB_LOG))
    parser.add_argument("--splits", type=int, default=3, help="random halvings of the workload keys")
    parser.add_argument("--shots", type=int, default=10)
    parser.add_argument("--random-repeats", type=int, default=2, help="random-selection runs per split")
    parser.add_argument("--no-nb201", action="store_true", help="skip the NAS-Bench-201 part")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    if args.splits < 1 or args.shots < 3:
        fail("--splits must be >= 1 and --shots >= 3")
    try:
        runs = tophub_runs(tophub_profiles(args.log), args.splits, args.shots, args.random_repeats)
        if not args.no_nb201:
            runs += nb201_runs(args.shots)
    except (ValueError, KeyError) as err:
        fail(str(err))
    runs = pd.DataFrame(runs)
    write_csv_atomic(runs, Path(args.out))
    table = summarize(runs)
    with pd.option_context("display.width", 200):
        print(table[["data", "target", "siblings_setting", "selection"] + SUMMARY].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
