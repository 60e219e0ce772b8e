"""The zoo's FFNet and DDRNet segmenters (predictors.public.zoo_segmenters): built at the zoo's
configuration, their parameters are the zoo's, they count on the meta device at the zoo's input
and give the zoo wrapper's un-upsampled logits."""
import pytest
import torch
from torch import nn

from predictors.public.qaihub_features import feature_row, folded_parameter_count
from predictors.public.zoo_segmenters import ZOO_SEGMENTERS

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d (BN folded); ddrnet23_slim's
# until v0.28 (6.13M since v0.32, network and its 21.7 MB float size unchanged)
ZOO_PARAMS = {"ffnet_40s": "13.9", "ffnet_54s": "18.0", "ffnet_78s": "27.5", "ffnet_78s_lowres": "26.8",
              "ffnet_122ns_lowres": "32.1", "ddrnet23_slim": "5.69"}
OUTPUT = {"ffnet_40s": (1, 19, 128, 256), "ffnet_54s": (1, 19, 128, 256), "ffnet_78s": (1, 19, 128, 256),
          "ffnet_78s_lowres": (1, 19, 64, 128), "ffnet_122ns_lowres": (1, 19, 64, 128),
          "ddrnet23_slim": (1, 19, 128, 256)}
# 3×3 and 1×1 convolutions of stride 2: stems, first blocks and their projections (DDRNet: and the
# four high-to-low fusions)
STRIDE_2 = {"ffnet_40s": 10, "ffnet_54s": 10, "ffnet_78s": 10, "ffnet_78s_lowres": 8,
            "ffnet_122ns_lowres": 8, "ddrnet23_slim": 13}
PRE_DOWN = ("ffnet_78s_lowres", "ffnet_122ns_lowres")


@pytest.fixture(scope="module")
def built():
    return {zoo: builder() for zoo, (builder, _, _) in ZOO_SEGMENTERS.items()}


@pytest.fixture(scope="module")
def rows(built):
    return {zoo: feature_row(zoo, built[zoo], shape, source)
            for zoo, (_, shape, source) in ZOO_SEGMENTERS.items()}


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo(built, zoo):
    net = built[zoo]
    params = sum(p.numel() for p in net.parameters())
    folded = folded_parameter_count(net)
    decimals = len(ZOO_PARAMS[zoo].split(".")[1])
    assert round(folded / 1e6, decimals) == float(ZOO_PARAMS[zoo])
    assert abs(params / 1e6 - float(ZOO_PARAMS[zoo])) <= 0.005 * float(ZOO_PARAMS[zoo])


def test_zoo_inputs_and_unupsampled_logits(rows):
    assert {zoo: row["input_shape"] for zoo, row in rows.items()} == {
        zoo: "1x3x512x1024" if zoo in PRE_DOWN else "1x3x1024x2048" for zoo in ZOO_SEGMENTERS}
    for zoo, (builder, shape, _) in ZOO_SEGMENTERS.items():
        with torch.no_grad():
            out = builder().eval().to("meta")(torch.empty(*shape, device="meta"))
        assert tuple(out.shape) == OUTPUT[zoo], zoo


@pytest.mark.parametrize("zoo", sorted(ZOO_SEGMENTERS))
def test_plain_convolutions_with_the_expected_strides(built, zoo):
    convs = [m for m in built[zoo].modules() if isinstance(m, nn.Conv2d)]
    assert all(c.dilation == (1, 1) and c.groups == 1 for c in convs)
    assert sum(c.stride == (2, 2) for c in convs) == STRIDE_2[zoo]
    assert all(c.stride in ((1, 1), (2, 2)) and c.kernel_size in ((1, 1), (3, 3)) for c in convs)


def test_pre_down_ffnets_halve_the_zoo_input_with_one_depthwise_convolution(rows, built):
    for zoo, row in rows.items():
        assert row["n:dwconv"] == (zoo in PRE_DOWN), zoo
        assert row["n:matmul"] == 0 and row["n:movement"] > 0
        assert row["n:concat"] == (1 if zoo == "ddrnet23_slim" else 3)   # FFNet: one per coarser map
    sizes = []
    smoothing = built["ffnet_122ns_lowres"].smoothing
    hook = smoothing.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape)))
    try:
        feature_row("x", built["ffnet_122ns_lowres"], (1, 3, 512, 1024), "")
    finally:
        hook.remove()
    assert sizes == [(1, 3, 255, 510)]


def test_total_macs(rows):
    gmacs = {zoo: row["macs"] / 1e9 for zoo, row in rows.items()}
    assert gmacs["ddrnet23_slim"] == pytest.approx(36.3, rel=0.01)   # the DDRNet paper's 36.3 GFLOPs
    # as counted by this implementation: a guard against an accidental change
    assert gmacs == pytest.approx({"ffnet_40s": 62.37, "ffnet_54s": 75.69, "ffnet_78s": 96.04,
                                   "ffnet_78s_lowres": 19.91, "ffnet_122ns_lowres": 12.75,
                                   "ddrnet23_slim": 36.28}, rel=1e-3)
