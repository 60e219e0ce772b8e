"""devices.tvm_compile.fast_math: tanh and sigmoid become rational approximations that stay within 1e-6 of
the exact functions and still fuse into the conv before them."""
import re

import numpy as np
import torch

from devices.catalog import get_device
from devices.tvm_compile import fast_math, fused_kernels
from devices.tvm_compile.env import make_target


class TanhSigmoid(torch.nn.Module):
    def forward(self, x):
        return torch.tanh(x) - torch.sigmoid(3 * x)


class ConvTanh(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        return torch.sigmoid(self.conv(torch.tanh(self.conv(x)[:, :3])))


def _target():
    return make_target(get_device("local-cpu").target)


def test_tanh_and_sigmoid_are_replaced_and_stay_within_1e6_of_float64():
    import tvm
    from tvm import relax

    x = np.linspace(-20, 20, 2 * 3000, dtype="float32").reshape(1, 2, 3000, 1)
    mod = fused_kernels.relax_from_torch(TanhSigmoid().eval(), x.shape)
    rewritten = fast_math.rewrite(mod)
    ops = set(re.findall(r"R\.([a-z_.0-9]+)\(", rewritten.script()))
    assert {"tanh", "sigmoid"} <= set(re.findall(r"R\.([a-z_.0-9]+)\(", mod.script()))
    assert not {"tanh", "sigmoid"} & ops
    got = relax.VirtualMachine(tvm.compile(rewritten, target=_target()), tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    x64 = x.astype(np.float64)
    want = np.tanh(x64) - 1 / (1 + np.exp(-3 * x64))
    assert np.abs(got - want).max() < 1e-6


def test_the_approximations_fuse_into_the_conv_before_them():
    mod = fast_math.rewrite(fused_kernels.relax_from_torch(ConvTanh().eval(), (1, 3, 8, 8)))
    names = [t.task_name for t in fused_kernels.extract_fused_tasks(mod, _target())]
    assert any("conv2d" in n and "sigmoid_fast" in n for n in names), names
    assert not any(n.startswith(("tanh_fast", "sigmoid_fast")) for n in names), names
