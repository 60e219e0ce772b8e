"""Reference CPU runtimes users compare TVM with: PyTorch eager and onnxruntime (same threads)."""
from __future__ import annotations

import io
import time
import warnings

import numpy as np
import torch

from devices.timing import Timing, runs_per_repeat


def time_callable(fn, repeats: int = 10, min_repeat_ms: float = 100.0, warmup: int = 2,
                  min_span_s: float = 0.0) -> Timing:
    """Time `fn()` like TVM's evaluator: warm-up calls, then `repeats` repeats of enough runs to
    last `min_repeat_ms`, more until they span `min_span_s` seconds; each repeat's mean per run
    kept."""
    for _ in range(max(1, warmup)):
        start = time.perf_counter()
        fn()
        estimate_ms = (time.perf_counter() - start) * 1e3
    number = runs_per_repeat(estimate_ms, min_repeat_ms)
    seconds, started = [], time.perf_counter()
    while len(seconds) < repeats or time.perf_counter() - started < min_span_s:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        seconds.append((time.perf_counter() - start) / number)
    return Timing.from_seconds(seconds, number)


def onnx_bytes(module: torch.nn.Module, input_shape: tuple[int, ...], opset: int = 17) -> bytes:
    """ONNX model of `module` (eval mode) at a fixed input shape, as bytes."""
    buffer = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.randn(*input_shape),), buffer, dynamo=False,
                          opset_version=opset, input_names=["x"], output_names=["y"])
    return buffer.getvalue()


def onnxruntime_session(model: bytes | str, threads: int):
    """onnxruntime CPU session with `threads` intra-op threads and all graph optimisations."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def fixed_input(input_shape) -> np.ndarray:
    """The float32 input every runtime is timed on: standard normal, seed 0."""
    return np.random.default_rng(0).standard_normal(input_shape, dtype=np.float32)


def time_onnxruntime(session, input_shape, **timing) -> Timing:
    """Timing of one onnxruntime session on the fixed float32 input of `input_shape`."""
    feed = {session.get_inputs()[0].name: fixed_input(input_shape)}
    return time_callable(lambda: session.run(None, feed), **timing)


def time_torch(module: torch.nn.Module, input_shape, threads: int, **timing) -> Timing:
    """Timing of PyTorch eager inference (no_grad, `threads` intra-op threads)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    x = torch.randn(*input_shape)
    module = module.eval()
    try:
        with torch.no_grad():
            return time_callable(lambda: module(x), **timing)
    finally:
        torch.set_num_threads(previous)
