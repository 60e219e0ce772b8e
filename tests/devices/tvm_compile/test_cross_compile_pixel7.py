"""pixel7's target builds and exports as an aarch64 ELF shared object (cross compiler from Debian)."""
import shutil

import pytest
import torch

from devices.catalog import get_device
from devices.tvm_compile import cross_compile, fused_kernels
from devices.tvm_compile.env import make_target

EM_AARCH64 = 183


@pytest.mark.skipif(shutil.which("aarch64-linux-gnu-gcc") is None,
                    reason="needs gcc-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu)")
def test_pixel7_build_is_an_aarch64_shared_object(tmp_path):
    import tvm

    device = get_device("pixel7")
    target = make_target({**device.target, "mtriple": "aarch64-linux-gnu"})  # gcc, not the NDK
    module = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.LeakyReLU(0.2))
    executable = tvm.compile(fused_kernels.relax_from_torch(module, (1, 4, 8, 8)), target=target)
    cc = cross_compile.find_cross_compiler("aarch64-linux-gnu")
    path = cross_compile.export_shared(executable, str(tmp_path / "net.so"), cc)
    header = open(path, "rb").read(20)
    assert header[:4] == b"\x7fELF" and header[4] == 2  # 64-bit ELF
    assert int.from_bytes(header[18:20], "little") == EM_AARCH64
    assert header[16] == 3  # ET_DYN: a shared object


def test_cross_compiler_is_needed_only_for_another_isa():
    import platform

    assert cross_compile.needs_cross_compiler("aarch64-linux-android") == (platform.machine() != "aarch64")
    assert not cross_compile.needs_cross_compiler(f"{platform.machine()}-linux-gnu")
