"""The closed loop against a stand-in device whose networks cost what the table says plus a
fixed time per MB their ops write (the TVM measurement itself is tested in tests/devices)."""
import pandas as pd
import pytest
import torch

from codesign.search.budget import AIM, BAND, in_band
from codesign.search.budget_fit import fit_to_budget
from codesign.search.closed_loop import (
    cost_band,
    cost_scale,
    fit_unmeasured,
    nearest_to_band,
    run_rounds,
)
from codesign.search.cost_source import cost_range, feasible_nodes, macs_table
from codesign.search.train import SearchConfig, search
from codesign.space.op_instances import op_instances
from codesign.space.search_space import SearchSpace

TINY = SearchSpace(nf=8, num_cells=2, width_multiple=4)
LR = (12, 16)
PER_MB = 0.02  # the stand-in device's extra cost per MB written, in the table's unit


def test_cost_scale_is_the_median_ratio_and_an_odd_network_barely_moves_it():
    rows = pd.DataFrame({"predicted_ms": [10.0, 20.0, 40.0], "measured_ms": [12.0, 24.0, 48.0]})
    assert cost_scale(rows) == pytest.approx(1.2)
    odd = pd.concat([rows, pd.DataFrame({"predicted_ms": [10.0], "measured_ms": [40.0]})])
    assert cost_scale(odd) == pytest.approx(1.2)  # a 4x outlier leaves the median at 1.2
    assert cost_scale(rows.iloc[:0]) == 1.0


def _searched(tmp_path):
    """A tiny search at a mid-range counted budget: (table, budget, its derived genotype, MB
    each op instance writes)."""
    torch.set_num_threads(1)
    table = macs_table(TINY, LR)
    low, high = cost_range(TINY, table, LR)
    budget = low + 0.5 * (high - low)
    cfg = SearchConfig(steps=3, batch_size=2, patch_size=16)
    supernet = search(TINY, cfg, out_dir=tmp_path, progress=False,
                      feasible_nodes=feasible_nodes(TINY, table, LR, budget))
    first = fit_to_budget(supernet, table, LR, budget)
    written = op_instances(TINY, LR).set_index("key").bytes_out / 1e6
    return table, budget, first, written


def test_rounds_refit_the_costs_until_the_measured_latency_is_in_the_band(tmp_path):
    table, budget, first, written = _searched(tmp_path)
    calls = []

    def device_ms(genotype):
        keys = genotype.op_keys(LR)
        return table.network_cost(keys)[0] + PER_MB * written[keys].sum()

    def evaluate_round(genotype, net, refit, round_dir):
        calls.append(round_dir.name)
        return {"cost": refit.network_cost(genotype.op_keys(LR))[0],
                "measured_ms": device_ms(genotype),
                "genotype": genotype.to_json()}

    cost0 = table.network_cost(first.op_keys(LR))[0]
    row0 = pd.Series({"cost": cost0, "measured_ms": device_ms(first), "genotype": first.to_json()})
    assert not in_band(row0.measured_ms, budget)
    finetune = dict(data=None, scale=TINY.scale, steps=1, batch_size=2, patch_size=16,
                    progress=False)
    report = run_rounds(row0, out=tmp_path, space=TINY, table=table, lr_hw=LR, budget=budget,
                        rounds=3, finetune=finetune, evaluate_round=evaluate_round,
                        profile_path=tmp_path / "networks.csv", device="stand-in")
    assert report["round"].tolist() == [0, 1] and calls == ["round1"]
    assert in_band(report.measured_ms.iloc[-1], budget)
    measured = pd.read_csv(tmp_path / "networks.csv")  # the device's network profile
    assert measured.measured_ms.tolist() == pytest.approx(report.measured_ms.tolist())
    assert (tmp_path / "round1" / "genotype.json").exists()
    again = run_rounds(pd.Series({**row0, "measured_ms": row0.measured_ms * 1.01}), out=tmp_path,
                       space=TINY, table=table, lr_hw=LR, budget=budget, rounds=3, finetune=finetune,
                       evaluate_round=evaluate_round, profile_path=tmp_path / "networks.csv",
                       device="stand-in")  # a resumed search: round 0 measured once more
    measured = pd.read_csv(tmp_path / "networks.csv")
    assert len(again) == 2 and len(measured) == 2  # each round once, its latest timing kept
    assert measured.measured_ms.tolist() == pytest.approx(again.measured_ms.tolist())


