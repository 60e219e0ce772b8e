"""The trilevel supernet: network-level tree of paths, cells of mixed ops, slimmable widths.

Forward: stem conv → stem cell (the root node) → every node of the tree computes its module on
its parent's output (cells as mixed cells, upsamplers at LR: the sub-pixel conv's output is
2×2 average-pooled back to LR so that all nodes can be summed) → Σᵢ γᵢ·hᵢ over nodes → head
(conv + PixelShuffle to HR). Three families of architecture logits, each relaxed per row:
γ (nodes), α (op of every cell position), width logits (the four inner widths of every cell).

Sparse distributions save compute exactly: an op whose α is 0, and a node whose subtree carries
no γ mass, are skipped (their sparsemax/sparsestmax gradient is 0 anyway).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from codesign.space.network_plan import network_plan
from codesign.space.search_space import OPS, SearchSpace
from codesign.space.slimmable import width_mask
from codesign.space.sparsestmax import sparsestmax

WIDTH_RELAXATIONS = ("sparsestmax", "gumbel", "softmax")


@dataclass
class Distributions:
    """Relaxed choices: gamma (nodes,), alpha (cells, positions, ops), width (cells, positions−1,
    widths). Rows sum to 1."""

    gamma: torch.Tensor
    alpha: torch.Tensor
    width: torch.Tensor


class MixedCell(nn.Module):
    """A chain of mixed ops at full width nf; position k < last is masked to its width
    distribution; ``out = x + res_scale · chain(x)``."""

    def __init__(self, space: SearchSpace):
        super().__init__()
        self.space = space
        self.positions = nn.ModuleList(
            nn.ModuleDict({op: OPS[op].build(space.nf, space.nf) for op in space.ops})
            for _ in range(space.ops_per_cell))

    def forward(self, x: torch.Tensor, alpha: torch.Tensor, width: torch.Tensor) -> torch.Tensor:
        masks = width_mask(width, self.space.widths, self.space.nf)
        chosen = alpha.detach().cpu().tolist()
        y = x
        for k, ops in enumerate(self.positions):
            mask = masks[k] if k < len(masks) else None
            y = sum(alpha[k, i] * ops[name](y, mask)
                    for i, name in enumerate(self.space.ops) if chosen[k][i] > 0)
        return x + self.space.res_scale * y


class Supernet(nn.Module):
    """All candidate networks of ``space`` in one module; ``radius`` (set by the search loop,
    0 → 1) is the sparsestmax radius; ``width_relaxation`` is sparsestmax, gumbel or softmax."""

    def __init__(self, space: SearchSpace, width_relaxation: str = "sparsestmax",
                 gumbel_tau: float = 1.0, init_std: float = 1e-3):
        super().__init__()
        if width_relaxation not in WIDTH_RELAXATIONS:
            raise ValueError(f"width_relaxation must be one of {WIDTH_RELAXATIONS}")
        self.space, self.width_relaxation, self.gumbel_tau = space, width_relaxation, gumbel_tau
        self.plan = network_plan(space)
        self.tree = self.plan.tree
        self.radius = 0.0
        self.stem = self.plan.stem.build()
        self.cells = nn.ModuleList(MixedCell(space) for _ in range(self.tree.num_cells))
        self.upsamplers = nn.ModuleDict({step.path: step.upsampler.build()
                                         for step in self.plan.nodes if step.upsampler is not None})
        self.head = self.plan.nodes[0].head.build()  # the root's head: ×scale from LR
        n_ops, n_widths, positions = len(space.ops), len(space.widths), space.ops_per_cell
        self.gamma_logits = nn.Parameter(init_std * torch.randn(len(self.tree)))
        self.alpha_logits = nn.Parameter(init_std * torch.randn(self.tree.num_cells, positions, n_ops))
        self.width_logits = nn.Parameter(
            init_std * torch.randn(self.tree.num_cells, positions - 1, n_widths))
        self.register_buffer("subtree", self.tree.subtree_matrix, persistent=False)
        self.register_buffer("node_mask", torch.ones(len(self.tree), dtype=torch.bool))

    ARCH_NAMES = ("gamma_logits", "alpha_logits", "width_logits")

    def restrict_nodes(self, feasible) -> None:
        """Exclude the output nodes where ``feasible`` is False (e.g. every network ending there
        is over budget): γ is 0 there and the derived network never ends there."""
        mask = torch.as_tensor(list(feasible), dtype=torch.bool, device=self.node_mask.device)
        if mask.shape != self.node_mask.shape or not bool(mask.any()):
            raise ValueError(f"need one flag per node ({len(self.tree)}), at least one True")
        self.node_mask.copy_(mask)

    def masked_gamma_logits(self) -> torch.Tensor:
        """γ logits with excluded nodes pushed far below the rest (γ = 0 there)."""
        return self.gamma_logits.masked_fill(~self.node_mask, -1e4)

    def arch_parameters(self) -> list[nn.Parameter]:
        return [getattr(self, n) for n in self.ARCH_NAMES]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if n not in self.ARCH_NAMES]

    def distributions(self) -> Distributions:
        """Current relaxed choices (Gumbel noise is drawn only in training mode)."""
        r = self.radius
        if self.width_relaxation == "sparsestmax":
            width = sparsestmax(self.width_logits, r)
        elif self.width_relaxation == "gumbel" and self.training:
            width = F.gumbel_softmax(self.width_logits, tau=self.gumbel_tau, dim=-1)
        else:
            width = torch.softmax(self.width_logits / self.gumbel_tau, dim=-1)
        return Distributions(sparsestmax(self.masked_gamma_logits(), r),
                             sparsestmax(self.alpha_logits, r),
                             width)

    def forward(self, x: torch.Tensor, dists: Distributions | None = None) -> torch.Tensor:
        d = self.distributions() if dists is None else dists
        runs = (self.subtree @ d.gamma > 0).tolist()
        gamma = d.gamma.detach().cpu().tolist()
        feats: dict[int, torch.Tensor] = {}
        out = 0
        for node, step in zip(self.tree.nodes, self.plan.nodes):
            if not runs[node.index]:
                continue
            if step.upsampler is not None:
                h = F.avg_pool2d(self.upsamplers[node.path](feats[node.parent]),
                                 OPS[step.upsampler.op].out_factor)
            else:
                c = self.tree.cell_of_node[node.index]
                inp = self.stem(x) if node.parent is None else feats[node.parent]
                h = self.cells[c](inp, d.alpha[c], d.width[c])
            feats[node.index] = h
            if gamma[node.index] > 0:
                out = out + d.gamma[node.index] * h
        return self.head(out)

    def expected_cost(self, table: Mapping[str, float], lr_hw: tuple[int, int],
                      dists: Distributions | None = None) -> torch.Tensor:
        """E[cost] of the derived network for an LR input of ``lr_hw`` pixels under the current
        distributions; ``table`` maps op-instance keys (codesign.space.op_instances) to a cost (ms, MACs).

        A node runs when the chosen output is it or below it: P(run) = Σ γ over its subtree.
        A conv-like op's expected cost is Σᵢⱼ pᵢ·qⱼ·cost(wᵢ, wⱼ) over its input and output width
        distributions, weighted by α; the head runs once, at the chosen output's resolution.
        Linear in every distribution, so gradients reach γ, α and the width logits.
        """
        d = self.distributions() if dists is None else dists
        plan, space = self.plan, self.space
        nf_index = space.widths.index(space.nf)
        runs = self.subtree @ d.gamma
        total = d.gamma.new_tensor(table[plan.stem.key(lr_hw)])
        cell_costs = {r: self._cell_cost_tensor(table, lr_hw, r) for r in plan.resolutions}
        one_hot_nf = F.one_hot(torch.tensor(nf_index), len(space.widths)).to(d.width)
        for node, step in zip(self.tree.nodes, plan.nodes):
            total = total + d.gamma[node.index] * table[step.head.key(lr_hw)]
            if step.upsampler is not None:
                total = total + runs[node.index] * table[step.upsampler.key(lr_hw)]
                continue
            c = self.tree.cell_of_node[node.index]
            widths = d.width[c]
            p_in = torch.cat([one_hot_nf[None], widths])
            q_out = torch.cat([widths, one_hot_nf[None]])
            cell = torch.einsum("ki,ka,kb,kiab->", d.alpha[c], p_in, q_out, cell_costs[step.resolution])
            total = total + runs[node.index] * cell
        return total

    def _cell_cost_tensor(self, table: Mapping[str, float], lr_hw: tuple[int, int],
                          resolution: int) -> torch.Tensor:
        """cost[k, i, a, b] of op i at cell position k from width a to width b at ``resolution``×
        LR (0 where the position cannot have that width: the first input and the last output
        are nf)."""
        space = self.space
        cost = torch.zeros(space.ops_per_cell, len(space.ops), len(space.widths), len(space.widths))
        for k, choices in enumerate(self.plan.cell_choices(resolution)):
            for (a, b), instances in choices.items():
                for i, instance in enumerate(instances):
                    cost[k, i, a, b] = table[instance.key(lr_hw)]
        return cost.to(self.gamma_logits)
