"""Do searched networks meet their latency budgets when measured? (local-cpu)

    python -m benchmarks.search.budget_hit [--device local-cpu] [--runtime onnxruntime|tvm]
        [--budgets 60,90,140,220] [--count 4] [--trials 8] [--dominant-trials 8] [--rounds 5]
        [--steps 400] [--warmup-steps 40]
        [--finetune-steps 3000] [--network-profile FILE.csv] [--work runs/budget_hit]
        [--out benchmarks/results/budget_hit.csv]

For each budget (ms, at the device's LR input), a search (codesign.search.api, what
``python -m codesign.search --device D --runtime R --budget B`` runs) runs with its closed loop
(the derived network timed in the runtime it is deployed with: onnxruntime, or TVM compiled and
MetaSchedule-tuned; re-fit and re-derive while the measurement misses the band,
codesign.search.budget.BAND × budget, ``--rounds`` at most). Every row names the runtime, the host (id)
and the foreign CPU share of its timing.
Without ``--budgets``, ``--count`` budgets are spread geometrically from 1.5× to 6× the
cheapest network the space holds under the predictor re-fitted on the device's measured
networks (codesign.search.inputs.default_network_profile: per host and runtime for local-cpu; every
run extends it). One row per budget: the predicted latency
(± the predictor's std) and the measured latency of the final network, the rounds it took
(and how many were timed twice, far over their prediction: codesign.search.report.RETIME_OFF),
PSNR/SSIM on the validation photos, whether the prediction and the measurement fall in the
band; the share of budgets met per host and runtime (goal ≥ 95 %) is derived from the rows
(``summary_rows``: printed here, tabled by benchmarks.report), never stored; rows of
other hosts and runtimes already in ``--out`` are kept (benchmarks.host_rows). On TVM the
derived networks are tuned to ``--trials`` per fused task and ``--dominant-trials`` for the one
with the most FLOPs (default 8 and 8: the levels the profile's kernels were tuned to, which the
predictor learned). Runs resume from ``--work``: SIGINT/SIGTERM checkpoint the search in
progress and say to run the same command again; the default budgets are recorded in
``WORK/budgets.json`` and each search keeps the costs it started with
(codesign.search.closed_loop), so a re-run continues the same searches whatever was measured meanwhile.
``--network-profile`` names another network profile to re-fit on and extend (e.g. an empty
one, to start from the kernel predictor alone).
"""
from __future__ import annotations

import dataclasses
import json
import signal
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.benchmark_args import add_output, add_schedule, benchmark_parser
from benchmarks.host_rows import other_hosts_rows
from codesign.search.api import (
    SearchInterrupted,
    SearchRequest,
    default_schedule,
    plan,
    run,
)
from codesign.search.budget import in_band, parse_budget
from codesign.search.cost_source import cost_range
from codesign.search.inputs import resolve_runtime, search_costs
from codesign.search.train import StopOnSignal
from codesign.space.search_space import SearchSpace
from codesign_common.atomic import write_csv_atomic, write_text_atomic
from codesign_common.cli import (
    UsageError,
    check_output_dir,
    cli_main,
    positive_int,
)
from devices.host_identity import describe, fingerprint
from devices.quiet_timing import DisturbedTiming


def default_budgets(device: str, count: int, predictor: str | None = None,
                    network_profile: str | None = None, runtime: str | None = None) -> list[float]:
    """``count`` budgets (ms) geometric from 1.5× to 6× the space's cheapest network under the
    predictor re-fitted on the device's measured networks (codesign.search.closed_loop)."""
    from devices.catalog import get_device

    dev = get_device(device)
    space = SearchSpace(scale=dev.scale)
    lr_hw = tuple(dev.lr_input_hw)
    runtime = resolve_runtime(dev, runtime)
    table = search_costs(dev, parse_budget("1ms"), space, lr_hw, predictor, runtime=runtime,
                         network_profile=network_profile).table
    low, _ = cost_range(space, table, lr_hw)
    return [float(f"{b:.3g}") for b in np.geomspace(1.5 * low, 6 * low, count)]


def work_budgets(args) -> list[float]:
    """The budgets (ms) of this --work: ``--budgets``, else those recorded in WORK/budgets.json
    by the first run with the same device, runtime, count, predictor and network profile, else
    default_budgets, recorded there (every run extends the network profile, which moves the
    default budgets: a re-run must find its interrupted searches' folders again)."""
    if args.budgets:
        return [float(b) for b in args.budgets.split(",") if b]
    key = {"device": args.device, "runtime": args.runtime, "count": args.count,
           "predictor": args.predictor, "network_profile": args.network_profile}
    path = Path(args.work) / "budgets.json"
    try:
        recorded = json.loads(path.read_text())
        if {k: recorded.get(k) for k in key} == key:
            return [float(b) for b in recorded["budgets"]]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    budgets = default_budgets(args.device, args.count, args.predictor, args.network_profile,
                              args.runtime)
    write_text_atomic(path, json.dumps({**key, "budgets": budgets}, indent=1) + "\n")
    return budgets


