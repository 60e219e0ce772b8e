"""The networks of benchmarks.compile_local_cpu timed again, all runtimes of a network interleaved.

    nice python -m benchmarks.compile_interleaved_local_cpu [--archs ...] [--genotypes ...]
        [--trials 32] [--dominant-trials 128] [--input 90x160] [--rounds 7] [--out benchmarks/results/compile_interleaved_local_cpu.csv]
        [--tune-only] [--retime]

compile_local_cpu times each runtime once, one after the other, in the process that has just
tuned: on this VM the machine's speed drifts between such timings (the 78.2 ms genotype's
onnxruntime build measured 13.2, 15.6 and 20.3 ms within an hour, quiet each time). Here TVM
tuned (records from the tuning database, tuned first where missing), onnxruntime and PyTorch of
one network are built, then timed round-robin (devices.quiet_timing.interleaved: a warm-up,
then `--rounds` rounds of one untimed call and one repeat of >= 100 ms per runtime), so a slow
minute touches all three alike. One row per network and runtime: median and min over the
rounds (ms), max/min spread, largest foreign CPU share, GMAC/s (by the min), and per network
`ratio_tvm_to_ort` (medians), `ratio_tvm_to_ort_min` (minima) and `ratio_tvm_to_ort_paired` (the
median over rounds of TVM's time / onnxruntime's in the same round: devices.quiet_timing.paired_ratio;
the one to read on a VM that switches speed for seconds at a time). Rows of other hosts are kept;
resumes per network, host and trial budget (a new budget re-times that host's network).
`--tune-only` tunes the networks' TVM builds into the tuning database and times nothing, so that
hours of tuning can run first and the timing later, in one quiet run; `--retime` times the
networks again even where this host's rows with the same budget exist.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from benchmarks.compile_local_cpu import (
    add_network_arguments,
    selected_networks,
    trial_budget,
)
from codesign.complexity import count_macs
from codesign.measure import network_from_args
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, cli_main, positive_int
from devices import host_identity
from devices.backends import create
from devices.catalog import get_device
from devices.quiet_timing import interleaved, paired_ratio

RESULTS = Path(__file__).parent / "results"
RUNTIMES = ("tvm-local", "onnxruntime", "pytorch")


def tvm_backend(budget: tuple[int, int, str]):
    """The tvm-local backend of local-cpu, tuning to `budget` (trials per fused task at least,
    trials of the largest task, the rule)."""
    trials, dominant_trials, _ = budget
    return create("tvm-local", get_device("local-cpu"), trials=trials, dominant_share=dominant_trials / trials)


def time_network(name: str, module, shape, budget: tuple[int, int, str], rounds: int) -> list[dict]:
    """Rows of one network: every runtime built (TVM tuned to `budget`: trials per fused task, at
    least, of the largest task, and the rule spending them), then all timed interleaved."""
    trials, dominant_trials, rule = budget
    calls, versions = {}, {}
    for runtime in RUNTIMES:
        backend = tvm_backend(budget) if runtime == "tvm-local" else create(runtime, get_device("local-cpu"))
        calls[runtime] = backend.call(backend.build(module, shape))
        versions[runtime] = backend.runtime
    per_round = {}
    timed = interleaved(calls, rounds=rounds, per_round=per_round)
    fp = host_identity.fingerprint()
    macs = count_macs(module, shape[2:], shape[1])
    ended = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows = [{"network": name, "runtime": versions[r], "backend": r, "trials": trials if r == "tvm-local" else 0,
             "dominant_trials": dominant_trials if r == "tvm-local" else 0,
             "trial_rule": rule if r == "tvm-local" else "",
             "median_ms": t.median_ms, "min_ms": t.min_ms, "spread": t.max_ms / t.min_ms, "rounds": t.repeats,
             "macs": macs, "gmac_per_s": macs / t.min_ms / 1e6, "foreign_cpu_share": share,
             "host": host_identity.describe(fp), "host_id": fp["host_id"], "ended": ended}
            for r, (t, share) in timed.items()]
    tvm, ort = timed["tvm-local"][0], timed["onnxruntime"][0]
    for row in rows:
        row["ratio_tvm_to_ort"] = tvm.median_ms / ort.median_ms
        row["ratio_tvm_to_ort_min"] = tvm.min_ms / ort.min_ms
        row["ratio_tvm_to_ort_paired"] = paired_ratio(per_round["tvm-local"], per_round["onnxruntime"])
    return rows


def measured(done: pd.DataFrame, name: str, host_id: str, budget: tuple[int, int, str]) -> bool:
    """Whether `done` holds network `name` timed on host `host_id` with TVM tuned to `budget`
    (trials per fused task, at least; trials of the largest task; the trial rule)."""
    tvm = done[(done["network"] == name) & (done["host_id"] == host_id) & (done["backend"] == "tvm-local")]
    if "trial_rule" not in tvm:
        return False  # rows from before budgets and rules were recorded
    return bool(((tvm["trials"] == budget[0]) & (tvm["dominant_trials"] == budget[1])
                 & (tvm["trial_rule"] == budget[2])).any())


@cli_main()
def main(argv=None) -> int:
    parser = Parser(prog="python -m benchmarks.compile_interleaved_local_cpu", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    add_network_arguments(parser)
    parser.add_argument("--rounds", type=positive_int, default=7)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_interleaved_local_cpu.csv")
    parser.add_argument("--tune-only", action="store_true", help="tune the TVM builds, time nothing")
    parser.add_argument("--retime", action="store_true", help="time networks already timed with this budget again")
    args = parser.parse_args(argv)
    hw, nets = selected_networks(args)
    host_id = host_identity.fingerprint()["host_id"]
    done = pd.read_csv(args.out) if args.out.exists() else pd.DataFrame(columns=["network", "host_id", "backend", "trials", "dominant_trials"])
    for kind, spec in nets:
        name, module = network_from_args(spec if kind == "arch" else None, spec if kind == "genotype" else None, 4)
        if args.tune_only:
            tvm_backend(trial_budget(args)).build(module, (1, 3, *hw))
            print(f"{name}: tuned to {trial_budget(args)}", flush=True)
            continue
        if not args.retime and measured(done, name, host_id, trial_budget(args)):
            continue
        done = done[(done["network"] != name) | (done["host_id"] != host_id)]  # another budget's rows
        rows = time_network(name, module, (1, 3, *hw), trial_budget(args), args.rounds)
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True) if len(done) else pd.DataFrame(rows)
        write_csv_atomic(done, args.out)
        print(pd.DataFrame(rows)[["network", "backend", "median_ms", "min_ms", "ratio_tvm_to_ort"]].to_string(index=False), flush=True)
    if args.tune_only:
        return 0
    ratios = done[done["host_id"] == host_id].drop_duplicates("network")
    paired = ratios.get("ratio_tvm_to_ort_paired", pd.Series(dtype=float))
    print(f"TVM tuned / onnxruntime over {len(ratios)} networks on this host: median {ratios.ratio_tvm_to_ort.median():.2f} "
          f"(by minima {ratios.ratio_tvm_to_ort_min.median():.2f}; paired by round {paired.median():.2f} over "
          f"{paired.notna().sum()}), max {ratios.ratio_tvm_to_ort.max():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
