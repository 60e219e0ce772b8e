"""Train an SR network with L1 loss and Adam; atomic checkpoints and exact resume.

    python -m codesign.train --arch NAME --scale 4 [--data DIR] --out DIR [--steps N] [--resume]

``DIR/checkpoint.pt`` holds the network (name, scale, kwargs, weights), optimizer, LR schedule,
step and torch RNG state; ``--resume`` continues from it exactly (the batch of step t is fixed
by the seed, see codesign.data.patches). ``DIR/train_log.csv`` logs loss and validation PSNR.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from codesign.checkpoint import load, save_atomic
from codesign.data import DataError, load_pairs, make_train_loader
from codesign.device import default_device
from codesign_common.atomic import write_csv_atomic

CHECKPOINT = "checkpoint.pt"


def cosine_lr(step: int, steps: int, warmup: int = 0, floor: float = 0.01) -> float:
    """LR multiplier: linear warm-up, then cosine decay from 1 to ``floor`` at ``steps``."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(steps - warmup, 1)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def _state(model, optimizer, scheduler, step, meta) -> dict:
    return {**meta, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "step": step,
            "torch_rng": torch.get_rng_state()}


def train_model(model: torch.nn.Module, *, data=None, scale: int, steps: int,
                batch_size: int = 16, patch_size: int = 96, lr: float = 5e-4, out_dir,
                resume: bool = False, device=None, seed: int = 0, val_data=None,
                val_every: int = 0, checkpoint_every: int = 200, arch: str | None = None,
                model_kwargs: dict | None = None, progress: bool = True,
                stop_at: int | None = None) -> dict:
    """Train ``model`` for ``steps`` steps of ``batch_size`` HR patches of ``patch_size`` px.

    ``stop_at`` ends the run early at that step with a checkpoint, as an interruption would
    (the LR schedule still spans ``steps``); ``resume=True`` then continues it.

    Returns a summary: steps done, last loss, final validation PSNR (dB) if validated, wall time (s).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = default_device(device) if not isinstance(device, torch.device) else device
    torch.manual_seed(seed)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: cosine_lr(s, steps, warmup=min(100, steps // 20)))
    meta = {"arch": arch, "scale": scale, "model_kwargs": model_kwargs or {}, "steps": steps,
            "batch_size": batch_size, "patch_size": patch_size, "lr": lr, "seed": seed}
    start, log_rows = 0, []
    ckpt_path, log_path = out_dir / CHECKPOINT, out_dir / "train_log.csv"
    if resume and ckpt_path.exists():
        ckpt = load(ckpt_path)
        for key in ("arch", "scale", "batch_size", "patch_size", "seed"):
            if ckpt.get(key) != meta[key]:
                raise DataError(f"cannot resume: checkpoint has {key}={ckpt.get(key)!r}, "
                                f"this run {meta[key]!r}")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["torch_rng"])
        start = ckpt["step"]
        if log_path.exists():
            log_rows = pd.read_csv(log_path).query("step <= @start").to_dict("records")
    loader = make_train_loader(data, scale, patch_size, batch_size, seed=seed,
                               steps=min(steps, stop_at or steps), start_step=start)
    val_pairs = load_pairs(val_data, "val", scale) if val_every else None

    def checkpoint(step):
        save_atomic(_state(model, optimizer, scheduler, step, meta), ckpt_path)
        write_csv_atomic(pd.DataFrame(log_rows), log_path)

    t0, step, loss_value, val_psnr = time.time(), start, float("nan"), None
    bar = tqdm(total=steps, initial=start, desc=f"train {arch or type(model).__name__}",
               disable=not progress)
    model.train()
    try:
        for lr_batch, hr_batch in loader:
            lr_batch, hr_batch = lr_batch.to(device), hr_batch.to(device)
            loss = F.l1_loss(model(lr_batch), hr_batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            loss_value = loss.item()
            row = {"step": step, "loss": loss_value, "lr": scheduler.get_last_lr()[0]}
            if val_every and (step % val_every == 0 or step == steps):
                from codesign.evaluate import evaluate_model

                val_psnr = float(evaluate_model(model, val_pairs, scale, device).psnr.mean())
                row["val_psnr"] = val_psnr
                model.train()
            log_rows.append(row)
            bar.update(1)
            bar.set_postfix(loss=f"{loss_value:.4f}", **({"psnr": f"{val_psnr:.2f}"} if val_psnr else {}))
            if step % checkpoint_every == 0:
                checkpoint(step)
    except KeyboardInterrupt:
        checkpoint(step)
        bar.close()
        raise
    bar.close()
    checkpoint(step)
    return {"steps": step, "loss": loss_value, "val_psnr": val_psnr,
            "wall_s": time.time() - t0, "checkpoint": str(ckpt_path)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codesign.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True, help="network name (python -m codesign.models)")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--data", default=None, help="HR training folder (default: built-in photos)")
    parser.add_argument("--val-data", default=None, help="validation folder (default: built-in)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=96, help="HR patch side (px)")
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--val-every", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=None)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    from codesign.models import build_model

    try:
        model = build_model(args.arch, args.scale)
        summary = train_model(
            model, data=args.data, scale=args.scale, steps=args.steps,
            batch_size=args.batch_size, patch_size=args.patch_size, lr=args.lr,
            out_dir=args.out, resume=args.resume, device=args.device, seed=args.seed,
            val_data=args.val_data, val_every=args.val_every, arch=args.arch)
    except (DataError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    psnr = f", validation PSNR {summary['val_psnr']:.2f} dB" if summary["val_psnr"] else ""
    print(f"trained {args.arch} x{args.scale} for {summary['steps']} steps{psnr} "
          f"-> {summary['checkpoint']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