def test_on_a_noisy_device_every_round_moves_toward_the_band(tmp_path):
    import numpy as np

    table, budget, first, written = _searched(tmp_path)
    noise = iter(np.random.default_rng(3).lognormal(0.0, 0.03, size=16))  # ±3 % run-to-run

    def device_ms(genotype):
        keys = genotype.op_keys(LR)
        return (table.network_cost(keys)[0] + PER_MB * written[keys].sum()) * next(noise)

    def evaluate_round(genotype, net, refit, round_dir):
        return {"cost": refit.network_cost(genotype.op_keys(LR))[0],
                "measured_ms": device_ms(genotype), "genotype": genotype.to_json()}

    row0 = pd.Series({"cost": table.network_cost(first.op_keys(LR))[0],
                      "measured_ms": device_ms(first), "genotype": first.to_json()})
    finetune = dict(data=None, scale=TINY.scale, steps=1, batch_size=2, patch_size=16,
                    progress=False)
    report = run_rounds(row0, out=tmp_path, space=TINY, table=table, lr_hw=LR, budget=budget,
                        rounds=4, finetune=finetune, evaluate_round=evaluate_round,
                        profile_path=tmp_path / "networks.csv", device="stand-in")
    measured = report.measured_ms.tolist()
    assert in_band(measured[-1], budget)  # settles in the band
    distance = [max(m - budget, 0.85 * budget - m, 0.0) for m in measured]
    assert all(b <= a for a, b in zip(distance, distance[1:]))  # never moves away from it


def test_cost_band_scales_by_one_network_and_takes_the_secant_between_two():
    low, high, target = cost_band([(10.0, 12.0)], budget=30.0)  # measures 1.2x its cost
    assert low == pytest.approx(AIM[0] * 30 / 1.2, rel=2e-3)
    assert high == pytest.approx(AIM[1] * 30 / 1.2, rel=2e-3)
    assert target == pytest.approx(sum(AIM) / 2 * 30 / 1.2, rel=2e-3)
    assert BAND[0] < AIM[0] < AIM[1] < BAND[1]  # aimed inside the band it is judged on
    # 0.8x at cost 10, 1.2x at cost 20: the band lies between them, on the interpolated curve
    low, high, target = cost_band([(20.0, 24.0), (10.0, 8.0)], budget=15.0)
    assert 10 < low < target < high < 20

    def measured(c):
        return c * (0.8 + 0.4 * (c - 10) / 10)
    assert measured(low) == pytest.approx(AIM[0] * 15, rel=2e-3)
    assert measured(high) == pytest.approx(AIM[1] * 15, rel=2e-3)


def test_the_delivered_round_is_the_first_in_band_else_the_nearest():
    assert nearest_to_band([None, 13.0, 9.6, 9.0], 10.0) == 2
    assert nearest_to_band([13.0, 8.0, 11.0], 10.0) == 1  # 8.0 is 5 % under, 11.0 10 % over
    assert nearest_to_band([None], 10.0) == 0


def test_a_network_measured_already_is_cut_out_of_the_band_and_another_fitted(tmp_path):
    torch.set_num_threads(1)
    table = macs_table(TINY, LR)
    low, high = cost_range(TINY, table, LR)
    budget = low + 0.5 * (high - low)
    supernet = search(TINY, SearchConfig(steps=3, batch_size=2, patch_size=16), out_dir=tmp_path,
                      progress=False, feasible_nodes=feasible_nodes(TINY, table, LR, budget))
    band = (0.85 * budget, budget, 0.925 * budget)
    first = fit_unmeasured(supernet, table, LR, band, measured=[])
    assert first == fit_to_budget(supernet, table, LR, budget)
    second = fit_unmeasured(supernet, table, LR, band, measured=[first])
    third = fit_unmeasured(supernet, table, LR, band, measured=[first, second])
    assert len({first, second, third}) == 3
    for genotype in (second, third):
        assert in_band(table.network_cost(genotype.op_keys(LR))[0], budget)
