"""Whole SR networks on this CPU in one run: TVM untuned, TVM tuned, onnxruntime and PyTorch,
beside a measured peak.

    nice python -m benchmarks.latency.compile_local_cpu [--archs fsrcnn,espcn,carn_m,imdn,rlfn_ntire]
        [--genotypes a.json,b.json] [--trials 32] [--dominant-trials 128] [--input 90x160]
        [--rounds 60] [--untuned-runs 3] [--out benchmarks/results/compile_local_cpu.csv]
        [--tune-only] [--retime]

Derived nets: benchmarks/genotypes/local-cpu-budget-*.json (searched for 49.3 / 78.2 / 124 /
197 ms on this CPU's TVM build). TVM builds in the backend's default layout (NCHW, named in
`target`) and tunes every fused task with at least `--trials` trials, the task holding the most
FLOPs with `--dominant-trials` (default 4x `--trials`) and the others in proportion to their
FLOPs, then once more by measured latency: the task holding the most time gets
`--dominant-trials`, the others in proportion to their time (devices.tvm_compile.tuning.trial_targets). TVM
builds evaluate tanh and sigmoid with a rational approximation, as onnxruntime does
(devices.tvm_compile.fast_math).

How each network is timed: TVM tuned (records from the tuning database, tuned first where
missing), onnxruntime and PyTorch are built, then timed round-robin
(devices.quiet_timing.interleaved: a warm-up, then `--rounds` rounds of one untimed call and one
repeat of >= 100 ms per runtime), so a slow spell of the VM touches all three alike (timed one
after the other, the 78.2 ms genotype's onnxruntime build measured 13.2, 15.6 and 20.3 ms within
an hour, quiet each time). TVM untuned (66-114x slower than tuned on the Intel VM) is then timed alone: `--untuned-runs`
runs after one warm-up. The peak rows (a 3x3 conv 64->64 at 180x320, 2.12 GMAC, in onnxruntime
and PyTorch) are timed interleaved the same way.

One row of `phase` timing per network and runtime (op = network; peak rows op = conv):
- `latency_ms` the median over the rounds (per run), `latency_min_ms` the minimum, `spread`
  max / min, `repeats` the rounds, `timing` how it was timed, `foreign_cpu_share` the largest
  share of the CPUs other processes used in any round;
- `trials_floor`, `dominant_trials`, `trial_rule`: the trial budget and the rule that spent it
  (devices.tvm_compile.tuning.TRIAL_RULE) on every row of the network; `database_hits` of the tuned build;
- `tuning_trials` (tuned row): trials the database's records of the network's fused tasks rest
  on (attempted.json; trials spent on tasks shared with other networks count);
  `tuning_wall_s`: wall time of this host's tuning runs of the network with this budget logged as
  rows of phase `tuning` (empty where it was tuned before that log was kept);
  `tuning_s_estimated`: an estimate, not a timing: tuning_trials x this host's wall seconds per
  trial over the logged runs; `record_sources`: how many of the network's fused tasks run a
  schedule found on this target (`here`) or one shipped for another target and re-measured here
  (the set's name; devices.tuning_records.transfer), `--trials 1 --dominant-trials 1` building
  with those alone;
- `build_wall_s`: wall time of the row's build (the tuned row's includes any tuning it did);
- `gmac_per_s`: MACs / minimum latency; `share_of_peak` of every row: its gmac_per_s / the best
  peak row's of its host;
- `ratio_tvm_tuned_to_ort`: TVM tuned / onnxruntime by medians (the goal is <= 1),
  `ratio_tvm_tuned_to_ort_min` by minima, `ratio_tvm_tuned_to_ort_paired` the median over rounds
  of TVM's time / onnxruntime's in the same round (devices.quiet_timing.paired_ratio: the one to
  read on a VM that switches speed for seconds at a time).

One row of `phase` tuning per build that tuned (`--tune-only` or before a timing): `network`, host,
the trial budget (BUDGET_COLUMNS), `started`, `wall_s` (the build's wall time, tuning included)
and the trials the database's records rest on before and after (`trials_before`,
`trials_after`).

Rows of other hosts are kept and never compared with this host's (the Zen 4 host's rows, of
2026-12-01, were timed one runtime after the other and carry `wall_s`, build plus timing, instead
of `build_wall_s`). Resumes: a network whose
tuned row on this host has the same trial budget is skipped (`--retime` times it again); timing
it drops this host's earlier rows of it (git keeps them). `--tune-only` tunes the TVM builds into
the database and times nothing, so that hours of tuning can run first and the timing later, in
one quiet run. Time nothing else on the machine meanwhile.
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from benchmarks.benchmark_args import GENOTYPES, RESULTS, benchmark_parser
from codesign.hardware.measure import network_from_args
from codesign.hardware.profile import parse_hw
from codesign.sr.complexity import count_macs
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import UsageError, cli_main, positive_int
from devices import host_identity
from devices.backends import create
from devices.catalog import get_device
from devices.quiet_timing import DisturbedTiming, interleaved, paired_ratio
from devices.tvm_compile.tuning import TRIAL_RULE, TuningSettings

TIMING, TUNING = "timing", "tuning"
"""Values of the ``phase`` column: a timed build, or a build that tuned (its wall time and trials)."""
PEAK_SHAPE = (1, 64, 180, 320)
PEAK_KEY = "peak:conv3x3:cin={1}:cout={1}:h={2}:w={3}".format(*PEAK_SHAPE)
INTERLEAVED = ("tvm-local", "onnxruntime", "pytorch")
PEAK_RUNTIMES = ("onnxruntime", "pytorch")
BUDGET_COLUMNS = ("trials_floor", "dominant_trials", "trial_rule")
DEFAULT_GENOTYPES = ",".join(str(p) for p in sorted(GENOTYPES.glob("local-cpu-budget-*.json")))


def add_ratios(df: pd.DataFrame) -> pd.DataFrame:
    """gmac_per_s and share_of_peak (of that host's best peak row) on every row;
    ratio_tvm_tuned_to_ort (medians) and ratio_tvm_tuned_to_ort_min (minima) per host and network
    key: ratios count only within one host's run."""
    df = df.drop(columns=["ratio_tvm_tuned_to_ort", "ratio_tvm_tuned_to_ort_min", "gmac_per_s",
                          "share_of_peak"], errors="ignore")
    df["gmac_per_s"] = df["macs"] / df["latency_min_ms"] / 1e6
    host = df["host_id"].fillna("")
    is_peak = df["key"].str.startswith("peak:", na=False)
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


def _mine(df: pd.DataFrame, key: str, host_id: str) -> pd.Series:
    """Rows of `key` on host `host_id`."""
    return (df["key"] == key) & (df["host_id"] == host_id)


def timed_with(df: pd.DataFrame, key: str, host_id: str, budget: tuple | None) -> bool:
    """Whether `df` holds `key` timed on host `host_id`, its tuned TVM row (if `budget` is given)
    tuned to `budget` (BUDGET_COLUMNS' values); peak rows (budget None): any row."""
    rows = _mine(df, key, host_id)
    if budget is None:
        return bool(rows.any())
    rows &= (df["backend"] == "tvm-local") & (df["tuned"].astype(str) == "True")
    for column, value in zip(BUDGET_COLUMNS, budget):
        if column not in df:
            return False  # rows from before budgets and rules were recorded
        rows &= df[column] == value
    return bool(rows.any())


def replace_rows(out: Path, key: str, host_id: str, rows: list[dict]) -> None:
    """Write `rows` into `out` in place of this host's earlier rows of `key` (other hosts' stay)."""
    df = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["key", "host_id"])
    df = df[~_mine(df, key, host_id)]
    df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True) if len(df) else pd.DataFrame(rows)
    write_csv_atomic(add_ratios(df), out)


