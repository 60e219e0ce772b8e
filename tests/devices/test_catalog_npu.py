"""The Snapdragon NPU entries (Qualcomm AI Hub): they load, say what their latencies assume
(runtime, precision, compute unit, the AI Hub device), and their committed predictors price
every op instance through the normal lookup."""
import pandas as pd
import pytest

from codesign.space.op_instances import op_row
from devices.catalog import get_device
from predictors.cost_model import CostModel
from predictors.store import find_device_predictor

NPUS = {"galaxy-s24-npu": ("Samsung Galaxy S24", "float"),
        "galaxy-s24-npu-int8": ("Samsung Galaxy S24", "w8a8"),
        "galaxy-s25-npu": ("Samsung Galaxy S25", "float"),
        "galaxy-s23-npu": ("QCS8550 (Proxy)", "float")}


@pytest.mark.parametrize("name", sorted(NPUS))
def test_entry_states_runtime_precision_and_compute_unit(name):
    device = get_device(name)
    assumes = device.predictor["assumes"]
    assert (assumes["hub_device"], assumes["precision"]) == NPUS[name]
    assert assumes["runtime"] == "qnn_dlc" and assumes["compute_unit"] == "NPU"
    assert len(assumes["commit"]) == 40
    assert device.kind == "accelerator" and device.predictor["provenance"] == "public"
    assert device.predictor["source"].startswith("public:qai-hub")
    assert device.threads["value"] is None and device.target["kind"] == "hexagon"


def test_the_s23_entry_says_its_latencies_are_the_proxy_boards():
    assert "QCS8550 (Proxy)" in get_device("galaxy-s23-npu").description


@pytest.mark.parametrize("name", sorted(NPUS))
def test_committed_predictor_loads_and_prices_op_instances(name):
    folder = find_device_predictor(name)
    assert folder is not None and folder.name == name
    cost = CostModel.load(folder)
    assert cost.device == name and cost.provenance == "public:qai-hub, predicted"
    assert cost.training_provenance == ["public:qai-hub"]
    assert cost.predictor.meta["source"]["hub_device"] == NPUS[name][0]
    # search-space instances: each row lists the kernels it runs, which the NPU roofline prices
    rows = pd.DataFrame([op_row("conv3x3", 32, 32, 128, 128), op_row("skip", 32, 32, 128, 128)])
    table = cost.network_table(rows)
    assert len(table) == 2 and all(m > 0 and s >= 0 for m, s in table.values())
    assert cost.network_overhead_ms > 0
