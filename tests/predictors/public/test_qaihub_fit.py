"""NPU predictors from whole-model latencies (predictors.public.qaihub_fit, qaihub_features): exact
feature counts, NNLS recovering known coefficients, op-instance prices from the fitted terms."""
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from codesign.space.op_instances import op_row
from predictors.fused_ops import TOPHUB_OPS
from predictors.kinds.roofline import FusedRooflineModel, Roofline
from predictors.predictor import KernelPredictor
from predictors.public.qaihub_features import FEATURE_COLUMNS, count_features
from predictors.public.qaihub_fit import (
    VARIANTS,
    choose,
    design,
    fit,
    npu_latencies,
    roofline,
)


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return self.shuffle(self.dw(y) + y)


def test_features_count_macs_bytes_and_calls_per_class_exactly():
    f = count_features(_Tiny(), (1, 3, 8, 8))
    assert f["macs:conv"] == 8 * 64 * 27 and f["n:conv"] == 1
    assert f["bytes:conv"] == 4 * (3 * 64 + 8 * 27 + 8 + 8 * 64)          # in, weight, bias, out
    assert f["macs:dwconv"] == 8 * 64 * 9 and f["n:dwconv"] == 1
    assert f["n:activation"] == 1 and f["n:elementwise"] == 1 and f["n:movement"] == 1
    assert f["bytes:movement"] == 4 * 2 * 8 * 64                          # shuffle reads, writes
    assert f["macs:matmul"] == 0 and f["n:pool"] == 0


def test_a_concatenation_is_its_own_class_and_free_concat_variants_price_only_its_calls():
    class Cat(nn.Module):
        def forward(self, x):
            return torch.cat([x, x], dim=1)

    f = count_features(Cat(), (1, 3, 4, 4))
    assert f["n:concat"] == 1 and f["bytes:concat"] == 4 * (2 * 48 + 96) and f["n:movement"] == 0
    row = pd.DataFrame([f])
    priced, free = design(row, "roofline_calls"), design(row, "roofline_calls_free_concat")
    assert priced[0, 4] == free[0, 4] + f["bytes:concat"]                 # the bytes term
    assert priced[0, 5] == free[0, 5] == 1                                # the calls term
    assert {v for v in VARIANTS if v.endswith("_free_concat")} == {
        f"{v}_free_concat" for v in VARIANTS if not v.endswith("_free_concat") and not v.startswith("macs")}


def test_a_1x1_convolution_is_pointwise_and_prices_as_its_own_primitive():
    f = count_features(nn.Conv2d(4, 6, 1, bias=False), (1, 4, 5, 5))
    assert f["macs:pwconv"] == 4 * 6 * 25 and f["n:pwconv"] == 1 and f["n:conv"] == 0
    from predictors.fused_ops import conv_kernel

    assert conv_kernel(4, 6, 1, 5, 5)["primitive"] == "pointwise_conv2d"
    assert conv_kernel(4, 6, 3, 5, 5)["primitive"] == "conv2d"
    # grouped: depthwise only at one channel per group, as qaihub_features classes them
    assert conv_kernel(4, 4, 3, 5, 5, groups=4)["primitive"] == "depthwise_conv2d"
    assert conv_kernel(8, 8, 1, 5, 5, groups=2)["primitive"] == "pointwise_conv2d"
    assert count_features(nn.Conv2d(8, 8, 1, groups=2, bias=False), (1, 8, 5, 5))["n:pwconv"] == 1
    # a roofline fitted on TopHub (no pointwise rate) prices it as conv2d, an NPU fit by its own
    prims = pd.DataFrame([{"instance": 0, **conv_kernel(4, 6, 1, 5, 5)}])
    tophub = Roofline("t", {"conv2d": [1e-9, 1e-10, 0.01]}, 0.0)
    npu = Roofline("n", {"conv2d": [1e-9, 1e-10, 0.01], "pointwise_conv2d": [3e-9, 1e-10, 0.01]}, 0.0)
    k = prims.iloc[0]
    assert tophub.components(prims, 1)[0].sum() == pytest.approx(1e-9 * k.macs + 1e-10 * k.bytes + 0.01)
    assert npu.components(prims, 1)[0].sum() == pytest.approx(3e-9 * k.macs + 1e-10 * k.bytes + 0.01)


def test_a_transposed_convolution_counts_the_macs_its_inputs_scatter():
    f = count_features(nn.ConvTranspose2d(4, 6, 2, stride=2, bias=False), (1, 4, 5, 5))
    assert f["macs:conv"] == 4 * 25 * 6 * 4 and f["n:conv"] == 1           # in × out × k², not out²


