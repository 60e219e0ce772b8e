"""Whole networks on this host in one runtime: predicted (sum of kernels + fitted overhead) vs
measured, beside the test-retest ceiling.

    python -m benchmarks.latency.networks_runtime_local_cpu [--runtime onnxruntime|tvm|pytorch]
        [--timings benchmarks/results/retest_local_cpu.csv] [--predictor DIR]
        [--out benchmarks/results/networks_runtime_local_cpu.csv]

Times nothing: the measured latencies are the two passes of benchmarks.latency.retest_local_cpu on this
host (the first pass is scored, the second is the retest), by the statistic the kernel
predictor learned (its ``meta.statistic``: the minimum or the median of the repeats; column
``statistic``), so prediction and ceiling are read on the same timings. The kernel predictor
is this host's and runtime's (predictors.store); each
network's latency comes from its op instances' predictions (codesign.space.genotype.op_keys) through
the network model of predictors.network_overhead (overhead + per-op scales × kernel predictions
+ ms per GMAC, the shrinkage chosen by cross-validation), fitted leave-one-out on the other
networks, so every network is held out of the fit that predicts it (shrinkage choice included).
Rows: one per network, runtime and host (a run replaces its own runtime's and host's rows and
keeps the others, benchmarks.host_rows). The summary (``summarise``: printed by a run, computed
from the rows wherever it is read, never stored) scores the network model, the plain kernel sum
and the retest (the ceiling) against the measured latency per host and runtime: share within
±10 %/±20 %, MAPE, Spearman ρ. ``--save-overhead`` then fits the network model
on all the networks and saves it into the predictor (``overhead_ms``, ``kernel_scale``,
``op_scales``, ``ms_per_gmac``, with ``meta.network_overhead`` saying on what), so that the
search's cost table holds each op instance's share of a network (CostModel.network_table).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

from benchmarks.benchmark_args import RESULTS, add_output, benchmark_parser
from benchmarks.host_rows import with_other_hosts
from benchmarks.latency.retest_local_cpu import RUNTIMES
from codesign.space.genotype import Genotype
from codesign.space.op_instances import op_instances
from codesign.space.search_space import SearchSpace
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import UsageError, check_output_file, cli_main
from devices import host_identity
from devices.catalog import get_device
from predictors.metrics import relative_error, within
from predictors.network_overhead import (
    fit_network_overhead,
    kernel_sums,
    predict_networks,
)
from predictors.predictor import KernelPredictor
from predictors.store import find_predictor, provenance_here

# (scored, retest) columns of benchmarks.latency.retest_local_cpu per statistic the predictor learned
TIMING_COLUMNS = {"median": ("first_ms", "second_ms"), "min": ("first_min_ms", "second_min_ms")}
DEVICE = "local-cpu"
LOO_ESTIMATES = {
    "predicted (network model of kernel predictions, fitted leave-one-out)": "network_model_loo",
    "predicted (overhead + scale x kernel sum, fitted leave-one-out)": "overhead_plus_scaled_kernel_sum_loo"}
"""A row's ``provenance`` → the name its leave-one-out prediction has in the summary: the first
is what ``run`` writes, the second the rows of the earlier model (one overhead + one scale x the
kernel sum)."""
PROVENANCE = next(iter(LOO_ESTIMATES))


def network_kernels(genotypes: dict[str, Genotype], lr_hw) -> dict[str, pd.DataFrame]:
    """name → the op-instance rows the network runs (one per op run)."""
    space = SearchSpace(scale=next(iter(genotypes.values())).scale)
    instances = op_instances(space, lr_hw).set_index("key", drop=False)
    return {name: instances.loc[g.op_keys(lr_hw)].reset_index(drop=True) for name, g in genotypes.items()}


def leave_one_out(predictor: KernelPredictor, kernels: dict[str, pd.DataFrame],
                  measured: dict[str, float]) -> pd.DataFrame:
    """Per network: predicted mean/std with the overhead fitted on all the other networks."""
    rows = {}
    for name in kernels:
        others = {n: k for n, k in kernels.items() if n != name}
        fitted = fit_network_overhead(copy.deepcopy(predictor), others, measured)
        rows[name] = predict_networks(fitted, {name: kernels[name]}).iloc[0]
    return pd.DataFrame.from_dict(rows, orient="index")


def score(predicted: pd.Series, truth: pd.Series) -> dict:
    return {"n": len(truth), "within_10pct": float(within(truth, predicted, 0.10).mean()),
            "within_20pct": float(within(truth, predicted, 0.20).mean()),
            "mape_pct": float(100 * relative_error(truth, predicted).mean()),
            "spearman": float(spearmanr(predicted, truth).statistic)}


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per runtime and host: the leave-one-out prediction, the plain kernel sum and the retest
    (the ceiling) scored against the measured latency (``score``)."""
    out = []
    for (runtime, host_id), g in rows.groupby(["runtime", "host_id"], sort=False):
        estimates = {LOO_ESTIMATES[g["provenance"].iloc[0]]: g["predicted_ms"],
                     "kernel_sum": g["kernel_sum_ms"], "retest (ceiling)": g["retest_ms"]}
        out += [{"estimate": name, **score(column, g["measured_ms"]), "runtime": runtime,
                 "host_id": host_id, "statistic": g["statistic"].iloc[0]}
                for name, column in estimates.items()]
    return pd.DataFrame(out)


