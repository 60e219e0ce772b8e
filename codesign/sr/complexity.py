"""Parameters and multiply-accumulates (MACs) of SR networks, counted by PyTorch itself.

MACs come from ``torch.utils.flop_counter.FlopCounterMode``, which counts FLOPs = 2 × MACs for
convolutions (grouped, depthwise and transposed included; bias adds ignored) and for matrix
products (mm/addmm/bmm/einsum); element-wise work (activations, residual adds, pooling,
interpolation, pixel shuffle, attention gates) counts 0. ``macs`` = its total / 2, the number
SR tables call FLOPs or Mult-Adds. A transposed conv counts Cin·Cout·k² MACs per *input* pixel,
i.e. what it really computes.

The network runs once on a ``meta``-device input with meta copies of its weights, so counting
at 1280×720 takes milliseconds and no memory, and the model itself is left untouched.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call
from torch.utils.flop_counter import FlopCounterMode

HD_OUTPUT_HW = (720, 1280)  # (height, width) of the HR output in FALSR/CARN complexity tables
DEFAULT_LR_HW = (256, 256)  # LR input of the NTIRE efficient-SR challenge reports


def count_params(model: nn.Module) -> int:
    """Number of parameters (shared weights counted once; buffers such as RGB means excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, lr_hw: tuple[int, int], in_channels: int = 3) -> int:
    """MACs of one forward pass on a single (1, in_channels, h, w) LR input, ``lr_hw`` = (h, w).

    Runs on a copy: ``functional_call`` leaves shared (tied) parameters, such as CARN-M's
    recursive block, as plain tensors in the module it was given (torch 2.13), which
    ``torch.export`` then rejects."""
    h, w = lr_hw
    model = copy.deepcopy(model).eval()
    meta = {
        name: torch.empty_like(t, device="meta")
        for name, t in list(model.named_parameters()) + list(model.named_buffers())
    }
    x = torch.empty(1, in_channels, h, w, device="meta")
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        functional_call(model, meta, (x,))
    return counter.get_total_flops() // 2


def hd_lr_hw(scale: int) -> tuple[int, int]:
    """LR (h, w) whose ×scale output is 1280×720, floored for ×3 (240×426, output 1278×720)."""
    return HD_OUTPUT_HW[0] // scale, HD_OUTPUT_HW[1] // scale


def complexity_row(
    model: nn.Module, scale: int, lr_hw: tuple[int, int] | None = None, in_channels: int = 3
) -> dict[str, int]:
    """Params, MACs for one LR input of ``lr_hw`` (default 256×256) and for a 1280×720 output.

    Keys: params, lr_h, lr_w, macs (at lr_h × lr_w), lr_h_720p, lr_w_720p, macs_720p.
    """
    lr_h, lr_w = lr_hw or DEFAULT_LR_HW
    hd_h, hd_w = hd_lr_hw(scale)
    return {
        "params": count_params(model),
        "lr_h": lr_h,
        "lr_w": lr_w,
        "macs": count_macs(model, (lr_h, lr_w), in_channels),
        "lr_h_720p": hd_h,
        "lr_w_720p": hd_w,
        "macs_720p": count_macs(model, (hd_h, hd_w), in_channels),
    }