def test_unet_is_built_at_the_zoo_size_and_counted_at_its_export_input():
    from predictors.public.zoo_architectures import ZOO_ARCHITECTURES

    build, shape, _ = ZOO_ARCHITECTURES["unet_segmentation"]
    net = build()
    assert shape == (1, 3, 640, 1280)
    assert round(sum(p.numel() for p in net.parameters()) / 1e6, 1) == 31.0  # the zoo's info.yaml
    f = count_features(net, (1, 3, 32, 64))
    assert f["n:conv"] + f["n:pwconv"] == 23 and f["n:pwconv"] == 1       # 3×3, 2×2 up; 1×1 out
    assert f["n:pool"] == 4 and f["n:concat"] == 4                         # 31 layers on the NPU


def test_an_op_of_no_class_is_an_error_not_a_silent_zero():
    class Odd(nn.Module):
        def forward(self, x):
            return torch.cumsum(x, dim=1)

    with pytest.raises(ValueError, match="cumsum"):
        count_features(Odd(), (1, 3, 4, 4))


def _synthetic(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(1e6, 1e9, size=(n, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)


@pytest.mark.parametrize("variant", ["macs", "roofline_fused_act", "classes"])
def test_nnls_recovers_known_coefficients(variant):
    features = _synthetic()
    true = np.linspace(0.2, 1.0, 1 + len(VARIANTS[variant]))
    true[1:] /= design(features, variant)[:, 1:].mean(axis=0)               # each term ~0.2–1 ms
    y = design(features, variant) @ true
    np.testing.assert_allclose(fit(features, y, variant), true, rtol=1e-6)


def test_leave_one_out_finds_an_exact_variant_on_noise_free_data():
    features = _synthetic()
    coef = np.array([0.3, 2e-9, 4e-9, 5e-9, 1e-10])                         # overhead, 4 terms
    y = design(features, "roofline") @ coef
    best, scores = choose(features, y)
    assert scores[best]["mape_pct"] < 1e-6 and scores["roofline"]["mape_pct"] < 1e-6


def test_fitted_terms_price_op_instances_through_the_roofline_classes():
    # classes: [overhead, macs k×k conv, macs 1×1 conv + matmul, macs dw, bytes dense, bytes dw,
    #           bytes memory, calls]
    coef = np.array([0.25, 1e-9, 6e-9, 3e-9, 2e-10, 4e-10, 5e-10, 0.01])
    predictor = KernelPredictor("npu", list(TOPHUB_OPS),
                                FusedRooflineModel([roofline("npu", coef, "classes")], 0.1),
                                overhead_ms=coef[0])
    row = op_row("conv3x3", 16, 16, 8, 8)  # a search-space instance: its row lists its kernels
    mean, std = predictor.predict(pd.DataFrame([row]))
    macs, nbytes = 16 * 16 * 9 * 64, 4 * (16 * 64 + 16 * 64 + 16 * 16 * 9)
    assert mean[0] == pytest.approx(1e-9 * macs + 2e-10 * nbytes + 0.01, rel=1e-9)
    assert std[0] == pytest.approx(0.1 * mean[0])
    dws = pd.DataFrame([op_row("dwsblock", 16, 32, 8, 8)])
    dw_bytes = 4 * (16 * 64 * 2 + 16 * 9)
    pw_macs, pw_bytes = 16 * 32 * 64, 4 * (16 * 64 + 32 * 64 + 16 * 32)
    expected = (3e-9 * 16 * 9 * 64 + 4e-10 * dw_bytes + 0.01) + (6e-9 * pw_macs + 2e-10 * pw_bytes + 0.01)
    assert predictor.predict(dws)[0][0] == pytest.approx(expected, rel=1e-9)


def test_npu_latencies_name_each_component_of_a_multi_part_model():
    perf = pd.DataFrame({
        "key": ["network:resnet18", "network:mediapipe_face:FaceDetector",
                "network:mediapipe_face:FaceLandmarkDetector", "network:eyegaze", "network:resnet18"],
        "model": ["resnet18", "mediapipe_face", "mediapipe_face", "eyegaze", "resnet18"],
        "latency_ms": [1.0, 0.39, 0.17, 36.0, 2.0], "compute_unit": ["NPU", "NPU", "NPU", "CPU", "NPU"],
        "device": "S24", "runtime": ["qnn_dlc"] * 4 + ["tflite"], "precision": "float"})
    got = npu_latencies(perf, "S24", "qnn_dlc", "float")
    assert got.to_dict() == {"resnet18": 1.0, "mediapipe_face:FaceDetector": 0.39,
                             "mediapipe_face:FaceLandmarkDetector": 0.17}   # the CPU job is not the NPU's
