"""The zoo's DLA-X-102 and SINet (predictors.public.zoo_dla_sinet): built at the zoo's
configuration, their parameters are the zoo's (SINet: its authors'), they count on the meta device
at the zoo's 224×224 input and give the zoo's output shapes."""
import pytest
import torch
from torch import nn

from predictors.public.qaihub_features import feature_row, folded_parameter_count
from predictors.public.zoo_dla_sinet import ZOO_DLA_SINET

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d. SINet's 91.9K there counts the
# compiled TFLite file's constant tensors; its network has 86,910 parameters (the tensors of the
# authors' SINet.pth bar batch-norm statistics)
DLA_PARAMS_M = "26.3"
SINET_PARAMS = 86_910
OUTPUT = {"dla102x": (1, 1000), "sinet": (1, 2, 224, 224)}


@pytest.fixture(scope="module")
def built():
    return {zoo: builder() for zoo, (builder, _, _) in ZOO_DLA_SINET.items()}


@pytest.fixture(scope="module")
def rows(built):
    return {zoo: feature_row(zoo, built[zoo], shape, source)
            for zoo, (_, shape, source) in ZOO_DLA_SINET.items()}


def _params(net: nn.Module) -> tuple[int, int]:
    params = sum(p.numel() for p in net.parameters())
    return params, folded_parameter_count(net)


def test_parameter_counts(built):
    params, folded = _params(built["dla102x"])
    assert params == 26_309_272                       # timm 1.0.15's dla102x
    assert round(params / 1e6, 1) == round(folded / 1e6, 1) == float(DLA_PARAMS_M)
    assert _params(built["sinet"]) == (SINET_PARAMS, 84_028)


def test_zoo_inputs_and_outputs(rows):
    assert {zoo: row["input_shape"] for zoo, row in rows.items()} == dict.fromkeys(ZOO_DLA_SINET, "1x3x224x224")
    for zoo, (builder, shape, _) in ZOO_DLA_SINET.items():
        with torch.no_grad():
            out = builder().eval().to("meta")(torch.empty(*shape, device="meta"))
        assert tuple(out.shape) == OUTPUT[zoo], zoo


def test_dla_aggregation_trees_as_traced(built, rows):
    convs = [m for m in built["dla102x"].modules() if isinstance(m, nn.Conv2d)]
    grouped = [c for c in convs if c.groups > 1]
    assert len(convs) == 106 and len(grouped) == 28                     # 14 leaves × 2 bottlenecks
    assert all(c.groups == 32 and c.in_channels == c.out_channels for c in grouped)
    row = rows["dla102x"]
    # 6 live max pools (timm's eager forward runs 3 more, unused) and the global pool; 14 roots;
    # the wrapper's 2 normalisation ops + 28 bottleneck and 14 root shortcuts
    assert (row["n:pool"], row["n:concat"], row["n:elementwise"], row["n:dwconv"]) == (7, 14, 44, 0)
    assert (row["n:matmul"], row["n:movement"]) == (0, 0)


def test_sinet_spatial_squeeze_and_information_blocking(built, rows):
    convs = [m for m in built["sinet"].modules() if isinstance(m, nn.Conv2d)]
    depthwise = [c for c in convs if c.groups == c.in_channels > 1]
    assert len(depthwise) == 22 and sum(c.groups == 2 for c in convs) == 10   # 2 SE + 20 S2 blocks; shuffles
    row = rows["sinet"]
    assert row["n:dwconv"] == 22 and row["n:matmul"] == 3                     # the SE blocks' 3 linears
    # 6 S2-block resizes + 3 decoder upsamplings, 10 channel shuffles (contiguous copies)
    assert row["n:movement"] == 19
    assert row["n:concat"] == 12                                              # 10 modules + 2 stage ones
    assert row["n:pool"] == 9                                                 # 6 S2 + 2 SE pools, 1 max


def test_total_macs(rows):
    gmacs = {zoo: row["macs"] / 1e9 for zoo, row in rows.items()}
    assert gmacs["sinet"] == pytest.approx(0.064, rel=0.01)   # the SINet README's 0.064 G "Flop"
    # as counted by this implementation, equal to the authors' modules: a guard against a change
    assert gmacs == pytest.approx({"dla102x": 5.8479, "sinet": 0.063870}, rel=1e-4)
