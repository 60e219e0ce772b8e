"""devices.tvm_compile.layout: NHWC conversion keeps the network's function, fuses each conv with its
epilogue, and leaves no transpose between convs (only at the input, the output and around ops
that are layout-bound, like pixel shuffle and conv2d_transpose)."""
import numpy as np
import pytest
import torch

from devices.backends import create
from devices.catalog import get_device
from devices.tvm_compile import fused_kernels
from devices.tvm_compile import layout as tvm_layout
from devices.tvm_compile.env import make_target

SHAPE = (1, 3, 10, 12)


def _body(act: torch.nn.Module) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), act,
                               torch.nn.Conv2d(8, 8, 3, padding=1), act,
                               torch.nn.Conv2d(8, 12, 3, padding=1), torch.nn.PixelShuffle(2)).eval()


def _kernels(mod) -> list[str]:
    import tvm

    target = make_target(get_device("local-cpu").target)
    fused = fused_kernels.fuse(mod, target)
    return sorted(gv.name_hint for gv, f in fused.functions.items() if isinstance(f, tvm.tirx.PrimFunc))


def _run(mod, x: np.ndarray) -> np.ndarray:
    import tvm
    from tvm import relax

    executable = tvm.compile(mod, target=make_target(get_device("local-cpu").target))
    return relax.VirtualMachine(executable, tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()


@pytest.mark.parametrize("act", [torch.nn.LeakyReLU(0.2), torch.nn.PReLU(8), torch.nn.ReLU()],
                         ids=["leakyrelu", "prelu", "relu"])
def test_nhwc_network_computes_the_same_and_has_no_transpose_between_convs(act):
    torch.manual_seed(0)
    model = _body(act)
    if isinstance(act, torch.nn.PReLU):
        torch.nn.init.uniform_(act.weight, 0.05, 0.5)  # per-channel slopes, not one value
    nchw = fused_kernels.relax_from_torch(model, SHAPE)
    nhwc = tvm_layout.convert_layout(nchw, "NHWC")

    kernels = _kernels(nhwc)
    convs = [k for k in kernels if k.startswith("fused_conv2d")]
    assert len(convs) == 3 and all("transpose" not in k for k in convs)  # epilogue fused, no layout change
    # one transpose into NHWC; the pixel shuffle's own transposes stay fused with its reshape
    assert len([k for k in kernels if "transpose" in k]) == 2, kernels
    assert len(kernels) == 5

    x = np.random.default_rng(0).standard_normal(SHAPE, dtype="float32")
    want = model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(_run(nhwc, x), want, rtol=1e-5, atol=1e-5)


def test_conv_transpose_stays_nchw_and_still_builds():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1), torch.nn.PReLU(8),
                                torch.nn.ConvTranspose2d(8, 3, 9, stride=2, padding=4, output_padding=1)).eval()
    nhwc = tvm_layout.convert_layout(fused_kernels.relax_from_torch(model, SHAPE), "NHWC")
    x = np.random.default_rng(1).standard_normal(SHAPE, dtype="float32")
    np.testing.assert_allclose(_run(nhwc, x), model(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_nchw_is_the_imported_module_and_unknown_layouts_are_refused():
    mod = fused_kernels.relax_from_torch(_body(torch.nn.ReLU()), SHAPE)
    assert tvm_layout.convert_layout(mod, "NCHW") is mod
    with pytest.raises(ValueError, match="unknown layout 'NCWH'"):
        tvm_layout.convert_layout(mod, "NCWH")


def test_tvm_local_builds_nchw_by_default_nhwc_on_request_and_names_the_layout(tmp_path):
    device = get_device("local-cpu")
    default = create("tvm-local", device, trials=0, work_dir=tmp_path)
    assert default.layout == "NCHW"
    artifact = default.build(_body(torch.nn.ReLU()), SHAPE)
    assert artifact.target.endswith(" layout=NCHW") and not artifact.tuned
    nhwc = create("tvm-local", device, trials=0, work_dir=tmp_path, layout="NHWC")
    assert nhwc.build(_body(torch.nn.ReLU()), SHAPE).target.endswith(" layout=NHWC")
    with pytest.raises(ValueError, match="unknown layout"):
        create("tvm-local", device, trials=0, work_dir=tmp_path, layout="CHWN")
