"""Differentiable expected latency of independent categorical choices.

Each choice i picks one of its candidates with probabilities p_i (softmax, sparsestmax, ...);
candidate j of choice i costs c_ij ms (from CostModel.latency_table). With independent
choices the expected total is Σ_i Σ_j p_ij c_ij, linear in each p_i, so its gradient with
respect to p_ij is c_ij; its variance from the predictors' std (independent errors) is
Σ_i Σ_j p_ij σ_ij² + the choice variance Σ_i (Σ_j p_ij c_ij² − (Σ_j p_ij c_ij)²).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch


def cost_vectors(table: dict[str, tuple[float, float]], choices: Sequence[Sequence[str]],
                 dtype=torch.float32) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(mean ms, std ms) tensors per choice from a latency table and each choice's candidate keys."""
    missing = sorted({k for keys in choices for k in keys if k not in table})
    if missing:
        raise KeyError(f"latency table lacks {missing[:5]}")
    means = [torch.tensor([table[k][0] for k in keys], dtype=dtype) for keys in choices]
    stds = [torch.tensor([table[k][1] for k in keys], dtype=dtype) for keys in choices]
    return means, stds


def expected_latency(probabilities: Sequence[torch.Tensor], costs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Σ_i ⟨p_i, c_i⟩ in ms; differentiable in the probabilities (and the costs)."""
    if len(probabilities) != len(costs):
        raise ValueError("one probability vector per cost vector")
    total = torch.zeros((), dtype=costs[0].dtype if costs else torch.float32)
    for p, c in zip(probabilities, costs):
        if p.shape != c.shape:
            raise ValueError(f"probabilities {tuple(p.shape)} and costs {tuple(c.shape)} differ")
        total = total + (p * c).sum()
    return total


def latency_variance(probabilities: Sequence[torch.Tensor], costs: Sequence[torch.Tensor],
                     stds: Sequence[torch.Tensor]) -> torch.Tensor:
    """Variance (ms²) of the total: predictor errors plus the randomness of the choices."""
    total = torch.zeros((), dtype=costs[0].dtype if costs else torch.float32)
    for p, c, s in zip(probabilities, costs, stds):
        mean = (p * c).sum()
        total = total + (p * s ** 2).sum() + (p * c ** 2).sum() - mean ** 2
    return total
