"""Kernel features and the NAS-Bench-201 network they are built from."""
import numpy as np
import pandas as pd
import pytest

from predictors.kernel_features import conv_row, kernel_features, network_features
from predictors.public.nb201 import (
    live_edges,
    nb201_features,
    nb201_kernels,
    parse_arch,
)

ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
DISCONNECTED = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"


def test_conv_row_counts_macs_params_and_bytes_of_a_strided_conv():
    row = conv_row("conv3x3", cin=16, cout=32, kernel=3, h=32, w=32, stride=2)
    assert (row["out_h"], row["out_w"]) == (16, 16)
    assert row["params"] == 32 * 16 * 9
    assert row["macs"] == 32 * 16 * 9 * 16 * 16
    assert row["bytes_in"] == 16 * 32 * 32 * 4 and row["bytes_out"] == 32 * 16 * 16 * 4
    assert row["key"] == "conv3x3:cin=16:cout=32:h=32:w=32:stride=2"


def test_largest_nb201_network_matches_published_flops_and_params():
    kernels = nb201_kernels(ALL_CONV3)
    conv_macs = kernels.loc[kernels["op"].str.contains("conv|dense"), "macs"].sum()
    assert conv_macs / 1e6 == pytest.approx(220.11968)  # NAS-Bench-201: 220.11 M FLOPs
    # NAS-Bench-201 counts BN affine params and the classifier bias too: 1.531546 M
    bn = 2 * (16 + 5 * 6 * (16 + 32 + 64) + 2 * (32 + 64) + 64)
    assert (kernels["params"].sum() + bn + 10) / 1e6 == pytest.approx(1.531546)


def test_parse_arch_rejects_malformed_strings():
    assert parse_arch(ALL_CONV3) == ["nor_conv_3x3"] * 6
    for bad in ["", "|nor_conv_3x3~0|+|none~0|", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                "|none~1|+|none~0|none~1|+|none~0|none~1|none~2|"]:
        with pytest.raises(ValueError):
            parse_arch(bad)


def test_dead_code_flags_follow_the_cell_graph():
    assert live_edges(parse_arch(ALL_CONV3)) == [True] * 6
    assert not nb201_kernels(DISCONNECTED)["live"].any()  # output constant: all folded
    # node 1 is a dead end when only edge 1<-0 leaves it unused
    ops = parse_arch("|nor_conv_1x1~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|")
    assert live_edges(ops) == [False, False, False, True, False, False]


def test_network_features_are_sums_of_kernel_features():
    kernels = nb201_kernels(ALL_CONV3)
    vocab = sorted(kernels["op"].unique())
    summed = network_features(kernels, pd.Series(0, index=kernels.index), vocab)
    per_kernel = kernel_features(kernels, vocab)
    for col in ["macs", "bytes", "n:relu_conv3x3_bn", "macs:relu_conv3x3_bn"]:
        assert summed[col].iloc[0] == pytest.approx(per_kernel[col].sum())
    assert summed["n:relu_conv3x3_bn"].iloc[0] == 15 * 6 + 4  # cells + reduction blocks
    feats = nb201_features([ALL_CONV3, DISCONNECTED])
    assert feats.loc[1, "live:n_kernels"] == 0
    assert feats.loc[0, "live:macs"] == kernels.loc[kernels["live"], "macs"].sum()
    assert feats.loc[0, "macs"] == kernels.loc[kernels["eager"], "macs"].sum()
    assert np.all(feats.filter(like="edge").sum(axis=1) == 6)
