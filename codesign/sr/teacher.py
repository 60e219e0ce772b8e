"""A teacher for distillation: a trained network whose output the student's loss also follows,
L1(student, HR) + w · L1(student, T) (codesign.sr.train and codesign.search, ``--teacher``,
``--distill-weight`` w).

T is the teacher's output on each whole LR training image, made once before training as an
8-bit image the size of HR and cropped and flipped with the HR patch (:func:`taught_pairs`;
codesign.sr.data.patches). A teacher thus costs one forward pass over the training images
instead of one per step (RLFN-ntire's forward on a batch of 16 LR patches of 24 px takes about
0.13 s on one core, as long as a small student's whole step), and sees each patch with its
surroundings, as it would at deployment.

``--teacher`` names it as ``ARCH:FILE`` (the authors' weights of a reference network,
codesign.sr.models.weights), a codesign.train checkpoint file, or a search's output folder. The
teacher is frozen and runs in eval mode, without gradients.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from codesign.sr.data.patches import to_tensor
from codesign.sr.evaluate import load_network


def load_teacher(spec: str, scale: int) -> tuple[nn.Module, str]:
    """The frozen teacher ``spec`` names at ``scale``, and its description; UsageError,
    CheckpointError or WeightsError (one line) for what cannot be loaded."""
    arch, sep, weights = spec.partition(":")
    if sep and not Path(spec).exists():
        model, _, note = load_network(arch=arch, weights=weights, scale=scale)
    elif Path(spec).is_dir():
        model, _, note = load_network(run=spec, scale=scale)
    else:
        model, _, note = load_network(checkpoint=spec, scale=scale)
    model.eval().requires_grad_(False)
    return model, f"teacher {note}"


def teacher_label(spec: str) -> str:
    """``spec`` as reports name a teacher: without the folders of its file (``ARCH:FILE`` →
    ``ARCH:`` and the file's name; a checkpoint or search folder → its name), so that no row
    carries a path of the machine it ran on."""
    arch, sep, weights = spec.partition(":")
    if sep and not Path(spec).exists():
        return f"{arch}:{Path(weights).name}"
    return Path(spec).name


def taught_pairs(pairs, teacher: nn.Module, device=None) -> list[tuple]:
    """(name, LR, HR, T) for every (name, LR, HR) of ``pairs``: T the ``teacher``'s output on
    the whole LR image, clamped to [0, 1] and rounded to 8 bits like HR (uint8 HxWx3: as much
    memory again as the HR images, 6.7 GB for DIV2K's 800); ValueError (one line) when the
    teacher's output is not HR's size."""
    taught = []
    with torch.no_grad():
        for name, lr, hr in pairs:
            sr = teacher(to_tensor(lr)[None].to(device))[0]
            if tuple(sr.shape[-2:]) != hr.shape[:2]:
                raise ValueError(f"the teacher turns {name}'s {lr.shape[0]}x{lr.shape[1]} LR "
                                 f"into {sr.shape[-2]}x{sr.shape[-1]}, not its HR "
                                 f"{hr.shape[0]}x{hr.shape[1]}: is it a network of this scale?")
            target = sr.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0)
            taught.append((name, lr, hr, target.cpu().numpy()))
    return taught


def distilled_l1(out: torch.Tensor, hr: torch.Tensor, target: torch.Tensor | None,
                 weight: float) -> torch.Tensor:
    """L1(out, HR), plus ``weight`` · L1(out, T) with a teacher's target T (a batch of
    :func:`taught_pairs` patches): the loss of every training here."""
    loss = F.l1_loss(out, hr)
    if target is not None and weight > 0:
        loss = loss + weight * F.l1_loss(out, target)
    return loss
