"""Simulated accelerators (devices.simulator): real ZigZag runs on tiny layers."""
import json

import pandas as pd
import pytest

from codesign.space.op_instances import build_op_module, op_row
from devices.backends import for_device
from devices.backends.simulator import PROFILE_COLUMNS
from devices.catalog import get_device
from devices.simulator.arrays import array_config
from devices.simulator.layers import Layer, kernel_layers, module_layers
from devices.simulator.zigzag_runner import CycleCache, simulate_layers
from predictors.kernel_features import conv_row, elementwise_row, pool_row


@pytest.fixture(scope="module")
def edgetpu_cycles():
    """Cycles of 3×3 convs at 16×16 on the Edge-TPU-like array for cin = cout = 8, 16, 32."""
    layers = [Layer("Conv", c, c, 3, 16, 16, padding=1) for c in (8, 16, 32)]
    return simulate_layers(array_config("edgetpu_like"), layers)


def test_conv_cycles_grow_with_channels_but_never_beat_the_array_peak(edgetpu_cycles):
    array = array_config("edgetpu_like")
    macs = [c * c * 9 * 16 * 16 for c in (8, 16, 32)]
    assert edgetpu_cycles[0] < edgetpu_cycles[1] < edgetpu_cycles[2]
    for cycles, m in zip(edgetpu_cycles, macs):
        assert cycles >= m / array.macs_per_cycle
    # 32 channels fill the K8×C8 dimensions: 4× the MACs of 16 channels cost ≥ 2× the cycles
    assert edgetpu_cycles[2] >= 2 * edgetpu_cycles[1]


def test_smaller_array_needs_more_cycles_for_the_same_conv():
    layer = [Layer("Conv", 32, 32, 3, 16, 16, padding=1)]
    eyeriss = simulate_layers(array_config("eyeriss_like"), layer)[0]
    edgetpu = simulate_layers(array_config("edgetpu_like"), layer)[0]
    assert eyeriss > 3 * edgetpu  # 168 vs 1024 MACs per cycle
    assert eyeriss >= 32 * 32 * 9 * 256 / 168


def test_cache_is_reused_and_keyed_by_configuration(tmp_path, monkeypatch):
    path = tmp_path / "cache.json"
    array = array_config("edgetpu_like")
    layer = Layer("Conv", 8, 8, 3, 8, 8, padding=1)
    first = simulate_layers(array, [layer], CycleCache(path))
    data = json.loads(path.read_text())
    assert data == {array.fingerprint(): {layer.signature(): first[0]}}

    import zigzag.api

    def no_simulation(*args, **kwargs):
        raise AssertionError("cached layer was simulated again")

    monkeypatch.setattr(zigzag.api, "get_hardware_performance_zigzag", no_simulation)
    assert simulate_layers(array, [layer, layer], CycleCache(path)) == [first[0], first[0]]
    with pytest.raises(AssertionError, match="simulated again"):
        simulate_layers(array_config("eyeriss_like"), [layer], CycleCache(path))


def test_backend_rows_follow_the_profile_schema_with_simulated_provenance(tmp_path):
    backend = for_device(get_device("edgetpu_sim"), "simulator", cache_path=tmp_path / "cache.json")
    kernels = pd.DataFrame([conv_row("relu_conv3x3_bn", 8, 8, 3, 8, 8),
                            pool_row("avgpool3x3", 8, 3, 8, 8),
                            elementwise_row("add", 8, 8, 8, n_inputs=3)])
    rows = backend.measure_kernels(kernels)
    assert list(rows.columns[:len(PROFILE_COLUMNS)]) == PROFILE_COLUMNS
    assert (rows["provenance"] == "simulated:zigzag").all()
    assert rows["target"].str.contains("zigzag-dse 3.9.1 hardware=edge_tpu_like").all()
    assert (rows["latency_ms"] > 0).all()  # pooling and adds are simulated, never zero
    assert rows["latency_ms"].tolist() == pytest.approx((rows["cycles"] / 500e3).tolist())
    assert rows["n_layers"].tolist() == [1, 1, 2]  # an add of 3 inputs is 2 additions


def _op_layers(op, cin, cout, h, w):
    return module_layers(*build_op_module(op_row(op, cin, cout, h, w)))


def test_search_space_ops_decompose_into_the_convs_they_run():
    residual = _op_layers("residual", 24, 32, 18, 32)
    assert [(l.kind, l.cin, l.cout, l.kernel) for l in residual] == [
        ("Conv", 24, 32, 3), ("Conv", 32, 32, 3), ("Conv", 24, 32, 1), ("Add", 32, 32, 1)]
    dws = _op_layers("dwsblock", 24, 32, 18, 32)
    assert [(l.kind, l.groups, l.kernel) for l in dws] == [("Conv", 24, 3), ("Conv", 1, 1)]
    upsample = _op_layers("upsample_x2", 64, 64, 18, 32)
    assert [(l.cout, l.h, l.w) for l in upsample] == [(256, 18, 32)]  # shuffle: output writes


def test_a_module_is_simulated_as_a_network_and_its_rows_are_labelled_simulated(tmp_path):
    """build → run through the Backend interface: the kernel's cycles at the array's clock."""
    backend = for_device(get_device("edgetpu_sim"), "simulator", cache_path=tmp_path / "c.json")
    row = op_row("residual", 8, 8, 8, 8)
    module, shape = build_op_module(row)
    measurement = backend.measure(module, shape)
    table = backend.measure_kernels(pd.DataFrame([row]), [module])
    assert measurement.provenance == "simulated:zigzag" and measurement.foreign_cpu_share is None
    assert measurement.timing.median_ms == pytest.approx(table["latency_ms"].iloc[0])
    assert table["n_layers"].iloc[0] == 4


def test_unknown_op_is_an_error_not_zero():
    with pytest.raises(ValueError, match="no simulator model"):
        kernel_layers(dict(conv_row("conv5x5_gelu", 8, 8, 5, 8, 8)))
    with pytest.raises(ValueError, match="no simulator model"):
        kernel_layers(op_row("residual", 8, 8, 8, 8))  # a search-space op needs its module
    with pytest.raises(ValueError, match="unknown simulated array"):
        array_config("tpu_v9")


def test_benchmark_cli_rejects_a_bad_subset_size(capsys):
    from benchmarks.prediction.accelerator_sim import main

    assert main(["--archs", "1"]) == 2
    assert capsys.readouterr().err.strip() == "error: --archs must be between 2 and 15625"
