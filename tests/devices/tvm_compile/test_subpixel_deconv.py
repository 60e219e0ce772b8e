"""devices.tvm_compile.subpixel_deconv: a strided ConvTranspose2d whose output is stride x its input becomes
conv2d + pixel shuffle with the same result; other transposed convs are left alone."""
import numpy as np
import pytest
import torch

from devices.catalog import get_device
from devices.tvm_compile import fused_kernels, subpixel_deconv
from devices.tvm_compile.env import make_target


def _ops(mod) -> set[str]:
    import re

    return set(re.findall(r"R\.([a-z_.0-9]+)\(", mod.script()))


def _run(mod, x):
    import tvm
    from tvm import relax

    executable = tvm.compile(mod, target=make_target(get_device("local-cpu").target))
    return relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()


@pytest.mark.parametrize("k,s,p,op", [(9, 4, 4, 3), (4, 2, 1, 0), (3, 2, 1, 1), (6, 3, 2, 1), (3, 3, 0, 0), (5, 2, 2, 1)])
def test_subpixel_rewrite_equals_the_transposed_conv(k, s, p, op):
    torch.manual_seed(k * 10 + s)
    deconv = torch.nn.ConvTranspose2d(5, 3, k, stride=s, padding=p, output_padding=op).eval()
    shape = (1, 5, 7, 6)
    mod = fused_kernels.relax_from_torch(deconv, shape)
    rewritten = subpixel_deconv.rewrite(mod)
    assert "nn.conv2d_transpose" in _ops(mod)
    assert "nn.conv2d_transpose" not in _ops(rewritten) and "nn.conv2d" in _ops(rewritten)
    x = np.random.default_rng(k).standard_normal(shape, dtype="float32")
    want = deconv(torch.from_numpy(x)).detach().numpy()
    assert want.shape == (1, 3, 7 * s, 6 * s)
    np.testing.assert_allclose(_run(rewritten, x), want, rtol=1e-4, atol=1e-5)


def test_a_transposed_conv_not_stride_times_its_input_is_left_alone():
    deconv = torch.nn.ConvTranspose2d(4, 2, 9, stride=4, padding=4).eval()  # 4*(7-1)+1 = 25 rows, not 28
    mod = fused_kernels.relax_from_torch(deconv, (1, 4, 7, 7))
    assert "nn.conv2d_transpose" in _ops(subpixel_deconv.rewrite(mod))


def test_the_subpixel_kernel_of_fsrcnn_deconv_is_3x3_with_48_outputs():
    weight = np.ones((56, 3, 9, 9), dtype="float32")
    kernel = subpixel_deconv.subpixel_weight(weight, (4, 4), (4, 4))
    assert kernel.shape == (48, 56, 3, 3)
    assert (kernel != 0).sum() == 56 * 81 * 3  # every original tap is used exactly once
