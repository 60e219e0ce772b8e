import json

import pytest
import torch

from codesign.space.derive import (
    choice_distributions,
    derive,
    derive_genotype,
    inherit_weights,
)
from codesign.space.genotype import CellGenotype, Genotype, TrilevelNet
from codesign.space.network_tree import NetworkTree
from codesign.space.op_instances import build_op_module, op_cost_table, op_instances
from codesign.space.search_space import SearchSpace
from codesign.space.sparsestmax import sparsestmax
from codesign.space.supernet import Distributions, Supernet
from codesign.sr.complexity import count_macs
from codesign.sr.models import build_model

TINY = SearchSpace(nf=16, num_cells=3, width_multiple=4)  # 2 searchable cells, widths 4..16


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_supernet(space=TINY, seed=0, scale_logits=3.0):
    torch.manual_seed(seed)
    net = Supernet(space)
    with torch.no_grad():
        for p in net.arch_parameters():
            p.normal_(0, scale_logits)
    return net


def test_default_space_has_55_nodes_15_paths_and_the_issue_widths():
    space = SearchSpace()
    assert space.widths == (24, 32, 40, 56, 64)
    tree = NetworkTree(space.searchable_cells, space.upsample_factors)
    assert len(tree) == 55
    assert len(tree.root_to_leaf_paths) == 15
    assert all(len(p) == 7 for p in tree.root_to_leaf_paths)  # root + 4 cells + 2 upsamplers
    assert tree.num_cells == 35  # stem cell + 34 cell nodes
    assert len(NetworkTree(4, SearchSpace(scale=2).upsample_factors)) == 20  # ×2: one upsampler
    with torch.device("meta"):
        net = Supernet(space)
    assert net.gamma_logits.shape == (55,)
    assert net.alpha_logits.shape == (35, 5, 4) and net.width_logits.shape == (35, 4, 5)


def test_subtree_mass_is_the_probability_that_a_node_runs():
    tree = NetworkTree(4, (2, 2))
    gamma = torch.zeros(len(tree))
    leaf = tree.leaves[3]
    gamma[leaf.index] = 1.0
    runs = tree.subtree_matrix @ gamma
    on_path = {a.index for a in tree.ancestors(leaf)}
    assert runs.tolist() == [1.0 if i in on_path else 0.0 for i in range(len(tree))]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_supernet_maps_lr_to_hr(scale):
    net = Supernet(SearchSpace(nf=8, num_cells=2, width_multiple=4, scale=scale))
    assert net(torch.rand(2, 3, 6, 7)).shape == (2, 3, 6 * scale, 7 * scale)


def test_derived_net_in_search_geometry_equals_supernet_at_one_hot_distributions():
    for seed in range(3):
        net = _random_supernet(seed=seed).eval()
        net.radius = 1.0  # sparsestmax at radius 1 is one-hot for every row
        genotype, derived = derive(net, search_geometry=True)
        x = torch.rand(2, 3, 10, 12)
        with torch.no_grad():
            assert torch.allclose(net(x), derived(x), atol=1e-5)


def test_every_path_inherits_exactly_including_width_slices():
    net = _random_supernet(seed=4).eval()
    x = torch.rand(1, 3, 8, 8)
    for node in net.tree.nodes:
        cells = tuple(CellGenotype(("residual", "dwsblock", "conv3x3", "skip", "residual"),
                                   (4, 12, 8, 16)) for _ in range(1 + node.path.count("C")))
        g = Genotype(scale=4, nf=16, path=node.path, cells=cells)
        derived = inherit_weights(TrilevelNet(g, search_geometry=True), net)
        with torch.no_grad():
            assert torch.allclose(net(x, choice_distributions(net, g)), derived(x), atol=1e-5), node.path


def test_deployed_net_places_real_upsampling_and_equals_supernet_without_upsamplers():
    net = _random_supernet(seed=5).eval()
    cell = CellGenotype(("conv3x3", "residual", "skip", "dwsblock", "conv3x3"), (8, 4, 16, 12))
    x = torch.rand(1, 3, 8, 8)
    g = Genotype(scale=4, nf=16, path="CC", cells=(cell,) * 3)
    deployed = inherit_weights(TrilevelNet(g), net)
    with torch.no_grad():
        assert torch.allclose(net(x, choice_distributions(net, g)), deployed(x), atol=1e-5)
    g = Genotype(scale=4, nf=16, path="CUC", cells=(cell,) * 3)
    deployed = inherit_weights(TrilevelNet(g), net)
    activations = {}
    deployed.body[2].register_forward_hook(lambda m, i, o: activations.setdefault("cell", o))
    assert deployed(x).shape == (1, 3, 32, 32)
    assert activations["cell"].shape == (1, 16, 16, 16)  # the cell after U runs at 2× LR
    assert deployed.head.shuffle.upscale_factor == 2


