"""TVM process setup for CPU tuning: target from a JSON dict, cheap tensor-intrinsic loading.

MetaSchedule imports `tvm.s_tir.tensor_intrin` in every TuneContext and in every builder worker.
With apache-tvm 0.27.0.post1 that import takes 69 s of CPU on this machine (cuda 37 s, rocm 14 s,
hexagon 6 s, arm_cpu 3 s; `python -X importtime`; several times more once torch is imported,
because TVMScript's parser calls inspect.stack(), which scans sys.modules), and LocalBuilder
restarts its worker pool for every batch, so under load every build hit the 30 s builder timeout.
A CPU schedule needs only its own ISA's intrinsics, so for llvm targets only those are registered.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_INTRIN_PACKAGE = "tvm.s_tir.tensor_intrin"


def make_target(target: dict):
    """tvm.target.Target from a catalog target JSON dict."""
    import tvm

    return tvm.target.Target(target)


def intrinsic_family(target) -> str:
    """`x86` or `arm_cpu`: the tensor-intrinsic module an llvm target needs."""
    triple = str(target.attrs.get("mtriple", "")) if target.attrs else ""
    return "arm_cpu" if triple.startswith(("aarch64", "arm")) else "x86"


def load_cpu_tensor_intrinsics(family: str = "x86") -> None:
    """Register only one CPU family's tensor intrinsics (skip cuda/rocm/hexagon/metal)."""
    if _INTRIN_PACKAGE in sys.modules:
        return
    import tvm.s_tir

    spec = importlib.util.find_spec(_INTRIN_PACKAGE)
    package = importlib.util.module_from_spec(spec)  # the package without running its __init__
    sys.modules[_INTRIN_PACKAGE] = package
    tvm.s_tir.tensor_intrin = package
    setattr(package, family, importlib.import_module(f"{_INTRIN_PACKAGE}.{family}"))


def prepare_cpu_tuning(target) -> None:
    """Before MetaSchedule runs for `target`: cheap intrinsics for llvm, and let TVM's popen
    workers import this package (they unpickle devices.* functions)."""
    if target.kind.name == "llvm":
        load_cpu_tensor_intrinsics(intrinsic_family(target))
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if str(REPO_ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in paths if p])