def run(runtime: str, timings_csv: Path, predictor_dir: str | None, out: Path,
        save_overhead: bool = False) -> pd.DataFrame:
    fp = host_identity.fingerprint()
    timings = pd.read_csv(timings_csv)
    timings = timings[(timings["runtime"] == runtime) & (timings["host_id"] == fp["host_id"])]
    if len(timings.dropna(subset=["first_ms", "second_ms"])) < 3:
        raise UsageError(f"{timings_csv}: fewer than 3 networks timed twice in {runtime} on this host "
                         f"({fp['host_id']}); run python -m benchmarks.latency.retest_local_cpu --runtime {runtime}")
    path = find_predictor(DEVICE, predictor_dir, fp["host_id"], runtime)
    predictor = KernelPredictor.load(path) if path else None
    if predictor is None or provenance_here(predictor.meta, DEVICE, runtime)[0] != "predicted":
        raise UsageError(f"no {runtime} predictor of this host ({fp['host_id']}) found (found: {path}); "
                         "profile and train one first (README)")
    statistic = predictor.meta.get("statistic", "median")  # what the kernel predictor learned
    first, second = TIMING_COLUMNS.get(statistic, TIMING_COLUMNS["median"])
    timings = timings.dropna(subset=[first, second])
    names = timings["network"].tolist()
    genotypes = dict(zip(names, pd.read_csv(RESULTS / "networks_local_cpu.csv").drop_duplicates("network")
                         .set_index("network").loc[names, "genotype"].map(Genotype.from_json)))
    lr_hw = tuple(get_device(DEVICE).lr_input_hw)
    kernels = network_kernels(genotypes, lr_hw)
    measured = dict(zip(names, timings[first]))
    sums = kernel_sums(predictor, kernels)
    loo = leave_one_out(predictor, kernels, measured)
    rows = timings[["network", "runtime", "device", "host", "host_id", first, second]].rename(
        columns={first: "measured_ms", second: "retest_ms"}).set_index("network")
    rows["statistic"] = statistic
    rows["kernels"] = [len(kernels[n]) for n in rows.index]
    rows["kernel_sum_ms"] = sums["kernel_sum_ms"]
    rows["predicted_ms"] = loo["mean_ms"]
    rows["predicted_std_ms"] = loo["std_ms"]
    rows["provenance"] = PROVENANCE
    rows["predictor"] = _relative(path)
    rows = rows.reset_index()
    write_csv_atomic(with_other_hosts(out, rows, runtime, fp["host_id"]), out)
    summary = summarise(rows)
    if save_overhead:
        fitted = fit_network_overhead(predictor, kernels, measured)
        loo = summary.iloc[0]
        fitted.meta["network_overhead"] = {
            "networks": len(measured), "timings": _relative(timings_csv), "column": first,
            "model": "overhead_ms + sum of op_scales[op] x kernel prediction + ms_per_gmac x GMACs, "
                     "non-negative, least relative squares, op scales shrunk toward kernel_scale "
                     f"(lambda {fitted.network_shrinkage}, by cross-validation)",
            "loo_within_10pct": round(float(loo.within_10pct), 3), "loo_mape_pct": round(float(loo.mape_pct), 2)}
        fitted.save(path)
        scales = ", ".join(f"{op} {s:.2f}" for op, s in fitted.op_scales.items())
        print(f"saved network model {fitted.overhead_ms:.3g} ms + op scales ({scales}; others "
              f"{fitted.kernel_scale:.2f}) x kernel predictions + {fitted.ms_per_gmac:.3g} ms/GMAC -> {path}")
    return summary


def _relative(path) -> str:
    path = Path(path).resolve()
    repo = RESULTS.parents[1]
    return path.relative_to(repo).as_posix() if path.is_relative_to(repo) else str(path)


@cli_main()
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--runtime", default="onnxruntime", choices=RUNTIMES)
    p.add_argument("--timings", type=Path, default=RESULTS / "retest_local_cpu.csv")
    p.add_argument("--predictor", help="predictor folder (default: this host's, predictors.store)")
    p.add_argument("--save-overhead", action="store_true",
                   help="fit the overhead on all networks and save it into the predictor")
    add_output(p, "networks_runtime_local_cpu", work=False)
    args = p.parse_args(argv)
    check_output_file(args.out)
    if not args.timings.is_file():
        raise UsageError(f"--timings {args.timings}: no such file")
    with pd.option_context("display.width", 160):
        print(run(args.runtime, args.timings, args.predictor, args.out, args.save_overhead).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
