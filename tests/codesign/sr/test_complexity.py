"""MAC counting (torch's FlopCounterMode / 2) against hand formulas and published tables.

Published Mult-Adds are for a 1280×720 output and rounded to 0.1 G, so ``±0.05 G`` is the
tolerance of a match: CARN-M from Ahn et al. 2018 (Table: 91.2 / 46.1 / 32.5 G at ×2/×3/×4),
IMDN from Hui et al. 2019 (158.8 / 71.5 / 40.9 G), FSRCNN as tabulated in the CARN paper
(6.0 / 5.0 / 4.6 G), RLFN-NTIRE from the NTIRE 2022 ESR report (19.70 G, 256×256 LR input).
"""
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from codesign.sr.complexity import complexity_row, count_macs, count_params, hd_lr_hw
from codesign.sr.models import build_model

G = 1e9
ROUNDING = 0.05 * G  # published values carry one decimal in G


def test_single_conv_macs_equal_hand_formula():
    conv = nn.Conv2d(5, 7, 3, padding=1)
    assert count_macs(conv, (11, 13), in_channels=5) == 11 * 13 * 7 * 5 * 3 * 3


def test_strided_unpadded_conv_counts_output_pixels():
    conv = nn.Conv2d(16, 16, 3, stride=2)
    out_h, out_w = (20 - 3) // 2 + 1, (31 - 3) // 2 + 1
    assert count_macs(conv, (20, 31), in_channels=16) == out_h * out_w * 16 * 16 * 9


@pytest.mark.parametrize("groups", [4, 64])  # group conv (CARN-M) and depthwise
def test_grouped_conv_macs_divide_input_channels_by_groups(groups):
    conv = nn.Conv2d(64, 128, 3, padding=1, groups=groups)
    assert count_macs(conv, (10, 12), in_channels=64) == 10 * 12 * 128 * (64 // groups) * 9


def test_transposed_conv_counts_macs_per_input_pixel():
    deconv = nn.ConvTranspose2d(8, 3, 9, stride=4, padding=4, output_padding=3)
    assert count_macs(deconv, (6, 7), in_channels=8) == 6 * 7 * 8 * 3 * 81


def test_meta_counting_equals_counting_a_real_forward_pass():
    model = build_model("imdn", 2).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.rand(1, 3, 16, 18))
    assert count_macs(model, (16, 18)) == counter.get_total_flops() // 2
    assert next(model.parameters()).device.type == "cpu"  # the model itself is untouched


def test_count_params_counts_shared_weights_once():
    shared = nn.Conv2d(4, 4, 3)
    assert count_params(nn.Sequential(shared, shared)) == 4 * 4 * 9 + 4


def test_counting_leaves_shared_weights_as_parameters_and_the_mode_alone():
    model = build_model("carn_m", 4).train()  # one residual block applied three times
    count_macs(model, (8, 8))
    assert all(isinstance(p, nn.Parameter) for _, p in model.named_parameters(remove_duplicate=False))
    assert model.training
    torch.export.export(model.eval(), (torch.randn(1, 3, 8, 8),))  # rejected plain-tensor params


def test_hd_lr_size_floors_x3():
    assert [hd_lr_hw(s) for s in (2, 3, 4)] == [(360, 640), (240, 426), (180, 320)]


@pytest.mark.parametrize("scale, published_g", [(2, 91.2), (3, 46.1), (4, 32.5)])
def test_carn_m_macs_at_720p_match_paper(scale, published_g):
    macs = complexity_row(build_model("carn_m", scale), scale)["macs_720p"]
    assert abs(macs - published_g * G) <= ROUNDING


@pytest.mark.parametrize("scale, published_g", [(2, 158.8), (4, 40.9)])
def test_imdn_macs_at_720p_match_paper(scale, published_g):
    macs = complexity_row(build_model("imdn", scale), scale)["macs_720p"]
    assert abs(macs - published_g * G) <= ROUNDING


def test_imdn_x3_paper_used_427_pixel_wide_lr():
    # IMDN's 71.5 G at ×3 is 240×427 LR (1281-wide output); CARN's floor, 240×426, gives 71.3 G
    model = build_model("imdn", 3)
    assert abs(count_macs(model, (240, 427)) - 71.5 * G) <= ROUNDING
    assert abs(count_macs(model, hd_lr_hw(3)) - 71.5 * G) > ROUNDING


@pytest.mark.parametrize("scale, published_g", [(2, 6.0), (3, 5.0), (4, 4.6)])
def test_fsrcnn_macs_match_carn_table_when_deconv_counted_on_hr_grid(scale, published_g):
    # The CARN table counts FSRCNN's 9×9 deconvolution as a dense conv on the HR grid
    # (56·81 MACs per HR pixel); the strided deconvolution really does 1/scale² of that.
    model = build_model("fsrcnn", scale, in_channels=1)
    lr_h, lr_w = hd_lr_hw(scale)
    macs = count_macs(model, (lr_h, lr_w), in_channels=1)
    deconv_real = lr_h * lr_w * 56 * 81
    table_convention = macs - deconv_real + deconv_real * scale**2
    assert abs(table_convention - published_g * G) <= ROUNDING
    assert macs == lr_h * lr_w * 12_464  # every weight used once per LR pixel


def test_rlfn_ntire_flops_match_challenge_report():
    # The NTIRE counter adds one op per LeakyReLU output element (3 per RLFB, 48 channels).
    lr_hw = (256, 256)
    lrelu_elements = 4 * 3 * 48 * lr_hw[0] * lr_hw[1]
    macs = count_macs(build_model("rlfn_ntire", 4), lr_hw)
    assert abs(macs + lrelu_elements - 19.70 * G) <= 0.005 * G


def test_complexity_row_reports_both_input_sizes():
    row = complexity_row(build_model("espcn", 4), 4, lr_hw=(32, 48))
    per_lr_pixel = 5 * 5 * 3 * 64 + 9 * 64 * 32 + 9 * 32 * 48  # conv MACs per LR pixel
    assert row["params"] == 37_200
    assert (row["lr_h"], row["lr_w"], row["macs"]) == (32, 48, 32 * 48 * per_lr_pixel)
    assert (row["lr_h_720p"], row["lr_w_720p"]) == (180, 320)
    assert row["macs_720p"] == 180 * 320 * per_lr_pixel


def test_bicubic_costs_four_macs_per_output_element_per_pass():
    row = complexity_row(build_model("bicubic", 2), 2, lr_hw=(10, 12))
    assert row["params"] == 0
    assert row["macs"] == 3 * (20 * 12 * 4 + 20 * 24 * 4)
