"""Whole derived networks on this CPU: predicted vs measured end to end (TVM tuned).

    nice python -m benchmarks.latency.networks_local_cpu [--count 50] [--trials 8] [--seed 0]
        [--max-predicted-ms 400] [--predictor predictors/trained/local-cpu] [--work runs/networks_local_cpu]
        [--breakdown] [--profile devices/profiles/local-cpu.csv]
        [--out benchmarks/results/networks_local_cpu.csv]

Samples ``--count`` random genotypes of the default search space at local-cpu's LR input, each
cell op drawn among the op instances already in the measured profile (so the MetaSchedule
database covers most of their fused tasks; the rest are tuned with ``--trials``) and whose
predicted latency is at most ``--max-predicted-ms`` (deep high-resolution networks take minutes
per run on this CPU, and the budgets users set here are below a few hundred ms), compiles,
tunes and times each whole network with TVM (codesign.measure), and compares the measured
latency (ms) with (a) the predictor's network cost (sum of predicted kernels + its overhead)
and (b) the sum of the profile's measured kernel latencies where every kernel is in the profile.
Network-level corrections fitted on the measured networks, each scored leave-one-out: an
affine ``measured ≈ a · predicted + b``, and the per-MB overhead the closed loop uses
(codesign.search.closed_loop: ``measured ≈ kernels + c · MB written by the network's ops``) on the
predicted and on the measured kernel sums. Rows per network, then summary rows (share within ±10 %, Spearman ρ).
`--breakdown` also times every call inside each network (devices.tvm_compile.kernel_breakdown, the tuned
build from the database: nothing is tuned again), adds the in-network sums of the fused
kernels and of the VM builtins, and times the build again: how often the same network measured
twice agrees within ±10 % bounds what any predictor can reach on this machine; all estimates
are then scored a second time against that later timing (``truth = remeasured_ms``, fits
re-done on it), next to how well the breakdown run and the later timing agree. Every measured network is also added to the device's network profile (--network-profile), which
the closed loop of codesign.search re-fits its costs on. Resumes: networks already in the
measurement file are not measured again, and when ``--out`` already holds ``--count`` networks
the same networks are scored again (so a re-trained predictor is compared on the same sample;
delete ``--out`` to draw a new one).
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from benchmarks.benchmark_args import REPO, add_output, benchmark_parser
from codesign.search.cost_source import predicted_latency_table
from codesign.space.genotype import Genotype
from codesign.space.op_instances import op_instances
from codesign.space.random_genotypes import sample_genotypes
from codesign.space.search_space import SearchSpace
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail, nonnegative_int, positive_int
from devices import host_identity
from predictors.metrics import relative_error
from predictors.store import find_predictor, predictor_roots

DEVICE = "local-cpu"
PROFILE = REPO / "devices" / "profiles" / "local-cpu.csv"
NETWORK_PROFILE = REPO / "devices" / "profiles" / "local-cpu-networks.csv"


def fit_loo(design: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients of ``target ≈ design · coef`` and the leave-one-out fits."""
    coef = np.linalg.lstsq(design, target, rcond=None)[0]
    loo = np.empty_like(target)
    for i in range(len(target)):
        keep = np.arange(len(target)) != i
        loo[i] = design[i] @ np.linalg.lstsq(design[keep], target[keep], rcond=None)[0]
    return coef, loo


def previous_sample(out: Path, count: int) -> list[Genotype]:
    """The networks of an earlier run's results (``out``), when it holds ``count`` of them: a
    re-run with a re-trained predictor or profile scores the same networks."""
    if not out.exists():
        return []
    rows = pd.read_csv(out)
    genotypes = rows.genotype[rows.genotype.notna()].tolist()
    return [Genotype.from_json(g) for g in genotypes] if len(genotypes) == count else []