def tvm_backend(budget: tuple[int, int, str], **options):
    """The tvm-local backend of local-cpu, tuning to `budget` (trials per fused task at least,
    trials of the largest task, the rule)."""
    trials, dominant_trials, _ = budget
    return create("tvm-local", get_device("local-cpu"), trials=trials, dominant_share=dominant_trials / trials, **options)


def tuned_build(name: str, module, shape, budget: tuple[int, int, str], out: Path):
    """(backend, artifact, trials its records rest on) of the tuned TVM build of a network,
    tuning first where the database falls short of `budget`; a build that tuned appends a row of
    phase TUNING (its wall time and trials) to `out`."""
    backend = tvm_backend(budget)
    before = backend.trials_spent(module, shape)
    started, start = dt.datetime.now(dt.UTC), time.perf_counter()
    artifact = backend.build(module, shape)
    wall_s = time.perf_counter() - start
    after = backend.trials_spent(module, shape)
    if after > before:
        fp = host_identity.fingerprint()
        row = {"network": name, "host": host_identity.describe(fp), "host_id": fp["host_id"],
               **dict(zip(BUDGET_COLUMNS, budget)), "started": started.isoformat(timespec="seconds"),
               "wall_s": round(wall_s, 1), "trials_before": before, "trials_after": after, "phase": TUNING}
        done = pd.read_csv(out) if out.exists() else pd.DataFrame()
        write_csv_atomic(pd.concat([done, pd.DataFrame([row])], ignore_index=True), out)
    return backend, artifact, after


