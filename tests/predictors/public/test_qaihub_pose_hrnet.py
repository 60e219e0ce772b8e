"""The zoo's HRNet pose estimators (predictors.public.zoo_pose_hrnet): built at the zoo's
configuration, their parameters are the zoo's, they count on the meta device at the zoo's
256×192 input and give 64×48 heatmaps (Lite-HRNet: and the wrapper's decoded keypoints)."""
import pytest
import torch
from torch import nn

from predictors.public.qaihub_features import feature_row, folded_parameter_count
from predictors.public.zoo_pose_hrnet import ZOO_POSE_HRNET, _ArgmaxDecode

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d (BN folded)
ZOO_PARAMS = {"hrnet_pose": "28.5", "litehrnet": "1.11"}
# the authors' modules (leoxiaobin 6f69e46 w32_256x192; mmpose 1.2.0 litehrnet-18), unfolded
AUTHORS_PARAMS = {"hrnet_pose": 28_536_113, "litehrnet": 1_130_769}
HEATMAPS = (1, 17, 64, 48)


@pytest.fixture(scope="module")
def built():
    return {zoo: builder() for zoo, (builder, _, _) in ZOO_POSE_HRNET.items()}


@pytest.fixture(scope="module")
def rows(built):
    return {zoo: feature_row(zoo, built[zoo], shape, source)
            for zoo, (_, shape, source) in ZOO_POSE_HRNET.items()}


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo(built, zoo):
    net = built[zoo]
    params = sum(p.numel() for p in net.parameters())
    folded = folded_parameter_count(net)
    decimals = len(ZOO_PARAMS[zoo].split(".")[1])
    assert round(folded / 1e6, decimals) == float(ZOO_PARAMS[zoo])
    assert params == AUTHORS_PARAMS[zoo]


def test_zoo_inputs_and_heatmap_outputs(rows):
    assert {zoo: row["input_shape"] for zoo, row in rows.items()} == dict.fromkeys(ZOO_POSE_HRNET,
                                                                                  "1x3x256x192")
    for zoo, (builder, shape, _) in ZOO_POSE_HRNET.items():
        with torch.no_grad():
            out = builder().eval().to("meta")(torch.empty(*shape, device="meta"))
        if zoo == "hrnet_pose":
            assert tuple(out.shape) == HEATMAPS
        else:
            assert [tuple(o.shape) for o in out] == [(1, 17, 2), (1, 17), HEATMAPS]


def test_hrnet_w32_strides_and_fuse(built):
    net = built["hrnet_pose"]
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.groups == 1 and c.kernel_size in ((1, 1), (3, 3)) for c in convs)
    # stem 2, new-branch transitions 3, downward fuse chains 1 + 4·4 + 2·10 (the last module keeps
    # only the finest output)
    assert sum(c.stride == (2, 2) for c in convs) == 42
    assert [len(m.fuse.layers) for stage in net.stages for m in stage] == [2, 3, 3, 3, 3, 4, 4, 1]
    assert [t is None for t in net.transitions[-1]] == [True, True, True, False]
    assert net.transitions[-1][3][0][0].out_channels == 256


def test_lite_hrnet_fuse_repeats_the_finest_branchs_downward_term(built):
    net = built["litehrnet"]
    fuse = net.stages[2][0].fuse                          # four branches, all four outputs
    calls = {i: 0 for i in range(1, 4)}
    hooks = [fuse.layers[i][0].register_forward_hook(lambda *_, i=i: calls.__setitem__(i, calls[i] + 1))
             for i in calls]
    try:
        with torch.no_grad():
            net.eval().to("meta")(torch.empty(1, 3, 256, 192, device="meta"))
    finally:
        for h in hooks:
            h.remove()
    assert calls == {1: 2, 2: 2, 3: 2}
    grouped = [c for c in net.modules() if isinstance(c, nn.Conv2d) and c.groups > 1]
    assert all(c.groups == c.in_channels == c.out_channels and c.kernel_size == (3, 3) for c in grouped)


def test_decode_is_the_zoo_wrappers():
    torch.manual_seed(0)
    heatmaps = torch.randn(*HEATMAPS)
    keypoints, scores, _ = _ArgmaxDecode()(heatmaps)
    values, indices = torch.max(heatmaps.view(1, 17, -1), dim=2)   # the zoo's code, its H = 48
    assert torch.equal(scores, values)
    assert torch.equal(keypoints, torch.stack(((indices % 48).float(), (indices // 48).float()), dim=-1))


def test_features(rows):
    hr, lite = rows["hrnet_pose"], rows["litehrnet"]
    assert hr["n:dwconv"] == 0 and hr["n:concat"] == 0 and hr["n:movement"] > 0
    assert lite["n:conv"] == 1 and lite["n:dwconv"] > 100 and lite["n:pool"] > 0 and lite["n:concat"] > 0
    # as counted by this implementation (identical to the authors' modules): a guard against an
    # accidental change
    assert {zoo: row["macs"] / 1e9 for zoo, row in rows.items()} == pytest.approx(
        {"hrnet_pose": 7.645, "litehrnet": 0.2423}, rel=1e-3)