def network_model_loo(kernel_keys: list[list[str]], instances: pd.DataFrame, measured_ms: np.ndarray,
                      model: str = "roofline") -> np.ndarray:
    """Leave-one-out predictions of a network-level model: features are the sums of each
    network's kernel features (predictors.kernel_features.network_features), so the roofline
    model is Σ over kernels of (ms per call, per MAC, per byte of its op type) + an overhead,
    its coefficients fitted on whole-network latencies instead of isolated kernels."""
    from predictors.kernel_features import network_features
    from predictors.kinds.models import create

    kernels = pd.concat([instances.loc[keys].assign(network=i) for i, keys in enumerate(kernel_keys)],
                        ignore_index=True)
    X = network_features(kernels, kernels.network, sorted(instances.op.astype(str).unique()))
    loo = np.empty(len(X))
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        fitted = create(model).fit(X.iloc[keep], measured_ms[keep])
        loo[i] = fitted.predict(X.iloc[[i]])[0][0]
    return loo


def score(nets: pd.DataFrame, truth: str, kernel_keys, instances: pd.DataFrame) -> tuple[dict, list[dict]]:
    """Estimates of the latency in column ``truth`` (leave-one-out fits where fitted) and their
    summary rows: the first timing (``measured_ms``, in the process that tuned the network) or
    the second (``remeasured_ms``, the build from the database timed again later)."""
    measured = nets[truth]
    measured_ms = measured.to_numpy()
    predicted = nets.predicted_ms.to_numpy()
    columns = {}
    (a, b), columns["affine_loo_ms"] = fit_loo(np.stack([predicted, np.ones(len(nets))], 1), measured_ms)
    mb = nets.mb_written.to_numpy()[:, None]
    (c_pred,), loo = fit_loo(mb, measured_ms - predicted)
    columns["predicted_plus_mb_loo_ms"] = predicted + loo
    calls = np.stack([np.ones(len(nets)), nets.kernels.to_numpy(dtype=float)], 1)
    (o_net, o_kernel), loo = fit_loo(calls, measured_ms - predicted)
    columns["predicted_plus_overhead_loo_ms"] = predicted + loo
    columns["network_roofline_loo_ms"] = network_model_loo(kernel_keys, instances, measured_ms)
    extra = [summary("predictor (sum of predicted kernels + overhead)", nets.predicted_ms, measured, truth),
             summary(f"predictor + {c_pred:.3f} ms per MB written (LOO)",
                     pd.Series(columns["predicted_plus_mb_loo_ms"]), measured, truth),
             summary(f"predictor + {o_net:.2f} ms per network + {o_kernel:.2f} ms per kernel (LOO; "
                     "the KernelPredictor overhead form)", pd.Series(columns["predicted_plus_overhead_loo_ms"]),
                     measured, truth),
             summary(f"network-level fit measured = {a:.3f} x predicted + {b:.2f} ms (LOO)",
                     pd.Series(columns["affine_loo_ms"]), measured, truth),
             summary("network-level roofline: per-op ms per call/MAC/byte fitted on whole networks (LOO)",
                     pd.Series(columns["network_roofline_loo_ms"]), measured, truth),
             summary("sum of measured kernels", nets.measured_kernel_sum_ms.astype(float), measured, truth)]
    have = nets.measured_kernel_sum_ms.notna().to_numpy()
    if have.sum() >= 3:
        kernels = nets.measured_kernel_sum_ms.to_numpy(dtype=float)[have]
        (c_kern,), loo = fit_loo(mb[have], measured_ms[have] - kernels)
        column = np.full(len(nets), np.nan)
        column[have] = kernels + loo
        columns["kernel_sum_plus_mb_loo_ms"] = column
        extra.append(summary(f"sum of measured kernels + {c_kern:.3f} ms per MB written (LOO)",
                             pd.Series(column), measured, truth))
    return columns, extra