def tuning_runs(path: Path) -> pd.DataFrame:
    """The rows of phase TUNING in `path` (none when it does not exist), in the columns they are
    read by (network, host_id, the budget, wall_s, trials before and after)."""
    df = pd.read_csv(path) if path.exists() else pd.DataFrame()
    df = df.reindex(columns=["phase", "network", "host_id", *BUDGET_COLUMNS, "wall_s", "trials_before", "trials_after"])
    return df[df["phase"] == TUNING]


def logged_tuning_s(path: Path, name: str, host_id: str, budget: tuple) -> float:
    """Wall seconds of the tuning runs of `name` on `host_id` with `budget` in `path` (NaN: none)."""
    df = tuning_runs(path)
    rows = (df["network"] == name) & (df["host_id"] == host_id)
    for column, value in zip(BUDGET_COLUMNS, budget):
        rows &= df[column] == value
    return float(df.loc[rows, "wall_s"].sum()) if rows.any() else float("nan")


def seconds_per_trial(path: Path, host_id: str) -> float:
    """Wall seconds per MetaSchedule trial over the tuning runs of host `host_id` in `path` (NaN: none)."""
    df = tuning_runs(path)
    df = df[df["host_id"] == host_id]
    trials = (df["trials_after"] - df["trials_before"]).sum()
    return float(df["wall_s"].sum() / trials) if trials > 0 else float("nan")


def _row(key: str, op: str, macs: int, backend, artifact, timing, share: float, how: str, build_s: float) -> dict:
    """One CSV row: a timed build and how it was timed."""
    fp = host_identity.fingerprint()
    return {"device": "local-cpu", "key": key, "op": op, "macs": macs, "backend": backend.name,
            "runtime": backend.runtime, "target": artifact.target, "tuned": artifact.tuned,
            "trials": artifact.trials, "fused_tasks": artifact.fused_tasks, "database_hits": artifact.database_hits,
            "latency_ms": timing.median_ms, "latency_min_ms": timing.min_ms, "latency_mean_ms": timing.mean_ms,
            "latency_std_ms": timing.std_ms, "spread": timing.max_ms / timing.min_ms, "repeats": timing.repeats,
            "number": timing.number, "timing": how, "foreign_cpu_share": share, "provenance": "measured",
            "build_wall_s": round(build_s, 1), "host": host_identity.describe(fp), "host_id": fp["host_id"],
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "phase": TIMING}


def _built(backend, module, shape):
    """(backend, artifact, build seconds)."""
    start = time.perf_counter()
    artifact = backend.build(module, shape)
    return backend, artifact, time.perf_counter() - start


def time_interleaved(key: str, op: str, macs: int, builds: dict, rounds: int) -> tuple[list[dict], dict]:
    """Rows of builds (runtime → (backend, artifact, build seconds)) timed round-robin, and each
    round's per-run ms by runtime."""
    per_round: dict = {}
    calls = {r: backend.call(artifact) for r, (backend, artifact, _) in builds.items()}
    timed = interleaved(calls, rounds=rounds, per_round=per_round)
    how = f"interleaved with {'/'.join(builds)}, {rounds} rounds"
    return [_row(key, op, macs, builds[r][0], builds[r][1], t, share, how, builds[r][2])
            for r, (t, share) in timed.items()], per_round


