"""CostModel table and the differentiable expected latency (gradient vs finite differences)."""

import numpy as np
import pandas as pd
import pytest
import torch

from codesign_common import public_data
from predictors.cost_model import CostModel
from predictors.expected_latency import cost_vectors, expected_latency, latency_variance
from predictors.import_tophub import import_tophub
from predictors.predictor import train_kernel_predictor

LOG = public_data.tophub_log("arm_cpu_v0.08.log")


def _objective(logits, costs):
    return expected_latency([torch.softmax(l, 0) for l in logits], costs)


def test_gradient_of_expected_latency_matches_finite_differences():
    gen = torch.Generator().manual_seed(0)
    costs = [torch.rand(n, generator=gen, dtype=torch.float64) * 5 for n in (3, 5, 2)]
    logits = [torch.randn(c.shape, generator=gen, dtype=torch.float64, requires_grad=True) for c in costs]
    _objective(logits, costs).backward()
    eps = 1e-6
    for i, l in enumerate(logits):
        for j in range(len(l)):
            plus = [x.detach().clone() for x in logits]
            minus = [x.detach().clone() for x in logits]
            plus[i][j] += eps
            minus[i][j] -= eps
            numeric = (_objective(plus, costs) - _objective(minus, costs)) / (2 * eps)
            assert l.grad[j].item() == pytest.approx(numeric.item(), rel=1e-6, abs=1e-9)
    assert torch.autograd.gradcheck(lambda *ls: _objective(ls, costs), tuple(logits))


def test_expected_latency_of_one_hot_choices_is_the_sum_of_chosen_costs():
    costs = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0])]
    probs = [torch.tensor([0.0, 1.0, 0.0]), torch.tensor([1.0, 0.0])]
    assert expected_latency(probs, costs).item() == pytest.approx(12.0)
    stds = [torch.tensor([0.1, 0.2, 0.3]), torch.tensor([1.0, 2.0])]
    assert latency_variance(probs, costs, stds).item() == pytest.approx(0.2 ** 2 + 1.0)
    with pytest.raises(ValueError):
        expected_latency([torch.ones(2)], [torch.ones(3)])


def test_cost_model_table_holds_the_predictors_predictions_by_key(tmp_path):
    rows = import_tophub(LOG)["snapdragon835-arm_cpu"]
    train_kernel_predictor(rows.iloc[:150], "snapdragon835-arm_cpu", "xgb").save(tmp_path)
    cost = CostModel.load(tmp_path)
    candidates = pd.concat([rows.iloc[150:160], rows.iloc[150:152]])  # repeated keys collapse
    table = cost.latency_table(candidates)
    assert len(table) == 10 and cost.provenance == "predicted" and cost.device == "snapdragon835-arm_cpu"
    mean, std = cost.predictor.predict(rows.iloc[150:160])
    for key, m, s in zip(rows["key"].iloc[150:160], mean, std):
        assert table[key] == (pytest.approx(m), pytest.approx(s))
    means, _ = cost_vectors(table, [list(rows["key"].iloc[150:153]), list(rows["key"].iloc[153:160])])
    uniform = [torch.full_like(m, 1 / len(m)) for m in means]
    assert expected_latency(uniform, means).item() == pytest.approx(
        float(np.mean(mean[:3]) + np.mean(mean[3:])), rel=1e-5)
    with pytest.raises(KeyError):
        cost_vectors(table, [["not-a-key"]])