def test_gradients_reach_all_architecture_parameters():
    net = _random_supernet(seed=6, scale_logits=0.01)
    net.radius = 0.0
    net(torch.rand(2, 3, 8, 8)).abs().mean().backward()
    for p in net.arch_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_expected_cost_gradient_matches_finite_differences():
    net = _random_supernet(seed=7, scale_logits=0.3).double()
    table = op_cost_table(TINY, (6, 6))
    table = {k: v / 1e5 for k, v in table.items()}

    def cost(g, a, w):
        return net.expected_cost(table, (6, 6), Distributions(
            sparsestmax(g, 0.3), sparsestmax(a, 0.3), sparsestmax(w, 0.3)))

    logits = [p.detach().clone().requires_grad_(True) for p in net.arch_parameters()]
    assert torch.autograd.gradcheck(cost, logits, eps=1e-6, atol=1e-6, fast_mode=True)


@pytest.mark.parametrize("space", [TINY, SearchSpace(nf=8, num_cells=3, width_multiple=4, scale=3),
                                   SearchSpace(nf=8, num_cells=3, width_multiple=4, scale=8)])
def test_one_hot_expected_cost_equals_derived_network_cost_and_counted_macs(space):
    lr_hw = (12, 10)
    table = op_cost_table(space, lr_hw, "macs")
    for seed in range(4):
        net = _random_supernet(space, seed=seed)
        net.radius = 1.0
        genotype, deployed = derive(net)
        expected = net.expected_cost(table, lr_hw).item()
        assert expected == pytest.approx(sum(table[k] for k in genotype.op_keys(lr_hw)), rel=1e-6)
        assert expected == pytest.approx(count_macs(deployed, lr_hw), rel=1e-6)


def test_expected_cost_favours_shallow_nodes_under_a_cost_gradient():
    net = _random_supernet(seed=8, scale_logits=0.01)
    table = op_cost_table(TINY, (8, 8))
    net.expected_cost(table, (8, 8)).backward()
    tree = net.tree
    root, deepest = tree.nodes[0], max(tree.nodes, key=lambda n: len(n.path))
    # gradient descent lowers γ of the expensive deep node relative to the root
    assert net.gamma_logits.grad[deepest.index] > net.gamma_logits.grad[root.index]


def test_op_instances_are_unique_cover_derived_nets_and_build_runnable_modules():
    lr_hw = (6, 5)
    df = op_instances(TINY, lr_hw)
    assert df["key"].is_unique
    # ops × widths² × 3 resolutions + stem + 2 upsamplers + 3 heads
    assert len(df) == 4 * 16 * 3 + 1 + 2 + 3
    keys = set(df["key"])
    for seed in range(4):
        net = _random_supernet(seed=seed)
        assert set(derive_genotype(net).op_keys(lr_hw)) <= keys
    for op in df["op"].unique():
        row = df[df["op"] == op].iloc[-1]
        module, shape = build_op_module(row)
        out = module(torch.rand(shape))
        assert out.shape == (1, row["cout"], row["out_h"], row["out_w"])
        assert row["macs"] == count_macs(module, shape[2:], in_channels=shape[1])
        assert row["params"] == sum(p.numel() for p in module.parameters())
    assert "dwsblock:cin=8:cout=12:h=12:w=10:groups=8" in keys


def test_genotype_round_trips_through_json_and_the_model_registry(tmp_path):
    net = _random_supernet(seed=9)
    genotype, deployed = derive(net)
    assert Genotype.from_json(genotype.to_json()) == genotype
    genotype.save(tmp_path / "genotype.json")
    assert json.loads((tmp_path / "genotype.json").read_text())["version"] == 1
    rebuilt = build_model("trilevel", scale=4, genotype=tmp_path / "genotype.json")
    rebuilt.load_state_dict(deployed.state_dict())
    x = torch.rand(1, 3, 7, 9)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), deployed(x))
    with pytest.raises(ValueError):
        Genotype.from_dict({**genotype.to_dict(), "version": 99})
    with pytest.raises(ValueError):
        Genotype(scale=4, nf=16, path="UUU", cells=genotype.cells[:1])


def test_deployed_network_is_plain_modules_that_export_to_onnx(tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    net = _random_supernet(seed=10)
    cell = CellGenotype(("residual", "dwsblock", "conv3x3", "skip", "residual"), (4, 12, 8, 16))
    g = Genotype(scale=4, nf=16, path="CUC", cells=(cell,) * 3)
    deployed = inherit_weights(TrilevelNet(g), net).eval()
    x = torch.rand(1, 3, 8, 10)
    torch.onnx.export(deployed, (x,), tmp_path / "model.onnx", input_names=["lr"],
                      output_names=["sr"], dynamo=False)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"))
    (out,) = session.run(None, {"lr": x.numpy()})
    with torch.no_grad():
        assert out.shape == (1, 3, 32, 40)
        assert abs(out - deployed(x).numpy()).max() < 1e-4
