"""devices.tvm_compile.kernel_breakdown: every VM call of a compiled network timed inside the network."""
import numpy as np
import torch

from devices.catalog import get_device
from devices.tvm_compile import fused_kernels, tuning
from devices.tvm_compile.env import make_target
from devices.tvm_compile.kernel_breakdown import kernel_breakdown, summarise


def test_breakdown_lists_the_kernels_in_call_order_and_leaves_the_vm_uninstrumented():
    import tvm
    from tvm import relax

    block = torch.nn.Sequential(torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.LeakyReLU(0.2),
                                torch.nn.PixelShuffle(2)).eval()
    shape = (1, 8, 24, 24)
    mod = fused_kernels.relax_from_torch(block, shape)
    target = make_target(get_device("local-cpu").target)
    vm = relax.VirtualMachine(tuning.compile_untuned(mod, target), tvm.cpu())
    x = tvm.runtime.tensor(np.ones(shape, dtype="float32"))
    table = kernel_breakdown(vm, tvm.cpu(), [x], runs=3)
    kernels = table[table.kind == "kernel"].symbol.tolist()
    assert kernels and kernels[0].startswith("conv2d")
    assert any(s.startswith("vm.builtin.alloc") for s in table.symbol)
    assert (table.median_ms > 0).all()
    totals = summarise(table)
    assert totals["kernel_calls"] == len(kernels) and totals["in_network_kernels_ms"] > 0
    got = vm["main"](x).numpy()  # still runs, and correctly, without the instrument
    np.testing.assert_allclose(got, block(torch.ones(shape)).detach().numpy(), rtol=1e-4, atol=1e-4)
