"""`tvm-rpc`: tvm-local's tuning and compilation, timed on a device reached through an RPC tracker.

Code for another ISA is exported with a cross compiler (`aarch64-linux-gnu-gcc` from Debian, or
the Android NDK's clang when on PATH). Requests and timings are retried with back-off; a device
that stays dead raises DeviceUnreachable after `retries` tries, so finished rows are kept.
"""
from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from devices.backends.tvm_local import TvmLocal
from devices.rpc_farm import parse_tracker
from devices.timing import Timing, time_vm
from devices.tvm_compile import cross_compile


class DeviceUnreachable(RuntimeError):
    """The RPC device did not answer after all retries."""


class TvmRpc(TvmLocal):
    """Options: tracker (`HOST:PORT`), key (default: the catalog's rpc_key), cc (cross compiler;
    default: found from the target triple), session_timeout_s, retries, plus tvm-local's."""

    name = "tvm-rpc"
    times_locally = False
    breaks_down = False  # the VM's instrument hook runs in this process, not on the device

    def __init__(self, device, *, tracker: str = "127.0.0.1:9190", key: str | None = None,
                 cc: str | None = None, session_timeout_s: float = 120.0, retries: int = 3, **options):
        super().__init__(device, **options)
        self.tracker_host, self.tracker_port = parse_tracker(tracker)
        self.key = key or device.rpc_key
        if not self.key:
            raise ValueError(f"device {device.name} has no rpc_key; pass --rpc-key")
        triple = device.target.get("mtriple") or (device.target.get("host") or {}).get("mtriple")
        self.cc = cc
        if not cc and cross_compile.needs_cross_compiler(triple):
            self.cc = cross_compile.find_cross_compiler(triple)
            if not self.cc:
                raise ValueError(f"no cross compiler for {triple} on PATH (apt-get install "
                                 "gcc-aarch64-linux-gnu, or put the Android NDK's clang on PATH)")
        self.session_timeout_s, self.retries = session_timeout_s, retries

    def _pin_cpu_threads(self) -> None:
        """Kernels run on the remote device: this host's thread pool is left alone."""

    def tuning_runner(self):
        from tvm.s_tir import meta_schedule as ms

        from devices.tvm_compile.tuning import _worker_init

        config = ms.runner.RPCConfig(tracker_host=self.tracker_host, tracker_port=self.tracker_port,
                                     tracker_key=self.key, session_timeout_sec=int(self.session_timeout_s))
        return ms.runner.RPCRunner(rpc_config=config, max_workers=1, initializer=_worker_init(self.target),
                                   evaluator_config=ms.runner.EvaluatorConfig(number=3, repeat=1, min_repeat_ms=50))

    def export_cc(self) -> str | None:
        return self.cc

    def _session(self):
        from tvm import rpc

        socket.create_connection((self.tracker_host, self.tracker_port), timeout=10).close()  # fail fast
        tracker = rpc.connect_tracker(self.tracker_host, self.tracker_port)
        return tracker.request(self.key, priority=1, session_timeout=self.session_timeout_s)

    def run(self, artifact) -> Timing:
        import numpy as np
        import tvm
        from tvm import relax

        with tempfile.TemporaryDirectory() as tmp:
            path = cross_compile.export_shared(artifact.runnable, str(Path(tmp) / "net.so"), self.cc)
            error = None
            for attempt in range(self.retries):
                try:
                    remote = self._session()
                    remote.upload(path)
                    dev = remote.device(self.target.get_target_device_type())
                    vm = relax.VirtualMachine(remote.load_module("net.so"), dev)
                    x = np.random.default_rng(0).standard_normal(artifact.input_shape, dtype="float32")
                    return time_vm(vm, dev, [tvm.runtime.tensor(x, dev)], self.repeats, self.min_repeat_ms,
                                   self.warmup, self.min_span_s)
                except (RuntimeError, OSError) as err:  # tvm.error.RPCError and timeouts included
                    error = err
                    time.sleep(min(2.0 ** attempt, 10.0))
        raise DeviceUnreachable(f"{self.key}@{self.tracker_host}:{self.tracker_port}: "
                                f"{str(error).splitlines()[0] if error else 'no answer'}")


BACKEND = TvmRpc
