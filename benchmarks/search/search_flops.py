"""FLOPs-budgeted searches next to reference networks of similar FLOPs, same data, same steps.

    python -m benchmarks.search.search_flops [--budgets 2,5,17,33] [--relaxations sparsestmax,softmax,gumbel]
        [--relaxation-budget 5] [--refs fsrcnn,espcn,rlfn_ntire,carn_m] [--steps 120]
        [--warmup-steps 20] [--finetune-steps 1000] [--batch-size 4] [--patch-size 48]
        [--work runs/search_flops] [--out benchmarks/results/search_flops.csv]

Budgets are GMACs (10⁹ multiply-accumulates, what SR papers call FLOPs) for a 1280×720 output
(LR 320×180 at ×4). Every search runs what ``python -m codesign.search --budget <B>GFLOPs`` runs
(codesign.search.api) with the given schedule (sparsestmax widths at every budget; softmax and Gumbel widths also at
``--relaxation-budget``) and no latency measurement; each reference network is trained with
codesign.train for ``--finetune-steps`` steps on the same built-in photos at the same batch and
patch size (the searched net also inherits the weights its supernet trained during the search).
Rows: the derived or reference network's GMACs (720p), params, validation PSNR/SSIM (Y, shave
= scale), how decided the distributions were at the end of the search (mean support size and
largest probability of γ, α and the widths), and the supernet step's throughput (images/s,
weight and architecture batches, median over search steps) on the machine named in each row.
Runs resume from ``--work``. The row of kind ``main job`` is ``python -m codesign.search --device
pixel7 --budget 50ms`` at the same GPU schedule (its report.csv, ``train_device`` as ``machine``;
benchmarks/gpu_h100.sh); a run keeps it (ROW_KEYS).
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import add_output, add_schedule, benchmark_parser
from benchmarks.host_rows import replace_rows
from benchmarks.quality.baselines import machine, run_baseline
from codesign.search.api import SearchRequest, default_schedule, plan, run
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main

STATS = [f"{n}_{s}" for n in ("gamma", "alpha", "width") for s in ("support", "max")]


def searched_row(budget: float, relaxation: str, args) -> dict:
    """Run (or resume) one search and return its report row with the end-of-search stats."""
    out = Path(args.work) / f"{budget:g}GFLOPs-{relaxation}"
    schedule = dataclasses.replace(default_schedule(), width_relaxation=relaxation,
                                   steps=args.steps, warmup_steps=args.warmup_steps,
                                   batch_size=args.batch_size, patch_size=args.patch_size)
    request = SearchRequest(budget=f"{budget:g}GFLOPs", out=str(out), resume=True,
                            measure=False, rounds=1, schedule=schedule,
                            finetune_steps=args.finetune_steps)
    report = run(plan(request)).final
    log = pd.read_csv(out / "search_log.csv")
    searched = log.dropna(subset=["arch_loss"])
    return {"kind": "searched", "name": f"trilevel {budget:g}G {relaxation}",
            "budget_gmacs": budget, "width_relaxation": relaxation, "gmacs_720p": report.gmacs,
            "params": report.params, "psnr": report.psnr, "ssim": report.ssim,
            "path": report.path or "(stem cell only)", "derivation": report.derivation,
            **searched.iloc[-1][STATS].to_dict(),
            "supernet_images_per_s": 2 * args.batch_size / float(searched.step_s.median()),
            "search_steps": args.steps, "finetune_steps": args.finetune_steps,
            "patch_size": args.patch_size, "wall_s": report.search_finetune_wall_s,
            "machine": machine()}


def reference_row(arch: str, args) -> dict:
    row = run_baseline(arch, scale=4, steps=args.finetune_steps, batch_size=args.batch_size,
                       patch_size=args.patch_size, lr=5e-4, data=None, val_data=None,
                       work=Path(args.work) / "references")
    return {"kind": "reference", "name": arch, "gmacs_720p": row["macs_720p"] / 1e9,
            "params": row["params"], "psnr": row["psnr"], "ssim": row["ssim"],
            "finetune_steps": args.finetune_steps, "patch_size": row["patch_size"],
            "wall_s": row["train_wall_s"],
            "machine": row["machine"]}


ROW_KEYS = ("machine", "name", "search_steps", "finetune_steps")
"""A row of search_flops.csv is one searched or reference network at one schedule on one
machine; a re-run replaces those and keeps every other machine's and schedule's rows."""


@cli_main()
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--budgets", default="2,5,17,33", help="GMACs at 720p, comma-separated")
    p.add_argument("--relaxations", default="sparsestmax,softmax,gumbel")
    p.add_argument("--relaxation-budget", type=float, default=5.0)
    p.add_argument("--refs", default="fsrcnn,espcn,rlfn_ntire,carn_m")
    add_schedule(p, steps=120, warmup_steps=20, finetune_steps=1000)
    add_output(p, "search_flops")
    args = p.parse_args(argv)
    runs = [(float(b), "sparsestmax") for b in args.budgets.split(",") if b]
    runs += [(args.relaxation_budget, r) for r in args.relaxations.split(",")
             if r and (args.relaxation_budget, r) not in runs]
    rows = []
    for budget, relaxation in runs:
        rows.append(searched_row(budget, relaxation, args))
        write_csv_atomic(replace_rows(args.out, pd.DataFrame(rows), ROW_KEYS), args.out)
    for arch in filter(None, args.refs.split(",")):
        rows.append(reference_row(arch, args))
        write_csv_atomic(replace_rows(args.out, pd.DataFrame(rows), ROW_KEYS), args.out)
    table = pd.DataFrame(rows)
    print(table[["kind", "name", "gmacs_720p", "params", "psnr", "width_support"]
                if "width_support" in table else ["kind", "name", "gmacs_720p", "psnr"]]
          .to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
