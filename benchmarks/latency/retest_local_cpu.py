"""Test-retest of whole networks on this CPU: the same builds timed twice, minutes apart.

    python -m benchmarks.latency.retest_local_cpu [--runtime onnxruntime|tvm|pytorch] [--gap-minutes 10] [--rounds 7]
        [--trials 8] [--dominant-trials 8]
        [--networks benchmarks/results/networks_local_cpu.csv] [--out benchmarks/results/retest_local_cpu.csv]

How often two timings of the same network agree within ±10 % is the ceiling no latency
predictor can beat on this host. The networks are the derived genotypes of ``--networks`` (the
50 of networks_local_cpu), at local-cpu's LR input. Each pass builds every network in the
runtime (TVM: each network's fused tasks tuned with MetaSchedule to ``--trials``, the dominant
one to ``--dominant-trials``, as ``codesign.profile`` tunes the kernels the predictor learns
from; what the database already holds is not tuned again) and times them all interleaved
(devices.quiet_timing.interleaved: warm-up, then
``--rounds`` rounds of one repeat each, every round under the machine-wide timing lock and
refused when other processes used more than 5 % of the CPU). The first pass is saved at once;
the second starts ``--gap-minutes`` after the first ended (a re-run with the same ``--rounds``
resumes there; another ``--rounds``, or on TVM other trials, re-times both passes). Rows: one
per network, runtime and host (other hosts' rows are kept, benchmarks.host_rows), with the
median, min and max/min spread of each pass and its foreign CPU share. The summary
(``summarise``: printed by a run, computed from the rows wherever it is read, never stored) has
per host, runtime and statistic (median, min) the share within ±10 %/±5 %, median |ratio − 1|,
the whole host's median drift and the share within ±10 % of it.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import add_networks, add_output, benchmark_parser
from benchmarks.host_rows import other_hosts_rows
from codesign.space.genotype import Genotype, TrilevelNet
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import (
    UsageError,
    check_output_file,
    cli_main,
    positive_int,
)
from devices import host_identity
from devices.backends import for_device
from devices.catalog import get_device
from devices.quiet_timing import DisturbedTiming, interleaved

DEVICE = "local-cpu"
PASSES = ("first", "second")


def load_networks(path: Path) -> dict[str, Genotype]:
    """name → genotype of the derived networks in a networks_local_cpu CSV."""
    df = pd.read_csv(path)
    rows = df[df["network"].astype(str).str.startswith("genotype:") & df["genotype"].notna()]
    if rows.empty:
        raise UsageError(f"--networks {path}: no genotype rows")
    return {r.network: Genotype.from_json(r.genotype) for r in rows.drop_duplicates("network").itertuples()}


RUNTIMES = ("onnxruntime", "tvm", "pytorch")  # devices.backends.RUNTIMES that run on this CPU


def time_pass(networks: dict[str, Genotype], runtime: str, rounds: int, trials: int = 8,
              dominant_trials: int = 8) -> pd.DataFrame:
    """Build every network in ``runtime`` and time them interleaved: one row per network."""
    device = get_device(DEVICE)
    h, w = device.lr_input_hw
    backend = for_device(device, runtime, trials=trials, dominant_share=dominant_trials / trials)
    calls = {}
    for name, genotype in networks.items():
        artifact = backend.build(TrilevelNet(genotype).eval(), (1, 3, h, w))
        calls[name] = backend.call(artifact)
    timed = interleaved(calls, rounds=rounds)
    ended = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return pd.DataFrame([{"network": name, "ms": t.median_ms, "min_ms": t.min_ms,
                          "spread": t.max_ms / t.min_ms, "foreign_cpu_share": share, "ended": ended}
                         for name, (t, share) in timed.items()])


STATISTICS = {"median": "ms", "min": "min_ms"}
"""Per-pass statistics compared: the median of the interleaved repeats and their minimum."""


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per runtime, host and statistic: share of networks whose two passes agree within
    ±10 %/±5 %, the median |second/first − 1| and the largest foreign CPU share of either pass.

    Beside them, ``host_drift``: the median second/first ratio over the networks, a whole-host
    speed change between passes (every network moves with it on a drifting VM), and
    ``within_10pct_of_drift``: the share within ±10 % once each ratio is divided by that drift.
    The raw ``within_10pct`` is the retest ceiling; the drift-divided share only says how much
    of the disagreement is the host's speed moving rather than networks timing inconsistently."""
    out = []
    for (runtime, host_id), group in rows.groupby(["runtime", "host_id"], sort=False):
        for statistic, column in STATISTICS.items():
            ratio = group[f"second_{column}"] / group[f"first_{column}"]
            change = (ratio - 1).abs()
            drift = float(ratio.median())
            out.append({"runtime": runtime, "statistic": statistic,
                        "host_id": host_id, "networks": len(group),
                        "within_10pct": float((change <= 0.10).mean()),
                        "within_5pct": float((change <= 0.05).mean()),
                        "median_abs_change": float(change.median()),
                        "host_drift": drift,
                        "within_10pct_of_drift": float(((ratio / drift - 1).abs() <= 0.10).mean()),
                        "max_foreign_cpu_share": float(group[["first_foreign_cpu_share",
                                                              "second_foreign_cpu_share"]].max().max())})
    return pd.DataFrame(out)


