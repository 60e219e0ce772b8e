import torch

from devices.tvm_compile import fused_kernels
from devices.tvm_compile.relax_rewrite import rewrite_functions


def test_every_relax_function_is_rewritten_and_the_modules_attributes_are_kept():
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU()).eval()
    mod = fused_kernels.relax_from_torch(net, (1, 3, 8, 8)).with_attr("probe", "kept")

    @mutator
    class ReluToSigmoid(PyExprMutator):
        def visit_call_(self, call):
            call = super().visit_call_(call)
            if isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.nn.relu":
                return relax.op.sigmoid(call.args[0])
            return call

    out = rewrite_functions(mod, ReluToSigmoid)
    text = out.script()
    assert "R.sigmoid" in text and "R.nn.relu" not in text
    assert str(out.attrs["probe"]) == "kept"
    assert [g.name_hint for g in out.get_global_vars()] == [g.name_hint for g in mod.get_global_vars()]
