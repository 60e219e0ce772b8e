"""NAS-Bench-201 twin networks (nodes 1 and 2 swapped when edge 1→2 is none): the pairing
behind benchmarks/nb201_noise_floor."""
import itertools

import pandas as pd

from benchmarks.prediction.nb201_noise_floor import noise_floor, twin_of, twin_pairs
from predictors.public.nb201 import EDGES, nb201_kernels

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def arch_str(ops):
    edge = dict(zip(EDGES, ops))
    return "+".join("|" + "|".join(f"{edge[(to, s)]}~{s}" for s in range(to)) + "|" for to in (1, 2, 3))


def all_archs():
    strs = [arch_str(ops) for ops in itertools.product(OPS, repeat=6)]
    return pd.DataFrame({"arch_index": range(len(strs)), "arch_str": strs})


def test_twins_are_an_involution_and_only_when_node_2_ignores_node_1():
    ops = ["nor_conv_3x3", "avg_pool_3x3", "none", "skip_connect", "nor_conv_1x1", "none"]
    twin = twin_of(ops)
    assert twin == ["avg_pool_3x3", "nor_conv_3x3", "none", "skip_connect", "none", "nor_conv_1x1"]
    assert twin_of(twin) == ops
    assert twin_of(["nor_conv_3x3"] * 6) is None


def test_1500_distinct_pairs_with_the_same_kernels():
    archs = all_archs()
    pairs = twin_pairs(archs)
    assert len(pairs) == 1500  # 5^5 strings with 1→2 none, minus 125 symmetric ones, halved
    assert not pairs.stack().duplicated().any()
    strs = archs.set_index("arch_index").arch_str
    for a, b in pairs.sample(20, random_state=0).itertuples(index=False):
        ka, kb = nb201_kernels(strs[a]), nb201_kernels(strs[b])
        cols = list(ka.columns)
        assert ka.sort_values(cols).reset_index(drop=True).equals(kb.sort_values(cols).reset_index(drop=True))


def test_noise_floor_ceiling():
    pairs = pd.DataFrame({"arch_a": [0, 2], "arch_b": [1, 3]})
    latency = pd.DataFrame({"arch_index": [0, 1, 2, 3], "device": "d",
                            "latency_ms": [10.0, 10.5, 10.0, 13.0]})
    row = noise_floor(latency, pairs).iloc[0]
    assert row.pairs == 2
    assert row.twins_one_number_within_10pct == 0.5  # 13/10 > 1.1/0.9: no number fits both
    assert row.ceiling_within_10pct == 0.75