def summary(name: str, estimate: pd.Series, measured: pd.Series, truth: str = "measured_ms") -> dict:
    """Accuracy of ``estimate`` against ``measured`` (column ``truth`` of the network rows)."""
    estimate, measured = estimate.reset_index(drop=True), measured.reset_index(drop=True)
    ok = estimate.notna()
    if ok.sum() < 3:
        return {"network": f"summary: {name}", "truth": truth, "n": int(ok.sum())}
    rel = relative_error(measured[ok], estimate[ok])
    return {"network": f"summary: {name}", "truth": truth, "n": int(ok.sum()),
            "within_10pct": float((rel <= 0.10).mean()), "within_20pct": float((rel <= 0.20).mean()),
            "mape_pct": float(100 * rel.mean()),
            "spearman": float(spearmanr(estimate[ok], measured[ok]).statistic)}


def add_to_network_profile(path: Path, measured: pd.Series, genotype: str, lr_hw) -> bool:
    """Append a measured network to the device's network profile (what the closed loop re-fits
    on, codesign.search.closed_loop) unless that genotype is there already; True when appended."""
    from codesign.search.closed_loop import append_network_profile

    if path.exists() and (pd.read_csv(path).genotype == genotype).any():
        return False
    tuned = f"tuned, {int(measured.trials)} MetaSchedule trials per fused task"
    append_network_profile(path, DEVICE, lr_hw, {
        "measured_ms": measured.latency_ms, "measured_statistic": "median", "measured_std_ms": measured.latency_std_ms,
        "measured_load_1min": measured.get("load_1min"), "genotype": genotype,
        "measurement": f"measured: TVM {tuned}, median of {int(measured.repeats)} repeats "
                       f"({measured.runtime}, {measured.target}); benchmarks.latency.networks_local_cpu"})
    return True


def breakdown_network(genotype_path: Path, out: Path, lr_hw, trials: int) -> pd.DataFrame:
    """Per-call times inside the tuned build of a genotype, and the build timed again with the
    time evaluator (``remeasured_ms``: the same network measured twice); cached in ``out``."""
    if not out.exists():
        from codesign.hardware.measure import network_from_args
        from devices.backends import create
        from devices.catalog import get_device
        from devices.tvm_compile import fused_kernels

        name, module = network_from_args(None, str(genotype_path), SearchSpace().scale)
        shape = (1, 3, *lr_hw)
        backend = create("tvm-local", get_device(DEVICE), trials=trials)
        try:
            artifact = backend.build_relax(fused_kernels.relax_from_torch(module, shape), shape)
            timing = backend.run(artifact)
            calls = backend.breakdown(artifact)
        finally:
            backend.close()
        write_csv_atomic(calls.assign(network=name, remeasured_ms=timing.median_ms,
                                      remeasured_std_ms=timing.std_ms, load_1min=os.getloadavg()[0]),
                         out)
    return pd.read_csv(out)


