"""`pytorch`: PyTorch eager inference on the CPU, the framework baseline."""
from __future__ import annotations

import torch

from devices import reference_runtimes
from devices.backends.base import Artifact, Backend
from devices.timing import Timing


class PyTorch(Backend):
    """Options: threads (default: the device's cores), repeats, min_repeat_ms, warmup."""

    name = "pytorch"

    def __init__(self, device, *, threads: int | None = None, repeats: int = 10,
                 min_repeat_ms: float = 100.0, warmup: int = 2, **_ignored):
        super().__init__(device)
        self.threads = threads or int(device.target.get("num-cores", 1))
        self.timing = dict(repeats=repeats, min_repeat_ms=min_repeat_ms, warmup=warmup)

    @property
    def runtime(self) -> str:
        return f"torch-{torch.__version__}"

    def build(self, module, input_shape) -> Artifact:
        return Artifact(module.eval(), tuple(input_shape), f"cpu threads={self.threads}")

    def run(self, artifact: Artifact) -> Timing:
        return reference_runtimes.time_torch(artifact.runnable, artifact.input_shape, self.threads, **self.timing)


BACKEND = PyTorch
