"""tvm-rpc through a tracker and server started on 127.0.0.1: tuned and timed remotely, and
stopping the farm leaves no popen_worker processes behind."""
import psutil
import torch

from devices.backends import create
from devices.catalog import get_device
from devices.rpc_farm import loopback_farm, parse_tracker


def _popen_workers():
    return {p.pid for p in psutil.Process().children(recursive=True)
            if p.is_running() and "popen_worker" in " ".join(p.cmdline())}


def test_tiny_kernel_tuned_and_timed_over_rpc_and_farm_stops_cleanly(tmp_path):
    before = _popen_workers()
    module = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.LeakyReLU(0.2)).eval()
    with loopback_farm("test-loopback", port=9290) as (host, port):
        backend = create("tvm-rpc", get_device("local-cpu"), tracker=f"{host}:{port}", key="test-loopback",
                         trials=1, dominant_share=1.0, trials_per_iter=1, population=32, work_dir=tmp_path, repeats=3,
                         min_repeat_ms=5)
        measurement = backend.measure(module, (1, 4, 8, 8))
    assert measurement.backend == "tvm-rpc" and measurement.tuned and measurement.database_hits == "1/1"
    assert measurement.timing.repeats == 3 and measurement.timing.median_ms > 0
    assert "Trial #1" in "".join(p.read_text() for p in (tmp_path / "logs").glob("*fused*"))
    psutil.wait_procs([psutil.Process(pid) for pid in _popen_workers() - before if psutil.pid_exists(pid)], timeout=10)
    assert _popen_workers() - before == set()


def test_tracker_address_is_checked():
    assert parse_tracker("10.0.0.2:9190") == ("10.0.0.2", 9190)
    for bad in ("9190", "host:", "host:port"):
        try:
            parse_tracker(bad)
        except ValueError as err:
            assert "HOST:PORT" in str(err)
        else:
            raise AssertionError(bad)


def test_dead_tracker_raises_device_unreachable_after_retries(tmp_path):
    import pytest

    from devices.backends.tvm_rpc import DeviceUnreachable

    module = torch.nn.Sequential(torch.nn.Conv2d(2, 2, 1)).eval()
    backend = create("tvm-rpc", get_device("local-cpu"), tracker="127.0.0.1:1", key="nobody",
                     trials=0, retries=2, work_dir=tmp_path)
    with pytest.raises(DeviceUnreachable, match="nobody@127.0.0.1:1"):
        backend.measure(module, (1, 2, 4, 4))
