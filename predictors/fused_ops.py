"""Kernel rows → the primitive kernels a TopHub-trained roofline prices.

TopHub (TVM's pre-tuned AutoTVM logs) holds conv2d workloads only: `conv2d` (spatial pack, any
kernel size), `conv2d_winograd` and `depthwise_conv2d`; a TopHub row is one kernel and
decomposes to itself. An op instance of a search space is a fused block (convs with LeakyReLU,
bias, a residual add or a pixel shuffle). How it splits into the kernels TVM runs is data of the
op, written by whoever owns the op (codesign's op table, codesign.space.search_space.OPS) into the
row's `kernels` column with `encode`, from two builders:

- `conv_kernel`: a conv with its bias, activation and a following element-wise add fused into
  it (TVM's FuseOps), priced as `conv2d` (spatial pack / direct: MetaSchedule, which devices/
  measures with, lowers conv2d to a direct convolution), `pointwise_conv2d` (a 1×1 conv: a
  roofline without its own rate for it prices it as `conv2d`, whose TopHub workloads include
  1×1 kernels; the NPU fits give it one, predictors.public.qaihub_fit) or `depthwise_conv2d`;
- `elementwise_kernel`: an injective op of its own (PixelShuffle's reshape/transpose, the extra
  read of a fused residual add): memory traffic only (bytes, zero MACs). TopHub has no such
  kernel, so its price comes from the spec-sheet bandwidth and the measured depthwise convs
  (predictors.public.transfer).

Nothing here knows an op by name beyond the primitives: a new op is priced by the kernels its
owner lists.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from predictors.kernel_features import BYTES_PER_ELEMENT, conv_row

PRIMITIVES = ("conv2d", "conv2d_winograd", "pointwise_conv2d", "depthwise_conv2d", "elementwise")
TOPHUB_OPS = ("conv2d", "conv2d_winograd", "depthwise_conv2d")
"""Ops of kernel rows that are one primitive kernel each (TopHub's workloads)."""
PRIMITIVE_COLUMNS = ["instance", "primitive", "macs", "bytes", "calls"]


class NoKernelSplit(ValueError):
    """A row of a fused op without its `kernels` column (one-line message)."""


def conv_kernel(cin: int, cout: int, kernel: int, h: int, w: int, groups: int = 1) -> dict:
    """One conv kernel at (h, w) input pixels, stride 1, same padding: `primitive`, `macs`,
    `bytes` (activations in and out + weights, float32) and `calls` (1 launch)."""
    row = conv_row("conv2d", cin, cout, kernel, h, w, groups=groups)
    depthwise = 1 < groups == cin  # grouped with several channels per group: dense (as the features class it)
    primitive = "depthwise_conv2d" if depthwise else "pointwise_conv2d" if kernel == 1 else "conv2d"
    return dict(primitive=primitive, macs=float(row["macs"]),
                bytes=float(row["bytes_in"] + row["bytes_out"] + BYTES_PER_ELEMENT * row["params"]),
                calls=1.0)


def elementwise_kernel(read_elems: float, write_elems: float) -> dict:
    """One memory-bound kernel reading and writing these many float32 elements."""
    return dict(primitive="elementwise", macs=0.0,
                bytes=float(BYTES_PER_ELEMENT * (read_elems + write_elems)), calls=1.0)


def encode(kernels: list[dict]) -> str:
    """The `kernels` column of one row: JSON [[primitive, macs, bytes, calls], ...]."""
    return json.dumps([[k["primitive"], k["macs"], k["bytes"], k["calls"]] for k in kernels])


def _decoded(instance: int, op: str, text) -> list[dict]:
    if not isinstance(text, str) or not text:
        raise NoKernelSplit(f"row {instance} (op {op!r}) has no kernel split: rows of ops other than "
                            f"{', '.join(TOPHUB_OPS)} carry it in a `kernels` column "
                            f"(codesign.space.op_instances writes it)")
    kernels = [dict(zip(PRIMITIVE_COLUMNS, [instance, *k])) for k in json.loads(text)]
    bad = sorted({k["primitive"] for k in kernels} - set(PRIMITIVES))
    if bad:
        raise NoKernelSplit(f"row {instance} (op {op!r}): kernels of unknown primitives {bad}")
    return kernels


def decompose(rows: pd.DataFrame) -> pd.DataFrame:
    """Primitive kernels of kernel rows (profile schema), one line per kernel: `instance` (row
    position in `rows`), `primitive`, `macs`, `bytes` (activations in and out + weights, B),
    `calls` (1 per kernel launch). A TopHub row is itself; any other row needs `kernels`."""
    ops = rows["op"].astype(str).to_numpy()
    split = rows["kernels"].to_numpy() if "kernels" in rows else np.full(len(rows), None)
    macs = rows["macs"].to_numpy(dtype=float)
    total = (rows["bytes_in"].to_numpy(dtype=float) + rows["bytes_out"].to_numpy(dtype=float)
             + BYTES_PER_ELEMENT * rows["params"].to_numpy(dtype=float))
    out = []
    for i, op in enumerate(ops):
        if op in TOPHUB_OPS:
            out.append(dict(instance=i, primitive=op, macs=macs[i], bytes=total[i], calls=1.0))
        else:
            out += _decoded(i, op, split[i])
    return pd.DataFrame(out, columns=PRIMITIVE_COLUMNS)


def ops_from_features(X: np.ndarray, feature_names: list[str]) -> np.ndarray:
    """Op name of each feature row from its one-hot `n:<op>` columns ('' where none is set)."""
    op_cols = [c for c in feature_names if c.startswith("n:")]
    if not op_cols:
        raise ValueError("features have no n:<op> columns")
    hot = X[:, [feature_names.index(c) for c in op_cols]]
    names = np.array([c[2:] for c in op_cols])
    return np.where(hot.max(axis=1) > 0, names[hot.argmax(axis=1)], "")
