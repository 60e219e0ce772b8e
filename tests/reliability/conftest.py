"""A stand-in for this host's onnxruntime: kernels and networks "take" a fixed time computed from
their size (no wall clock of this machine is read), each timing still goes through the timing
lock (devices.quiet_timing.guarded), and every call is counted. With ``stand_in_host`` a test
gets its own ``$CODESIGN_CACHE`` and timing lock, and self-profiling, the search's measurement
and codesign.measure all time with the stand-in."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from devices import quiet_timing
from devices.backends.base import Measurement
from devices.timing import Timing


def stand_in_ms(n_params: int, input_shape) -> float:
    """The stand-in's latency (ms): 0.02 ms + 1 ms per 20 M multiply-accumulates, counted as
    parameters × input pixels (exact for 1x1 convs, a fixed multiple of a 3x3 conv's)."""
    _, _, h, w = input_shape
    return 0.02 + n_params * h * w / 2e7


@dataclass
class StandInBackend:
    """Times a module by stand_in_ms under the timing lock; ``calls`` holds the input shapes."""

    calls: list = field(default_factory=list)
    name: str = "onnxruntime"
    runtime: str = "onnxruntime-stand-in"

    def measure(self, module, input_shape) -> Measurement:
        ms = stand_in_ms(sum(p.numel() for p in module.parameters()), input_shape)
        timing, share = quiet_timing.guarded(
            lambda: Timing.from_seconds([ms * 1.02e-3, ms * 1e-3, ms * 1.05e-3], 1))
        self.calls.append(tuple(input_shape))
        return Measurement(timing, self.name, self.runtime, "stand-in", 0, True,
                           foreign_cpu_share=share)

    def close(self) -> None:
        pass


@pytest.fixture
def stand_in_host(tmp_path, monkeypatch) -> StandInBackend:
    """This host's kernels timed by the stand-in, in a cache and timing lock of the test's own."""
    from devices import profile

    backend = StandInBackend()
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("CODESIGN_TIMING_LOCK", str(tmp_path / "timing.lock"))
    monkeypatch.delenv("CODESIGN_PREDICTORS", raising=False)
    monkeypatch.setattr(profile, "for_device", lambda *args, **kwargs: backend)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return backend
