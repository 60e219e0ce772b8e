"""A teacher for distillation: a trained network whose output the student's loss also follows,
L1(student, HR) + w · L1(student, teacher(LR)) (codesign.sr.train, ``--teacher``,
``--distill-weight`` w).

``--teacher`` names it as ``ARCH:FILE`` (the authors' weights of a reference network,
codesign.sr.models.weights), a codesign.train checkpoint file, or a search's output folder. The
teacher is frozen and runs in eval mode, without gradients.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

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


def distilled_l1(out: torch.Tensor, hr: torch.Tensor, lr: torch.Tensor,
                 teacher: nn.Module | None, weight: float) -> torch.Tensor:
    """L1(out, HR), plus ``weight`` · L1(out, teacher(LR)) with a teacher (no gradient flows
    into it): the loss of every training here."""
    loss = F.l1_loss(out, hr)
    if teacher is not None and weight > 0:
        with torch.no_grad():
            target = teacher(lr)
        loss = loss + weight * F.l1_loss(out, target)
    return loss
