"""Reference networks trained for the same short budget on the same data: the front to beat.

    python -m benchmarks.quality.baselines [--scale 4] [--steps 1000] [--seed 0] [--archs fsrcnn,espcn,...]
                                   [--data DIR] [--val-data DIR] [--out benchmarks/results/baselines.csv]

Each network is trained with codesign.train (L1, Adam, cosine LR) in ``--work/<arch>_x<scale>``
— a finished run is reused and an interrupted one resumed, with the same settings only — then
evaluated on the validation images (PSNR/SSIM on Y, shave = scale). Bicubic is evaluated
untrained. Every network is built after seeding with --seed: the same seed gives the same rows
on CPU. SIGINT/SIGTERM checkpoint the network in training and stop; the same command resumes.
Rows carry the schedule, the data and the machine, so the CSV says what it measured.
"""
from __future__ import annotations

import platform
import sys
from pathlib import Path

import pandas as pd
import torch

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from benchmarks.host_rows import replace_rows
from codesign.sr.data import DataError
from codesign.sr.evaluate import evaluation_table, model_min_lr_side
from codesign.sr.models import build_model, list_models
from codesign.sr.teacher import load_teacher, teacher_label
from codesign.sr.train import TrainingInterrupted, train_model
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import (
    UsageError,
    check_output_dir,
    check_output_file,
    cli_main,
    nonnegative_int,
    positive_float,
    positive_int,
)
from codesign_common.locks import LockBusy

DEFAULT_ARCHS = ("fsrcnn", "espcn", "carn_m", "imdn", "rlfn_ntire", "bicubic")


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
    return model_min_lr_side(arch) * scale


def reference_run_dir(work: Path, arch: str, scale: int, teacher: str | None = None) -> Path:
    """Where train_reference trains ``arch`` at ``scale`` (with or without a teacher) in ``work``."""
    return Path(work) / (f"{arch}_x{scale}" + ("_teacher" if teacher else ""))


def train_reference(arch: str, *, scale: int, steps: int, batch_size: int, patch_size: int,
                    lr: float, data, work: Path, seed: int = 0,
                    teacher: str | None = None) -> tuple[torch.nn.Module, dict]:
    """One reference network trained (unless parameter-free) in reference_run_dir, and its
    schedule row. The patch is enlarged to what the network needs (``min_patch_size``); the row
    says which. The network is built after seeding with ``seed``: the same seed gives the same
    weights on CPU. A finished run in ``work`` is reused and an interrupted one resumed, both
    only with the same settings (codesign.train refuses a checkpoint made with others, naming
    the setting). ``train_wall_s`` is the training's wall time over every resume, from its log
    (s; a reused run reports the run that trained it, NaN when its log predates that column).
    With ``teacher`` (a codesign.sr.teacher spec) the loss adds L1 to its output (weight 1), in a
    run folder of its own; the row names the teacher."""
    torch.manual_seed(seed)  # before the network is built: its init depends on it
    model = build_model(arch, scale)
    patch_size = max(patch_size, min_patch_size(arch, scale))
    row = {"steps": 0, "train_wall_s": 0.0}
    if any(p.requires_grad for p in model.parameters()):
        frozen = load_teacher(teacher, scale)[0] if teacher else None
        summary = train_model(model, data=data, scale=scale, steps=steps,
                              batch_size=batch_size, patch_size=patch_size, lr=lr,
                              out_dir=reference_run_dir(work, arch, scale, teacher),
                              resume=True, seed=seed, arch=arch, teacher=frozen,
                              teacher_name=teacher or "")
        row = {"steps": summary["steps"], "train_wall_s": round(summary["train_s"], 1)}
    return model.eval(), {**row, "batch_size": batch_size, "patch_size": patch_size, "lr": lr,
                          "train_data": "built-in train" if data is None else str(data),
                          "teacher": teacher_label(teacher) if teacher else "",
                          "machine": machine()}


def run_baseline(arch: str, *, scale: int, val_data, **training) -> dict:
    """Train one reference network (:func:`train_reference`) and evaluate it on ``val_data``;
    returns its mean row."""
    model, row = train_reference(arch, scale=scale, **training)
    table = evaluation_table(model, arch, scale, val_data)
    mean = table[table.image == "mean"].iloc[0].to_dict()
    mean.pop("image")
    return {**mean, **row}


ROW_KEYS = ("machine", "model", "steps")
"""A row of baselines.csv is one network trained for ``steps`` on one machine."""


@cli_main(DataError, LockBusy)
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--steps", type=positive_int, default=1000)
    parser.add_argument("--batch-size", type=positive_int, default=16)
    parser.add_argument("--patch-size", type=positive_int, default=64)
    parser.add_argument("--lr", type=positive_float, default=1e-3)
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--archs", default=",".join(DEFAULT_ARCHS))
    parser.add_argument("--data", default=None)
    parser.add_argument("--val-data", default=None)
    parser.add_argument("--work", default="runs/baselines", help="training runs (resumable)")
    parser.add_argument("--out", default=str(RESULTS / "baselines.csv"))
    args = parser.parse_args(argv)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    unknown = [a for a in archs if a not in list_models()]
    if unknown or not archs:
        raise UsageError(f"--archs: unknown network(s) {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(list_models())}")
    if args.patch_size % args.scale:
        raise UsageError(f"--patch-size {args.patch_size} is not a multiple of --scale "
                         f"{args.scale}")
    out = check_output_file(args.out)
    work = check_output_dir(args.work, "--work")
    rows = []
    try:
        for arch in archs:
            rows.append(run_baseline(arch, scale=args.scale, steps=args.steps,
                                     batch_size=args.batch_size, patch_size=args.patch_size,
                                     lr=args.lr, data=args.data, val_data=args.val_data,
                                     work=work, seed=args.seed))
            # partial results survive a stop; other machines' and schedules' rows stay
            write_csv_atomic(replace_rows(out, pd.DataFrame(rows), ROW_KEYS), out)
    except TrainingInterrupted as stop:
        print(f"{stop} of {arch}: checkpoint {stop.checkpoint} holds it, {len(rows)} finished "
              f"row(s) in {out}; run the same command again to resume", file=sys.stderr)
        return 128 + stop.signum
    table = pd.DataFrame(rows)
    print(table[["model", "psnr", "ssim", "params", "steps"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
