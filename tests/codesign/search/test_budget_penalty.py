import pytest
import torch

from codesign.search.budget import Budget, BudgetError, parse_budget
from codesign.search.penalty import BudgetPenalty


@pytest.mark.parametrize("text,expected", [
    ("50ms", Budget("latency_ms", 50.0)), ("12.5 ms", Budget("latency_ms", 12.5)),
    ("0.05s", Budget("latency_ms", 50.0)), ("2.5GFLOPs", Budget("gmacs", 2.5)),
    ("1e1ms", Budget("latency_ms", 10.0)),
])
def test_budgets_parse_with_units(text, expected):
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["50", "-5ms", "abc", "", "5 parsecs", "0ms", "ms"])
def test_malformed_budgets_are_rejected(text):
    with pytest.raises(BudgetError):
        parse_budget(text)


def _optimise(penalty, steps=300):
    """Two-choice toy: the bigger op has lower task loss but costs 3x; returns final cost."""
    logits = torch.zeros(2, requires_grad=True)
    cost_table = torch.tensor([10.0, 30.0])
    task = torch.tensor([1.0, 0.5])
    opt = torch.optim.SGD([logits], lr=0.5)
    for _ in range(steps):
        p = torch.softmax(logits, 0)
        cost = (p * cost_table).sum()
        loss = penalty(((p * task).sum()), cost)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float((torch.softmax(logits, 0) * cost_table).sum().detach())


@pytest.mark.parametrize("form", ["hinge", "multiplicative"])
def test_raising_strength_lowers_expected_cost(form):
    costs = [_optimise(BudgetPenalty(target=15.0, form=form, strength=s)) for s in (0.0, 0.5, 5.0)]
    assert costs[0] > costs[1] > costs[2]


def test_strength_rises_over_budget_and_turns_negative_far_under_it():
    pen = BudgetPenalty(target=10.0, strength=1.0, step_size=0.5)
    assert pen.adapt(20.0) == pytest.approx(1.5)  # violation clipped to 1
    for _ in range(20):
        pen.adapt(5.0)
    assert pen.strength < 0


@pytest.mark.parametrize("form", ["hinge", "multiplicative"])
def test_negative_strength_pushes_a_too_cheap_choice_back_up_to_the_budget(form):
    # Without a push, the task loss alone would still prefer the cheap op here.
    logits = torch.tensor([2.0, -2.0], requires_grad=True)
    cost_table, task = torch.tensor([10.0, 30.0]), torch.tensor([0.5, 1.0])
    pen = BudgetPenalty(target=25.0, form=form, strength=0.0)
    opt = torch.optim.SGD([logits], lr=0.5)
    for _ in range(400):
        p = torch.softmax(logits, 0)
        cost = (p * cost_table).sum()
        loss = pen((p * task).sum(), cost)
        opt.zero_grad()
        loss.backward()
        opt.step()
        pen.adapt(cost.item())
    final = float((torch.softmax(logits, 0) * cost_table).sum().detach())
    assert 0.8 * 25.0 < final < 1.1 * 25.0  # dual ascent oscillates around 0.925 x budget


def test_strength_reverses_the_step_the_cost_crosses_the_aim():
    pen = BudgetPenalty(target=10.0, strength=5.0, step_size=0.5)
    pen.adapt(9.0)  # under the aim (9.25): no unwinding of the accumulated 5
    assert pen.strength == pytest.approx(0.5 * (0.9 - 0.925))
    pen.adapt(12.0)
    assert pen.strength == pytest.approx(0.5 * (1.2 - 0.925))


def test_penalty_state_round_trips():
    pen = BudgetPenalty(target=10.0, strength=1.0)
    pen.adapt(30.0)
    other = BudgetPenalty(target=10.0)
    other.load_state_dict(pen.state_dict())
    assert other.strength == pen.strength
