"""Fit the derived network into the budget band, by the supernet's own preferences.

The search ends one-hot, but its last choices are made while the growing sparsestmax radius
snaps rows to vertices, where the penalty has no gradient left: sparsestmax is flat at its
zeros, and a row with two non-zeros pushed out to the circle of radius r sits at a fixed point
of its face (zero Jacobian) — on the pixel7 search every row was down to two non-zeros by
radius ≈ 0.6. The expected cost then sits at the budget as a mix of each row's leader and
runner-up, and the radius hands every row to its leader: measured on pixel7 at 50 ms, 400
search steps, the expected cost tracked 42–47 ms until radius 0.6 and the argmax network ended
at 27 ms (cheap leaders); straight-through variants (controlling the argmax network's cost)
froze at 73–193 ms. So the band is met by construction at derivation, not by the penalty.

``fit_to_budget`` picks, exactly under the cost table, the network that departs least from the
supernet's learned preferences among those whose cost lies in the band. The departure (regret)
of a network is Σ over its choices of (largest logit of the row − chosen logit), over γ (the
output node, among the allowed ones), α (the op at every position of every cell on the path)
and the width logits (every inner width). The argmax network has regret 0, so a search that
landed in the band is returned unchanged. Dynamic programming over the network tree and every
cell's chain of positions, with costs in bins of ``high · budget / bins`` (each op's cost
rounded to the nearest bin; the exact cost of the result is recomputed by the caller).
``fit_in_aim`` aims a latency search a few % inside the band (codesign.search.budget.AIM), for the
timing scatter of the measurement that judges it.
"""
from __future__ import annotations

import numpy as np
import torch

from codesign.search.budget import BAND
from codesign.search.cost_source import CostTable
from codesign.space.genotype import CellGenotype, Genotype
from codesign.space.supernet import Supernet

NEG = -np.inf


def _shift(v: np.ndarray, c: int) -> np.ndarray:
    """v moved ``c`` bins up (costs added); what falls beyond the last bin is dropped."""
    out = np.full_like(v, NEG)
    if c < v.shape[-1]:
        out[..., c:] = v[..., :v.shape[-1] - c]
    return out


def _regret(logits: torch.Tensor) -> np.ndarray:
    x = logits.detach().cpu().double().numpy()
    return x.max(axis=-1, keepdims=True) - x


def fit_to_budget(supernet: Supernet, table: CostTable, lr_hw: tuple[int, int], budget: float,
                  band: tuple[float, float] = BAND, bins: int = 4000) -> Genotype | None:
    """The least-regret genotype whose cost under ``table`` lies in ``band`` × ``budget``; when
    the space has none there, the costliest one under ``band[1]`` × budget (least regret among
    equals); None when no network fits under it."""
    space, plan = supernet.space, supernet.plan
    t, top = table.mean, band[1] * budget
    bin_width = top / bins

    def to_bins(instance) -> int:
        return round(t[instance.key(lr_hw)] / bin_width)

    n_widths, nf_i = len(space.widths), space.widths.index(space.nf)
    gamma_regret = _regret(supernet.masked_gamma_logits())
    alpha_regret, width_regret = _regret(supernet.alpha_logits), _regret(supernet.width_logits)
    start = np.full(bins + 1, NEG)
    stem = round((t[plan.stem.key(lr_hw)] + table.network_overhead) / bin_width)
    if stem <= bins:
        start[stem] = 0.0
    out_vec: dict[int, np.ndarray] = {}
    back: dict[int, list] = {}
    for node, step in zip(plan.tree.nodes, plan.nodes):
        before = start if node.parent is None else out_vec[node.parent]
        if step.upsampler is not None:
            out_vec[node.index] = _shift(before, to_bins(step.upsampler))
            continue
        c = plan.tree.cell_of_node[node.index]
        state = np.full((n_widths, bins + 1), NEG)
        state[nf_i] = before
        node_back = []
        for k, choices in enumerate(plan.cell_choices(step.resolution)):
            new = np.full((n_widths, bins + 1), NEG)
            choice = np.full((n_widths, bins + 1), -1, dtype=np.int64)
            for (a, b), instances in choices.items():
                if not np.isfinite(state[a]).any():
                    continue
                w_pen = 0.0 if k == space.ops_per_cell - 1 else width_regret[c, k, b]
                for i, instance in enumerate(instances):
                    cand = _shift(state[a], to_bins(instance)) - alpha_regret[c, k, i] - w_pen
                    better = cand > new[b]
                    new[b][better] = cand[better]
                    choice[b][better] = a * len(instances) + i
            state = new
            node_back.append(choice)
        out_vec[node.index] = state[nf_i]
        back[node.index] = node_back

    best = None  # (in band, bin, value, node, bin before head)
    lo_bin = int(np.ceil(band[0] * budget / bin_width - 1e-9))
    for node, step in zip(plan.tree.nodes, plan.nodes):
        if not bool(supernet.node_mask[node.index]):
            continue
        head = to_bins(step.head)
        total = _shift(out_vec[node.index], head) - gamma_regret[node.index]
        for b in np.flatnonzero(np.isfinite(total)):
            cand = (b >= lo_bin, float(total[b]) if b >= lo_bin else b, b, node.index, b - head)
            if best is None or cand[:3] > best[:3]:
                best = cand
    if best is None:
        return None
    return _backtrack(supernet, best[3], best[4], back, to_bins)


def fit_in_aim(supernet: Supernet, table: CostTable, lr_hw: tuple[int, int], budget: float,
               aim: tuple[float, float] = BAND) -> Genotype | None:
    """fit_to_budget aimed at ``aim`` × ``budget`` (codesign.search.budget.aim_band, inside BAND); when
    no network costs that much, at BAND itself, so that a network the band holds is never
    traded for one under it."""
    genotype = fit_to_budget(supernet, table, lr_hw, budget, band=aim)
    if aim == BAND or (genotype is not None and _cost(table, genotype, lr_hw) >= aim[0] * budget):
        return genotype
    return fit_to_budget(supernet, table, lr_hw, budget, band=BAND)


def _cost(table: CostTable, genotype: Genotype, lr_hw) -> float:
    return table.network_cost(genotype.op_keys(lr_hw))[0]


def _backtrack(supernet: Supernet, node_index: int, b: int, back: dict, to_bins) -> Genotype:
    """Follow the back-pointers from ``node_index`` at cost bin ``b`` (before the head)."""
    space, plan = supernet.space, supernet.plan
    nf_i = space.widths.index(space.nf)
    cells_at = {}
    node = plan.tree.nodes[node_index]
    for a in reversed(plan.tree.ancestors(node)):
        step = plan.nodes[a.index]
        if step.upsampler is not None:
            b -= to_bins(step.upsampler)
            continue
        choices = plan.cell_choices(step.resolution)
        chosen_ops, chosen_widths, b_i = [], [], nf_i
        for k in reversed(range(space.ops_per_cell)):
            a_i, i = divmod(int(back[a.index][k][b_i, b]), len(space.ops))
            chosen_ops.append(space.ops[i])
            if k < space.ops_per_cell - 1:
                chosen_widths.append(space.widths[b_i])
            b -= to_bins(choices[k][a_i, b_i][i])
            b_i = a_i
        cells_at[a.index] = CellGenotype(tuple(reversed(chosen_ops)), tuple(reversed(chosen_widths)))
    cells = tuple(cells_at[a.index] for a in plan.tree.ancestors(node) if a.kind != "upsample")
    return Genotype(scale=space.scale, nf=space.nf, path=node.path, cells=cells,
                    res_scale=space.res_scale)
