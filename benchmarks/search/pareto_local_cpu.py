"""Searched networks vs reference networks on this CPU: PSNR against measured latency, in the
runtime the networks are deployed with.

    nice python -m benchmarks.search.pareto_local_cpu [--runtime onnxruntime|tvm] [--searched FILE.csv]
        [--refs fsrcnn,espcn,carn_m,imdn,rlfn_ntire] [--trials 8] [--finetune-steps 3000]
        [--batch-size 4] [--patch-size 48] [--work runs/pareto_local_cpu]
        [--out benchmarks/results/pareto_local_cpu.csv]

The searched networks are the final networks of a ``benchmarks.search.budget_hit`` run on this host in
``--runtime`` (``python -m benchmarks.search.budget_hit --runtime R --count 5 --out
runs/pareto_local_cpu/budget_hit.csv``, then ``--searched`` that file: searched, fine-tuned for
``--finetune-steps`` and measured there by devices.timing.STATISTIC, repeats over ≥ 24 s); each
is a row of kind ``searched`` holding every column of its budget_hit row, so without
``--searched`` a run reads them again from ``--out``. Each
reference network is trained here on the same built-in photos for the same steps, batch, patch
size and learning rate as that fine-tuning, then timed on this host in the same runtime by the
same protocol and statistic (codesign.measure; TVM: MetaSchedule-tuned with ``--trials`` per
fused task). Only rows of this host are used: a budget_hit file or a measurement of another host
is refused or measured again. A searched network is ``on or above the front`` when no reference
network is both at least as fast (measured) and better (PSNR). Rows also go to a PNG (PSNR vs
measured ms). Runs and measurements resume from --work.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import (
    add_output,
    add_schedule,
    benchmark_parser,
)
from benchmarks.quality.baselines import run_baseline
from codesign.sr.complexity import count_macs
from codesign.sr.models import build_model
from codesign_common.atomic import atomic_path, write_csv_atomic
from codesign_common.cli import UsageError, cli_main, positive_int
from devices import host_identity
from devices.timing import STATISTIC

DEVICE = "local-cpu"
BACKENDS = {"onnxruntime": "onnxruntime", "tvm": "tvm-local"}
STATISTIC_COLUMN = {"min": "latency_min_ms", "median": "latency_ms"}  # profile row column of each statistic


def searched_rows(path: Path, runtime: str, host_id: str, finetune_steps: int) -> pd.DataFrame:
    """The final networks of a budget_hit run on this host in ``runtime``, fine-tuned for
    ``finetune_steps``, as searched points: each keeps every column of its budget_hit row.
    ``path`` is a budget_hit CSV or a pareto_local_cpu CSV (its searched rows are read again).
    UsageError when there are none: they would not be trained alike."""
    if not path.exists():
        raise UsageError(f"--searched {path} does not exist; run python -m benchmarks.search.budget_hit "
                         f"--runtime {runtime} --out FILE.csv on this host first, then --searched FILE.csv")
    hits = pd.read_csv(path)
    if "kind" in hits:
        hits = hits[hits.kind == "searched"]
    hits = hits[(hits.runtime == runtime) & (hits.host_id == host_id)]
    if hits.empty:
        raise UsageError(f"--searched {path} has no {runtime} row of this host ({host_id})")
    if (hits.finetune_steps != finetune_steps).any():
        raise UsageError(f"--searched {path} was fine-tuned for {sorted(set(hits.finetune_steps))} "
                         f"steps, not --finetune-steps {finetune_steps}")
    points = hits.assign(kind="searched", name=[f"searched {b:g} ms" for b in hits.budget_ms],
                         steps=hits.finetune_steps)
    return points[["kind", "name", *(c for c in points if c not in ("kind", "name"))]].reset_index(drop=True)


def measured_ms(arch: str, runtime: str, trials: int, measurements: Path, host_id: str) -> dict:
    """Latency (ms, by devices.timing.STATISTIC, and the median) of a reference network at
    local-cpu's LR input in ``runtime`` on this host: from ``measurements`` when it was measured
    so here (TVM: tuned with ``trials``), else measured now and appended there."""
    from codesign.hardware.measure import measure_network
    from devices.catalog import get_device

    h, w = get_device(DEVICE).lr_input_hw
    key = f"network:{arch}:h={h}:w={w}"

    def found():
        if not measurements.exists():
            return None
        rows = pd.read_csv(measurements)
        rows = rows[(rows.key == key) & (rows.backend == BACKENDS[runtime])
                    & (rows.host_id == host_id)]
        if runtime == "tvm":
            rows = rows[(rows.tuned.astype(str) == "True") & (rows.trials == trials)]
        return rows.iloc[-1] if len(rows) else None

    if found() is None:
        measure_network(DEVICE, str(measurements), arch=arch, trials=trials, runtimes=(runtime,))
    row = found()
    return {"measured_ms": row[STATISTIC_COLUMN[STATISTIC]], "measured_median_ms": row.latency_ms,
            "statistic": STATISTIC, "foreign_cpu_share": row.foreign_cpu_share,
            "measurement": f"measured: {row.runtime}, {row.target}, {STATISTIC} of {row.repeats} "
                           f"repeats on {row.host}",
            "lr_h": h, "lr_w": w, "measured_on": row.date}


def on_or_above_front(searched: pd.DataFrame, refs: pd.DataFrame) -> list[bool]:
    return [not ((refs.measured_ms <= s.measured_ms) & (refs.psnr > s.psnr)).any()
            for s in searched.itertuples()]


def plot(table: pd.DataFrame, path: Path, xlabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, marker in (("reference", "s"), ("searched", "o")):
        part = table[table.kind == kind]
        ax.scatter(part.measured_ms, part.psnr, marker=marker, label=kind)
        for k, r in enumerate(part.itertuples()):  # searched nets lie close: labels below, staggered
            label = r.name.replace("searched", "budget").removesuffix(" ms")
            offset = (3, -10 - 9 * (k % 2)) if kind == "searched" else (3, 6)
            ax.annotate(label, (r.measured_ms, r.psnr), fontsize=7, textcoords="offset points",
                        xytext=offset)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel("PSNR on validation photos (dB, Y)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


@cli_main()
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--runtime", choices=tuple(BACKENDS), default="onnxruntime")
    p.add_argument("--searched", help="the budget_hit CSV of the searched networks (default: the "
                   "searched rows of --out, from an earlier run)")
    p.add_argument("--refs", default="fsrcnn,espcn,carn_m,imdn,rlfn_ntire")
    p.add_argument("--trials", type=positive_int, default=8, help="TVM only: trials per fused task")
    add_schedule(p, finetune_steps=3000)
    add_output(p, "pareto_local_cpu")
    args = p.parse_args(argv)
    fp = host_identity.fingerprint()
    searched = searched_rows(Path(args.searched or args.out), args.runtime, fp["host_id"], args.finetune_steps)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    refs = []
    for arch in filter(None, args.refs.split(",")):
        trained = run_baseline(arch, scale=4, steps=args.finetune_steps,
                               batch_size=args.batch_size, patch_size=args.patch_size, lr=5e-4,
                               data=None, val_data=None, work=work / "train")
        timing = measured_ms(arch, args.runtime, args.trials, work / "measurements.csv",
                             fp["host_id"])
        lr_hw = (int(timing["lr_h"]), int(timing["lr_w"]))
        refs.append({"kind": "reference", "name": arch, "psnr": trained["psnr"],
                     "patch_size": trained["patch_size"], "train_wall_s": trained["train_wall_s"],
                     "ssim": trained["ssim"], "gmacs": count_macs(build_model(arch, 4), lr_hw) / 1e9,
                     "params": trained["params"], "steps": args.finetune_steps,
                     "trials": args.trials if args.runtime == "tvm" else None, **timing})
        write_csv_atomic(pd.DataFrame(refs), work / "references.csv")
    refs = pd.DataFrame(refs)
    searched["patch_size"] = args.patch_size
    searched["on_or_above_front"] = on_or_above_front(searched, refs)
    table = pd.concat([searched, refs], ignore_index=True)
    table["device"] = DEVICE
    table["runtime"] = args.runtime
    table["host"] = host_identity.describe(fp)
    table["host_id"] = fp["host_id"]
    write_csv_atomic(table, args.out)
    plot(table, Path(args.out).with_suffix(".png"),
         f"measured on {fp['host_id']}, {args.runtime} ({STATISTIC} of repeats, ms)")
    print(table[["kind", "name", "measured_ms", "psnr", "on_or_above_front"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
