"""Every distinct operation instance the supernet can produce at one LR input size, as a table.

An instance is an op of ``OPS`` at fixed (cin, cout, h, w), batch 1, float32 (see
codesign.space.network_plan, which lists them): the stem at LR, every cell op at every pair of
candidate widths at every resolution a cell can run at (LR and after each upsampler), the
upsampling modules and the heads. Its ``key`` comes from ``predictors.kernel_features.kernel_key``
(the one key function of the profile CSV), e.g. ``conv3x3:cin=64:cout=32:h=90:w=160``; these
keys are the contract between the supernet's expected cost and the latency predictors.
``macs`` are multiply-accumulates of all convs of the fused op; ``bytes_in``/``bytes_out`` the
float32 input/output activations of the op.
"""
from __future__ import annotations

import pandas as pd
from torch import nn

from codesign.space.network_plan import COLUMNS, OpInstance, network_plan
from codesign.space.search_space import SearchSpace


def op_row(op: str, cin: int, cout: int, h: int, w: int) -> dict:
    """Features of one op instance at (h, w) input pixels (the COLUMNS of the profile schema
    plus its key)."""
    return OpInstance(op, cin, cout).row((h, w))


def op_key(op: str, cin: int, cout: int, h: int, w: int) -> str:
    """Stable key of one op instance at (h, w) input pixels, e.g.
    ``residual:cin=64:cout=32:h=90:w=160``."""
    return OpInstance(op, cin, cout).key((h, w))


def op_instances(space: SearchSpace, lr_hw: tuple[int, int]) -> pd.DataFrame:
    """All distinct op instances of ``space`` for an LR input of ``lr_hw`` = (h, w) pixels."""
    rows = [instance.row(lr_hw) for instance in network_plan(space).instances()]
    return pd.DataFrame(rows, columns=COLUMNS)


def op_cost_table(space: SearchSpace, lr_hw: tuple[int, int], column: str = "macs") -> dict[str, float]:
    """key → ``column`` (e.g. macs) of every op instance: a cost table for expected_cost."""
    df = op_instances(space, lr_hw)
    return dict(zip(df["key"], df[column].astype(float)))


def build_op_module(row) -> tuple[nn.Module, tuple[int, int, int, int]]:
    """A freshly initialised module for one op instance row and its NCHW input shape (batch 1)."""
    module = OpInstance(row["op"], int(row["cin"]), int(row["cout"])).build().eval()
    return module, (1, int(row["cin"]), int(row["h"]), int(row["w"]))
