"""Reference networks trained for the same short budget on the same data: the front to beat.

    python -m benchmarks.baselines [--scale 4] [--steps 1500] [--archs fsrcnn,espcn,...]
                                   [--data DIR] [--val-data DIR] [--out benchmarks/results/baselines.csv]

Each network is trained with codesign.train (L1, Adam, cosine LR) in ``--work/<arch>`` — a
finished run is reused and an interrupted one resumed — then evaluated on the validation images
(PSNR/SSIM on Y, shave = scale). Bicubic is evaluated untrained. Rows carry the schedule, the
data and the machine, so the CSV says what it measured.
"""
from __future__ import annotations

import argparse
import platform
import sys
from pathlib import Path

import pandas as pd
import torch

from codesign.checkpoint import load
from codesign.data import DataError
from codesign.evaluate import evaluation_table
from codesign.models import build_model
from codesign.train import train_model
from codesign_common.atomic import write_csv_atomic

DEFAULT_ARCHS = ("fsrcnn", "espcn", "carn_m", "imdn", "rlfn_ntire", "bicubic")
RESULTS = Path(__file__).parent / "results"


def machine() -> str:
    """Short description of where this ran (CPU model or GPU name)."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu} ({psutil.cpu_count(logical=True)} threads, torch {torch.get_num_threads()})"


def min_patch_size(arch: str, scale: int) -> int:
    """Smallest HR patch (px) a network trains on: RLFN's ESA needs ESA_MIN_SIDE LR pixels."""
    if arch.startswith("rlfn"):
        from codesign.models.rlfn import ESA_MIN_SIDE

        return ESA_MIN_SIDE * scale
    return 0


def run_baseline(arch: str, *, scale: int, steps: int, batch_size: int, patch_size: int,
                 lr: float, data, val_data, work: Path, seed: int = 0) -> dict:
    """Train (unless parameter-free) and evaluate one reference network; returns its mean row.
    The patch is enlarged to what the network needs (``min_patch_size``); the row says which."""
    model = build_model(arch, scale)
    patch_size = max(patch_size, min_patch_size(arch, scale))
    row = {"steps": 0, "train_wall_s": 0.0}
    if any(p.requires_grad for p in model.parameters()):
        out = work / f"{arch}_x{scale}"
        done = (out / "checkpoint.pt").exists() and load(out / "checkpoint.pt")["step"] >= steps
        if done:
            model.load_state_dict(load(out / "checkpoint.pt")["model"])
            summary = {"steps": steps, "wall_s": float("nan")}
        else:
            summary = train_model(model, data=data, scale=scale, steps=steps,
                                  batch_size=batch_size, patch_size=patch_size, lr=lr,
                                  out_dir=out, resume=True, seed=seed, arch=arch)
        row = {"steps": summary["steps"], "train_wall_s": round(summary["wall_s"], 1)}
    table = evaluation_table(model, arch, scale, val_data)
    mean = table[table.image == "mean"].iloc[0].to_dict()
    mean.pop("image")
    return {**mean, **row, "batch_size": batch_size, "patch_size": patch_size, "lr": lr,
            "train_data": "built-in train" if data is None else str(data), "machine": machine()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.baselines", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--archs", default=",".join(DEFAULT_ARCHS))
    parser.add_argument("--data", default=None)
    parser.add_argument("--val-data", default=None)
    parser.add_argument("--work", default="runs/baselines", help="training runs (resumable)")
    parser.add_argument("--out", default=str(RESULTS / "baselines.csv"))
    args = parser.parse_args(argv)
    rows = []
    try:
        for arch in args.archs.split(","):
            rows.append(run_baseline(arch, scale=args.scale, steps=args.steps,
                                     batch_size=args.batch_size, patch_size=args.patch_size,
                                     lr=args.lr, data=args.data, val_data=args.val_data,
                                     work=Path(args.work)))
            write_csv_atomic(pd.DataFrame(rows), args.out)  # partial results survive a stop
    except (DataError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = pd.DataFrame(rows)
    print(table[["model", "psnr", "ssim", "params", "steps"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
