"""Where a whole network's time goes: every call of the Relax VM timed inside the network.

TVM 0.27's Relax VM has no profiler; its instrument hook runs before and after every call
instruction, so each call (a fused kernel, or a VM builtin such as `vm.builtin.alloc_storage`
or a reshape) is timed with `time.perf_counter` around it, the device synchronised after the
call. The instrument adds a few µs per call, so per-call times are upper bounds and their sum
may exceed the time evaluator's median; the breakdown is for attribution, the latency stays the
time evaluator's.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd

BUILTIN_PREFIX = "vm.builtin."


def kernel_breakdown(vm, dev, args, runs: int = 5) -> pd.DataFrame:
    """One row per call of `vm["main"](*args)` in call order: `symbol`, `kind` (`kernel` or
    `builtin`) and `median_ms` over `runs` instrumented runs after one warm-up run."""
    runs_s: list[list[float]] = []
    names: list[str] = []
    started: list[float] = []

    def instrument(func, symbol, before_run, ret_value, *call_args):
        if before_run:
            started.append(time.perf_counter())
        else:
            dev.sync()
            runs_s[-1].append(time.perf_counter() - started.pop())
            if len(runs_s) == 1:
                names.append(str(symbol))
        return 0  # VMInstrumentReturnKind.NO_OP: run the call as usual

    vm.set_instrument(instrument)
    try:
        for _ in range(runs + 1):  # the first run (allocations, first touch) is a warm-up
            runs_s.append([])
            vm["main"](*args)
            dev.sync()
    finally:
        vm.set_instrument(None)
    per_call = np.array(runs_s[1:]) * 1e3
    if per_call.ndim != 2 or per_call.shape[1] != len(names):
        raise RuntimeError("the network made a different sequence of calls on different runs")
    return pd.DataFrame({"symbol": names,
                         "kind": ["builtin" if n.startswith(BUILTIN_PREFIX) else "kernel" for n in names],
                         "median_ms": np.median(per_call, axis=0)})


def summarise(breakdown: pd.DataFrame) -> dict:
    """Totals of a breakdown (ms): kernels, VM builtins, and the number of kernel calls."""
    kernels = breakdown[breakdown.kind == "kernel"]
    return {"in_network_kernels_ms": float(kernels.median_ms.sum()),
            "in_network_builtins_ms": float(breakdown[breakdown.kind == "builtin"].median_ms.sum()),
            "kernel_calls": len(kernels)}
