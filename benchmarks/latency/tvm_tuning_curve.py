"""Latency of one SR kernel against MetaSchedule trials, with PyTorch and onnxruntime references.

    nice python -m benchmarks.latency.tvm_tuning_curve [--trials 16,32,64,128,256,512] [--side-trials 16,64]
        [--layouts NCHW,NHWC] [--work-dir DIR] [--out benchmarks/results/tvm_tuning_curve.csv]

Kernel: conv3x3 64→64 + bias + LeakyReLU(0.2) at 1×64×90×160, all runtimes on the same threads
(the host's physical cores). Variants: TVM untuned; the tuning curve of the conv in NCHW (one
fused task) and in NHWC (the conv, whose trials are counted, plus the two layout transposes at
the network's edges, devices.tvm_compile.layout), both with the detected -mcpu (`--layouts` picks);
and a side curve with -mcpu=core-avx2 (AVX2 only: 256-bit vectors; `--side-trials ""` skips
it). Every task gets the same trials (no dominant
share). Each tuned row counts the FMA instructions of the conv kernel's assembly by register
width (fma_zmm: 512-bit, fma_ymm: 256-bit, fma_xmm: 128-bit). The references are timed at the
start and at the end of the run (load_1min and foreign_cpu_share per row).
Each tuning curve grows one MetaSchedule database in ascending trial order; a rerun resumes
after the last row present on this host (a variant without rows starts from an empty database).
The CSV keeps other hosts' rows (`host_id`) and never compares across hosts; the PNG has one
panel per host.

Timings taken during tuning drift with the machine's load, so a second phase re-times every
checkpoint back to back: the database after T trials is the first T lines of its record file
(MetaSchedule appends records in trial order), so each checkpoint is rebuilt from that prefix and
timed between fresh PyTorch/onnxruntime timings: rows of `phase` "retimed" beside the tuning
run's ("tuning") in the same CSV; the plot shows each host's re-timed rows where it has them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main
from devices import host_cpu, host_identity, profile_csv
from devices.backends import create
from devices.catalog import get_device
from devices.tvm_compile import fused_kernels

SHAPE = (1, 64, 90, 160)
KERNEL = "conv3x3_lrelu:cin=64:cout=64:h=90:w=160"
MACS = 64 * 64 * 9 * 90 * 160
LAYOUTS = ("NCHW", "NHWC")
COLUMNS = ["kernel", "variant", "runtime", "mcpu", "layout", "trials", "latency_ms", "latency_std_ms",
           "latency_mean_ms", "latency_min_ms", "gmac_per_s", "repeats", "number", "tuning_s",
           "database_hits", "fused_tasks", "fma_zmm", "fma_ymm", "fma_xmm", "target", "provenance",
           "load_1min", "foreign_cpu_share", "date", "host", "host_id", "phase"]
# `phase` of a row: "tuning" (timed right after tuning to that many trials) or "retimed" (every
# checkpoint re-timed back to back at the end of the run).


class ConvLReLU(torch.nn.Module):
    """conv3x3 with bias followed by LeakyReLU(0.2): the fused unit of an SR body."""

    def __init__(self, channels: int = 64):
        super().__init__()
        self.conv = torch.nn.Conv2d(channels, channels, 3, padding=1)
        self.act = torch.nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.act(self.conv(x))


def conv_fma_counts(executable) -> dict:
    """FMA instructions by register width in the assembly of the executable's conv kernels."""
    import re

    asm = executable.mod.imports[0].inspect_source("asm")
    bodies = re.split(r"\n(?=[A-Za-z_][\w.]*:[^\n]*\n)", asm)
    fmas = [line for body in bodies if body.startswith("fused_conv2d") and "_compute_" in body.split(":")[0]
            for line in re.findall(r"vfn?madd\w+\s+[^\n]*", body)]
    return {f"fma_{reg}": sum(f"%{reg}" in line for line in fmas) for reg in ("zmm", "ymm", "xmm")}


def _row(variant, measurement, mcpu="", layout="NCHW", tuning_s=0.0, fma=None) -> dict:
    t = measurement.timing
    return {"kernel": KERNEL, "variant": variant, "runtime": measurement.runtime, "mcpu": mcpu,
            "layout": layout, "trials": measurement.trials, "latency_ms": t.median_ms,
            "latency_std_ms": t.std_ms, "latency_mean_ms": t.mean_ms, "latency_min_ms": t.min_ms,
            "gmac_per_s": MACS / t.min_ms / 1e6,
            "repeats": t.repeats, "number": t.number, "tuning_s": round(tuning_s, 1),
            "database_hits": measurement.database_hits, "fused_tasks": measurement.fused_tasks,
            **(fma or {}), "target": measurement.target, "foreign_cpu_share": measurement.foreign_cpu_share,
            "host_id": host_identity.fingerprint()["host_id"],
            "provenance": "measured" if measurement.tuned or not measurement.backend.startswith("tvm")
            else "measured:untuned",
            "load_1min": round(os.getloadavg()[0], 2),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "host": profile_csv.host_label()}


