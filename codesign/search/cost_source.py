"""Where the search's costs come from: a table of per-op-instance cost with its provenance.

For a latency budget the table holds a device predictor's predicted milliseconds of every
candidate op instance (predictors.CostModel) as its share of a network under the predictor's
network model (op scale × prediction + cost per GMAC), with the per-network overhead kept
apart; for a GFLOPs budget it holds counted GMACs (10⁹ multiply-accumulates). ``cost_range``
gives the cheapest and dearest network the space can produce under the table (exact, by
dynamic programming over widths and paths).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from codesign.space.network_plan import NetworkPlan, network_plan
from codesign.space.op_instances import op_cost_table, op_instances
from codesign.space.search_space import SearchSpace


@dataclass
class CostTable:
    """Cost of every op-instance key (``unit`` per op), its std (0 when counted), the constant
    added once per network, and where the numbers come from."""

    mean: dict[str, float]
    std: dict[str, float]
    unit: str                       # "ms" or "GMACs"
    provenance: str                 # "predicted", "counted"
    source: str                     # what the predictor was trained on, or how it was counted
    network_overhead: float = 0.0

    def network_cost(self, keys: list[str]) -> tuple[float, float]:
        """(cost, std) of a network made of the op instances ``keys``. The stds are summed, as
        for fully correlated errors: a predictor's error is mostly one device-wide factor
        (transferred predictors above all), so adding them in quadrature would understate it."""
        total = sum(self.mean[k] for k in keys) + self.network_overhead
        return total, sum(self.std[k] for k in keys)

    def digest(self) -> str:
        """SHA-256 of the costs themselves (every op instance's mean and std, the overhead and
        the unit): two tables give one search exactly when their digests agree, wherever the
        predictor's folder lies."""
        costs = {"unit": self.unit, "overhead": repr(self.network_overhead),
                 "ops": sorted((k, repr(m), repr(self.std[k])) for k, m in self.mean.items())}
        return hashlib.sha256(json.dumps(costs).encode()).hexdigest()


def macs_table(space: SearchSpace, lr_hw: tuple[int, int]) -> CostTable:
    """Counted GMACs of every op instance at an LR input of ``lr_hw`` pixels."""
    macs = op_cost_table(space, lr_hw, "macs")
    return CostTable({k: v / 1e9 for k, v in macs.items()}, {k: 0.0 for k in macs}, "GMACs",
                     "counted", "multiply-accumulates of every conv (codesign.space.op_instances)")


def predicted_latency_table(space: SearchSpace, lr_hw: tuple[int, int],
                            predictor_dir: str | Path) -> CostTable:
    """Predicted ms of every op instance from the predictor saved in ``predictor_dir``;
    ValueError (one line) when it is unreadable or a cost is negative or not finite."""
    from predictors.cost_model import CostModel

    model = CostModel.load(predictor_dir)
    table = model.network_table(op_instances(space, lr_hw))
    bad = [k for k, (m, s) in table.items() if not (math.isfinite(m) and math.isfinite(s) and m >= 0)]
    if bad or not math.isfinite(model.network_overhead_ms):
        first = bad[0] if bad else "the network overhead"
        raise ValueError(f"predictor {predictor_dir} gives a negative or non-finite cost for "
                         f"{len(bad)} of {len(table)} op instances at {lr_hw[0]}x{lr_hw[1]} "
                         f"(first: {first}); re-fit or replace it")
    source = (f"{model.predictor.meta.get('model', 'predictor')} for {model.device} trained on "
              f"{model.predictor.meta.get('training_rows', '?')} rows "
              f"({', '.join(model.training_provenance) or 'unknown provenance'}), {predictor_dir}")
    return CostTable({k: m for k, (m, _) in table.items()}, {k: s for k, (_, s) in table.items()},
                     "ms", model.provenance, source, model.network_overhead_ms)


def _cell_cost(plan: NetworkPlan, table: dict[str, float], lr_hw: tuple[int, int], resolution: int,
               pick) -> float:
    """Cheapest (pick=min) or dearest (pick=max) cell at ``resolution``× LR: DP over the chain
    of widths (width index → best cost of the positions so far)."""
    best = {plan.space.widths.index(plan.space.nf): 0.0}
    for choices in plan.cell_choices(resolution):
        reached: dict[int, list[float]] = {}
        for (a, b), instances in choices.items():
            if a in best:
                reached.setdefault(b, []).append(
                    best[a] + pick(table[i.key(lr_hw)] for i in instances))
        best = {b: pick(costs) for b, costs in reached.items()}
    return best[plan.space.widths.index(plan.space.nf)]


def node_cost_range(space: SearchSpace, table: CostTable, lr_hw: tuple[int, int]
                    ) -> tuple[list[float], list[float]]:
    """(cheapest, dearest) cost of a network whose output is each tree node, in tree order,
    overhead included (stem, the node's path with its cheapest or dearest cells, the head)."""
    plan, t = network_plan(space), table.mean
    stem = t[plan.stem.key(lr_hw)] + table.network_overhead
    out = []
    for pick in (min, max):
        cells = {r: _cell_cost(plan, t, lr_hw, r, pick) for r in plan.resolutions}
        path_cost: dict[int, float] = {}
        for node, step in zip(plan.tree.nodes, plan.nodes):  # parents come before children
            before = stem if node.parent is None else path_cost[node.parent]
            module = (cells[step.resolution] if step.upsampler is None
                      else t[step.upsampler.key(lr_hw)])
            path_cost[node.index] = before + module
        out.append([path_cost[node.index] + t[step.head.key(lr_hw)]
                    for node, step in zip(plan.tree.nodes, plan.nodes)])
    return out[0], out[1]


def cost_range(space: SearchSpace, table: CostTable, lr_hw: tuple[int, int]) -> tuple[float, float]:
    """(cheapest, dearest) network cost of the space under ``table``, overhead included."""
    low, high = node_cost_range(space, table, lr_hw)
    return min(low), max(high)


def feasible_nodes(space: SearchSpace, table: CostTable, lr_hw: tuple[int, int],
                   budget: float) -> list[bool]:
    """Per tree node: can a network ending there meet ``budget`` (its cheapest cost ≤ budget)?"""
    low, _ = node_cost_range(space, table, lr_hw)
    return [c <= budget for c in low]
