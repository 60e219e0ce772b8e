"""Differentiable budget penalties with an automatically adapted strength.

Two forms users know, applied to an expected cost ``c`` (ms or GMACs) and a target ``T``:
- ``multiplicative`` (MnasNet / FBNet / ProxylessNAS style): ``loss · (c/T)^β``;
- ``hinge``: ``loss + λ · max(0, c/T − 1)``.
The strength (β or λ) follows dual ascent on the constraint c ≤ T,
``s ← max(0, s + η·(c/T − 1))``: it grows while the expectation is over budget and decays to
0 while it is under, so accuracy pulls the architecture back up and the search settles at the
budget instead of far below it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

FORMS = ("hinge", "multiplicative")


@dataclass
class BudgetPenalty:
    """Penalty of form ``form`` towards ``target``; ``strength`` is λ (hinge) or β."""

    target: float
    form: str = "hinge"
    strength: float = 1.0
    step_size: float = 0.05
    max_strength: float = 100.0

    def __post_init__(self):
        if self.form not in FORMS:
            raise ValueError(f"penalty form must be one of {FORMS}, got {self.form!r}")
        if self.target <= 0:
            raise ValueError("target must be positive")

    def __call__(self, task_loss: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
        """Penalised loss for a differentiable expected ``cost``."""
        ratio = cost / self.target
        if self.form == "multiplicative":
            return task_loss * ratio.clamp_min(1e-6) ** self.strength
        return task_loss + self.strength * torch.relu(ratio - 1)

    def adapt(self, cost: float) -> float:
        """Dual-ascent update of the strength from the current expected cost; returns it."""
        self.strength += self.step_size * (float(cost) / self.target - 1)
        self.strength = min(max(self.strength, 0.0), self.max_strength)
        return self.strength