def budget_row(device: str, budget: float, args) -> dict:
    """One budget's search (resumed from --work) and its row; ``args.stop``, where set, is the
    StopOnSignal that checkpoints it on SIGINT/SIGTERM."""
    request = SearchRequest(
        budget=f"{budget:g}ms", device=device, runtime=args.runtime,
        out=str(Path(args.work) / f"{device}-{args.runtime}-{budget:g}ms"), resume=True,
        trials=args.trials, dominant_trials=args.dominant_trials, rounds=args.rounds,
        finetune_steps=args.finetune_steps,
        schedule=dataclasses.replace(default_schedule(), steps=args.steps,
                                     warmup_steps=args.warmup_steps, batch_size=args.batch_size,
                                     patch_size=args.patch_size),
        predictor=args.predictor, network_profile=args.network_profile)
    result = run(plan(request), getattr(args, "stop", None))
    report, last = result.report, result.final
    return {"device": device, "runtime": args.runtime, "host": describe(fingerprint()),
            "host_id": last.get("measured_host_id"),
            "foreign_cpu_share": last.get("measured_foreign_cpu_share"),
            "budget_ms": budget, "lr_h": last.lr_h, "lr_w": last.lr_w,
            "rounds": len(report), "delivered_round": int(last.get("round", 0)),
            "predicted_ms": last.cost, "predicted_std_ms": last.cost_std,
            "prediction": last.cost_provenance, "prediction_source": last.cost_source,
            "measured_ms": last.measured_ms, "statistic": last.get("measured_statistic"),
            "measured_median_ms": last.get("measured_median_ms"),
            "measured_std_ms": last.measured_std_ms, "measurement": last.measurement,
            "load_1min": last.get("measured_load_1min"),
            "first_round_measured_ms": report.iloc[0].measured_ms,
            "retimed_rounds": int((report.get("measured_timings", pd.Series(dtype=float)) == 2).sum()),
            "measured_over_budget": last.measured_ms / budget,
            "predicted_in_band": in_band(last.cost, budget),
            "measured_in_band": in_band(last.measured_ms, budget),
            "psnr": last.psnr, "ssim": last.ssim, "path": last.path, "gmacs": last.gmacs,
            "params": last.params, "search_steps": args.steps,
            "finetune_steps": args.finetune_steps,
            **({"trials": args.trials, "dominant_trials": args.dominant_trials} if args.runtime == "tvm" else {})}


def _flags(column: pd.Series) -> pd.Series:
    """A True/False column as booleans, as read back from a CSV."""
    return column.map(lambda v: str(v) == "True")


def summary_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """Per host and runtime: the share of budgets measured (and predicted) in the band."""
    return pd.DataFrame([{"device": device, "runtime": runtime, "host_id": host_id,
                          "path": "share of budgets met (measured in band)", "budgets": len(group),
                          "measured_in_band": float(_flags(group.measured_in_band).mean()),
                          "predicted_in_band": float(_flags(group.predicted_in_band).mean())}
                         for (device, runtime, host_id), group in rows.groupby(["device", "runtime", "host_id"],
                                                                                sort=False)])


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--device", default="local-cpu")
    p.add_argument("--runtime", choices=("onnxruntime", "tvm"), default="onnxruntime")
    p.add_argument("--budgets", default="", help="ms, comma-separated (default: see above)")
    p.add_argument("--count", type=positive_int, default=4)
    p.add_argument("--trials", type=positive_int, default=8)
    p.add_argument("--dominant-trials", type=positive_int, default=8)
    p.add_argument("--rounds", type=positive_int, default=SearchRequest.rounds)
    schedule = default_schedule()
    add_schedule(p, steps=schedule.steps, warmup_steps=schedule.warmup_steps, finetune_steps=3000,
                 batch_size=schedule.batch_size, patch_size=schedule.patch_size)
    p.add_argument("--predictor", help="latency predictor folder (default: the device's)")
    p.add_argument("--network-profile", help="network profile to re-fit on and extend "
                   "(default: the device's under $CODESIGN_CACHE/profiles/, with the one shipped "
                   "in devices/profiles/ read too)")
    add_output(p, "budget_hit")
    args = p.parse_args(argv)
    if args.dominant_trials < args.trials:
        raise UsageError("--dominant-trials must be at least --trials")
    check_output_dir(args.work, "--work")
    budgets = work_budgets(args)
    others = other_hosts_rows(Path(args.out), args.runtime, fingerprint()["host_id"])
    rows = []
    stop = args.stop = StopOnSignal().install()
    try:
        for budget in budgets:
            rows.append(budget_row(args.device, budget, args))
            write_csv_atomic(pd.concat([others, pd.DataFrame(rows)], ignore_index=True), args.out)
    except KeyboardInterrupt as exc:  # SearchInterrupted, or a signal before a search wrote
        signum = getattr(exc, "signum", signal.SIGINT)
        where = f"progress is checkpointed in {exc.out}" if isinstance(exc, SearchInterrupted) \
            else "no search had written yet"
        print(f"interrupted by {signal.Signals(signum).name}; {where}: run the same command "
              f"again to resume (from --work {args.work})", file=sys.stderr)
        return 128 + signum
    finally:
        stop.uninstall()
    table = pd.DataFrame(rows)
    every = pd.concat([others, table], ignore_index=True)
    write_csv_atomic(every, args.out)
    print(table[["budget_ms", "rounds", "predicted_ms", "measured_ms", "measured_in_band",
                 "psnr"]].to_string(index=False))
    print(summary_rows(every).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
