"""The zoo's inpainters held out of the NPU fits (predictors.public.zoo_inpainters): built at the
zoo's size, they inpaint only inside the mask as the zoo's wrappers do, count on the meta device,
and benchmarks.prediction.predictor_qaihub predicts them without fitting on them."""
import numpy as np
import pandas as pd
import pytest
import torch

from benchmarks.prediction.predictor_qaihub import evaluate, unseen_features
from predictors.public.qaihub_features import FEATURE_COLUMNS, read_features
from predictors.public.qaihub_fit import design
from predictors.public.zoo_inpainters import ZOO_INPAINTERS, LamaDilated

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d
ZOO_PARAMS = {"aotgan": 15.2e6, "lama_dilated": 45.6e6}


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo(zoo):
    params = sum(p.numel() for p in ZOO_INPAINTERS[zoo][0]().parameters())
    assert abs(params - ZOO_PARAMS[zoo]) <= 0.005 * ZOO_PARAMS[zoo]


@pytest.mark.parametrize("zoo", sorted(ZOO_INPAINTERS))
def test_pixels_outside_the_mask_are_the_image(zoo):
    torch.manual_seed(0)
    net = ZOO_INPAINTERS[zoo][0]().eval()
    image, mask = torch.rand(1, 3, 96, 96), torch.zeros(1, 1, 96, 96)   # 96: the dilation-8 pads fit
    mask[..., 32:48, 32:48] = 1
    with torch.no_grad():
        out = net(torch.cat([image, mask], 1))
    assert out.shape == image.shape
    assert torch.equal(out[..., mask[0, 0] == 0], image[..., mask[0, 0] == 0])
    assert not torch.equal(out[..., 32:48, 32:48], image[..., 32:48, 32:48])


def test_lama_splits_its_channels_over_four_dilations():
    block = LamaDilated().generator[13]                     # the first residual block
    convs = block.body[0].convs
    assert [c.dilation for c in convs] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(128, 512)] * 4


def test_inpainters_count_at_the_zoo_input_and_are_not_in_the_fitted_features():
    features = unseen_features().query("family == 'inpainter'")
    assert list(features["model"]) == list(ZOO_INPAINTERS)
    assert (features["input_shape"] == "1x4x512x512").all()
    assert (features["n:movement"] > 0).all()               # reflection padding is counted
    assert not set(unseen_features()["model"]) & set(read_features()["model"])


def test_held_out_models_are_predicted_but_never_fitted():
    rng = np.random.default_rng(0)
    cnn = pd.DataFrame(rng.uniform(1e6, 1e9, size=(12, len(FEATURE_COLUMNS))), columns=FEATURE_COLUMNS)
    cnn["model"], cnn["input_shape"] = [f"cnn{i}" for i in range(12)], "1x3x8x8"
    unseen = cnn.iloc[:3].assign(model=["inpaint_a", "inpaint_b", "segment_a"],
                                 family=["inpainter", "inpainter", "segmenter"])
    coef = np.array([0.3, 2e-9, 4e-9, 5e-9, 1e-10])         # an exact roofline
    latency = design(cnn, "roofline") @ coef
    perf = pd.DataFrame({"model": [*cnn["model"], "inpaint_a", "inpaint_b", "segment_a"],
                         "latency_ms": [*latency, 10 * latency[0], latency[1], 2 * latency[2]]})
    perf = perf.assign(device="npu", runtime="qnn_dlc", precision="float", compute_unit="NPU", commit="c",
                       key="network:" + perf["model"])
    summary, sr, held = evaluate(perf, cnn, cnn.iloc[:0], unseen)
    assert summary["cnn_models"].tolist() == [12] and summary["loo_mape_pct"].iloc[0] < 1e-6
    assert held.set_index("model")["ratio"].to_dict() == pytest.approx(
        {"inpaint_a": 0.1, "inpaint_b": 1.0, "segment_a": 0.5})
    assert held.set_index("model")["family"].to_dict() == {
        "inpaint_a": "inpainter", "inpaint_b": "inpainter", "segment_a": "segmenter"}
    assert summary[["inpainter_models", "inpainter_within_20pct", "segmenter_models",
                    "segmenter_within_20pct"]].iloc[0].tolist() == [2, 1, 1, 0]
    assert sr.empty
