"""NAS-Bench-201 architecture strings → the kernels of the real network and its features.

The network is NAS-Bench-201's TinyNetwork for CIFAR (Dong & Yang, ICLR 2020): a 3×3 stem
conv + BN (3→16) on a 32×32 input, three stages of 5 cells at C = 16, 32, 64 on 32×32,
16×16 and 8×8, a residual reduction block between stages (ReLU-conv3×3/2-BN, ReLU-conv3×3-BN,
shortcut avg-pool 2×2/2 + conv1×1, add), then BN-ReLU, global average pool and a 64→10
classifier. A cell has 4 nodes; node i sums op_ij(node j) over j < i, with ops ReLU-conv-BN
1×1 / 3×3, avg-pool 3×3 (stride 1), skip and none (a multiply by zero, as PyTorch runs it).

Each kernel row has a `live` flag: whether it still runs after a graph compiler's dead-code
elimination and constant folding (TFLite, TVM). An edge is live when its source node depends
on the input and its target node reaches the cell output; zeros are folded away. When no path
joins a cell's input to its output, the network's output is a constant and no kernel is live:
these are the 341 architectures that HW-NAS-Bench's pixel3 and raspi4 time below 0.5 ms.
"""
from __future__ import annotations

import re

import pandas as pd

from predictors.kernel_features import (
    conv_row,
    dense_row,
    elementwise_row,
    network_features,
    pool_row,
)

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]  # (to node, from node), string order
STAGES = [(16, 32), (32, 16), (64, 8)]  # (channels, spatial size) of the cells of each stage
CELLS_PER_STAGE = 5
NUM_CLASSES = 10
KERNEL_OPS = ["stem_conv3x3_bn", "relu_conv3x3_bn", "relu_conv1x1_bn", "avgpool3x3", "avgpool2x2",
              "conv1x1", "zero", "add", "bn_relu", "global_avgpool", "dense"]
_EDGE = re.compile(r"^([a-z0-9_]+)~(\d)$")


def parse_arch(arch_str: str) -> list[str]:
    """The 6 edge ops of a cell string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`, in EDGES order."""
    ops = []
    for node, part in enumerate(arch_str.strip().split("+"), start=1):
        tokens = [t for t in part.split("|") if t]
        if len(tokens) != node:
            raise ValueError(f"bad NAS-Bench-201 cell string: {arch_str!r}")
        for source, token in enumerate(tokens):
            match = _EDGE.match(token)
            if not match or match.group(1) not in OPS or int(match.group(2)) != source:
                raise ValueError(f"bad NAS-Bench-201 edge {token!r} in {arch_str!r}")
            ops.append(match.group(1))
    if len(ops) != len(EDGES):
        raise ValueError(f"bad NAS-Bench-201 cell string: {arch_str!r}")
    return ops


def live_edges(ops: list[str]) -> list[bool]:
    """Per edge (EDGES order): does it survive dead-code elimination and constant folding?"""
    from_input = {0}
    for (to, src), op in zip(EDGES, ops):
        if op != "none" and src in from_input:
            from_input.add(to)
    to_output = {3}
    for (to, src), op in reversed(list(zip(EDGES, ops))):
        if op != "none" and to in to_output:
            to_output.add(src)
    return [op != "none" and src in from_input and to in to_output for (to, src), op in zip(EDGES, ops)]


