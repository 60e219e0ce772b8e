"""Every distinct operation instance the supernet can produce at one LR input size.

An instance is an op of ``OPS`` at fixed (cin, cout, h, w), batch 1, float32: the stem at LR,
every cell op at every pair of candidate widths at every resolution a cell can run at (LR and
after each upsampler), the upsampling modules and the heads. Its ``key`` comes from
``predictors.kernel_features.kernel_key`` (the one key function of the profile CSV), e.g.
``conv3x3:cin=64:cout=32:h=90:w=160``; these keys are the contract between the supernet's
expected cost and the latency predictors. ``macs`` are multiply-accumulates of all convs of the
fused op; ``bytes_in``/``bytes_out`` the float32 input/output activations of the op.
"""
from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd
import torch
from torch import nn

from codesign.network_tree import NetworkTree
from codesign.search_space import OPS, SearchSpace
from predictors.kernel_features import BYTES_PER_ELEMENT, kernel_key

COLUMNS = ["key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h", "out_w",
           "macs", "params", "bytes_in", "bytes_out"]


@lru_cache(maxsize=None)
def _op_row(op: str, cin: int, cout: int, h: int, w: int) -> tuple:
    spec = OPS[op]
    with torch.device("meta"):
        module = spec.build(cin, cout)
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    out_h, out_w = h * spec.out_factor, w * spec.out_factor
    row = dict(op=op, cin=cin, cout=cout, kernel=spec.kernel, groups=cin if spec.depthwise else 1,
               stride=1, h=h, w=w, out_h=out_h, out_w=out_w,
               macs=sum(c.weight.numel() for c in convs) * h * w,  # every conv runs at the input size
               params=sum(p.numel() for p in module.parameters()),
               bytes_in=cin * h * w * BYTES_PER_ELEMENT,
               bytes_out=cout * out_h * out_w * BYTES_PER_ELEMENT)
    row["key"] = kernel_key(row)
    return tuple(row[c] for c in COLUMNS)


def op_row(op: str, cin: int, cout: int, h: int, w: int) -> dict:
    """Features of one op instance (the COLUMNS of the profile schema plus its key)."""
    return dict(zip(COLUMNS, _op_row(op, cin, cout, h, w)))


def op_key(op: str, cin: int, cout: int, h: int, w: int) -> str:
    """Stable key of one op instance, e.g. ``residual:cin=64:cout=32:h=90:w=160``."""
    return _op_row(op, cin, cout, h, w)[0]


def head_op(scale: int, resolution: int) -> str:
    """Name of the head that brings features at ``resolution``× LR to the HR size."""
    return f"head_x{scale // resolution}"


def op_instances(space: SearchSpace, lr_hw: tuple[int, int]) -> pd.DataFrame:
    """All distinct op instances of ``space`` for an LR input of ``lr_hw`` = (h, w) pixels."""
    h, w = lr_hw
    tree = NetworkTree(space.searchable_cells, space.upsample_factors)
    resolutions = sorted({tree.resolution(n) for n in tree.nodes})
    rows = [op_row("stem", 3, space.nf, h, w)]
    for r in resolutions:
        rows += [op_row(op, a, b, h * r, w * r)
                 for op in space.ops for a in space.widths for b in space.widths]
        rows.append(op_row(head_op(space.scale, r), space.nf, 3, h * r, w * r))
    for k, factor in enumerate(space.upsample_factors):
        r = math.prod(space.upsample_factors[:k])
        rows.append(op_row(f"upsample_x{factor}", space.nf, space.nf, h * r, w * r))
    return pd.DataFrame(rows, columns=COLUMNS).drop_duplicates("key", ignore_index=True)


def op_cost_table(space: SearchSpace, lr_hw: tuple[int, int], column: str = "macs") -> dict[str, float]:
    """key → ``column`` (e.g. macs) of every op instance: a cost table for expected_cost."""
    df = op_instances(space, lr_hw)
    return dict(zip(df["key"], df[column].astype(float)))


def build_op_module(row) -> tuple[nn.Module, tuple[int, int, int, int]]:
    """A freshly initialised module for one op instance row and its NCHW input shape (batch 1)."""
    module = OPS[row["op"]].build(int(row["cin"]), int(row["cout"])).eval()
    return module, (1, int(row["cin"]), int(row["h"]), int(row["w"]))
