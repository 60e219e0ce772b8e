"""Evaluate an SR network: PSNR/SSIM (Y channel, shave = scale) per image and mean, beside
bicubic on the same images, with params and MACs.

    python -m codesign.evaluate (--arch NAME [--weights FILE] | --checkpoint FILE | --run DIR)
                                [--scale 4] [--data NAME|DIR ...] --out FILE.csv
                                [--torch-device cpu|cuda|…]

The network: a reference network by name (untrained unless bicubic, or with an authors'
published checkpoint ``--weights``, loaded by ``codesign.sr.models.weights``), a ``codesign.train``
checkpoint, or a search's output folder (``genotype.json`` + ``weights.safetensors``).
PSNR/SSIM are on Y with ``scale`` pixels shaved, twice: Y rounded to integers (``psnr``,
``ssim``: MATLAB ``rgb2ycbcr`` on uint8 images, which the classic bicubic tables used) and Y in
floating point (``psnr_float_y``, ``ssim_float_y``: MATLAB on ``im2double`` images, as the
EDSR/RCAN evaluation scripts and BasicSR compute it; IMDN's and RLFN's published figures match
this one, see ``benchmarks/results/published_weights.csv``). Rounding Y adds quantisation noise that costs
about 0.09 dB at ×2 on Set5 (38 dB) and 0.02 dB at ×4 (32 dB).
``--data`` takes set names (``set5`` … ``manga109``, ``codesign.sr.data.sets``) and folders
(Set5/Set14/B100/Urban100 layout, a DIV2K root, or any image folder); without it, every
standard test set present (Set5 at least: it is carried). Images too small to be scored (after
shaving ``scale`` pixels a side SSIM's 11-px window must fit, and some networks need a minimum
input) and unreadable files are skipped with one warning each. 16-bit images are reduced to
8 bits (high byte). ``--out`` is checked before any work; a checkpoint, weights file or run
folder that cannot be read or does not fit its network is refused in one line.
"""
from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from codesign.sr.checkpoint import CheckpointError
from codesign.sr.data import DataError, load_pairs, to_tensor
from codesign.sr.device import (
    add_device_flags,
    check_torch_device,
    default_device,
    refuse_retired_device,
)
from codesign.sr.metrics import SSIM_WINDOW_PX, psnr_y, ssim_y, to_uint8
from codesign.sr.models.weights import WeightsError
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
                   progress: bool = False, float_y: bool = False) -> pd.DataFrame:
    """PSNR (dB) and SSIM on Y rounded to integers, shave = ``scale``, for each (name, LR, HR)
    pair; with ``float_y`` also ``psnr_float_y``, ``ssim_float_y`` on Y in floating point."""
    device = default_device(device) if not isinstance(device, torch.device) else device
    model = model.to(device).eval()
    rows = []
    for name, lr, hr in tqdm(pairs, desc="evaluate", disable=not progress, leave=False):
        sr = super_resolve(model, lr, device)
        row = {"image": name, "psnr": psnr_y(sr, hr, scale), "ssim": ssim_y(sr, hr, scale)}
        if float_y:  # float images: metrics keeps Y unrounded
            sr_f, hr_f = sr.astype(np.float64), hr.astype(np.float64)
            row.update(psnr_float_y=psnr_y(sr_f, hr_f, scale), ssim_float_y=ssim_y(sr_f, hr_f, scale))
        rows.append(row)
    columns = ["image", "psnr", "ssim"] + (["psnr_float_y", "ssim_float_y"] if float_y else [])
    return pd.DataFrame(rows, columns=columns)


def model_min_lr_side(arch: str | None) -> int:
    """Smallest LR input side (px) the network ``arch`` runs on (0: any)."""
    if arch and arch.startswith("rlfn"):
        from codesign.sr.models.rlfn import ESA_MIN_SIDE

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
    from codesign.sr.checkpoint import load, state_dict_mismatch
    from codesign.sr.models import build_model

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


