"""Fused op instances of the search space → the primitive kernels a TopHub-trained model knows.

TopHub (TVM's pre-tuned AutoTVM logs) holds conv2d workloads only: `conv2d` (spatial pack, any
kernel size), `conv2d_winograd` and `depthwise_conv2d`. Our op instances (codesign.space.search_space
OPS, one row per instance in the profile schema) are fused blocks: convs with LeakyReLU, bias,
a residual add or a pixel shuffle. `decompose` writes each instance as the kernels TVM runs
for it (FuseOps fuses a conv with its bias, activation and following element-wise add into one
kernel; an injective op such as PixelShuffle's reshape/transpose after a conv is a kernel of
its own), each priced by one of the primitive classes:

| op | kernels (h×w = instance input size, all stride 1, padding k//2) |
|---|---|
| `stem` | conv2d 3×3 3→cout (+bias) |
| `skip` | conv2d 1×1 cin→cout (+LReLU fused) |
| `conv3x3` | conv2d 3×3 cin→cout (+LReLU fused) |
| `residual` | conv2d 3×3 cin→cout (+LReLU); conv2d 1×1 cin→cout (shortcut); conv2d 3×3 cout→cout with the add and LReLU fused: `elementwise` reading the shortcut output once more (cout·h·w·4 B) |
| `dwsblock` | depthwise_conv2d 3×3 cin (+LReLU); conv2d 1×1 cin→cout (+LReLU) |
| `upsample_x{f}` | conv2d 3×3 cin→cout·f² (+bias); `elementwise` PixelShuffle + LReLU: read and write cout·f²·h·w·4 B |
| `head_x{r}` | conv2d 3×3 cin→cout·r² (+bias); for r > 1 `elementwise` PixelShuffle: read and write cout·r²·h·w·4 B |

Dense convs are priced as `conv2d` (spatial pack / direct), not winograd: TVM's MetaSchedule,
which devices/ measures with, lowers conv2d to a direct convolution. The `elementwise` class is
memory traffic only (bytes in `bytes_in`/`bytes_out`, zero MACs); TopHub has no such kernel,
so its price comes from the spec-sheet bandwidth and the measured depthwise convs (see
predictors.public.transfer). Primitive TopHub rows (`conv2d`, `conv2d_winograd`, `depthwise_conv2d`)
decompose to themselves, so one model scores both.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from predictors.kernel_features import BYTES_PER_ELEMENT, conv_row

PRIMITIVES = ("conv2d", "conv2d_winograd", "depthwise_conv2d", "elementwise")
FUSED_OPS = ("stem", "skip", "conv3x3", "residual", "dwsblock", "upsample_x2", "upsample_x3",
             "head_x1", "head_x2", "head_x3", "head_x4", "head_x8")
KNOWN_OPS = PRIMITIVES[:-1] + FUSED_OPS
PRIMITIVE_COLUMNS = ["instance", "primitive", "macs", "bytes", "calls"]


def _conv(instance: int, cin: int, cout: int, kernel: int, h: int, w: int, groups: int = 1) -> dict:
    row = conv_row("conv2d", cin, cout, kernel, h, w, groups=groups)
    primitive = "depthwise_conv2d" if groups > 1 else "conv2d"
    return dict(instance=instance, primitive=primitive, macs=float(row["macs"]),
                bytes=float(row["bytes_in"] + row["bytes_out"] + BYTES_PER_ELEMENT * row["params"]),
                calls=1.0)


def _elementwise(instance: int, read_elems: float, write_elems: float) -> dict:
    return dict(instance=instance, primitive="elementwise", macs=0.0,
                bytes=float(BYTES_PER_ELEMENT * (read_elems + write_elems)), calls=1.0)


def _factor(op: str) -> int:
    return int(op.rsplit("_x", 1)[1])


def decompose_one(instance: int, op: str, cin: int, cout: int, h: int, w: int, kernel: int = 3,
                  groups: int = 1, stride: int = 1, macs: float = 0.0, bytes_: float = 0.0) -> list[dict]:
    """Primitive kernels of one row (see the module table); ValueError for an unknown op."""
    if op in ("conv2d", "conv2d_winograd", "depthwise_conv2d"):  # a TopHub row: itself
        return [dict(instance=instance, primitive=op, macs=float(macs), bytes=float(bytes_), calls=1.0)]
    if op == "stem":
        return [_conv(instance, cin, cout, 3, h, w)]
    if op == "skip":
        return [_conv(instance, cin, cout, 1, h, w)]
    if op == "conv3x3":
        return [_conv(instance, cin, cout, 3, h, w)]
    if op == "residual":
        return [_conv(instance, cin, cout, 3, h, w), _conv(instance, cin, cout, 1, h, w),
                _conv(instance, cout, cout, 3, h, w), _elementwise(instance, cout * h * w, 0)]
    if op == "dwsblock":
        return [_conv(instance, cin, cin, 3, h, w, groups=cin), _conv(instance, cin, cout, 1, h, w)]
    if op.startswith("upsample_x") or op.startswith("head_x"):
        f = _factor(op)
        kernels = [_conv(instance, cin, cout * f * f, 3, h, w)]
        if f > 1:
            size = cout * f * f * h * w
            kernels.append(_elementwise(instance, size, size))
        return kernels
    raise ValueError(f"no decomposition for op {op!r}; known: {', '.join(KNOWN_OPS)}")


def decompose(rows: pd.DataFrame) -> pd.DataFrame:
    """Primitive kernels of kernel rows (profile schema), one line per kernel: `instance` (row
    position in `rows`), `primitive`, `macs`, `bytes` (activations in and out + weights, B),
    `calls` (1 per kernel launch)."""
    ops = rows["op"].astype(str).to_numpy()
    cols = {c: rows[c].to_numpy() for c in ("cin", "cout", "h", "w", "kernel", "groups", "stride",
                                            "macs", "bytes_in", "bytes_out", "params")}
    out = []
    for i, op in enumerate(ops):
        out += decompose_one(i, op, int(cols["cin"][i]), int(cols["cout"][i]), int(cols["h"][i]),
                             int(cols["w"][i]), int(cols["kernel"][i]), int(cols["groups"][i]),
                             int(cols["stride"][i]), float(cols["macs"][i]),
                             float(cols["bytes_in"][i] + cols["bytes_out"][i]
                                   + BYTES_PER_ELEMENT * cols["params"][i]))
    return pd.DataFrame(out, columns=PRIMITIVE_COLUMNS)


def ops_from_features(X: np.ndarray, feature_names: list[str]) -> np.ndarray:
    """Op name of each feature row from its one-hot `n:<op>` columns ('' where none is set)."""
    op_cols = [c for c in feature_names if c.startswith("n:")]
    if not op_cols:
        raise ValueError("features have no n:<op> columns")
    hot = X[:, [feature_names.index(c) for c in op_cols]]
    names = np.array([c[2:] for c in op_cols])
    return np.where(hot.max(axis=1) > 0, names[hot.argmax(axis=1)], "")
