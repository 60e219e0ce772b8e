"""The committed pixel7-gpu predictor (Mali-G710 MP7), transferred from the TopHub Mali GPU
(rk3399-mali) by spec-sheet scaling (`python -m predictors.public.transfer --targets pixel7-gpu
--transfer-only`): it loads, is labelled transferred, prices every op instance at the device's
LR input, carries a positive σ of at least its leave-one-sibling-out error, and its scaling
follows the spec sheets. Reads committed JSON only (no TopHub log needed)."""
from __future__ import annotations

import numpy as np
import pytest

from devices.catalog import get_device
from predictors.cost_model import CostModel
from predictors.fused_ops import decompose
from predictors.kinds.roofline import (
    DeviceSpec,
    FusedRooflineModel,
    Roofline,
)
from predictors.public.transfer import TRAINED_DIR

DEVICE = "pixel7-gpu"


@pytest.fixture(scope="module")
def cost():
    return CostModel.load(TRAINED_DIR / DEVICE)


@pytest.fixture(scope="module")
def instances():
    from codesign.space.op_instances import op_instances
    from codesign.space.search_space import SearchSpace

    return op_instances(SearchSpace(), tuple(get_device(DEVICE).lr_input_hw))


def test_loads_labelled_transferred_from_its_catalog_siblings(cost):
    meta = cost.predictor.meta
    assert cost.device == DEVICE and cost.predictor.model.name == "fused_roofline"
    assert cost.provenance == "transferred" and "transferred" in cost.training_provenance
    entry = get_device(DEVICE).predictor
    assert entry["provenance"] == "transferred"
    assert meta["siblings"] == entry["siblings"] == ["rk3399-mali"]
    assert meta["leave_one_sibling_out_siblings"] == entry["leave_one_out_siblings"]
    assert meta["spec"] == DeviceSpec.from_catalog(DEVICE).to_json()
    for name, ev in meta["leave_one_sibling_out_eval"].items():
        assert ev["rms_log_error"] == pytest.approx(meta["leave_one_sibling_out_rms_log_error"][name])
        assert -1 <= ev["spearman"] <= 1 and 0 <= ev["within_10pct"] <= 1


def test_positive_finite_latency_and_std_for_every_op_instance(cost, instances):
    table = cost.latency_table(instances)
    assert set(table) == set(instances["key"])
    mean, std = np.array(list(table.values())).T
    assert np.all(np.isfinite(mean) & (mean > 0)) and np.all(np.isfinite(std) & (std > 0))
    # σ is at least the measured transfer error (relative, log space)
    rel_std = cost.predictor.meta["rel_std"]
    assert rel_std > 0 and np.all(std / mean >= rel_std - 1e-9)
    assert table["residual:cin=64:cout=64:h=180:w=320"][0] > table["conv3x3:cin=64:cout=64:h=180:w=320"][0]


def test_a_sibling_with_a_higher_peak_predicts_lower_compute_bound_latency(cost, instances):
    model = cost.predictor.model
    target = DeviceSpec.from_catalog(DEVICE)
    faster = DeviceSpec("faster", 2 * target.peak_gflops, target.bandwidth_gbs, target.clock_ghz)
    roof = model.sources[0]
    base = FusedRooflineModel([roof]).predict_rows(instances)[0]
    scaled = FusedRooflineModel([roof.scaled(target, faster)]).predict_rows(instances)[0]
    # moving the roofline to a device of twice the peak never makes a kernel slower, and
    # takes off exactly half of the compute part (most of the time of compute-bound instances)
    assert np.all(scaled <= base * (1 + 1e-12)) and np.all(scaled >= base / 2 * (1 - 1e-12))
    comp, _ = roof.components(decompose(instances), len(instances))
    big = comp[:, 0] / comp.sum(axis=1) > 0.8  # the most compute-bound instances (max share ~0.87)
    assert big.any()
    np.testing.assert_allclose((base - scaled)[big], comp[big, 0] / 2, rtol=1e-9)
    # and back to the sibling's sheet (14.8x lower peak, 4x lower bandwidth): slower everywhere
    mali = Roofline.from_json(roof.to_json()).scaled(target, DeviceSpec.from_catalog("rk3399-mali"))
    assert np.all(FusedRooflineModel([mali]).predict_rows(instances)[0] > base)