def _relax():
    return fused_kernels.relax_from_torch(ConvLReLU().eval(), SHAPE)


def plan(trials: list[int], side_trials: list[int], layouts=LAYOUTS,
         mcpu: str | None = None) -> list[tuple[str, str, str, list[int]]]:
    """(variant, mcpu, layout, trial budgets) to run: untuned, then the tuned curves in ascending
    trials, of each layout with this host's -mcpu (or `mcpu`); the core-avx2 side curve last."""
    mcpu = mcpu or host_cpu.detect()["mcpu"]
    runs = [(f"tvm untuned {mcpu} {layout}", mcpu, layout, [0]) for layout in layouts]
    runs += [(f"tvm tuned {mcpu} {layout}", mcpu, layout, trials) for layout in layouts]
    if mcpu != "core-avx2" and side_trials:
        runs.append(("tvm tuned core-avx2 NHWC", "core-avx2", "NHWC", side_trials))
    return runs


def other_rows(path: Path, host_id: str, phase: str) -> pd.DataFrame:
    """Rows of `path` (if it exists) of another host or of the other phase."""
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    old = pd.read_csv(path)
    old["phase"] = old["phase"].fillna("tuning") if "phase" in old else "tuning"
    return old[(old["host_id"] != host_id) | (old["phase"] != phase)]


def run(trials, side_trials, layouts, work_dir: Path, out: Path, repeats: int) -> pd.DataFrame:
    """Measure everything not yet in `out` on this host, appending (atomically) after each row.
    Returns this host's rows."""
    device = get_device("local-cpu")
    host_id = host_identity.fingerprint()["host_id"]
    others = other_rows(out, host_id, "tuning")
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=COLUMNS)
    done = done[(done["host_id"] == host_id) & (done.get("phase", "tuning") != "retimed")]

    def save(row):
        nonlocal done
        done = pd.concat([done, pd.DataFrame([{**row, "phase": "tuning"}], columns=COLUMNS)],
                         ignore_index=True)
        write_csv_atomic(pd.concat([others, done], ignore_index=True), out)

    timing = {"repeats": repeats, "min_repeat_ms": 200}
    steps = [("reference start", None)] + [(p, b) for p in plan(trials, side_trials, layouts) for b in p[3]] + [("reference end", None)]
    for step, budget in tqdm(steps, desc="tuning curve", file=sys.stderr):
        if budget is None:
            if (done["variant"] == f"pytorch ({step})").any():
                continue
            for name in ("pytorch", "onnxruntime"):
                backend = create(name, device, **timing)
                save(_row(f"{name} ({step})", backend.measure(ConvLReLU(), SHAPE)))
            continue
        variant, mcpu, layout, _ = step
        rows = done[done["variant"] == variant]
        if (rows["trials"] == budget).any():
            continue
        db = work_dir / variant.replace(" ", "_")
        if rows.empty and db.exists():
            shutil.rmtree(db)  # a curve starts from an empty database
        dev = dataclasses.replace(device, target={**device.target, "mcpu": mcpu})
        backend = create("tvm-local", dev, trials=budget, layout=layout, work_dir=db, dominant_share=1.0, **timing)
        start = time.perf_counter()
        artifact = backend.build_relax(_relax(), SHAPE)
        tuning_s = time.perf_counter() - start
        fma = conv_fma_counts(artifact.runnable) if budget else None
        save(_row(variant, backend.run_measurement(artifact), mcpu, layout, tuning_s, fma))
    return done


def database_prefix(db: Path, trials: int, dest: Path) -> Path:
    """A copy of database `db` holding only the first `trials` tuning records of each workload
    (a record line starts with its workload's index)."""
    import json

    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(db / "database_workload.json", dest / "database_workload.json")
    kept, seen = [], {}
    for line in (db / "database_tuning_record.json").read_text().splitlines(keepends=True):
        workload = json.loads(line)[0]
        seen[workload] = seen.get(workload, 0) + 1
        if seen[workload] <= trials:
            kept.append(line)
    (dest / "database_tuning_record.json").write_text("".join(kept))
    return dest


