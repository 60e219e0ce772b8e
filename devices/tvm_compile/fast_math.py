"""tanh and sigmoid as vectorisable rational approximations in TVM builds.

TVM 0.27 legalises ``tanh`` and ``sigmoid`` into ``exp`` calls that LLVM cannot vectorise
without a vector math library, so each element costs one or two scalar ``expf`` calls. In ESPCN's
tuned build the 5x5 conv 3->64 + tanh at 90x160 took 4.7 ms (15 GMAC/s) and the conv 64->32 +
tanh 4.5 ms, against 2.4 ms for the larger conv 32->48 without tanh (benchmarks/results/
compile_local_cpu.csv, devices.tvm_compile.kernel_breakdown). onnxruntime's CPU kernels (MLAS) evaluate tanh
and sigmoid with a rational polynomial instead; this pass does the same in TVM:
``tanh(x)`` becomes ``topi.fast_tanh(x)`` (a clamped 13/6-degree rational polynomial) and
``sigmoid(x)`` becomes ``0.5 + 0.5 * fast_tanh(x / 2)`` (an identity, so both share one
approximation). Both stay element-wise, so FuseOps still fuses them into the conv before them.
Error against float64: below 1e-6 absolute over [-20, 20] (tests/devices/tvm_compile/test_fast_math.py).
"""
from __future__ import annotations

from devices.tvm_compile.relax_rewrite import rewrite_functions


def _fast_sigmoid(x):
    from tvm import tirx, topi

    half = tirx.const(0.5, x.dtype)
    return topi.add(half, topi.multiply(half, topi.fast_tanh(topi.multiply(x, half))))


def rewrite(mod):
    """`mod` with every float32 `relax.tanh` and `relax.sigmoid` replaced by its fast
    approximation; other calls are left as they are."""
    import tvm
    from tvm import topi
    from tvm.relax.expr_functor import PyExprMutator, mutator

    kernels = {"relax.tanh": topi.fast_tanh, "relax.sigmoid": _fast_sigmoid}

    @mutator
    class FastMath(PyExprMutator):
        def visit_call_(self, call):
            call = super().visit_call_(call)
            if not (isinstance(call.op, tvm.ir.Op) and call.op.name in kernels
                    and str(call.args[0].ty.dtype) == "float32"):
                return call
            return self.builder_.call_te(kernels[call.op.name], call.args[0],
                                         primfunc_name_hint=call.op.name.split(".")[-1] + "_fast")

    return rewrite_functions(mod, FastMath)
