"""Apply a Relax expression mutator to every Relax function of an IRModule (one place for the
loop the graph rewrites of devices.tvm_compile.fast_math, devices.tvm_compile.subpixel_deconv and devices.tvm_compile.layout
share)."""
from __future__ import annotations


def rewrite_functions(mod, mutator_class):
    """``mod`` with each Relax function visited by one ``mutator_class(mod)`` (a
    ``@relax.expr_functor.mutator`` PyExprMutator); its block builder keeps the other functions,
    the module's attributes and any function the mutator adds (e.g. by ``call_te``)."""
    from tvm import relax

    mutator = mutator_class(mod)
    for gvar, func in mod.functions.items():
        if isinstance(func, relax.Function):
            mutator.builder_.update_func(gvar, mutator.visit_expr(func))
    return mutator.builder_.get()
