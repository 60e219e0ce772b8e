"""Whole-network latency as profile-CSV rows (op = network): a given PyTorch module or ONNX file
timed in each of several runtimes on a device.

Every runtime's backend comes from devices.backends.for_device; runtimes of this machine's CPU
(onnxruntime, PyTorch) are skipped for other devices, and a backend that cannot build an ONNX
file (PyTorch) is skipped for one. TVM's `trials` are per fused task (every distinct fused kernel
of the network is tuned); a row's database_hits says how many of the network's fused kernels
the tuned records replaced. `breakdown` also writes the per-call times inside the network of
the `tvm` build, where its backend can time them (devices.tvm_compile.kernel_breakdown: fused kernels and
VM builtins, in call order). codesign.measure builds networks from genotypes and model names.
"""
from __future__ import annotations

from codesign_common.atomic import write_csv_atomic
from devices.backends import for_device
from devices.backends.base import NotThisHost
from devices.catalog import get_device
from devices.profile_csv import append_rows, make_row
from devices.timing import network_span_s
from devices.tvm_compile.tuning import TuningSettings

RUNTIMES = ("tvm-untuned", "tvm", "onnxruntime", "pytorch")  # the default order of a measurement


def network_features(name: str, shape, scale: int, macs: int = 0, params: int = 0) -> dict:
    """Profile-schema features of a whole network named ``name`` at LR input ``shape``
    (N, C, h, w), upscaling by ``scale``, with its MACs and parameter count."""
    _, c, h, w = shape
    return {"key": f"network:{name}:h={h}:w={w}", "op": "network", "cin": c, "cout": 3, "kernel": 0,
            "groups": 1, "stride": 1, "h": h, "w": w, "out_h": h * scale, "out_w": w * scale,
            "macs": macs, "params": params, "bytes_in": 4 * c * h * w,
            "bytes_out": 4 * 3 * h * w * scale * scale}


def onnx_input_shape(path: str) -> tuple[int, ...]:
    """The static NCHW input shape stored in an ONNX file; ValueError when it is not static."""
    import onnx

    dims = onnx.load(path).graph.input[0].type.tensor_type.shape.dim
    shape = tuple(d.dim_value for d in dims)
    if not shape or min(shape) <= 0:
        raise ValueError(f"{path}: the ONNX input needs a static shape, got {shape}")
    return shape


def time_network(device_name: str, out: str, name: str, shape, scale: int, *, module=None,
                 onnx_path: str | None = None, macs: int = 0, params: int = 0, trials: int = 64,
                 runtimes=RUNTIMES, rpc_tracker=None, rpc_key=None, work_dir=None,
                 repeats: int = 10, breakdown: str | None = None,
                 dominant_share: float = TuningSettings.dominant_share) -> list[dict]:
    """Time one network called ``name``, ``module`` (a PyTorch module) or ``onnx_path``, at
    input ``shape`` with each runtime in ``runtimes``; its rows (network_features + the timing)
    are appended to ``out`` one by one and returned. TVM tunes every fused task with at least
    ``trials`` trials, the one holding the most FLOPs with ``dominant_share`` x ``trials``
    (devices.tvm_compile.tuning.trial_targets)."""
    device = get_device(device_name)
    features = network_features(name, shape, scale, macs, params)
    rows = []
    for runtime in runtimes:
        try:
            backend = for_device(device, runtime, rpc_tracker=rpc_tracker, rpc_key=rpc_key,
                                 trials=trials, dominant_share=dominant_share, work_dir=work_dir, repeats=repeats,
                                 min_span_s=network_span_s())
        except NotThisHost:
            continue  # references run on this CPU only
        if onnx_path and not backend.builds_onnx:
            continue
        artifact = backend.build_onnx(onnx_path, shape) if onnx_path else backend.build(module, shape)
        measurement = backend.run_measurement(artifact)
        if breakdown and runtime == "tvm" and backend.breaks_down:
            write_csv_atomic(backend.breakdown(artifact).assign(device=device.name, network=name),
                             breakdown)
        row = make_row(device.name, features, measurement)
        append_rows(out, [row])
        rows.append(row)
    return rows