def retime(curve: pd.DataFrame, work_dir: Path, out: Path, repeats: int) -> pd.DataFrame:
    """Re-time every tuned checkpoint of `curve` (this host's tuning rows) back to back, each
    between PyTorch/onnxruntime timings, as `out`'s "retimed" rows of this host (other rows
    kept). Returns all of `out`."""
    import tempfile

    device = get_device("local-cpu")
    timing = {"repeats": repeats, "min_repeat_ms": 200}
    rows = []
    tuned = curve[curve["variant"].str.startswith("tvm tuned")].sort_values(["variant", "trials"])
    for _, r in tqdm(list(tuned.iterrows()), desc="retime", file=sys.stderr):
        for name in ("pytorch", "onnxruntime"):
            rows.append(_row(f"{name} (reference)", create(name, device, **timing).measure(ConvLReLU(), SHAPE)))
        dev = dataclasses.replace(device, target={**device.target, "mcpu": r["mcpu"]})
        with tempfile.TemporaryDirectory() as tmp:
            db = database_prefix(work_dir / r["variant"].replace(" ", "_"), int(r["trials"]), Path(tmp))
            backend = create("tvm-local", dev, trials=1, layout=r["layout"], work_dir=db, **timing)  # >= 1 record: no tuning
            artifact = backend.build_relax(_relax(), SHAPE)
            artifact.trials = int(r["trials"])
            rows.append(_row(r["variant"], backend.run_measurement(artifact), r["mcpu"], r["layout"],
                             fma=conv_fma_counts(artifact.runnable)))
    retimed = pd.DataFrame([{**r, "phase": "retimed"} for r in rows], columns=COLUMNS)
    df = pd.concat([other_rows(out, host_identity.fingerprint()["host_id"], "retimed"), retimed],
                   ignore_index=True)
    write_csv_atomic(df, out)
    return df


def plot(df: pd.DataFrame, path: Path) -> None:
    """Latency (log) against trials per tuned variant, one panel per host; that host's
    references as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hosts = list(dict.fromkeys(df["host_id"]))
    phase = df["phase"].fillna("tuning") if "phase" in df else pd.Series("tuning", index=df.index)
    fig, axes = plt.subplots(1, len(hosts), figsize=(7 * len(hosts), 4.5), squeeze=False)
    for ax, host_id in zip(axes[0], hosts):
        rows = df[df["host_id"] == host_id]
        retimed = phase[rows.index] == "retimed"
        rows = rows[retimed] if retimed.any() else rows
        tuned = rows[rows["variant"].str.startswith("tvm tuned")]
        for variant, g in tuned.groupby("variant"):
            g = g.sort_values("trials")
            ax.errorbar(g["trials"], g["latency_ms"], yerr=g["latency_std_ms"], marker="o", label=variant)
        for prefix, style in (("pytorch", "--"), ("onnxruntime", ":")):
            ref = rows[rows["variant"].str.startswith(prefix)]
            if len(ref):
                ax.axhline(ref["latency_ms"].median(), ls=style, color="k",
                           label=f"{prefix} (median {ref['latency_ms'].median():.1f} ms)")
        untuned = rows[rows["variant"].str.startswith("tvm untuned")]
        for i, (_, r) in enumerate(untuned.iterrows()):
            ax.annotate(f"{r['variant']}: {r['latency_ms']:.0f} ms", (0.02, 0.97), xycoords="axes fraction",
                        va="top", fontsize=8, xytext=(0, -12 * i), textcoords="offset points")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("MetaSchedule trials")
        ax.set_ylabel("latency (ms, median)")
        how = "re-timed back to back" if retimed.any() else "timed after tuning"
        ax.set_title(f"{KERNEL}\n{rows['host'].iloc[0]}, {how}", fontsize=8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


@cli_main()
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--trials", default="16,32,64,128,256,512", help="budgets of the NCHW and NHWC curves")
    parser.add_argument("--side-trials", default="16,64", help="budgets of the core-avx2 side curve (empty: none)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS), help="layouts of the -mcpu curves")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache" / "codesign" / "tvm_tuning_curve")
    parser.add_argument("--out", type=Path, default=RESULTS / "tvm_tuning_curve.csv")
    parser.add_argument("--no-retime", action="store_true", help="skip the back-to-back re-timing phase")
    args = parser.parse_args(argv)
    try:
        trials = sorted(int(t) for t in args.trials.split(","))
        side = sorted(int(t) for t in args.side_trials.split(",") if t)
        layouts = [x for x in args.layouts.split(",") if x]
    except ValueError:
        print("error: --trials/--side-trials must be comma-separated integers", file=sys.stderr)
        return 2
    if min(trials + side) <= 0:
        print("error: trial budgets must be positive", file=sys.stderr)
        return 2
    if not layouts or set(layouts) - set(LAYOUTS):
        print(f"error: --layouts must name some of {','.join(LAYOUTS)}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df = run(trials, side, layouts, args.work_dir, args.out, args.repeats)
    if not args.no_retime:
        df = retime(df, args.work_dir, args.out, args.repeats)
    plot(df, args.out.with_suffix(".png"))
    print(df[["variant", "trials", "latency_ms", "latency_std_ms", "load_1min"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
