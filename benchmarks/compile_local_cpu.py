"""Whole SR networks on this CPU: TVM untuned, TVM tuned, onnxruntime and PyTorch in one run,
beside a measured peak.

    nice python -m benchmarks.compile_local_cpu [--archs fsrcnn,espcn,carn_m,imdn,rlfn_ntire]
        [--genotypes a.json,b.json] [--trials 32] [--dominant-trials 128] [--input 90x160]
        [--out benchmarks/results/compile_local_cpu.csv]

Derived nets: benchmarks/genotypes/local-cpu-budget-*.json (searched for 49.3 / 78.2 / 124 /
197 ms on this CPU's TVM build). TVM builds in the backend's default layout (NCHW, named in
`target`) and tunes every fused task with at least `--trials` trials, the task holding the most
FLOPs with `--dominant-trials` (default 4x `--trials`) and the others in proportion to their FLOPs,
then once more by measured latency: the task holding the most time gets `--dominant-trials`, the others in
proportion to their time (devices.tuning.trial_targets). TVM builds evaluate tanh and sigmoid
with a rational approximation, as onnxruntime does (devices.fast_math). Rows are codesign.measure rows
(profile schema, op = network) plus:
- `wall_s`: wall time of that row's build (TVM: extraction, tuning, compilation) and timing;
- `trials_floor`, `dominant_trials`, `trial_rule`: the trial budget (`--trials`,
  `--dominant-trials`) and the rule that spent it (devices.tuning.TRIAL_RULE: targets by FLOPs,
  then by each task's measured share of the network's time) on every row of the network;
- `gmac_per_s`: MACs / minimum latency;
- `ratio_tvm_tuned_to_ort`: TVM tuned median latency / onnxruntime median latency of the
  same network on the same host (the goal is <= 1); `ratio_tvm_tuned_to_ort_min` the same of
  the minima;
- `peak` rows (op = conv): a 3x3 conv 64->64 at 180x320 (2.12 GMAC) in onnxruntime and
  PyTorch; `share_of_peak` of every row is its gmac_per_s / the best peak row's of its host.
Rows of other hosts are kept and never compared with this host's. Resumes: a network (reference
or genotype) whose rows on this host are all present with the same trial budgets is skipped; its
rows with other budgets are dropped when it is measured again (git keeps them). Time nothing
else on the machine meanwhile: every row records load_1min and foreign_cpu_share.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from codesign.measure import measure_network, network_from_args
from codesign.profile import parse_hw
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, UsageError, cli_main, positive_int
from devices import host_identity
from devices.backends import create
from devices.catalog import get_device
from devices.measure import RUNTIMES
from devices.profile_csv import append_rows, make_row
from devices.tuning import TRIAL_RULE, TuningSettings

RESULTS = Path(__file__).parent / "results"
PEAK_SHAPE = (1, 64, 180, 320)
PEAK_RUNTIMES = ("onnxruntime", "pytorch")
BUDGET_COLUMNS = ("trials_floor", "dominant_trials", "trial_rule")
DEFAULT_GENOTYPES = ",".join(str(p) for p in sorted((Path(__file__).parent / "genotypes").glob("local-cpu-budget-*.json")))


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """gmac_per_s and share_of_peak (of that host's best peak row) on every row;
    ratio_tvm_tuned_to_ort (medians) and ratio_tvm_tuned_to_ort_min (minima) per host and network
    key: ratios count only within one host's run."""
    df = df.drop(columns=["ratio_tvm_tuned_to_ort", "ratio_tvm_tuned_to_ort_min", "gmac_per_s",
                          "share_of_peak"], errors="ignore")
    df["gmac_per_s"] = df["macs"] / df["latency_min_ms"] / 1e6
    host = df["host_id"].fillna("")
    is_peak = df["key"].str.startswith("peak:")
    df["share_of_peak"] = df["gmac_per_s"] / host.map(df[is_peak].groupby(host[is_peak])["gmac_per_s"].max())
    pairs = pd.MultiIndex.from_arrays([host, df["key"]])
    tuned_rows = (df["backend"] == "tvm-local") & (df["tuned"].astype(str) == "True")
    ort_rows = df["backend"] == "onnxruntime"
    for column, statistic in (("ratio_tvm_tuned_to_ort", "latency_ms"),
                              ("ratio_tvm_tuned_to_ort_min", "latency_min_ms")):
        tuned = df[tuned_rows].groupby([host[tuned_rows], df["key"]])[statistic].last()
        ort = df[ort_rows].groupby([host[ort_rows], df["key"]])[statistic].last()
        df[column] = (tuned / ort).reindex(pairs).to_numpy()
    return df


def _mine(df: pd.DataFrame, key: str, host_id: str, budget: tuple | None) -> pd.Series:
    """Rows of `key` on host `host_id`, measured with `budget` (BUDGET_COLUMNS' values) if given."""
    rows = (df["key"] == key) & (df["host_id"] == host_id)
    if budget is not None:
        for column, value in zip(BUDGET_COLUMNS, budget):
            rows &= df.get(column, pd.Series(index=df.index, dtype=object)) == value
    return rows


def _done(out: Path, key: str, host_id: str, budget: tuple | None = None) -> int:
    """Rows of `key` measured on host `host_id` (with trial `budget`, if given) already in `out`."""
    if not out.exists():
        return 0
    return int(_mine(pd.read_csv(out), key, host_id, budget).sum())


def _drop_other_budgets(out: Path, key: str, host_id: str, budget: tuple) -> None:
    """Drop this host's rows of `key` measured with another trial budget."""
    if not out.exists():
        return
    df = pd.read_csv(out)
    stale = _mine(df, key, host_id, None) & ~_mine(df, key, host_id, budget)
    if stale.any():
        write_csv_atomic(df[~stale], out)


def _with_wall(out: Path, start: float, budget: tuple | None = None) -> None:
    """Set wall_s (and the trial budget's columns) on the last row of `out` (the one just appended)."""
    df = pd.read_csv(out)
    if "wall_s" not in df:
        df["wall_s"] = float("nan")
    df.loc[df.index[-1], "wall_s"] = round(time.perf_counter() - start, 1)
    for column, value in zip(BUDGET_COLUMNS, budget or ()):
        df.loc[df.index[-1], column] = value
    write_csv_atomic(df, out)


def measure_peak(out: Path, repeats: int, host_id: str) -> None:
    """The peak rows: a large 3x3 conv in each of PEAK_RUNTIMES (skipped when present on host `host_id`)."""
    device = get_device("local-cpu")
    _, c, h, w = PEAK_SHAPE
    key = f"peak:conv3x3:cin={c}:cout={c}:h={h}:w={w}"
    if _done(out, key, host_id) >= len(PEAK_RUNTIMES):
        return
    conv = torch.nn.Conv2d(c, c, 3, padding=1).eval()
    macs = c * c * 9 * h * w
    features = {"key": key, "op": "conv", "cin": c, "cout": c, "kernel": 3, "groups": 1, "stride": 1,
                "h": h, "w": w, "out_h": h, "out_w": w, "macs": macs, "params": c * c * 9 + c,
                "bytes_in": 4 * c * h * w, "bytes_out": 4 * c * h * w}
    for runtime in PEAK_RUNTIMES:
        start = time.perf_counter()
        measurement = create(runtime, device, repeats=repeats).measure(conv, PEAK_SHAPE)
        append_rows(out, [make_row(device.name, features, measurement)])
        _with_wall(out, start)


def add_network_arguments(parser) -> None:
    """--archs, --genotypes, --trials and --input (the networks compared and how TVM tunes them)."""
    parser.add_argument("--archs", default="fsrcnn,espcn,carn_m,imdn,rlfn_ntire")
    parser.add_argument("--genotypes", default=DEFAULT_GENOTYPES)
    parser.add_argument("--trials", type=positive_int, default=32, help="MetaSchedule trials per fused task, at least")
    parser.add_argument("--dominant-trials", type=positive_int,
                        help="trials of the task with the most FLOPs (default 4x --trials; others in proportion)")
    parser.add_argument("--input", default="90x160")


def selected_networks(args) -> tuple[tuple[int, int], list[tuple[str, str]]]:
    """(LR input (h, w), [(kind "arch" or "genotype", name or JSON path)]) of parsed arguments."""
    try:
        hw = parse_hw(args.input)
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.dominant_trials is not None and args.dominant_trials < args.trials:
        raise UsageError("--dominant-trials must be at least --trials")
    return hw, [("arch", a) for a in args.archs.split(",") if a] + [("genotype", g) for g in args.genotypes.split(",") if g]


def trial_budget(args) -> tuple[int, int, str]:
    """(trials per fused task at least, trials of the largest task, the trial rule) of parsed arguments."""
    return args.trials, args.dominant_trials or int(TuningSettings.dominant_share * args.trials), TRIAL_RULE


@cli_main()
def main(argv=None) -> int:
    parser = Parser(prog="python -m benchmarks.compile_local_cpu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_network_arguments(parser)
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_local_cpu.csv")
    args = parser.parse_args(argv)
    hw, nets = selected_networks(args)
    budget = trial_budget(args)
    host_id = host_identity.fingerprint()["host_id"]
    measure_peak(args.out, args.repeats, host_id)
    for kind, name in nets:
        label = name if kind == "arch" else network_from_args(None, name, 4)[0]
        key = f"network:{label}:h={hw[0]}:w={hw[1]}"
        _drop_other_budgets(args.out, key, host_id, budget)
        for i, runtime in enumerate(RUNTIMES):
            if _done(args.out, key, host_id, budget) > i:
                continue
            start = time.perf_counter()
            measure_network("local-cpu", str(args.out), input_hw=hw, trials=args.trials, repeats=args.repeats,
                            runtimes=[runtime], dominant_share=budget[1] / budget[0],
                            **({"arch": name} if kind == "arch" else {"genotype": name}))
            _with_wall(args.out, start, budget)
    df = add_ratios(pd.read_csv(args.out))
    write_csv_atomic(df, args.out)
    print(df[df["host_id"] == host_id][["key", "backend", "tuned", "latency_ms", "gmac_per_s", "share_of_peak",
              "ratio_tvm_tuned_to_ort", "ratio_tvm_tuned_to_ort_min", "wall_s", "foreign_cpu_share"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
