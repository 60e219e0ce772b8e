"""The zoo's face networks and PPE detector (predictors.public.zoo_face_ppe): built at the zoo's
configuration, their parameters are the zoo's, they count on the meta device at the zoo's input
and give the zoo wrapper's outputs."""
from collections import Counter

import pytest
import torch
from torch import nn

from predictors.public.qaihub_features import feature_row, folded_parameter_count
from predictors.public.zoo_face_ppe import ZOO_FACE_PPE

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d (BN folded); face_attrib_net's
# 12.1M is the multitask network exported until v0.41, not today's (its exact count below)
ZOO_PARAMS = {"cavaface": "65.5", "gear_guard_net": "6.19"}
FACE_ATTRIB_PARAMS = 10_822_384
OUTPUT = {"face_attrib_net": [(1, 5)], "cavaface": [(1, 512)],
          "gear_guard_net": [(1, 3780, 4), (1, 3780), (1, 3780)]}   # 3780 = 3 anchors × (40·24 + 20·12 + 10·6)
INPUT = {"face_attrib_net": "1x3x128x128", "cavaface": "1x3x112x112", "gear_guard_net": "1x3x320x192"}


def _build(zoo):
    with torch.device("meta"):            # no weights needed: fast
        return ZOO_FACE_PPE[zoo][0]()


@pytest.fixture(scope="module")
def built():
    return {zoo: _build(zoo) for zoo in ZOO_FACE_PPE}


@pytest.fixture(scope="module")
def rows():
    return {zoo: feature_row(zoo, _build(zoo), shape, source) for zoo, (_, shape, source) in ZOO_FACE_PPE.items()}


def _params(net):
    return sum(p.numel() for p in net.parameters()), folded_parameter_count(net)


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo(built, zoo):
    params, folded = _params(built[zoo])
    decimals = len(ZOO_PARAMS[zoo].split(".")[1])
    assert round(folded / 1e6, decimals) == float(ZOO_PARAMS[zoo])
    assert abs(params / 1e6 - float(ZOO_PARAMS[zoo])) <= 0.005 * float(ZOO_PARAMS[zoo])


def test_face_attrib_net_is_the_detection_only_network(built):
    assert _params(built["face_attrib_net"])[0] == FACE_ATTRIB_PARAMS    # as the zoo's FaceAttribNet(64, [2, 6, 3])


def test_zoo_inputs_and_outputs(rows, built):
    assert {zoo: row["input_shape"] for zoo, row in rows.items()} == INPUT
    for zoo, (_, shape, _) in ZOO_FACE_PPE.items():
        with torch.no_grad():
            out = built[zoo].eval()(torch.empty(*shape, device="meta"))
        out = out if isinstance(out, tuple) else (out,)
        assert [tuple(t.shape) for t in out] == OUTPUT[zoo], zoo
    assert out[2].dtype == torch.uint8                                  # gear_guard_net's class indices


def test_face_attrib_net_grouped_units(built):
    net = built["face_attrib_net"]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    grouped = [c for c in convs if c.groups > 1]
    # every 3×3 convolution but the stem's first is grouped, 32 input channels a group, except the
    # downsampling blocks' second one (its groups follow the block's input width: 64); the rest 1×1
    assert all(c.kernel_size == (3, 3) for c in grouped)
    assert [c.kernel_size for c in convs if c.groups == 1] == [(3, 3)] + [(1, 1)] * 38
    assert Counter(c.in_channels // c.groups for c in grouped) == {32: 35, 64: 3}
    assert [m.out_features for m in net.modules() if isinstance(m, nn.Linear)] == [2] * 5


def test_cavaface_ir_se_100(built):
    net = built["cavaface"]
    assert len(net.body) == 3 + 13 + 30 + 3 == 49
    strided = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.stride == (2, 2)]
    assert [(c.kernel_size, c.out_channels) for c in strided] == [
        ((3, 3), 64), ((1, 1), 128), ((3, 3), 128), ((1, 1), 256), ((3, 3), 256), ((1, 1), 512), ((3, 3), 512)]
    pools = [m for m in net.modules() if isinstance(m, nn.MaxPool2d)]          # same-width shortcuts
    assert len(pools) == 46 and sum(p.stride == 2 for p in pools) == 1
    assert net.fc.in_features == 512 * 7 * 7


def test_gear_guard_net_detection_maps(built):
    net = built["gear_guard_net"]
    with torch.no_grad():
        maps = net.detector(torch.empty(1, 3, 320, 192, device="meta"))
    assert [tuple(m.shape) for m in maps] == [(1, 21, 40, 24), (1, 21, 20, 12), (1, 21, 10, 6)]
    dw = [m for m in net.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert len(dw) == 20 and all(c.kernel_size == (5, 5) and c.groups == c.in_channels for c in dw)
    assert [tuple(getattr(net, f"grid{i}").shape) for i in range(3)] == [(2, 1, 2880), (2, 1, 720), (2, 1, 180)]


def test_feature_rows(rows):
    assert rows["face_attrib_net"]["n:matmul"] == 5 and rows["face_attrib_net"]["n:concat"] == 6   # 5 cats, 1 stack
    assert rows["cavaface"]["n:matmul"] == 1 and rows["cavaface"]["n:dwconv"] == 0
    assert rows["gear_guard_net"]["n:dwconv"] == 20 and rows["gear_guard_net"]["n:pool"] == 2      # amax, argmax
    assert all(row["n:movement"] == 0 for zoo, row in rows.items() if zoo != "gear_guard_net")


def test_total_macs(rows):
    gmacs = {zoo: row["macs"] / 1e9 for zoo, row in rows.items()}
    assert gmacs["cavaface"] == pytest.approx(24.18 / 2, rel=0.01)   # cavaface MODEL_ZOO: IR-SE-100 24.18G flops
    # as counted by this implementation: a guard against an accidental change
    assert gmacs == pytest.approx({"face_attrib_net": 2.188, "cavaface": 12.077, "gear_guard_net": 0.8911}, rel=1e-3)
