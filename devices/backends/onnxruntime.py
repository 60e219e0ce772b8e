"""`onnxruntime`: the reference CPU runtime (ONNX export of the module, CPU execution provider)."""
from __future__ import annotations

from devices import reference_runtimes
from devices.backends.base import Artifact, CpuReferenceBackend
from devices.timing import Timing


class OnnxRuntime(CpuReferenceBackend):
    """Options: see CpuReferenceBackend."""

    name = "onnxruntime"
    builds_onnx = True

    @property
    def runtime(self) -> str:
        import onnxruntime

        return f"onnxruntime-{onnxruntime.__version__}"

    def build_onnx(self, model: bytes | str, input_shape) -> Artifact:
        session = reference_runtimes.onnxruntime_session(model, self.threads)
        return Artifact(session, tuple(input_shape), f"cpu threads={self.threads}")

    def build(self, module, input_shape) -> Artifact:
        return self.build_onnx(reference_runtimes.onnx_bytes(module, input_shape), input_shape)

    def call(self, artifact: Artifact):
        session = artifact.runnable
        feed = {session.get_inputs()[0].name: reference_runtimes.fixed_input(artifact.input_shape)}
        return lambda: session.run(None, feed)

    def run(self, artifact: Artifact) -> Timing:
        return reference_runtimes.time_onnxruntime(artifact.runnable, artifact.input_shape, **self.timing)


BACKEND = OnnxRuntime
