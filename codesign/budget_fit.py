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
"""
from __future__ import annotations

import numpy as np
import torch

from codesign.cost_source import CostTable
from codesign.genotype import CellGenotype, Genotype
from codesign.op_instances import head_op, op_key
from codesign.supernet import Supernet

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
                  band: tuple[float, float] = (0.85, 1.0), bins: int = 4000) -> Genotype | None:
    """The least-regret genotype whose cost under ``table`` lies in ``band`` × ``budget``; when
    the space has none there, the costliest one under ``band[1]`` × budget (least regret among
    equals); None when no network fits under it."""
    space, tree, (h, w) = supernet.space, supernet.tree, lr_hw
    t, top = table.mean, band[1] * budget
    step = top / bins

    def to_bins(cost: float) -> int:
        return round(cost / step)

    widths, ops, nf_i = space.widths, space.ops, space.widths.index(space.nf)
    last = space.ops_per_cell - 1
    gamma_regret = _regret(supernet.masked_gamma_logits())
    alpha_regret, width_regret = _regret(supernet.alpha_logits), _regret(supernet.width_logits)
    start = np.full(bins + 1, NEG)
    stem = to_bins(t[op_key("stem", 3, space.nf, h, w)] + table.network_overhead)
    if stem <= bins:
        start[stem] = 0.0
    out_vec: dict[int, np.ndarray] = {}
    back: dict[int, list] = {}
    for node in tree.nodes:
        before = start if node.parent is None else out_vec[node.parent]
        r = tree.resolution(node)
        if node.kind == "upsample":
            r_in = tree.input_resolution(node)
            key = op_key(f"upsample_x{tree.upsample_factor(node)}", space.nf, space.nf,
                         h * r_in, w * r_in)
            out_vec[node.index] = _shift(before, to_bins(t[key]))
            continue
        c = tree.cell_of_node[node.index]
        state = np.full((len(widths), bins + 1), NEG)
        state[nf_i] = before
        node_back = []
        for k in range(space.ops_per_cell):
            outs = [nf_i] if k == last else range(len(widths))
            new = np.full((len(widths), bins + 1), NEG)
            choice = np.full((len(widths), bins + 1), -1, dtype=np.int64)
            for b in outs:
                w_pen = 0.0 if k == last else width_regret[c, k, b]
                for a in ([nf_i] if k == 0 else range(len(widths))):
                    if not np.isfinite(state[a]).any():
                        continue
                    for i, op in enumerate(ops):
                        cost = to_bins(t[op_key(op, widths[a], widths[b], h * r, w * r)])
                        cand = _shift(state[a], cost) - alpha_regret[c, k, i] - w_pen
                        better = cand > new[b]
                        new[b][better] = cand[better]
                        choice[b][better] = a * len(ops) + i
            state = new
            node_back.append(choice)
        out_vec[node.index] = state[nf_i]
        back[node.index] = node_back

    best = None  # (in band, bin, value, node, bin before head)
    lo_bin = int(np.ceil(band[0] * budget / step - 1e-9))
    for node in tree.nodes:
        if not bool(supernet.node_mask[node.index]):
            continue
        r = tree.resolution(node)
        head = to_bins(t[op_key(head_op(space.scale, r), space.nf, 3, h * r, w * r)])
        total = _shift(out_vec[node.index], head) - gamma_regret[node.index]
        for b in np.flatnonzero(np.isfinite(total)):
            cand = (b >= lo_bin, float(total[b]) if b >= lo_bin else b, b, node.index, b - head)
            if best is None or cand[:3] > best[:3]:
                best = cand
    if best is None:
        return None
    return _backtrack(supernet, t, best[3], best[4], back, to_bins, lr_hw)


def _backtrack(supernet, t, node_index, b, back, to_bins, lr_hw) -> Genotype:
    """Follow the back-pointers from ``node_index`` at cost bin ``b`` (before the head)."""
    space, tree, (h, w) = supernet.space, supernet.tree, lr_hw
    widths, ops, nf_i = space.widths, space.ops, space.widths.index(space.nf)
    cells_at = {}
    node = tree.nodes[node_index]
    for a in reversed(tree.ancestors(node)):
        if a.kind == "upsample":
            r_in = tree.input_resolution(a)
            key = op_key(f"upsample_x{tree.upsample_factor(a)}", space.nf, space.nf,
                         h * r_in, w * r_in)
            b -= to_bins(t[key])
            continue
        r = tree.resolution(a)
        chosen_ops, chosen_widths, b_i = [], [], nf_i
        for k in reversed(range(space.ops_per_cell)):
            code = int(back[a.index][k][b_i, b])
            a_i, i = divmod(code, len(ops))
            chosen_ops.append(ops[i])
            if k < space.ops_per_cell - 1:
                chosen_widths.append(widths[b_i])
            b -= to_bins(t[op_key(ops[i], widths[a_i], widths[b_i],
                                                         h * r, w * r)])
            b_i = a_i
        cells_at[a.index] = CellGenotype(tuple(reversed(chosen_ops)), tuple(reversed(chosen_widths)))
    cells = tuple(cells_at[a.index] for a in tree.ancestors(node) if a.kind != "upsample")
    return Genotype(scale=space.scale, nf=space.nf, path=node.path, cells=cells,
                    res_scale=space.res_scale)
