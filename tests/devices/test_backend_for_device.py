"""One factory picks the backend from the catalog entry and the runtime."""
import pytest

from devices.backends import NoBackend, for_device
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
