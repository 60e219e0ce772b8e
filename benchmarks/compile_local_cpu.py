"""Whole SR networks on this CPU: TVM untuned, TVM tuned, onnxruntime and PyTorch in one run.

    nice python -m benchmarks.compile_local_cpu [--archs fsrcnn,espcn,carn_m,imdn,rlfn_ntire]
        [--genotypes a.json,b.json] [--trials 8] [--input 90x160] [--out benchmarks/results/compile_local_cpu.csv]

Derived nets: benchmarks/genotypes/local-cpu-budget-*.json are the four networks of
benchmarks/results/budget_hit.csv (searched for 49.3 / 78.2 / 124 / 197 ms on this CPU).
Rows are codesign.measure rows (profile schema, op = network) plus `ratio_tvm_tuned_to_ort`
(TVM tuned latency / onnxruntime latency of the same network; the goal is <= 1). Resumes: a
network (reference or genotype) whose four rows are present is skipped. Other jobs share this machine: see load_1min.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from codesign.measure import measure_network, network_from_args
from codesign.profile import parse_hw
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, cli_main
from devices.measure import RUNTIMES

RESULTS = Path(__file__).parent / "results"


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """ratio_tvm_tuned_to_ort per network key, on every row of that key."""
    df = df.drop(columns=["ratio_tvm_tuned_to_ort"], errors="ignore")
    tuned = df[(df["backend"] == "tvm-local") & (df["tuned"].astype(str) == "True")].groupby("key")["latency_ms"].last()
    ort = df[df["backend"] == "onnxruntime"].groupby("key")["latency_ms"].last()
    df["ratio_tvm_tuned_to_ort"] = df["key"].map(tuned / ort)
    return df


@cli_main()
def main(argv=None) -> int:
    parser = Parser(prog="python -m benchmarks.compile_local_cpu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", default="fsrcnn,espcn,carn_m,imdn,rlfn_ntire")
    parser.add_argument("--genotypes", default="")
    parser.add_argument("--trials", type=int, default=8, help="MetaSchedule trials per fused task "
                        "(8: the budget of devices/profiles/local-cpu.csv, so its records are reused)")
    parser.add_argument("--input", default="90x160")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_local_cpu.csv")
    args = parser.parse_args(argv)
    try:
        hw = parse_hw(args.input)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    nets = [("arch", a) for a in args.archs.split(",") if a] + [("genotype", g) for g in args.genotypes.split(",") if g]
    for kind, name in nets:
        if args.out.exists():
            done = pd.read_csv(args.out)
            label = name if kind == "arch" else network_from_args(None, name, 4)[0]
            if (done["key"] == f"network:{label}:h={hw[0]}:w={hw[1]}").sum() >= len(RUNTIMES):
                continue
        measure_network("local-cpu", str(args.out), input_hw=hw, trials=args.trials, repeats=args.repeats,
                        **({"arch": name} if kind == "arch" else {"genotype": name}))
    df = add_ratios(pd.read_csv(args.out))
    write_csv_atomic(df, args.out)
    print(df[["key", "backend", "tuned", "latency_ms", "ratio_tvm_tuned_to_ort", "load_1min"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
