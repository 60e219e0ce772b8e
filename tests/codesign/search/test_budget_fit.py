import numpy as np
import pytest
import torch

from codesign.search.budget import AIM, BAND
from codesign.search.budget_fit import fit_in_aim, fit_to_budget
from codesign.search.cost_source import (
    cost_range,
    feasible_nodes,
    macs_table,
    node_cost_range,
)
from codesign.space.derive import derive_genotype
from codesign.space.search_space import SearchSpace
from codesign.space.supernet import Supernet

SPACE = SearchSpace(nf=16, num_cells=3, width_multiple=4)  # widths 4..16, 2 searchable cells
LR = (24, 32)


@pytest.fixture(scope="module")
def table():
    return macs_table(SPACE, LR)


def _net(seed):
    torch.manual_seed(seed)
    return Supernet(SPACE, init_std=1.0)


def test_infeasible_nodes_get_no_probability_and_are_never_derived(table):
    budget = sorted(node_cost_range(SPACE, table, LR)[0])[9]  # 10 of 19 nodes can meet it
    feasible = feasible_nodes(SPACE, table, LR, budget)
    assert 0 < sum(feasible) < len(feasible)
    net = _net(0)
    with torch.no_grad():
        net.gamma_logits.copy_(torch.tensor([0.0 if f else 10.0 for f in feasible]))
    net.restrict_nodes(feasible)
    for radius in (0.0, 0.5, 1.0):
        net.radius = radius
        gamma = net.distributions().gamma
        assert float(gamma[[not f for f in feasible]].sum()) == 0.0
        assert float(gamma.sum()) == pytest.approx(1.0)
    assert feasible[net.tree.index[derive_genotype(net).path]]


def test_node_costs_bound_every_network_ending_there(table):
    low, high = node_cost_range(SPACE, table, LR)
    net = _net(1)
    g = derive_genotype(net)
    i = net.tree.index[g.path]
    assert low[i] - 1e-9 <= table.network_cost(g.op_keys(LR))[0] <= high[i] + 1e-9


@pytest.mark.parametrize("share", [0.1, 0.3, 0.6, 0.9])
def test_fitted_network_lands_in_the_band_and_a_latency_search_inside_its_aim(table, share):
    low, high = cost_range(SPACE, table, LR)
    budget = low + share * (high - low)
    net = _net(2)
    net.restrict_nodes(feasible_nodes(SPACE, table, LR, budget))
    for band, fit in ((BAND, fit_to_budget(net, table, LR, budget)),
                      (AIM, fit_in_aim(net, table, LR, budget, AIM))):
        cost = table.network_cost(fit.op_keys(LR))[0]
        assert band[0] * budget * 0.995 <= cost <= band[1] * budget * 1.005  # bins of budget/4000


def test_an_argmax_network_already_in_the_band_is_kept(table):
    net = _net(3)
    argmax = derive_genotype(net)
    cost = table.network_cost(argmax.op_keys(LR))[0]
    assert fit_to_budget(net, table, LR, cost / 0.95) == argmax


def test_no_network_under_the_budget_gives_none(table):
    low, _ = cost_range(SPACE, table, LR)
    assert fit_to_budget(_net(4), table, LR, 0.5 * low) is None


def test_with_nothing_in_the_aim_the_band_is_fitted_instead(table):
    net = _net(3)
    argmax = derive_genotype(net)
    budget = table.network_cost(argmax.op_keys(LR))[0] / 0.99  # the argmax lies in the band
    # slivers of the band just under the argmax's cost: the first one no network costs
    for top in np.linspace(0.989, 0.86, 400):
        aim = (top - 1e-4, top)
        fitted = fit_to_budget(net, table, LR, budget, band=aim)
        if table.network_cost(fitted.op_keys(LR))[0] < aim[0] * budget:
            break
    else:
        pytest.fail("every sliver of the band holds a network")
    assert fit_in_aim(net, table, LR, budget, aim) == argmax == fit_to_budget(net, table, LR,
                                                                               budget, BAND)
