"""The eight held-out SR models as AI Hub times them: codesign.models builds graphs whose
parameter counts match the zoo's info.yaml at ×4 (its perf.yaml jobs are ×4, 128×128), and
their features count on the meta device."""
import pytest
import torch

from benchmarks.prediction.predictor_qaihub import SR_MODELS, SR_SCALE, sr_features
from codesign.sr.models import build_model

# info.yaml "Number of parameters" at quic/ai-hub-models 52c080d (rounded as published)
ZOO_PARAMS = {"xlsr": 28.0e3, "sesr_m5": 343e3, "quicksrnetsmall": 33.3e3,
              "quicksrnetmedium": 61.0e3, "quicksrnetlarge": 436e3,
              "real_esrgan_general_x4v3": 1.21e6, "real_esrgan_x4plus": 16.7e6, "esrgan": 16.7e6}


@pytest.mark.parametrize("zoo", sorted(ZOO_PARAMS))
def test_parameter_count_matches_the_zoo_at_x4(zoo):
    net = build_model(SR_MODELS[zoo], scale=SR_SCALE)
    params = sum(p.numel() for p in net.parameters())
    assert abs(params - ZOO_PARAMS[zoo]) <= 0.005 * ZOO_PARAMS[zoo]


@pytest.mark.parametrize("name", ["xlsr", "sesr_m5", "quicksrnet_large", "srvgg_compact"])
def test_sr_model_upscales_by_its_factor(name):
    net = build_model(name, scale=3)
    assert net(torch.rand(1, 3, 6, 5)).shape == (1, 3, 18, 15)


@pytest.mark.parametrize("name", ["quicksrnet_small", "quicksrnet_large"])
def test_quicksrnet_initialisation_is_nearest_upsampling_through_residual_convs(name):
    net = build_model(name, scale=4)
    with torch.no_grad():          # what the initialisation adds, without the random part
        for conv in [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]:
            conv.weight.zero_()
            conv.bias.zero_()
        net._initialise(4)
    x = torch.rand(1, 3, 5, 6)
    out = net(x)
    assert torch.equal(out, torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest"))


def test_sesr_anchor_is_fixed_nearest_upsampling_as_the_zoo_freezes_it():
    net = build_model("sesr_m5", scale=4)
    x = torch.rand(1, 3, 5, 6)
    assert torch.equal(net.shuffle(net.anchor(x)), torch.nn.functional.interpolate(x, scale_factor=4))
    assert not any(p.requires_grad for p in net.anchor.parameters())
    assert all(p.requires_grad for p in net.last.parameters())


def test_collapsed_sesr_is_the_small_inference_form():
    small = sum(p.numel() for p in build_model("sesr_m5", scale=4, collapsed=True).parameters())
    assert small < 0.1 * sum(p.numel() for p in build_model("sesr_m5", scale=4).parameters())


def test_sr_features_count_every_model_at_128x128():
    features = sr_features()
    assert list(features["model"]) == list(SR_MODELS)
    assert (features["input_shape"] == "1x3x128x128").all()
    assert (features["macs"] > 0).all() and (features["n:movement"] >= 1).all()


def test_reference_models_are_trained_at_the_named_schedule_and_scored_on_set5(tmp_path):
    from benchmarks.prediction.predictor_qaihub import reference_quality
    from codesign.sr.schedules import Schedule, TrainSchedule

    tiny = Schedule(TrainSchedule(steps=2, batch_size=2, patch_size=32, lr=1e-3), None, "test")
    got = reference_quality(["xlsr"], tiny, tmp_path)["xlsr"]
    assert got["schedule"].startswith("2 steps, batch 2 x 32 px") and "built-in" in got["schedule"]
    assert 0 < got["psnr_db"] < 40 and 28 < got["psnr_bicubic_db"] < 29     # Set5 x4 bicubic: 28.4 dB
    assert (tmp_path / "xlsr_x4" / "quality.csv").exists()                 # reused by the next run