@cli_main()
def main(argv=None) -> int:
    from codesign.hardware.measure import measure_network
    from devices.catalog import get_device

    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--count", type=positive_int, default=50)
    p.add_argument("--trials", type=positive_int, default=8)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--max-predicted-ms", type=float, default=400.0,
                   help="sample only networks the predictor puts at or below this latency (ms)")
    p.add_argument("--predictor", help="predictor folder (default: the TVM local-cpu predictor "
                                       "predictors.store finds for this host)")
    add_output(p, "networks_local_cpu")
    p.add_argument("--breakdown", action="store_true",
                   help="also time every call inside each network (devices.tvm_compile.kernel_breakdown)")
    p.add_argument("--profile", default=str(PROFILE),
                   help="measured kernel profile whose latencies are summed per network")
    p.add_argument("--network-profile", default=str(NETWORK_PROFILE),
                   help="device network profile every measured network is added to")
    args = p.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    space, lr_hw = SearchSpace(), tuple(get_device(DEVICE).lr_input_hw)
    profile = pd.read_csv(args.profile)
    profile = profile[(profile.backend == "tvm-local") & (profile.tuned.astype(str) == "True")]
    kernel_ms = profile.groupby("key").latency_ms.last().to_dict()
    predictor = find_predictor(DEVICE, args.predictor, host_identity.fingerprint()["host_id"], "tvm")
    if predictor is None:
        fail(f"no {DEVICE} predictor under {', '.join(map(str, predictor_roots()))}")
    table = predicted_latency_table(space, lr_hw, predictor)
    instances = op_instances(space, lr_hw).set_index("key", drop=False)
    bytes_out = instances.bytes_out.to_dict()
    measurements = work / "measurements.csv"
    rows = []
    predicted = lambda g: table.network_cost(g.op_keys(lr_hw))[0]
    profiled = set(kernel_ms)
    for g in previous_sample(Path(args.out), args.count) or sample_genotypes(
            space, args.count, args.seed, allowed=lambda instance: instance.key(lr_hw) in profiled,
            cost=predicted, max_cost=args.max_predicted_ms):
        path = work / f"{hashlib.sha1(g.to_json().encode()).hexdigest()[:10]}.json"
        path.write_text(g.to_json())
        done = pd.read_csv(measurements) if measurements.exists() else pd.DataFrame(columns=["key"])
        name = f"genotype:{path.stem}"
        if not (done.key.astype(str) == name).any():
            row = measure_network(DEVICE, str(work / "tmp.csv"), genotype=str(path),
                                  trials=args.trials, runtimes=("tvm",))[0]
            (work / "tmp.csv").unlink()
            row["key"] = name
            done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
            write_csv_atomic(done, measurements)
        measured = done[done.key.astype(str) == name].iloc[-1]
        add_to_network_profile(Path(args.network_profile), measured, g.to_json(), lr_hw)
        keys = g.op_keys(lr_hw)
        pred, pred_std = table.network_cost(keys)
        kernel_sum = sum(kernel_ms[k] for k in keys) if all(k in kernel_ms for k in keys) else None
        rows.append({"network": name, "path": g.path or "(stem cell only)", "kernels": len(keys),
                     "mb_written": sum(bytes_out[k] for k in keys) / 1e6,
                     "gmacs": measured.macs / 1e9, "measured_ms": measured.latency_ms,
                     "measured_std_ms": measured.latency_std_ms, "predicted_ms": pred,
                     "predicted_std_ms": pred_std, "measured_kernel_sum_ms": kernel_sum,
                     "load_1min": measured.get("load_1min"), "genotype": g.to_json()})
        if args.breakdown:
            from devices.tvm_compile.kernel_breakdown import summarise

            calls = breakdown_network(path, work / "breakdown" / f"{path.stem}.csv", lr_hw, args.trials)
            rows[-1].update(summarise(calls), remeasured_ms=calls.remeasured_ms.iloc[0],
                            remeasured_load_1min=calls.load_1min.iloc[0])
        write_csv_atomic(pd.DataFrame(rows), args.out)
    nets = pd.DataFrame(rows)
    kernel_keys = [Genotype.from_json(g).op_keys(lr_hw) for g in nets.genotype]
    columns, extra = score(nets, "measured_ms", kernel_keys, instances)
    if "remeasured_ms" in nets:
        extra.append(summary("in-network kernel sum (devices.tvm_compile.kernel_breakdown, not a predictor)",
                             nets.in_network_kernels_ms, nets.measured_ms))
        extra.append(summary("the same build timed again (measurement noise floor, not a predictor)",
                             nets.remeasured_ms, nets.measured_ms))
        again, extra_again = score(nets, "remeasured_ms", kernel_keys, instances)
        columns |= {f"{name}_vs_remeasured": values for name, values in again.items()}
        breakdown_ms = nets.in_network_kernels_ms + nets.in_network_builtins_ms
        extra += extra_again + [summary("in-network kernels + builtins, another run of the same build "
                                        "(measurement noise floor, not a predictor)", breakdown_ms,
                                        nets.remeasured_ms, "remeasured_ms")]
    nets = nets.assign(**columns)
    table_out = pd.concat([nets, pd.DataFrame(extra)], ignore_index=True)
    table_out["device"] = DEVICE
    table_out["predictor"] = table.source
    write_csv_atomic(table_out, args.out)
    print(pd.DataFrame(extra).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
