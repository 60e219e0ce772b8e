"""Evaluate an SR network: PSNR/SSIM (Y channel, shave = scale) per image and mean, params, MACs.

    python -m codesign.evaluate (--arch NAME | --checkpoint FILE) --scale 4 [--data DIR]
                                --out FILE.csv [--torch-device cpu|cuda|…]

``--data`` is an evaluation folder (Set5/Set14/B100/Urban100 layout, a DIV2K root, or any image
folder); without it, the built-in validation photos. Images too small to be scored (after
shaving ``scale`` pixels a side SSIM's 11-px window must fit, and some networks need a minimum
input) and unreadable files are skipped with one warning each. 16-bit images are reduced to
8 bits (high byte). ``--out`` is checked before any work; a checkpoint that cannot be read or
does not fit its network is refused in one line.
"""
from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from codesign.data import DataError, load_pairs, to_tensor
from codesign.device import (
    add_device_flags,
    check_torch_device,
    default_device,
    refuse_retired_device,
)
from codesign.metrics import SSIM_WINDOW_PX, psnr_y, ssim_y, to_uint8
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import (
    Parser,
    UsageError,
    check_output_file,
    cli_main,
    one_line_warnings,
)


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


def model_min_lr_side(arch: str | None) -> int:
    """Smallest LR input side (px) the network ``arch`` runs on (0: any)."""
    if arch and arch.startswith("rlfn"):
        from codesign.models.rlfn import ESA_MIN_SIDE

        return ESA_MIN_SIDE
    return 0


def min_eval_side(scale: int, arch: str | None = None) -> int:
    """Smallest HR side (px) an image needs to be scored: after modcrop and shaving ``scale``
    px a border SSIM's window must fit, and the LR image must be large enough for ``arch``."""
    need = max(2 * scale + SSIM_WINDOW_PX, model_min_lr_side(arch) * scale)
    return -(-need // scale) * scale  # a multiple of scale: modcrop keeps it


def load_eval_pairs(data, scale: int, arch: str | None = None):
    """(name, LR, HR) evaluation pairs of ``data`` (None: built-in validation photos); images
    too small to score (:func:`min_eval_side`) are skipped with one warning each."""
    return load_pairs(data, "val", scale, min_size=min_eval_side(scale, arch))


def load_model_from_checkpoint(path):
    """Rebuild the network recorded in a training checkpoint and load its weights.
    Raises CheckpointError (one line) for a file that is not such a checkpoint."""
    from codesign.checkpoint import CheckpointError, load, state_dict_mismatch
    from codesign.models import build_model

    ckpt = load(path, required=("arch", "scale", "model"))
    try:
        model = build_model(ckpt["arch"], ckpt["scale"], **(ckpt.get("model_kwargs") or {}))
        why = state_dict_mismatch(model, ckpt["model"])
        if why is None:
            model.load_state_dict(ckpt["model"])
    except (KeyError, ValueError, TypeError, RuntimeError) as exc:
        text = str(exc).strip()
        why = text.splitlines()[0] if text else type(exc).__name__
    if why is not None:
        raise CheckpointError(f"checkpoint {path} does not hold a usable {ckpt['arch']!r} "
                              f"x{ckpt['scale']} network: {why}")
    return model, ckpt


def evaluation_table(model, name: str, scale: int, data=None, device=None,
                     pairs=None) -> pd.DataFrame:
    """Per-image rows plus a ``mean`` row, with model name, scale, params and MACs columns.
    ``pairs`` (from :func:`load_eval_pairs`) saves reading ``data`` again."""
    from codesign.complexity import complexity_row

    if pairs is None:
        pairs = load_eval_pairs(data, scale, name)
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


@cli_main(DataError)
def main(argv=None) -> int:
    parser = Parser(prog="python -m codesign.evaluate", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--arch", help="reference network by name (untrained unless bicubic)")
    which.add_argument("--checkpoint", help="checkpoint written by codesign.train")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--data", default=None, help="evaluation image folder")
    add_device_flags(parser)
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    refuse_retired_device(args)
    device = check_torch_device(args.torch_device)
    out = check_output_file(args.out)
    from codesign.models import build_model

    with warnings.catch_warnings():
        warnings.showwarning = one_line_warnings
        if args.checkpoint:
            model, ckpt = load_model_from_checkpoint(args.checkpoint)
            if ckpt["scale"] != args.scale:
                raise UsageError(f"checkpoint {args.checkpoint} is for x{ckpt['scale']}, "
                                 f"not x{args.scale}")
            name = ckpt["arch"]
        else:
            try:
                model, name = build_model(args.arch, args.scale), args.arch
            except KeyError as exc:  # UnknownModelError: lists the known names
                raise UsageError(str(exc)) from None
        pairs = load_eval_pairs(args.data, args.scale, name)
        table = evaluation_table(model, name, args.scale, args.data, device, pairs=pairs)
    write_csv_atomic(table, out)
    mean = table[table.image == "mean"].iloc[0]
    print(f"{name} x{args.scale}: PSNR {mean.psnr:.2f} dB, SSIM {mean.ssim:.4f} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
