"""Width relaxations compared on one short real search: sparsestmax vs Gumbel-softmax vs softmax.

    python -m benchmarks.search.sparsestmax_vs_gumbel [--relaxations sparsestmax,gumbel,softmax]
        [--search-steps 60] [--finetune-steps 150] [--nf 24] [--scale 4] [--data DIR]
        [--work DIR] [--out benchmarks/results/sparsestmax_vs_gumbel.csv]

For each relaxation of the kernel-level widths (γ and α always use sparsestmax), the same
search (same seed, data, schedule) runs on the built-in photos (or ``--data``), the argmax
network is derived with inherited weights, evaluated (PSNR/SSIM on Y of the validation images),
fine-tuned and evaluated again. Columns say how decided the width distributions are at the end
(mean non-zero entries per row, mean largest probability, in eval mode), the derived network's
MACs at the HD LR size and params, and the whole schedule. Runs are resumed from ``--work``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import torch

from benchmarks.benchmark_args import add_output, add_schedule, benchmark_parser
from benchmarks.quality.baselines import machine
from codesign.search.train import SearchConfig, search, sparsity_stats
from codesign.space.derive import derive
from codesign.space.search_space import SearchSpace
from codesign.sr.complexity import count_macs, count_params, hd_lr_hw
from codesign.sr.data import load_pairs
from codesign.sr.evaluate import evaluate_model
from codesign.sr.train import train_model
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, nonnegative_int, positive_int


def run_relaxation(relaxation: str, space: SearchSpace, config: SearchConfig, *, data,
                   finetune_steps: int, work: Path, progress: bool = True) -> dict:
    """Search with ``relaxation`` for the widths, derive, fine-tune; one result row."""
    config = SearchConfig(**{**config.__dict__, "width_relaxation": relaxation})
    out = work / relaxation
    t0 = time.time()
    supernet = search(space, config, out_dir=out, data=data, resume=True, progress=progress)
    search_s = time.time() - t0
    supernet.eval()
    with torch.no_grad():
        end = sparsity_stats(supernet.distributions())
    genotype, net = derive(supernet)
    genotype.save(out / "genotype.json")
    val = load_pairs(data, "val", space.scale)
    inherited = evaluate_model(net, val, space.scale, device="cpu")
    t0 = time.time()
    train_model(net, data=data, scale=space.scale, steps=finetune_steps,
                batch_size=config.batch_size, patch_size=config.patch_size,
                out_dir=out / "finetune", resume=True, device="cpu", seed=config.seed,
                arch="trilevel", model_kwargs={"genotype": genotype.to_dict()}, progress=progress)
    finetune_s = time.time() - t0
    tuned = evaluate_model(net, val, space.scale, device="cpu")
    return {
        "width_relaxation": relaxation, "path": genotype.path or "(root)",
        "widths": " ".join("/".join(map(str, c.widths)) for c in genotype.cells),
        "width_support_end": end["width_support"], "width_max_end": end["width_max"],
        "alpha_max_end": end["alpha_max"], "gamma_max_end": end["gamma_max"],
        "macs_hd": count_macs(net, hd_lr_hw(space.scale)), "params": count_params(net),
        "psnr_inherited": inherited.psnr.mean(), "psnr": tuned.psnr.mean(),
        "ssim": tuned.ssim.mean(), "search_s": round(search_s, 1),
        "finetune_s": round(finetune_s, 1),
        "schedule": (f"search {config.steps} steps (+{config.warmup_steps} warm-up) x batch "
                     f"{config.batch_size} x {config.patch_size}px HR, radius 0->1 linear, "
                     f"gumbel tau {config.gumbel_tau}; fine-tune {finetune_steps} steps"),
        "space": f"nf={space.nf} cells={space.num_cells} widths={list(space.widths)} x{space.scale}",
        "seed": config.seed, "data": "built-in" if data is None else str(data),
        "machine": machine(), "threads": torch.get_num_threads(),
    }


@cli_main()
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--relaxations", default="sparsestmax,gumbel,softmax")
    add_schedule(parser, steps=60, warmup_steps=10, finetune_steps=150, steps_flag="--search-steps")
    parser.add_argument("--nf", type=positive_int, default=24)
    parser.add_argument("--num-cells", type=positive_int, default=5)
    parser.add_argument("--width-multiple", type=positive_int, default=4)
    parser.add_argument("--scale", type=int, choices=(2, 3, 4), default=4)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--data", default=None)
    add_output(parser, "sparsestmax_vs_gumbel")
    args = parser.parse_args(argv)
    space = SearchSpace(nf=args.nf, num_cells=args.num_cells, scale=args.scale,
                        width_multiple=args.width_multiple)
    config = SearchConfig(steps=args.steps, warmup_steps=args.warmup_steps,
                          batch_size=args.batch_size, patch_size=args.patch_size, seed=args.seed)
    rows = [run_relaxation(r, space, config, data=args.data, finetune_steps=args.finetune_steps,
                           work=Path(args.work))
            for r in args.relaxations.split(",")]
    table = pd.DataFrame(rows)
    write_csv_atomic(table, args.out)
    print(table[["width_relaxation", "path", "width_max_end", "psnr_inherited", "psnr",
                 "macs_hd"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