def time_network(name: str, key: str, module, shape, budget: tuple[int, int, str], rounds: int,
                 untuned_runs: int, out: Path) -> list[dict]:
    """Rows of one network: TVM tuned to `budget`, onnxruntime and PyTorch interleaved, then TVM
    untuned alone (unless `untuned_runs` is 0); tuning runs are logged in and read from `out`."""
    device = get_device("local-cpu")
    macs = count_macs(module, shape[2:], shape[1])
    start = time.perf_counter()
    tvm, artifact, trials = tuned_build(name, module, shape, budget, out)
    builds = {"tvm-local": (tvm, artifact, time.perf_counter() - start)}
    builds.update({r: _built(create(r, device), module, shape) for r in INTERLEAVED[1:]})
    rows, per_round = time_interleaved(key, "network", macs, builds, rounds)
    host_id = host_identity.fingerprint()["host_id"]
    sources = tvm.record_sources(module, shape)
    next(r for r in rows if r["tuned"]).update(
        record_sources="; ".join(f"{k}: {v}" for k, v in sorted(sources.items())),
        tuning_trials=trials, tuning_wall_s=logged_tuning_s(out, name, host_id, budget),
        tuning_s_estimated=trials * seconds_per_trial(out, host_id))
    if untuned_runs:
        untuned, art, build_s = _built(create("tvm-local", device, trials=0, repeats=untuned_runs, warmup=1,
                                              min_repeat_ms=0.0), module, shape)
        m = untuned.run_measurement(art)
        rows.append(_row(key, "network", macs, untuned, art, m.timing, m.foreign_cpu_share,
                         f"alone: 1 warm-up, then {untuned_runs} runs", build_s))
    paired = paired_ratio(per_round["tvm-local"], per_round["onnxruntime"])
    for row in rows:
        row.update(zip(BUDGET_COLUMNS, budget), ratio_tvm_tuned_to_ort_paired=paired)
    return rows


def time_peak(rounds: int) -> list[dict]:
    """Rows of the peak (PEAK_KEY): a large 3x3 conv in each of PEAK_RUNTIMES, interleaved."""
    device = get_device("local-cpu")
    _, c, h, w = PEAK_SHAPE
    conv = torch.nn.Conv2d(c, c, 3, padding=1).eval()
    builds = {r: _built(create(r, device), conv, PEAK_SHAPE) for r in PEAK_RUNTIMES}
    return time_interleaved(PEAK_KEY, "conv", c * c * 9 * h * w, builds, rounds)[0]


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


def _timed(out: Path, key: str, host_id: str, budget: tuple | None) -> bool:
    return out.exists() and timed_with(pd.read_csv(out), key, host_id, budget)


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    add_network_arguments(parser)
    parser.add_argument("--rounds", type=positive_int, default=60, help="rounds of the interleaved timing")
    parser.add_argument("--untuned-runs", type=int, default=3, help="runs of TVM untuned, timed alone (0: skip)")
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_local_cpu.csv")
    parser.add_argument("--tune-only", action="store_true", help="tune the TVM builds, time nothing")
    parser.add_argument("--retime", action="store_true", help="time what this host's rows already hold again")
    args = parser.parse_args(argv)
    if args.untuned_runs < 0:
        raise UsageError("--untuned-runs must be 0 or more")
    hw, nets = selected_networks(args)
    budget = trial_budget(args)
    shape = (1, 3, *hw)
    host_id = host_identity.fingerprint()["host_id"]
    if not args.tune_only:
        if args.retime or not _timed(args.out, PEAK_KEY, host_id, None):
            replace_rows(args.out, PEAK_KEY, host_id, time_peak(args.rounds))
    for kind, spec in nets:
        name, module = network_from_args(spec if kind == "arch" else None, spec if kind == "genotype" else None, 4)
        key = f"network:{name}:h={hw[0]}:w={hw[1]}"
        if args.tune_only:
            tuned_build(name, module, shape, budget, args.out)
            print(f"{name}: tuned to {budget}", flush=True)
            continue
        if not args.retime and _timed(args.out, key, host_id, budget):
            continue
        replace_rows(args.out, key, host_id,
                     time_network(name, key, module, shape, budget, args.rounds, args.untuned_runs, args.out))
        print(f"{name}: timed", flush=True)
    if args.tune_only:
        return 0
    df = pd.read_csv(args.out)
    mine = df[(df["host_id"] == host_id) & (df["phase"] == TIMING)]
    print(mine[["key", "backend", "tuned", "latency_ms", "latency_min_ms", "gmac_per_s", "share_of_peak",
                "ratio_tvm_tuned_to_ort_paired", "foreign_cpu_share"]].to_string(index=False))
    ratios = mine[mine["key"].str.startswith("network:")].drop_duplicates("key")
    print(f"TVM tuned / onnxruntime over {len(ratios)} networks on this host: median "
          f"{ratios.ratio_tvm_tuned_to_ort.median():.2f} (minima {ratios.ratio_tvm_tuned_to_ort_min.median():.2f}, "
          f"paired {ratios.ratio_tvm_tuned_to_ort_paired.median():.2f}), max paired "
          f"{ratios.ratio_tvm_tuned_to_ort_paired.max():.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
