"""Kernels as TVM runs them: a PyTorch block → Relax → TVM's fused graph → fused TIR tasks.

TVM fuses a conv with its bias, activation and residual add into one PrimFunc; that fused unit is
what costs time, so it is what we tune and time. `extract_tasks` finds nothing on the raw imported
module, only after LegalizeOps → AnnotateTIROpPattern → FoldConstant → FuseOps → FuseTIR (the same
preparation `compile_relax` applies before MetaScheduleApplyDatabase, so database keys match).
"""
from __future__ import annotations

import warnings

import torch


def relax_from_torch(module: torch.nn.Module, input_shape: tuple[int, ...]):
    """Relax IRModule of `module` (eval mode, float32, weights as constants) at `input_shape`."""
    from tvm.relax.frontend.torch import from_exported_program

    example = torch.randn(*input_shape)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        exported = torch.export.export(module.eval(), (example,))
    return from_exported_program(exported, keep_params_as_input=False, unwrap_unit_return_tuple=True)


def relax_from_onnx(model: bytes | str):
    """Relax IRModule of an ONNX model, a file path or its bytes (static shapes as stored)."""
    import onnx
    from tvm.relax.frontend.onnx import from_onnx

    proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(model)
    return from_onnx(proto, keep_params_in_input=False)


def fusion_passes(target) -> list:
    """The passes that turn an imported module into TVM's fused graph for `target`."""
    from tvm import relax
    from tvm.relax import pipeline

    try:
        dispatch = list(pipeline.library_dispatch_passes(target))
    except (ValueError, AttributeError):
        dispatch = []
    return dispatch + [relax.transform.LegalizeOps(), relax.transform.AnnotateTIROpPattern(),
                       relax.transform.FoldConstant(), relax.transform.FuseOps(),
                       relax.transform.FuseTIR()]


def fuse(mod, target):
    """TVM's fused graph of `mod`: every PrimFunc in it is one kernel TVM will run."""
    import tvm

    with target:
        return tvm.transform.Sequential(fusion_passes(target))(mod)


def extract_fused_tasks(mod, target) -> list:
    """MetaSchedule tasks (one per distinct fused PrimFunc) of an imported module."""
    from tvm.s_tir import meta_schedule as ms

    return list(ms.relax_integration.extract_tasks(fuse(mod, target), target))


def task_summary(tasks) -> str:
    """`name*weight` of each task joined by `+`, e.g. `fused_conv2d_add_leaky_relu*1`."""
    return "+".join(f"{t.task_name}*{int(t.weight)}" for t in tasks)
