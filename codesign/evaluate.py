"""Evaluate an SR network: PSNR/SSIM (Y channel, shave = scale) per image and mean, params, MACs.

    python -m codesign.evaluate (--arch NAME | --checkpoint FILE) --scale 4 [--data DIR] --out FILE.csv

``--data`` is an evaluation folder (Set5/Set14/B100/Urban100 layout, a DIV2K root, or any image
folder); without it, the built-in validation photos.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from codesign.data import DataError, load_pairs, to_tensor
from codesign.device import default_device
from codesign.metrics import psnr_y, ssim_y, to_uint8
from codesign_common.atomic import write_csv_atomic


@torch.no_grad()
def super_resolve(model: torch.nn.Module, lr: np.ndarray, device=None) -> np.ndarray:
    """Run ``model`` on one uint8 LR image; returns the uint8 SR image."""
    device = device or next(iter(model.parameters()), torch.empty(0)).device
    out = model(to_tensor(lr).unsqueeze(0).to(device))[0]
    return to_uint8(out.clamp(0, 1).mul(255).permute(1, 2, 0).cpu().numpy())


def evaluate_model(model: torch.nn.Module, pairs, scale: int, device=None,
                   progress: bool = False) -> pd.DataFrame:
    """PSNR (dB) and SSIM on Y, shave = ``scale``, for each (name, LR, HR) pair."""
    device = default_device(device) if not isinstance(device, torch.device) else device
    model = model.to(device).eval()
    rows = []
    for name, lr, hr in tqdm(pairs, desc="evaluate", disable=not progress, leave=False):
        sr = super_resolve(model, lr, device)
        rows.append({"image": name, "psnr": psnr_y(sr, hr, scale), "ssim": ssim_y(sr, hr, scale)})
    return pd.DataFrame(rows, columns=["image", "psnr", "ssim"])


def load_model_from_checkpoint(path):
    """Rebuild the network recorded in a training checkpoint and load its weights."""
    from codesign.checkpoint import load
    from codesign.models import build_model

    ckpt = load(path)
    model = build_model(ckpt["arch"], ckpt["scale"], **ckpt.get("model_kwargs", {}))
    model.load_state_dict(ckpt["model"])
    return model, ckpt


def evaluation_table(model, name: str, scale: int, data=None, device=None) -> pd.DataFrame:
    """Per-image rows plus a ``mean`` row, with model name, scale, params and MACs columns."""
    from codesign.complexity import complexity_row

    pairs = load_pairs(data, "val", scale)
    table = evaluate_model(model, pairs, scale, device, progress=True)
    mean = pd.DataFrame([{"image": "mean", "psnr": table.psnr.mean(), "ssim": table.ssim.mean()}])
    table = pd.concat([table, mean], ignore_index=True)
    info = complexity_row(model.cpu(), scale)
    table.insert(0, "model", name)
    table.insert(1, "scale", scale)
    for key, value in info.items():
        table[key] = value
    table["data"] = "built-in val" if data is None else str(data)
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codesign.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--arch", help="reference network by name (untrained unless bicubic)")
    which.add_argument("--checkpoint", help="checkpoint written by codesign.train")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--data", default=None, help="evaluation image folder")
    parser.add_argument("--device", default=None, help="cpu, cuda, … (default: cuda if present)")
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    from codesign.models import build_model

    try:
        if args.checkpoint:
            model, ckpt = load_model_from_checkpoint(args.checkpoint)
            if ckpt["scale"] != args.scale:
                raise DataError(f"checkpoint is for x{ckpt['scale']}, not x{args.scale}")
            name = ckpt["arch"]
        else:
            model, name = build_model(args.arch, args.scale), args.arch
        table = evaluation_table(model, name, args.scale, args.data, args.device)
    except (DataError, KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_csv_atomic(table, args.out)
    mean = table[table.image == "mean"].iloc[0]
    print(f"{name} x{args.scale}: PSNR {mean.psnr:.2f} dB, SSIM {mean.ssim:.4f} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
