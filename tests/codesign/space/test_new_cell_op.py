"""A new cell operation (or head) is taught to OPS alone: supernet, derived network, op-instance
enumeration, cost table and budget fit all pick it up from the network plan; the transferred
pixel7 predictor prices it by the kernels its module runs, the simulator by its layers.

The op is the research code's dilated 3×3 conv ``conv3x3_d2`` (3×3, dilation 2, padding 2,
LeakyReLU 0.2), added to a temporary search space by patching OPS only."""
import pytest
import torch
from torch import nn

from codesign.search.budget import BAND
from codesign.search.budget_fit import fit_to_budget
from codesign.search.cost_source import cost_range, feasible_nodes, macs_table
from codesign.space.derive import derive
from codesign.space.op_instances import build_op_module, op_instances
from codesign.space.search_space import NEGATIVE_SLOPE, OPS, Head, OpSpec, SearchSpace
from codesign.space.slimmable import apply_mask
from codesign.space.supernet import Supernet
from codesign.sr.complexity import count_macs

NEW_OP = "conv3x3_d2"
LR = (12, 10)


class DilatedConv3x3Op(nn.Module):
    """``conv3x3_d2``: 3×3 conv, dilation 2, padding 2 + LeakyReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=2, dilation=2, bias=False)

    def forward(self, x, out_mask=None):
        return nn.functional.leaky_relu(apply_mask(self.conv(x), out_mask), NEGATIVE_SLOPE)


@pytest.fixture
def space(monkeypatch):
    monkeypatch.setitem(OPS, NEW_OP, OpSpec(DilatedConv3x3Op, kernel=3, role="cell"))
    return SearchSpace(nf=16, num_cells=3, width_multiple=4, ops=("skip", NEW_OP, "dwsblock"))


def _supernet_preferring_new_op(space: SearchSpace, seed: int = 0) -> Supernet:
    torch.manual_seed(seed)
    net = Supernet(space, init_std=1.0)
    with torch.no_grad():
        net.alpha_logits[..., space.ops.index(NEW_OP)] += 10.0
    return net


def _uses_new_op(genotype) -> bool:
    return all(op == NEW_OP for cell in genotype.cells for op in cell.ops)


def test_supernet_offers_the_new_op_on_every_edge_and_maps_lr_to_hr(space):
    net = Supernet(space)
    assert all(NEW_OP in position for cell in net.cells for position in cell.positions)
    assert net(torch.rand(2, 3, 6, 7)).shape == (2, 3, 24, 28)


def test_enumerated_instances_of_the_new_op_have_the_shapes_their_modules_run(space):
    df = op_instances(space, LR)
    new = df[df["op"] == NEW_OP]
    # every pair of the 4 widths at LR, 2× and 4× LR
    assert len(new) == len(space.widths) ** 2 * 3
    for _, row in new.iloc[[0, len(new) // 2, -1]].iterrows():
        module, shape = build_op_module(row)
        assert module(torch.rand(shape)).shape == (1, row["cout"], row["out_h"], row["out_w"])
        assert row["macs"] == count_macs(module, shape[2:], in_channels=shape[1])


def test_derived_network_with_the_new_op_costs_what_its_torch_model_counts(space):
    table = macs_table(space, LR)
    net = _supernet_preferring_new_op(space)
    net.radius = 1.0
    genotype, deployed = derive(net)
    assert _uses_new_op(genotype)
    assert sum(NEW_OP in key for key in genotype.op_keys(LR)) == 5 * len(genotype.cells)
    assert deployed(torch.rand(1, *(3,) + LR)).shape == (1, 3, 4 * LR[0], 4 * LR[1])
    gmacs = table.network_cost(genotype.op_keys(LR))[0]
    assert gmacs * 1e9 == pytest.approx(count_macs(deployed, LR), rel=1e-9)
    assert net.expected_cost(table.mean, LR).item() == pytest.approx(gmacs, rel=1e-6)


def test_budget_fit_keeps_the_new_op_and_lands_in_the_band(space):
    table = macs_table(space, LR)
    low, high = cost_range(space, table, LR)
    budget = low + 0.4 * (high - low)
    net = _supernet_preferring_new_op(space, seed=1)
    net.restrict_nodes(feasible_nodes(space, table, LR, budget))
    genotype = fit_to_budget(net, table, LR, budget)
    cost = table.network_cost(genotype.op_keys(LR))[0]
    assert _uses_new_op(genotype)
    assert BAND[0] * budget * 0.995 <= cost <= BAND[1] * budget * 1.005  # bins of budget/4000
    assert genotype != derive(net)[0]  # the argmax network was not in the band: the fit chose


def test_a_new_head_is_taught_to_ops_alone(monkeypatch):
    monkeypatch.setitem(OPS, "head_x6", OpSpec(lambda cin, cout: Head(cin, cout, 6), kernel=3,
                                               role="head", out_factor=6))
    space = SearchSpace(nf=8, num_cells=2, width_multiple=4, scale=6)  # ×2 then ×3 upsamplers
    assert "head_x6" in set(op_instances(space, LR)["op"])
    torch.manual_seed(0)
    net = Supernet(space)
    assert net(torch.rand(1, 3, 5, 4)).shape == (1, 3, 30, 24)
    with torch.no_grad():
        net.gamma_logits[0] += 10.0  # the root: no upsampler, the deployed head is ×6
    genotype, deployed = derive(net)
    assert genotype.path == "" and deployed.head.shuffle.upscale_factor == 6
    table = macs_table(space, LR)
    assert table.network_cost(genotype.op_keys(LR))[0] * 1e9 == pytest.approx(
        count_macs(deployed, LR), rel=1e-9)


def test_the_simulator_prices_the_new_op_with_its_dilation(space):
    """The simulator reads the op from its module (OPS' constructor): the dilated conv is
    recorded with dilation 2 and its output size, and ZigZag costs it at least the MACs the
    array can do per cycle allow."""
    from devices.simulator.arrays import array_config
    from devices.simulator.layers import module_layers
    from devices.simulator.zigzag_runner import simulate_layers

    row = op_instances(space, LR).query("op == @NEW_OP").iloc[0]
    layers = module_layers(*build_op_module(row))
    assert [(layer.kind, layer.kernel, layer.dilation) for layer in layers] == [("Conv", 3, 2)]
    assert (layers[0].out_h, layers[0].out_w) == (row["out_h"], row["out_w"])
    assert "d=2" in layers[0].signature()
    array = array_config("edgetpu_like")
    cycles = simulate_layers(array, layers)[0]
    assert cycles >= row["macs"] / array.macs_per_cycle


def test_the_transferred_pixel7_predictor_prices_the_new_op_by_its_kernels(space, monkeypatch):
    """pixel7's predictor (transferred from TopHub siblings) never saw the op: it prices the
    kernels OPS' module runs. A dilated 3×3 conv runs the one 3×3 conv kernel of conv3x3, so
    it costs what conv3x3 costs at every shape; an op of two such convs costs more."""
    from predictors.cost_model import CostModel
    from predictors.public.transfer import TRAINED_DIR

    cost = CostModel.load(TRAINED_DIR / "pixel7")
    assert cost.provenance == "transferred" and NEW_OP not in cost.predictor.op_vocab
    both = SearchSpace(nf=16, num_cells=3, width_multiple=4, ops=(NEW_OP, "conv3x3"))
    table = cost.latency_table(op_instances(both, LR))
    new = {k.replace(NEW_OP, "conv3x3"): v for k, v in table.items() if k.startswith(NEW_OP)}
    assert len(new) == len(both.widths) ** 2 * 3
    assert all(0 < mean and 0 < std for mean, std in new.values())
    assert new == {k: table[k] for k in new}

    class TwoDilated(nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.a, self.b = DilatedConv3x3Op(cin, cout), DilatedConv3x3Op(cout, cout)

        def forward(self, x, out_mask=None):
            return self.b(self.a(x, out_mask), out_mask)

    monkeypatch.setitem(OPS, "two_d2", OpSpec(TwoDilated, kernel=3, role="cell"))
    two = cost.latency_table(op_instances(SearchSpace(nf=16, num_cells=3, width_multiple=4,
                                                      ops=("two_d2",)), LR))
    pairs = [(mean, table[key.replace("two_d2", NEW_OP)][0]) for key, (mean, _) in two.items()
             if key.startswith("two_d2")]
    assert len(pairs) == len(new) and all(mean > one for mean, one in pairs)
