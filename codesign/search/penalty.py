"""Differentiable budget penalties whose strength is adapted so the search lands at the budget.

Two forms users know, on an expected cost ``c`` (ms or GMACs), a budget ``T`` and r = c/T:
- ``multiplicative`` (MnasNet / FBNet / ProxylessNAS style): ``loss · r^s``;
- ``hinge``: ``loss + loss̄ · s · max(0, log r)`` (loss̄: the task loss, detached; with the log,
  s is in units of the task loss per e-fold of cost whatever the cost's scale, and a first
  expectation far over budget does not swamp the task gradient).
The strength ``s`` follows dual ascent towards ``aim`` = 0.925, the middle of the accepted band
codesign.search.budget.BAND = [0.85, 1.0] × T: ``s ← clip(s + η · v, −s_max, s_max)`` with
``v = clip(r − aim, −1, 1)``. It grows while the expected cost is above the aim and falls — below
zero if need be — while it is under, so a search that overshot downwards is pushed back up
(multiplicative: r^s with s < 0 rewards cost; hinge: for s < 0 the term is
``loss̄ · s · min(log r, 0)``, a reward for cost up to the budget and no further). Clipping v
keeps a first expectation far over budget (dense distributions over a large space) from driving
s to its bound in one step. Anti-windup: when v changes sign, s restarts from ``η · v``, so the
push reverses the step the expected cost crosses the aim instead of after the overshoot has been
integrated away (without it a search that starts 20× over budget keeps pushing at full strength
long after crossing, and the sparsestmax radius freezes the choices far below the budget).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from codesign.search.budget import BAND

FORMS = ("hinge", "multiplicative")


@dataclass
class BudgetPenalty:
    """Penalty of form ``form`` towards ``target``; ``strength`` is s (see the module doc)."""

    target: float
    form: str = "hinge"
    strength: float = 1.0
    step_size: float = 0.5
    aim: float = (BAND[0] + BAND[1]) / 2
    max_strength: float = 5.0

    def __post_init__(self):
        if self.form not in FORMS:
            raise ValueError(f"penalty form must be one of {FORMS}, got {self.form!r}")
        if self.target <= 0:
            raise ValueError("target must be positive")

    def __call__(self, task_loss: torch.Tensor, cost: torch.Tensor) -> torch.Tensor:
        """Penalised loss for a differentiable expected ``cost``."""
        ratio = cost / self.target
        s = self.strength
        if self.form == "multiplicative":
            return task_loss * ratio.clamp_min(1e-6) ** s
        scale = task_loss.detach()
        log_ratio = torch.log(ratio.clamp_min(1e-6))
        term = torch.relu(log_ratio) if s >= 0 else torch.clamp(log_ratio, max=0.0)
        return task_loss + scale * s * term

    def adapt(self, cost: float) -> float:
        """Dual-ascent update of the strength from the current expected cost; returns it."""
        violation = min(max(float(cost) / self.target - self.aim, -1.0), 1.0)
        base = 0.0 if violation * self.strength < 0 else self.strength
        self.strength = min(max(base + self.step_size * violation, -self.max_strength),
                            self.max_strength)
        return self.strength

    def state_dict(self) -> dict:
        return {"strength": self.strength}

    def load_state_dict(self, state: dict) -> None:
        self.strength = float(state["strength"])
