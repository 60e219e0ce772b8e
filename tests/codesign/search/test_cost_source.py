import itertools

import pytest

from codesign.search.cost_source import cost_range, macs_table
from codesign.space.genotype import CellGenotype, Genotype
from codesign.space.network_tree import NetworkTree
from codesign.space.search_space import SearchSpace

TINY = SearchSpace(nf=16, num_cells=2, scale=2, ops=("skip", "conv3x3"), ops_per_cell=2,
                   width_fractions=(0.5, 1.0))


def _all_genotypes(space):
    tree = NetworkTree(space.searchable_cells, space.upsample_factors)
    cells = [CellGenotype(ops, widths)
             for ops in itertools.product(space.ops, repeat=space.ops_per_cell)
             for widths in itertools.product(space.widths, repeat=space.ops_per_cell - 1)]
    for node in tree.nodes:
        n_cells = 1 + node.path.count("C")
        for chosen in itertools.product(cells, repeat=n_cells):
            yield Genotype(space.scale, space.nf, node.path, tuple(chosen), space.res_scale)


def test_cost_range_equals_brute_force_over_every_network():
    lr_hw = (6, 5)
    table = macs_table(TINY, lr_hw)
    costs = [table.network_cost(g.op_keys(lr_hw))[0] for g in _all_genotypes(TINY)]
    assert len(costs) == 8 + 64 + 8 + 64 + 64
    low, high = cost_range(TINY, table, lr_hw)
    assert low == pytest.approx(min(costs)) and high == pytest.approx(max(costs))


def test_network_overhead_is_added_once():
    lr_hw = (6, 5)
    table = macs_table(TINY, lr_hw)
    low, high = cost_range(TINY, table, lr_hw)
    table.network_overhead = 1.5
    assert cost_range(TINY, table, lr_hw) == pytest.approx((low + 1.5, high + 1.5))
