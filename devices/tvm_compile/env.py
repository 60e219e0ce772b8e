"""TVM process setup for CPU tuning: target from a JSON dict, cheap tensor-intrinsic loading.

MetaSchedule imports `tvm.s_tir.tensor_intrin` in every TuneContext and in every builder worker.
With apache-tvm 0.27.0.post1 that import takes 69 s of CPU on this machine (cuda 37 s, rocm 14 s,
hexagon 6 s, arm_cpu 3 s; `python -X importtime`; several times more once torch is imported,
because TVMScript's parser calls inspect.stack(), which scans sys.modules), and LocalBuilder
restarts its worker pool for every batch, so under load every build hit the 30 s builder timeout.
A CPU schedule needs only its own ISA's intrinsics, so for llvm targets only those are registered.

TVM's CPU thread pool takes its size from TVM_NUM_THREADS (or OMP_NUM_THREADS), else half of
`std::thread::hardware_concurrency()` on x86 ("ignore hyper-threading"): 1 thread on a 2-vCPU VM
whose target says num-cores=2. Creating a tvm-local backend sets TVM_NUM_THREADS to the target's
cores before any kernel runs (popen workers inherit it) and checks that the pool runs them.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_INTRIN_PACKAGE = "tvm.s_tir.tensor_intrin"


def make_target(target: dict):
    """tvm.target.Target from a catalog target JSON dict."""
    import tvm

    return tvm.target.Target(target)


class ThreadPoolMismatch(RuntimeError):
    """TVM's thread pool in this process already runs another number of threads."""


def pin_runtime_threads(threads: int) -> None:
    """Run TVM's CPU kernels on `threads` threads in this process and in the popen workers it
    starts afterwards (MetaSchedule's local runner inherits the environment).

    The pool reads TVM_NUM_THREADS once, when first used, and cannot change afterwards, so a
    pool already running another number of threads raises ThreadPoolMismatch. Without this the
    same tuning records timed 2.0-2.3x apart here, depending on whether the shell happened to
    export TVM_NUM_THREADS or OMP_NUM_THREADS."""
    import tvm

    previous = os.environ.get("TVM_NUM_THREADS")
    os.environ["TVM_NUM_THREADS"] = str(int(threads))
    running = int(tvm.get_global_func("runtime.NumThreads")())
    if running != int(threads):
        if previous is None:
            del os.environ["TVM_NUM_THREADS"]
        else:
            os.environ["TVM_NUM_THREADS"] = previous
        raise ThreadPoolMismatch(f"TVM's thread pool in this process already runs {running} threads, "
                                 f"the target needs {threads}: set TVM_NUM_THREADS={threads} before "
                                 "starting, or time one target per process")


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
