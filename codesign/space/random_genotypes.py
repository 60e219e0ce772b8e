"""Random genotypes of a search space, drawn from its network plan: what the benchmarks time to
compare predicted with measured networks. Every cell is built from the plan's candidate op
instances (``NetworkPlan.cell_choices``), so the widths a position may take are the plan's, and a
filter can restrict the draw to op instances that were profiled."""
from __future__ import annotations

import random
from typing import Callable

from codesign.space.genotype import CellGenotype, Genotype
from codesign.space.network_plan import NetworkPlan, OpInstance, network_plan
from codesign.space.search_space import SearchSpace


def sample_cell(plan: NetworkPlan, resolution: int, rng: random.Random,
                allowed: Callable[[OpInstance], bool]) -> CellGenotype | None:
    """A random cell at ``resolution``× LR: at each position an (op, output width) drawn
    uniformly from the plan's choices from the previous output width whose instance
    ``allowed`` accepts; None when some position has no such choice."""
    space = plan.space
    ops, widths, a = [], [], space.widths.index(space.nf)
    for position in plan.cell_choices(resolution):
        outs = sorted(b for (ia, b) in position if ia == a)
        choices = [(i, b) for i in range(len(space.ops)) for b in outs if allowed(position[(a, b)][i])]
        if not choices:
            return None
        i, a = rng.choice(choices)
        ops.append(space.ops[i])
        widths.append(space.widths[a])
    return CellGenotype(tuple(ops), tuple(widths[:-1]))


def sample_genotypes(space: SearchSpace, count: int, seed: int,
                     allowed: Callable[[OpInstance], bool] = lambda instance: True,
                     cost: Callable[[Genotype], float] | None = None,
                     max_cost: float = float("inf")) -> list[Genotype]:
    """Up to ``count`` distinct random genotypes (a uniform node of the tree, then every cell
    on its path by ``sample_cell``) whose cell instances ``allowed`` accepts and whose
    ``cost(genotype)`` is at most ``max_cost``; the same ``seed`` gives the same list."""
    rng = random.Random(seed)
    plan = network_plan(space)
    tree = plan.tree
    out: dict[str, Genotype] = {}
    for _ in range(200 * count):
        if len(out) == count:
            break
        node = rng.choice(tree.nodes)
        cells = []
        for ancestor in tree.ancestors(node):
            if ancestor.kind == "upsample":
                continue
            cell = sample_cell(plan, tree.resolution(ancestor), rng, allowed)
            if cell is None:
                break
            cells.append(cell)
        else:
            g = Genotype(scale=space.scale, nf=space.nf, path=node.path, cells=tuple(cells),
                         res_scale=space.res_scale)
            if cost is None or cost(g) <= max_cost:
                out.setdefault(g.to_json(), g)
    return list(out.values())
