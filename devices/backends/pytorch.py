"""`pytorch`: PyTorch eager inference on the CPU, the framework baseline."""
from __future__ import annotations

import torch

from devices import reference_runtimes
from devices.backends.base import Artifact, CpuReferenceBackend
from devices.timing import Timing


class PyTorch(CpuReferenceBackend):
    """Options: see CpuReferenceBackend."""

    name = "pytorch"

    @property
    def runtime(self) -> str:
        return f"torch-{torch.__version__}"

    def build(self, module, input_shape) -> Artifact:
        return Artifact(module.eval(), tuple(input_shape), f"cpu threads={self.threads}")

    def call(self, artifact: Artifact):
        module, x = artifact.runnable, torch.from_numpy(reference_runtimes.fixed_input(artifact.input_shape))
        torch.set_num_threads(self.threads)

        def once():
            with torch.no_grad():
                module(x)
        return once

    def run(self, artifact: Artifact) -> Timing:
        return reference_runtimes.time_torch(artifact.runnable, artifact.input_shape, self.threads, **self.timing)


BACKEND = PyTorch
