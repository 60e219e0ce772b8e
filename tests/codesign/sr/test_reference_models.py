"""Reference networks: registry behaviour, output shapes, and parameter counts vs their papers.

Expected counts are the official code's exact counts where one exists (run once against the
official definitions, identical outputs when given the same weights):
CARN-M: github.com/nmhkahn/CARN-pytorch carn/model/carn_m.py with --group 4 (paper 412K/415K/412K);
IMDN: github.com/Zheng222/IMDN model/architecture.py IMDN (paper 694K/703K/715K);
RLFN: github.com/bytedance/RLFN model/rlfn.py, rlfn_s.py, rlfn_ntire.py (README: 0.317 M).
FSRCNN and ESPCN have no official PyTorch code: their counts follow the papers' layer lists.
"""
import pytest
import torch

from codesign.sr.complexity import count_params
from codesign.sr.data.imresize import imresize
from codesign.sr.models import UnknownModelError, build_model, list_models, register

REFERENCE = ["bicubic", "fsrcnn", "espcn", "carn_m", "imdn", "rlfn", "rlfn_s", "rlfn_ntire"]

OFFICIAL_PARAMS = {  # name: {scale: parameters}
    "carn_m": {2: 414_787, 3: 414_787, 4: 414_787},  # multi-scale model, as the paper counts
    "imdn": {2: 694_404, 3: 703_059, 4: 715_176},
    "rlfn": {2: 526_856, 3: 533_891, 4: 543_740},
    "rlfn_s": {2: 454_620, 3: 461_115, 4: 470_208},
    "rlfn_ntire": {2: 302_278, 3: 308_503, 4: 317_218},
}


def test_every_reference_network_is_registered():
    assert set(REFERENCE) <= set(list_models())
    assert list_models() == sorted(list_models())


def test_unknown_name_error_lists_known_models():
    with pytest.raises(KeyError) as err:
        build_model("no_such_net", scale=4)
    assert isinstance(err.value, ValueError) and isinstance(err.value, UnknownModelError)
    for name in REFERENCE:
        assert name in str(err.value)


def test_registering_a_taken_name_fails():
    with pytest.raises(ValueError, match="already registered"):
        register("imdn")(lambda scale: torch.nn.Identity())


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", REFERENCE)
def test_output_is_lr_size_times_scale(name, scale):
    model = build_model(name, scale).eval()
    lr = torch.rand(1, 3, 15, 17)  # 15: the smallest side RLFN's attention accepts
    with torch.no_grad():
        sr = model(lr)
    assert sr.shape == (1, 3, 15 * scale, 17 * scale)
    assert sr.dtype == torch.float32 and torch.isfinite(sr).all()


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_params_equal_official_code(name):
    for scale, expected in OFFICIAL_PARAMS[name].items():
        assert count_params(build_model(name, scale)) == expected, (name, scale)


def test_carn_m_single_scale_keeps_one_upsampler():
    counts = [count_params(build_model("carn_m", s, multi_scale=False)) for s in (2, 3, 4)]
    assert counts == [257_027, 303_427, 294_147]


def test_carn_m_reuses_one_residual_e_block_three_times_per_cascade():
    model = build_model("carn_m", 4)
    for block in model.body.units:
        assert block.units[0] is block.units[1] is block.units[2]


def test_carn_m_subtracts_and_restores_the_div2k_mean_without_parameters():
    model = build_model("carn_m", 2)
    assert torch.allclose(model.rgb_mean.flatten(), torch.tensor([0.4488, 0.4371, 0.4040]))
    assert "rgb_mean" not in dict(model.named_parameters())


def test_fsrcnn_y_channel_weights_equal_paper_formula():
    # Dong et al. 2016: 25d + sd + 9ms² + ds + 81d = 12,464 weights for FSRCNN(56, 12, 4)
    model = build_model("fsrcnn", 4, in_channels=1)
    weights = sum(p.numel() for p in model.parameters() if p.dim() == 4)
    assert weights == 12_464
    assert count_params(model) == 12_464 + 173 + 172  # + biases + per-channel PReLU slopes
    assert count_params(build_model("fsrcnn", 4)) == 24_683  # RGB in and out


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_espcn_params_follow_layer_list(scale):
    # 5×5 3→64, 3×3 64→32, 3×3 32→3·s² (weights + biases); Y variant: 32→s²
    rgb = (5 * 5 * 3 * 64 + 64) + (9 * 64 * 32 + 32) + (9 * 32 + 1) * 3 * scale**2
    y = (5 * 5 * 64 + 64) + (9 * 64 * 32 + 32) + (9 * 32 + 1) * scale**2
    assert count_params(build_model("espcn", scale)) == rgb
    assert count_params(build_model("espcn", scale, in_channels=1)) == y
    assert count_params(build_model("espcn", 3, in_channels=1)) == 22_729


def test_rlfn_rejects_inputs_smaller_than_its_attention_window():
    with pytest.raises(ValueError, match="at least 15"):
        build_model("rlfn_ntire", 4)(torch.rand(1, 3, 14, 20))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_equals_matlab_imresize_on_float_images(scale):
    lr = torch.rand(1, 3, 9, 14, dtype=torch.float64)
    sr = build_model("bicubic", scale)(lr)[0].permute(1, 2, 0).numpy()
    expected = imresize(lr[0].permute(1, 2, 0).numpy(), scale)
    assert abs(sr - expected).max() < 1e-12
    assert count_params(build_model("bicubic", scale)) == 0


@pytest.mark.parametrize("name", [n for n in REFERENCE if n != "bicubic"])
def test_every_parameter_used_at_the_scale_gets_a_gradient(name):
    model = build_model(name, 3)
    model(torch.rand(1, 3, 15, 16)).abs().mean().backward()
    idle = {k for k, p in model.named_parameters() if p.grad is None}
    # CARN-M's multi-scale model holds the ×2 and ×4 upsamplers too; they idle at ×3
    other_scales = ("upsample.x2", "upsample.x4")
    expected = {k for k, _ in model.named_parameters() if k.startswith(other_scales)}
    assert idle == (expected if name == "carn_m" else set())
