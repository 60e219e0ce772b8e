import pandas as pd
import pytest
import torch

from codesign.search.train import (
    CHECKPOINT,
    Interrupted,
    ResumeMismatch,
    SearchConfig,
    StopOnSignal,
    order_loss,
    radius_at,
    search,
    search_and_train,
)
from codesign.space.genotype import Genotype
from codesign.space.network_tree import NetworkTree
from codesign.space.op_instances import op_cost_table
from codesign.space.search_space import SearchSpace

TINY = SearchSpace(nf=8, num_cells=2, width_multiple=4)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config(**kw):
    return SearchConfig(**{"steps": 4, "batch_size": 2, "patch_size": 16, "checkpoint_every": 1,
                           **kw})


def test_radius_is_zero_in_warmup_then_linear_to_one():
    cfg = SearchConfig(steps=5, warmup_steps=2)
    assert [radius_at(t, cfg) for t in range(7)] == [0.0, 0.0, 0.0, 0.25, 0.5, 0.75, 1.0]


def test_order_loss_is_zero_for_shallow_mass_and_pushes_mass_up_the_tree():
    tree = NetworkTree(2, (2, 2))
    shallow = torch.zeros(len(tree))
    shallow[0] = 1.0
    assert order_loss(shallow, tree) == 0
    deep = torch.zeros(len(tree), requires_grad=True)
    with torch.no_grad():
        deep[tree.leaves[0].index] = 1.0
    loss = order_loss(deep, tree)
    assert loss > 0
    loss.backward()
    leaf, parent = tree.leaves[0], tree.nodes[tree.leaves[0].parent]
    assert deep.grad[leaf.index] > 0 > deep.grad[parent.index]


@pytest.mark.parametrize("relaxation", ["sparsestmax", "gumbel"])
def test_resumed_search_is_identical_to_an_uninterrupted_one(tmp_path, relaxation):
    cfg = _config(width_relaxation=relaxation)
    straight = search(TINY, cfg, out_dir=tmp_path / "a", progress=False)
    search(TINY, cfg, out_dir=tmp_path / "b", max_steps=2, progress=False)
    resumed = search(TINY, cfg, out_dir=tmp_path / "b", resume=True, progress=False)
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    log_a = pd.read_csv(tmp_path / "a" / "search_log.csv").drop(columns="step_s")
    log_b = pd.read_csv(tmp_path / "b" / "search_log.csv").drop(columns="step_s")
    pd.testing.assert_frame_equal(log_a, log_b)
    assert log_a["radius"].tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert (log_a[["gamma_max", "alpha_max"]].iloc[-1] == 1).all()  # radius 1: one-hot


def test_a_resumed_search_continues_on_the_thread_count_it_started_with(tmp_path, capsys):
    from codesign.sr.checkpoint import load

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        search(TINY, _config(), out_dir=tmp_path, max_steps=2, progress=False)
        assert load(tmp_path / CHECKPOINT)["torch_threads"] == 1
        torch.set_num_threads(2)
        search(TINY, _config(), out_dir=tmp_path, resume=True, progress=False)
        assert torch.get_num_threads() == 1
        assert "continuing with 1, not 2" in capsys.readouterr().err
    finally:
        torch.set_num_threads(before)


def test_resume_restores_the_adapted_penalty_strength_and_the_node_mask(tmp_path):
    from codesign.search.cost_source import feasible_nodes, macs_table, node_cost_range
    from codesign.search.penalty import BudgetPenalty
    from codesign.search.train import PenaltyHook

    lr_hw = (12, 16)
    table = macs_table(TINY, lr_hw)
    budget = sorted(node_cost_range(TINY, table, lr_hw)[0])[2]
    feasible = feasible_nodes(TINY, table, lr_hw, budget)

    def run(out, **kw):
        hook = PenaltyHook(table, lr_hw, BudgetPenalty(budget))
        net = search(TINY, _config(), out_dir=out, penalty=hook, feasible_nodes=feasible,
                     progress=False, **kw)
        return net, hook

    straight, hook_a = run(tmp_path / "a")
    run(tmp_path / "b", max_steps=2)
    resumed, hook_b = run(tmp_path / "b", resume=True)
    assert hook_b.penalty.strength == hook_a.penalty.strength != 1.0
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    assert not bool(resumed.node_mask.all())


def test_resume_refuses_a_checkpoint_of_another_config_naming_the_setting(tmp_path):
    search(TINY, _config(), out_dir=tmp_path, max_steps=1, progress=False)
    with pytest.raises(ResumeMismatch, match=r"order_weight=0\.01 \(this run: 1\.0\)"):
        search(TINY, _config(order_weight=1.0), out_dir=tmp_path, resume=True, progress=False)
    # when checkpoints are written is no part of the result: a resume may change it
    search(TINY, _config(checkpoint_every=3, checkpoint_every_s=0.5), out_dir=tmp_path,
           resume=True, progress=False)


