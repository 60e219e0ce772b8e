"""h100's TVM CUDA target builds here without a GPU: TVM's default CUDA pipeline schedules every
fused task with DLight (thread bindings), so untuned GPU builds need no extra schedule step."""
import torch

from devices.catalog import get_device
from devices.tvm_compile import fused_kernels, tuning
from devices.tvm_compile.env import make_target


def _modules(module):
    yield module
    for child in module.imports:
        yield from _modules(child)


def test_untuned_cuda_build_binds_every_kernel_to_threads():
    block = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.LeakyReLU(0.2),
                                torch.nn.PixelShuffle(2)).eval()
    mod = fused_kernels.relax_from_torch(block, (1, 8, 12, 12))
    target = make_target(get_device("h100").target)
    executable = tuning.compile_untuned(mod, target)
    cuda = [m for m in _modules(executable.mod) if m.kind == "cuda"]
    assert len(cuda) == 1
    source = cuda[0].inspect_source()
    kernels = source.count("__global__")
    assert kernels >= 2 and source.count("threadIdx.x") >= kernels