def run(networks_csv: Path, out: Path, runtime: str, gap_minutes: float, rounds: int, trials: int = 8,
        dominant_trials: int = 8) -> pd.DataFrame:
    networks = load_networks(networks_csv)
    fp = host_identity.fingerprint()
    done = pd.read_csv(out) if out.exists() else pd.DataFrame()
    others = other_hosts_rows(out, runtime, fp["host_id"])
    mine = done.drop(others.index) if not done.empty else done
    tuning = {"trials": trials, "dominant_trials": dominant_trials} if runtime == "tvm" else {}
    protocol = {"rounds": rounds, **tuning}
    if not mine.empty and any(key not in mine or (mine[key] != value).any() for key, value in protocol.items()):
        mine = pd.DataFrame()  # passes of another protocol are not resumed: a new one re-times both
    for k, label in enumerate(PASSES):
        if f"{label}_ms" in mine and mine[f"{label}_ms"].notna().all() and len(mine) == len(networks):
            continue
        if k:
            wait_s = pd.Timestamp(mine["first_ended"].max()).timestamp() + 60 * gap_minutes - time.time()
            if wait_s > 0:
                print(f"second pass in {wait_s / 60:.1f} min (gap {gap_minutes} min)", flush=True)
                time.sleep(wait_s)
        timed = time_pass(networks, runtime, rounds, trials, dominant_trials).add_prefix(f"{label}_").rename(
            columns={f"{label}_network": "network"})
        if mine.empty:
            version = fp["runtimes"].get(host_identity.RUNTIME_DISTRIBUTIONS[runtime], "")
            mine = pd.DataFrame({"network": list(networks), "runtime": runtime, "device": DEVICE,
                                 "host": host_identity.describe(fp), "host_id": fp["host_id"],
                                 "runtime_version": version, **protocol})
        mine = mine.drop(columns=[c for c in timed.columns if c != "network" and c in mine]).merge(
            timed, on="network")
        write_csv_atomic(pd.concat([others, mine], ignore_index=True), out)
        print(f"{label} pass: {len(timed)} networks timed", flush=True)
    rows = pd.concat([others, mine], ignore_index=True)
    rows["ratio"] = rows["second_ms"] / rows["first_ms"]
    rows["within_10pct"] = (rows["ratio"] - 1).abs() <= 0.10
    rows["min_ratio"] = rows["second_min_ms"] / rows["first_min_ms"]
    rows["min_within_10pct"] = (rows["min_ratio"] - 1).abs() <= 0.10
    write_csv_atomic(rows, out)
    return summarise(rows)


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--runtime", choices=RUNTIMES, default="onnxruntime")
    p.add_argument("--trials", type=positive_int, default=8,
                   help="TVM: MetaSchedule trials per fused task (at least)")
    p.add_argument("--dominant-trials", type=positive_int, default=8,
                   help="TVM: trials of the task holding the most FLOPs (default 8, as the profile)")
    p.add_argument("--gap-minutes", type=float, default=10.0)
    p.add_argument("--rounds", type=positive_int, default=7)
    add_networks(p)
    add_output(p, "retest_local_cpu", work=False)
    args = p.parse_args(argv)
    check_output_file(args.out)
    if args.dominant_trials < args.trials:
        raise UsageError("--dominant-trials must be at least --trials")
    if not args.networks.is_file():
        raise UsageError(f"--networks {args.networks}: no such file")
    print(run(args.networks, args.out, args.runtime, args.gap_minutes, args.rounds, args.trials,
              args.dominant_trials).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