def test_checkpoints_by_wall_time_as_well_as_by_steps(tmp_path):
    seen = []
    import codesign.search.train as st

    real = st.save_atomic
    st.save_atomic = lambda obj, path: (seen.append(obj["step"]), real(obj, path))
    try:
        search(TINY, _config(steps=3, checkpoint_every=100, checkpoint_every_s=0.0),
               out_dir=tmp_path / "b", progress=False)
        assert seen == [1, 2, 3]
        seen.clear()
        search(TINY, _config(steps=3, checkpoint_every=100, checkpoint_every_s=3600),
               out_dir=tmp_path / "c", progress=False)
        assert seen == [3]  # only at the end
    finally:
        st.save_atomic = real


def test_a_signal_in_the_step_loop_checkpoints_at_the_step_boundary(tmp_path):
    """StopOnSignal defers SIGINT/SIGTERM inside the loop: the step finishes, is checkpointed,
    and Interrupted names it; resuming then equals an uninterrupted run."""
    import signal

    stop = StopOnSignal()
    calls = []

    def penalty(expected_cost, task_loss):  # the signal arrives in the middle of step 2
        calls.append(1)
        if len(calls) == 2:
            stop(signal.SIGTERM)
        return task_loss * 0

    cfg = _config(checkpoint_every=100)
    with pytest.raises(Interrupted) as info:
        search(TINY, cfg, out_dir=tmp_path / "b", penalty=penalty, stop=stop, progress=False)
    assert info.value.signum == signal.SIGTERM and info.value.step == 2
    assert torch.load(tmp_path / "b" / "search_checkpoint.pt", weights_only=True)["step"] == 2
    with pytest.raises(Interrupted):  # outside the loop a signal raises at once
        stop(signal.SIGINT)
    resumed = search(TINY, cfg, out_dir=tmp_path / "b", penalty=lambda e, t: t * 0,
                     resume=True, progress=False)
    straight = search(TINY, cfg, out_dir=tmp_path / "a", penalty=lambda e, t: t * 0,
                      progress=False)
    for (name, a), (_, b) in zip(straight.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name


def test_cost_penalty_reaches_the_architecture(tmp_path):
    table = op_cost_table(TINY, (4, 4))
    scale = 1 / max(table.values())
    seen = []

    def penalty(expected_cost, task_loss):
        cost = expected_cost(table, (4, 4)) * scale
        seen.append(cost.item())
        return 50.0 * cost

    cfg = _config(steps=8, arch_lr=0.05)
    free = search(TINY, cfg, out_dir=tmp_path / "free", progress=False)
    cheap = search(TINY, cfg, out_dir=tmp_path / "cheap", penalty=penalty, progress=False)
    assert len(seen) == 8 and all(c > 0 for c in seen)
    assert "penalty" in pd.read_csv(tmp_path / "cheap" / "search_log.csv")
    cost = {name: net.expected_cost(table, (4, 4)).item()
            for name, net in (("free", free), ("cheap", cheap))}
    assert cost["cheap"] < cost["free"]


def test_search_and_train_derives_writes_genotype_and_fine_tunes(tmp_path):
    genotype, net, summary = search_and_train(TINY, _config(), out_dir=tmp_path,
                                              finetune_steps=2, progress=False)
    assert Genotype.load(tmp_path / "genotype.json") == genotype
    assert summary["steps"] == 2 and (tmp_path / "finetune" / "checkpoint.pt").exists()
    assert net(torch.rand(1, 3, 5, 6)).shape == (1, 3, 20, 24)


class _ZeroTeacher(torch.nn.Module):
    def forward(self, lr):
        return torch.zeros(lr.shape[0], 3, lr.shape[2] * 4, lr.shape[3] * 4)


def test_distillation_adds_the_distance_to_the_teacher(tmp_path):
    plain = search(TINY, _config(steps=1), out_dir=tmp_path / "plain", progress=False)
    distilled = search(TINY, _config(steps=1, distill_weight=1.0), out_dir=tmp_path / "kd",
                       teacher=_ZeroTeacher(), progress=False)
    loss = {name: pd.read_csv(tmp_path / name / "search_log.csv")["weight_loss"][0]
            for name in ("plain", "kd")}
    assert loss["kd"] > loss["plain"] + 1e-3  # + mean |SR| (SR is not all zeros)
    assert not torch.equal(plain.head.conv.weight, distilled.head.conv.weight)
