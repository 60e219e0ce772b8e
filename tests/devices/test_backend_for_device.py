"""One factory picks the backend from the catalog entry and the runtime."""
import pytest

from devices.backends import NoBackend, available_backends, create, for_device
from devices.catalog import get_device


def test_local_cpu_runs_tvm_locally_and_the_host_runtimes():
    cpu = get_device("local-cpu")
    assert for_device(cpu, "tvm", trials=0).name == "tvm-local"
    assert for_device(cpu, "tvm-untuned").settings.trials == 0
    assert for_device(cpu, "onnxruntime").name == "onnxruntime"
    assert for_device(cpu, "pytorch").name == "pytorch"


def test_a_phone_is_timed_over_its_tracker_and_never_in_a_host_runtime():
    phone = get_device("pixel7")
    with pytest.raises(NoBackend, match="--rpc-tracker"):
        for_device(phone, "tvm")
    with pytest.raises(NoBackend, match="this machine's CPU only"):
        for_device(phone, "onnxruntime")
    assert for_device(phone, "tvm", rpc_tracker="127.0.0.1:9190", cc="gcc").name == "tvm-rpc"


def test_unknown_runtime_and_simulated_devices_are_refused():
    with pytest.raises(NoBackend, match="unknown runtime"):
        for_device(get_device("local-cpu"), "tensorrt")
    with pytest.raises(NoBackend, match="simulated"):
        for_device(get_device("eyeriss_sim"), "tvm")
    with pytest.raises(NoBackend, match="not simulated"):
        for_device(get_device("local-cpu"), "simulator")


def test_a_simulated_accelerator_is_a_backend_like_the_others():
    backend = for_device(get_device("eyeriss_sim"), "simulator", cache_path=None)
    assert backend.name == "simulator" and backend.array.name == "eyeriss_like"
    assert backend.provenance == "simulated:zigzag"


def test_capabilities_are_declared_on_the_interface():
    cpu = get_device("local-cpu")
    tvm, ort, torch_ = (for_device(cpu, r, trials=0) for r in ("tvm", "onnxruntime", "pytorch"))
    assert (tvm.builds_relax, tvm.builds_onnx, tvm.breaks_down) == (True, True, True)
    assert (ort.builds_relax, ort.builds_onnx, ort.breaks_down) == (False, True, False)
    assert (torch_.builds_relax, torch_.builds_onnx, torch_.breaks_down) == (False, False, False)
    with pytest.raises(NotImplementedError, match="does not build ONNX"):
        torch_.build_onnx(b"", (1, 3, 8, 8))


def test_backend_factory_knows_its_backends_and_rejects_others():
    assert {"tvm-local", "tvm-rpc", "onnxruntime", "pytorch", "simulator"} <= set(available_backends())
    with pytest.raises(ValueError, match="known backends"):
        create("simulatorx", get_device("local-cpu"))