def _cell_kernels(ops: list[str], channels: int, size: int) -> list[dict]:
    rows = []
    live = live_edges(ops)
    for op, is_live in zip(ops, live):
        if op == "nor_conv_3x3":
            rows.append(conv_row("relu_conv3x3_bn", channels, channels, 3, size, size))
        elif op == "nor_conv_1x1":
            rows.append(conv_row("relu_conv1x1_bn", channels, channels, 1, size, size))
        elif op == "avg_pool_3x3":
            rows.append(pool_row("avgpool3x3", channels, 3, size, size))
        elif op == "none":
            rows.append(elementwise_row("zero", channels, size, size, n_inputs=1))
        if op != "skip_connect":
            rows[-1]["live"] = is_live
    for node in (2, 3):  # node 1 has a single input, nothing to add; PyTorch adds every input
        rows.append(dict(elementwise_row("add", channels, size, size, n_inputs=node), live=False))
        live_inputs = sum(is_live for (to, _), is_live in zip(EDGES, live) if to == node)
        if live_inputs >= 2:  # what a graph compiler keeps: an add of the live inputs
            rows.append(dict(elementwise_row("add", channels, size, size, n_inputs=live_inputs),
                             live=True, eager=False))
    return rows


def nb201_kernels(arch_str: str) -> pd.DataFrame:
    """Kernel rows (profile-schema columns, batch 1, float32) of the whole network, in order.

    `eager` marks the kernels PyTorch runs (all of them but the compiled adds of live inputs),
    `live` those left after dead-code elimination and constant folding.
    """
    ops = parse_arch(arch_str)
    rows = [conv_row("stem_conv3x3_bn", 3, STAGES[0][0], 3, 32, 32)]
    for stage, (channels, size) in enumerate(STAGES):
        if stage > 0:
            cin, prev = STAGES[stage - 1]
            rows += [conv_row("relu_conv3x3_bn", cin, channels, 3, prev, prev, stride=2),
                     conv_row("relu_conv3x3_bn", channels, channels, 3, size, size),
                     pool_row("avgpool2x2", cin, 2, prev, prev, stride=2, padding=0),
                     conv_row("conv1x1", cin, channels, 1, size, size),
                     elementwise_row("add", channels, size, size)]
        for _ in range(CELLS_PER_STAGE):
            rows += _cell_kernels(ops, channels, size)
    channels, size = STAGES[-1]
    rows += [elementwise_row("bn_relu", channels, size, size, n_inputs=1),
             pool_row("global_avgpool", channels, size, size, size, padding=0),
             dense_row("dense", channels, NUM_CLASSES)]
    frame = pd.DataFrame(rows)
    frame["eager"] = frame.get("eager", pd.Series(True, index=frame.index)).fillna(True).astype(bool)
    frame["live"] = frame.get("live", pd.Series(True, index=frame.index)).fillna(True).astype(bool)
    if not any(live_edges(ops)[i] for i, (to, _) in enumerate(EDGES) if to == 3):
        frame["live"] = False  # output does not depend on the input: all folded to a constant
    return frame


def cell_onehot(arch_strs: list[str]) -> pd.DataFrame:
    """One-hot encoding of the cell: column `edge<to><from>:<op>` is 1 where that edge has op."""
    data = {f"edge{t}{f}:{op}": [] for t, f in EDGES for op in OPS}
    for arch in arch_strs:
        ops = parse_arch(arch)
        for (t, f), chosen in zip(EDGES, ops):
            for op in OPS:
                data[f"edge{t}{f}:{op}"].append(float(op == chosen))
    return pd.DataFrame(data)


def nb201_features(arch_strs: list[str]) -> pd.DataFrame:
    """Per architecture string (rows in input order): sums of the features of the kernels
    PyTorch runs (see `network_features`), the same sums over the live kernels (prefix
    `live:`) and the cell one-hot."""
    kernels = pd.concat([nb201_kernels(a).assign(network=i) for i, a in enumerate(arch_strs)],
                        ignore_index=True)
    parts = []
    for flag, prefix in (("eager", ""), ("live", "live:")):
        rows = kernels[kernels[flag]]
        summed = network_features(rows, rows["network"], KERNEL_OPS)
        summed = summed.reindex(range(len(arch_strs)), fill_value=0.0)
        parts.append(summed.add_prefix(prefix).reset_index(drop=True))
    return pd.concat(parts + [cell_onehot(arch_strs)], axis=1)
