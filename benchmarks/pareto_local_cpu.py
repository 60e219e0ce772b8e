"""Searched networks vs reference networks on this CPU: PSNR against TVM-tuned measured latency.

    nice python -m benchmarks.pareto_local_cpu [--budget-hit benchmarks/results/budget_hit.csv]
        [--refs fsrcnn,espcn,rlfn_ntire,carn_m,imdn] [--trials 8] [--finetune-steps 3000]
        [--batch-size 4] [--patch-size 48] [--work runs/pareto_local_cpu]
        [--out benchmarks/results/pareto_local_cpu.csv]

The searched networks are the final networks of ``benchmarks.budget_hit`` (searched, fine-tuned
for ``--finetune-steps`` and measured there). Each reference network is trained here on the
same built-in photos for the same steps, batch, patch size and learning rate as that fine-tuning,
then compiled, tuned (the same MetaSchedule trials per fused task) and timed with TVM on
local-cpu at its LR input, with onnxruntime beside it for scale (rows that
benchmarks.compile_local_cpu measured at the same trials are reused). A searched network is ``on or
above the front`` when no reference network is both at least as fast (measured) and better
(PSNR). Rows also go to a PNG (PSNR vs measured ms). Runs and measurements resume from --work.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmarks.baselines import run_baseline
from codesign.complexity import count_macs
from codesign.models import build_model
from codesign_common.atomic import atomic_path, write_csv_atomic
from codesign_common.cli import Parser, cli_main

RESULTS = Path(__file__).parent / "results"
COMPILE_RESULTS = RESULTS / "compile_local_cpu.csv"
DEVICE = "local-cpu"


def measured_ms(arch: str, trials: int, measurements: Path) -> dict:
    """TVM-tuned (``trials`` per fused task) and onnxruntime latency (ms) of a reference network
    at local-cpu's LR input: from benchmarks.compile_local_cpu's results when that run measured
    it so, else measured now (appended to ``measurements``)."""
    from codesign.measure import measure_network
    from devices.catalog import get_device

    h, w = get_device(DEVICE).lr_input_hw
    key = f"network:{arch}:h={h}:w={w}"

    def found():
        frames = [pd.read_csv(p) for p in (COMPILE_RESULTS, measurements) if Path(p).exists()]
        rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["key"])
        rows = rows[rows.key == key]
        tvm = rows[(rows.backend == "tvm-local") & (rows.tuned.astype(str) == "True")
                   & (rows.trials == trials)]
        ort = rows[rows.backend == "onnxruntime"]
        return (tvm.iloc[-1], ort.iloc[-1]) if len(tvm) and len(ort) else None

    if found() is None:
        measure_network(DEVICE, str(measurements), arch=arch, trials=trials,
                        runtimes=("tvm", "onnxruntime"))
    tvm, ort = found()
    return {"measured_ms": tvm.latency_ms, "measured_std_ms": tvm.latency_std_ms,
            "onnxruntime_ms": ort.latency_ms, "lr_h": h, "lr_w": w,
            "measured_on": tvm.date}


def on_or_above_front(searched: pd.DataFrame, refs: pd.DataFrame) -> list[bool]:
    return [not ((refs.measured_ms <= s.measured_ms) & (refs.psnr > s.psnr)).any()
            for s in searched.itertuples()]


def plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for kind, marker in (("reference", "s"), ("searched", "o")):
        part = table[table.kind == kind]
        ax.scatter(part.measured_ms, part.psnr, marker=marker, label=kind)
        for r in part.itertuples():
            ax.annotate(r.name, (r.measured_ms, r.psnr), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel(f"measured latency on {DEVICE}, TVM tuned (ms)")
    ax.set_ylabel("PSNR on validation photos (dB, Y)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


@cli_main()
def main(argv=None) -> int:
    p = Parser(prog="python -m benchmarks.pareto_local_cpu", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget-hit", default=str(RESULTS / "budget_hit.csv"))
    p.add_argument("--refs", default="fsrcnn,espcn,rlfn_ntire,carn_m,imdn")
    p.add_argument("--trials", type=int, default=8)
    p.add_argument("--finetune-steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--patch-size", type=int, default=48)
    p.add_argument("--work", default="runs/pareto_local_cpu")
    p.add_argument("--out", default=str(RESULTS / "pareto_local_cpu.csv"))
    args = p.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    hits = pd.read_csv(args.budget_hit).dropna(subset=["budget_ms"])
    searched = pd.DataFrame({
        "kind": "searched", "name": [f"searched {b:g} ms" for b in hits.budget_ms],
        "measured_ms": hits.measured_ms, "measured_std_ms": hits.measured_std_ms,
        "psnr": hits.psnr, "ssim": hits.ssim, "gmacs": hits.gmacs, "params": hits.params,
        "lr_h": hits.lr_h, "lr_w": hits.lr_w, "steps": hits.finetune_steps,
        "patch_size": args.patch_size,
        "trials": hits.trials})
    refs = []
    for arch in filter(None, args.refs.split(",")):
        trained = run_baseline(arch, scale=4, steps=args.finetune_steps,
                               batch_size=args.batch_size, patch_size=args.patch_size, lr=5e-4,
                               data=None, val_data=None, work=work / "train")
        timing = measured_ms(arch, args.trials, work / "measurements.csv")
        lr_hw = (int(timing["lr_h"]), int(timing["lr_w"]))
        refs.append({"kind": "reference", "name": arch, "psnr": trained["psnr"],
                     "patch_size": trained["patch_size"],
                     "ssim": trained["ssim"], "gmacs": count_macs(build_model(arch, 4), lr_hw) / 1e9,
                     "params": trained["params"], "steps": args.finetune_steps,
                     "trials": args.trials, **timing})
        write_csv_atomic(pd.DataFrame(refs), work / "references.csv")
    refs = pd.DataFrame(refs)
    searched["on_or_above_front"] = on_or_above_front(searched, refs)
    table = pd.concat([searched, refs], ignore_index=True)
    table["device"] = DEVICE
    write_csv_atomic(table, args.out)
    plot(table, Path(args.out).with_suffix(".png"))
    print(table[["kind", "name", "measured_ms", "psnr", "on_or_above_front"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
