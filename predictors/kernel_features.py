"""Kernel rows (profile-CSV schema) and the numeric features every predictor learns from.

A kernel row holds the schema columns of docs/architecture.md: op, cin, cout, kernel, groups,
stride, h, w, out_h, out_w, macs (multiply-accumulates), params (counts), bytes_in and
bytes_out (float32 activations, bytes). `kernel_features` turns such rows into a numeric
frame; for every op of a vocabulary it adds the additive columns `n:<op>`, `macs:<op>` and
`bytes:<op>`, so that the features of a network are the sums of its kernels' features
(see `network_features`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

BYTES_PER_ELEMENT = 4  # float32
SHAPE_COLUMNS = ["op", "cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h", "out_w"]
COST_COLUMNS = ["macs", "params", "bytes_in", "bytes_out"]
KERNEL_COLUMNS = SHAPE_COLUMNS + COST_COLUMNS
NUMERIC_FEATURES = ["cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h", "out_w",
                    "macs", "params", "bytes_in", "bytes_out", "bytes", "intensity"]
ADDITIVE_PREFIXES = ("n:", "macs:", "bytes:")


def is_additive(name: str) -> bool:
    """Is a feature a per-op sum (`n:<op>`, `macs:<op>`, `bytes:<op>`, maybe qualified as
    `live:n:<op>`), i.e. one whose network value is the sum of its kernels' values?"""
    parts = name.split(":")
    return len(parts) >= 2 and parts[-2] + ":" in ADDITIVE_PREFIXES


def kernel_key(row: dict) -> str:
    """Stable text key of one kernel, e.g. `conv3x3_lrelu:cin=64:cout=32:h=90:w=160`.

    Groups and stride are appended only when they differ from 1.
    """
    key = f"{row['op']}:cin={int(row['cin'])}:cout={int(row['cout'])}:h={int(row['h'])}:w={int(row['w'])}"
    if int(row.get("groups", 1)) != 1:
        key += f":groups={int(row['groups'])}"
    if int(row.get("stride", 1)) != 1:
        key += f":stride={int(row['stride'])}"
    return key


def conv_row(op: str, cin: int, cout: int, kernel: int, h: int, w: int, stride: int = 1,
             groups: int = 1, padding: int | None = None) -> dict:
    """Schema row of a 2-D convolution (NCHW, batch 1, float32); padding defaults to kernel//2."""
    pad = kernel // 2 if padding is None else padding
    out_h = (h + 2 * pad - kernel) // stride + 1
    out_w = (w + 2 * pad - kernel) // stride + 1
    params = cout * (cin // groups) * kernel * kernel
    row = dict(op=op, cin=cin, cout=cout, kernel=kernel, groups=groups, stride=stride, h=h, w=w,
               out_h=out_h, out_w=out_w, macs=params * out_h * out_w, params=params,
               bytes_in=cin * h * w * BYTES_PER_ELEMENT,
               bytes_out=cout * out_h * out_w * BYTES_PER_ELEMENT)
    row["key"] = kernel_key(row)
    return row


def pool_row(op: str, channels: int, kernel: int, h: int, w: int, stride: int = 1,
             padding: int | None = None) -> dict:
    """Schema row of an average/max pool: one add (or compare) per window element, no params."""
    row = conv_row(op, channels, channels, kernel, h, w, stride=stride, groups=channels,
                   padding=padding)
    row["macs"] = channels * row["out_h"] * row["out_w"] * kernel * kernel
    row["params"] = 0
    return row


def elementwise_row(op: str, channels: int, h: int, w: int, n_inputs: int = 2) -> dict:
    """Schema row of an elementwise op (e.g. `add` of `n_inputs` tensors of C×h×w)."""
    size = channels * h * w
    row = dict(op=op, cin=channels, cout=channels, kernel=1, groups=channels, stride=1, h=h, w=w,
               out_h=h, out_w=w, macs=size * (n_inputs - 1), params=0,
               bytes_in=n_inputs * size * BYTES_PER_ELEMENT, bytes_out=size * BYTES_PER_ELEMENT)
    row["key"] = kernel_key(row) + (f":inputs={n_inputs}" if n_inputs != 2 else "")
    return row


def dense_row(op: str, cin: int, cout: int) -> dict:
    """Schema row of a fully connected layer on a vector of `cin` features."""
    row = dict(op=op, cin=cin, cout=cout, kernel=1, groups=1, stride=1, h=1, w=1, out_h=1,
               out_w=1, macs=cin * cout, params=cin * cout, bytes_in=cin * BYTES_PER_ELEMENT,
               bytes_out=cout * BYTES_PER_ELEMENT)
    row["key"] = kernel_key(row)
    return row


def kernel_features(rows: pd.DataFrame, op_vocab: list[str]) -> pd.DataFrame:
    """Numeric features of kernel rows: shape and cost columns, bytes moved, arithmetic
    intensity (MACs per byte), and per-op additive columns for every op in `op_vocab`.

    Ops outside the vocabulary keep the shape features and get all-zero op columns.
    """
    missing = [c for c in KERNEL_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(f"kernel rows lack columns {missing}")
    out = rows[NUMERIC_FEATURES[:-2]].astype(float).reset_index(drop=True)
    out["bytes"] = out["bytes_in"] + out["bytes_out"] + BYTES_PER_ELEMENT * out["params"]
    out["intensity"] = out["macs"] / out["bytes"].clip(lower=1.0)
    op = rows["op"].astype(str).to_numpy()
    for name in op_vocab:
        is_op = (op == name).astype(float)
        out[f"n:{name}"] = is_op
        out[f"macs:{name}"] = is_op * out["macs"]
        out[f"bytes:{name}"] = is_op * out["bytes"]
    return out


def network_features(kernels: pd.DataFrame, network: pd.Series, op_vocab: list[str]) -> pd.DataFrame:
    """Features of networks as sums of their kernels' additive features, one row per network.

    `network` labels each kernel row with its network (same index as `kernels`); the result
    is indexed by network label in order of first appearance and holds macs, params, bytes,
    n_kernels and the per-op `n:`, `macs:`, `bytes:` sums.
    """
    feats = kernel_features(kernels, op_vocab)
    additive = ["macs", "params", "bytes_in", "bytes_out", "bytes"] + [
        c for c in feats.columns if c.startswith(ADDITIVE_PREFIXES)]
    labels = pd.Series(np.asarray(network), name="network")
    summed = feats[additive].groupby(labels, sort=False).sum()
    summed.insert(0, "n_kernels", labels.groupby(labels, sort=False).size().astype(float))
    return summed