def load_model_from_run(folder) -> torch.nn.Module:
    """The derived network of a search's output folder (``genotype.json`` and
    ``weights.safetensors``, tensors only). Raises CheckpointError (one line)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from codesign.space.genotype import Genotype, TrilevelNet
    from codesign.sr.checkpoint import state_dict_mismatch

    folder = Path(folder)
    if not (folder / "genotype.json").is_file() or not (folder / "weights.safetensors").is_file():
        raise CheckpointError(f"{folder} is not a finished search folder (no genotype.json and "
                              f"weights.safetensors)")
    try:
        net = TrilevelNet(Genotype.load(folder / "genotype.json"))
        state = load_file(folder / "weights.safetensors")
    except (OSError, ValueError, KeyError, TypeError, SafetensorError) as exc:
        text = str(exc).strip()
        raise CheckpointError(f"search folder {folder}: "
                              f"{text.splitlines()[0] if text else type(exc).__name__}") from None
    why = state_dict_mismatch(net, state)
    if why is not None:
        raise CheckpointError(f"{folder}/weights.safetensors does not fit its genotype.json: {why}")
    net.load_state_dict(state)
    return net


def evaluation_table(model, name: str, scale: int, data=None, device=None,
                     pairs=None) -> pd.DataFrame:
    """Per-image rows plus a ``mean`` row: PSNR/SSIM of ``model`` and of bicubic on the same
    images (``*_bicubic``), each with Y rounded and in floating point (``*_float_y``), model
    name, scale, params and MACs columns. ``pairs`` (from :func:`load_eval_pairs`) saves
    reading ``data`` again."""
    from codesign.sr.complexity import complexity_row
    from codesign.sr.models import build_model

    if pairs is None:
        pairs = load_eval_pairs(data, scale, name)
    table = evaluate_model(model, pairs, scale, device, progress=True, float_y=True)
    bicubic = evaluate_model(build_model("bicubic", scale), pairs, scale, device, float_y=True)
    for metric in ("psnr", "ssim"):
        table[f"{metric}_bicubic"] = bicubic[metric]
        table[f"{metric}_bicubic_float_y"] = bicubic[f"{metric}_float_y"]
    mean = table.drop(columns="image").mean().to_frame().T.assign(image="mean")
    table = pd.concat([table, mean[table.columns]], ignore_index=True)
    info = complexity_row(model.cpu(), scale)
    table.insert(0, "model", name)
    table.insert(1, "scale", scale)
    for key, value in info.items():
        table[key] = value
    table["data"] = "built-in val" if data is None else str(data)
    return table


def load_network(arch=None, weights=None, checkpoint=None, run=None, scale: int = 4):
    """(model, name, weights note) for exactly one of ``arch`` (with ``weights``: an authors'
    checkpoint), ``checkpoint`` (codesign.train) or ``run`` (a search folder). UsageError,
    CheckpointError or WeightsError (one line) for what cannot be loaded at ``scale``."""
    from codesign.sr.models import build_model
    from codesign.sr.models.weights import load_authors_weights

    if checkpoint:
        model, ckpt = load_model_from_checkpoint(checkpoint)
        if ckpt["scale"] != scale:
            raise UsageError(f"checkpoint {checkpoint} is for x{ckpt['scale']}, not x{scale}")
        return model, ckpt["arch"], str(checkpoint)
    if run:
        model = load_model_from_run(run)
        if model.genotype.scale != scale:
            raise UsageError(f"search {run} is for x{model.genotype.scale}, not x{scale}")
        return model, "trilevel", str(run)
    try:
        if weights:
            model, fmt = load_authors_weights(arch, scale, weights)
            return model, arch, f"{weights} ({fmt.name}, inputs in [0, {fmt.value_range:g}])"
        return build_model(arch, scale), arch, ""
    except KeyError as exc:  # UnknownModelError: lists the known names
        raise UsageError(str(exc)) from None


def test_set_quality(model, scale: int, device=None) -> dict:
    """Mean PSNR (dB) / SSIM of ``model`` and of bicubic on every standard test set present
    (Set5 always: it is carried), Y in floating point, ``scale`` px shaved, as the papers
    report them: ``{set}_psnr``, ``{set}_ssim``, ``{set}_psnr_bicubic``, ``{set}_ssim_bicubic``."""
    from codesign.sr.data.sets import present_test_sets

    out = {}
    for name in present_test_sets():
        mean = evaluation_table(model, "model", scale, name, device).iloc[-1]
        for metric in ("psnr", "ssim"):
            out[f"{name}_{metric}"] = float(mean[f"{metric}_float_y"])
            out[f"{name}_{metric}_bicubic"] = float(mean[f"{metric}_bicubic_float_y"])
    return out


def evaluate_on_sets(model, name: str, scale: int, data: list | None, device=None,
                     weights: str = "") -> pd.DataFrame:
    """:func:`evaluation_table` on each of ``data`` (set names or folders; None: every
    standard test set present), one table with a ``weights`` column."""
    from codesign.sr.data.sets import present_test_sets

    tables = [evaluation_table(model, name, scale, item, device)
              for item in (data or present_test_sets())]
    return pd.concat(tables, ignore_index=True).assign(weights=weights)


@cli_main(DataError, CheckpointError, WeightsError)
def main(argv=None) -> int:
    parser = Parser(prog="python -m codesign.evaluate", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--arch", help="reference network by name (untrained unless bicubic "
                                      "or --weights)")
    which.add_argument("--checkpoint", help="checkpoint written by codesign.train")
    which.add_argument("--run", help="output folder of codesign.search")
    parser.add_argument("--weights", help="with --arch: the authors' published checkpoint")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--data", nargs="+", default=None,
                        help="set names (set5 … manga109) or folders (default: every test set "
                             "present)")
    add_device_flags(parser)
    parser.add_argument("--out", required=True, help="CSV file to write")
    args = parser.parse_args(argv)
    if args.weights and not args.arch:
        raise UsageError("--weights goes with --arch (the network the file holds)")
    refuse_retired_device(args)
    device = check_torch_device(args.torch_device)
    out = check_output_file(args.out)
    with warnings.catch_warnings():
        warnings.showwarning = one_line_warnings
        model, name, weights = load_network(args.arch, args.weights, args.checkpoint, args.run,
                                            args.scale)
        table = evaluate_on_sets(model, name, args.scale, args.data, device, weights)
    write_csv_atomic(table, out)
    for _, mean in table[table.image == "mean"].iterrows():
        print(f"{name} x{args.scale} on {mean.data}: PSNR {mean.psnr_float_y:.2f} dB, SSIM "
              f"{mean.ssim_float_y:.4f} (bicubic {mean.psnr_bicubic_float_y:.2f} dB, "
              f"{mean.ssim_bicubic_float_y:.4f}; Y in floating point); rounded Y: "
              f"{mean.psnr:.2f} dB (bicubic {mean.psnr_bicubic:.2f})")
    print(f"-> {out}")
    return 0
