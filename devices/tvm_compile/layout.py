"""Data layout of the convolutions TVM compiles: NCHW as imported (the default), or NHWC.

In NHWC MetaSchedule vectorises a fused conv over output channels, in NCHW over the image
width. Measured on a quiet 2-core Zen 4 VM (benchmarks/results/tvm_tuning_curve.csv, a 64→64
3x3 conv + LeakyReLU at 90x160), NCHW won: 5.0-5.3 ms from 64 trials on (48 zmm FMAs in the
kernel, onnxruntime 5.0 ms in the same run) against 7.9-9.8 ms for NHWC at any budget to 512.
NHWC stays an option (`layout=` of the tvm-local backend) for targets where it wins.

Relax's ConvertLayout rewrites the conv2d ops and every op with layout inference between them.
Two ops of the imported networks lack it and would each put a transpose back to NCHW and one
forward again around themselves, and split the conv's epilogue into a kernel of its own:
- ``nn.leakyrelu`` becomes ``maximum(x, alpha * x)`` (equal for 0 <= alpha <= 1);
- PyTorch's PReLU, imported as ``where(x > 0, x, alpha * x)`` with a per-channel ``alpha``,
  becomes ``maximum(x, 0) + alpha * minimum(x, 0)`` (``where`` has no layout inference);
- a multiply or add whose first operand is a constant gets its operands swapped, since binary
  layout inference follows the first operand.
"""
from __future__ import annotations

from devices.tvm_compile.relax_rewrite import rewrite_functions

LAYOUTS = ("NCHW", "NHWC")
# conv2d_transpose stays NCHW: LegalizeOps lowers it in NCHW/IOHW only (TVM 0.27).
_DESIRED = {"NHWC": {"relax.nn.conv2d": ["NHWC", "OHWI"], "relax.nn.conv2d_transpose": ["NCHW", "IOHW"]}}
_COMMUTATIVE = ("relax.add", "relax.multiply")


def _rewriter():
    """A Relax mutator applying the two rewrites of the module docstring."""
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    def op_name(call) -> str:
        return call.op.name if isinstance(call.op, tvm.ir.Op) else ""

    def constant_like(expr) -> bool:
        return isinstance(expr, type(relax.const(0.0)))

    @mutator
    class LayoutFriendly(PyExprMutator):
        def visit_call_(self, call):
            call = super().visit_call_(call)
            name = op_name(call)
            if name == "relax.nn.leakyrelu" and 0.0 <= float(call.attrs.alpha) <= 1.0:
                x = call.args[0]
                alpha = relax.const(float(call.attrs.alpha), x.ty.dtype)
                return relax.op.maximum(x, relax.op.multiply(x, alpha))
            if name == "relax.where" and (prelu := self._prelu_alpha(call)) is not None:
                x, alpha = prelu
                zero = relax.const(0.0, x.ty.dtype)
                return relax.op.add(relax.op.maximum(x, zero),
                                    relax.op.multiply(relax.op.minimum(x, zero), alpha))
            if name in _COMMUTATIVE and constant_like(call.args[0]) and not constant_like(call.args[1]):
                return relax.Call(call.op, [call.args[1], call.args[0]], call.attrs)
            return call

        def _prelu_alpha(self, call):
            """(x, alpha) when `call` is where(x > 0, x, alpha * x) with a constant alpha."""
            cond, x, negative = (self._bound(a) for a in call.args)
            if op_name(cond) != "relax.greater" or not _is_zero(cond.args[1]):
                return None
            if not (self._bound(cond.args[0]).same_as(x) and op_name(negative) == "relax.multiply"):
                return None
            a, b = negative.args
            alpha = a if constant_like(a) else b if constant_like(b) else None
            other = b if alpha is a else a
            if alpha is None or not self._bound(other).same_as(x):
                return None
            return call.args[1], alpha

        def _bound(self, expr):
            """The value a dataflow variable is bound to (else `expr`)."""
            value = self.lookup_binding(expr) if isinstance(expr, relax.Var) else None
            return value if value is not None else expr

    def _is_zero(expr) -> bool:
        return constant_like(expr) and expr.value.numpy().size == 1 and float(expr.value.numpy()) == 0.0

    return LayoutFriendly


def convert_layout(mod, layout: str):
    """`mod` with its conv2d ops in `layout` (one of LAYOUTS); NCHW returns `mod` unchanged."""
    from tvm import relax

    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}")
    if layout == "NCHW":
        return mod
    mod = relax.transform.FoldConstant()(mod)  # reshaped constants become constants
    return relax.transform.ConvertLayout(_DESIRED[layout])(rewrite_functions(mod, _rewriter()))
