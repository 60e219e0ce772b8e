"""`onnxruntime`: the reference CPU runtime (ONNX export of the module, CPU execution provider)."""
from __future__ import annotations

from devices import reference_runtimes
from devices.backends.base import Artifact, Backend
from devices.timing import Timing


class OnnxRuntime(Backend):
    """Options: threads (default: the device's cores), repeats, min_repeat_ms, warmup."""

    name = "onnxruntime"

    def __init__(self, device, *, threads: int | None = None, repeats: int = 10,
                 min_repeat_ms: float = 100.0, warmup: int = 2, **_ignored):
        super().__init__(device)
        self.threads = threads or int(device.target.get("num-cores", 1))
        self.timing = dict(repeats=repeats, min_repeat_ms=min_repeat_ms, warmup=warmup)

    @property
    def runtime(self) -> str:
        import onnxruntime

        return f"onnxruntime-{onnxruntime.__version__}"

    def build_onnx(self, model: bytes | str, input_shape) -> Artifact:
        session = reference_runtimes.onnxruntime_session(model, self.threads)
        return Artifact(session, tuple(input_shape), f"cpu threads={self.threads}")

    def build(self, module, input_shape) -> Artifact:
        return self.build_onnx(reference_runtimes.onnx_bytes(module, input_shape), input_shape)

    def run(self, artifact: Artifact) -> Timing:
        return reference_runtimes.time_onnxruntime(artifact.runnable, artifact.input_shape, **self.timing)


BACKEND = OnnxRuntime
