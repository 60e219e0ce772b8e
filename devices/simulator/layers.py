"""Simulator layers: the convolutions, additions and poolings one kernel row runs on an array.

A `Layer` is plain data (operator type, channels, kernel, stride, groups, input size, padding)
that ZigZag can evaluate. `kernel_layers(row)` decomposes one profile-schema kernel row:

- ops of our search space (`codesign.search_space.OPS`) are built on the meta device and every
  `nn.Conv2d` they run is recorded with its real input size; the residual op adds one `Add`
  (its shortcut sum). Bias, LeakyReLU and PixelShuffle are folded into the producing conv's
  output writes (same bytes written, the activation applied on the way out), so they add no
  layer of their own; docs/accelerators.md states this model.
- NAS-Bench-201 ops (`predictors.nb201.KERNEL_OPS`): convs and the dense layer as `Conv`,
  average pools as `Pooling`, `add` of n inputs as n-1 `Add`s, and the single-input
  elementwise kernels (`zero`, `bn_relu`) as one `Add`-shaped pass over the tensor.

Any other op raises ValueError: a kernel the simulator cannot cost is never given zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Layer:
    """One simulator layer, batch 1: `kind` is `Conv`, `Add` or `Pooling`; h, w are the
    input size in pixels, `padding` symmetric per side."""

    kind: str
    cin: int
    cout: int
    kernel: int
    h: int
    w: int
    stride: int = 1
    groups: int = 1
    padding: int = 0

    @property
    def out_h(self) -> int:
        return (self.h + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.w + 2 * self.padding - self.kernel) // self.stride + 1

    def signature(self) -> str:
        """Stable text naming this layer in the cycle cache."""
        return (f"{self.kind}:cin={self.cin}:cout={self.cout}:k={self.kernel}:s={self.stride}"
                f":g={self.groups}:p={self.padding}:h={self.h}:w={self.w}")


RESIDUAL_ADDS = {"residual": 1}  # op → elementwise sums outside its convs (see ResidualOp.forward)
NB201_CONVS = {"stem_conv3x3_bn", "relu_conv3x3_bn", "relu_conv1x1_bn", "conv1x1", "dense"}
NB201_POOLS = {"avgpool3x3", "avgpool2x2", "global_avgpool"}
NB201_ELEMENTWISE = {"add", "zero", "bn_relu"}


def _padding(row: dict) -> int:
    """Symmetric padding that gives the row's out_h from h, kernel and stride."""
    k, s, h, out_h = (int(row[c]) for c in ("kernel", "stride", "h", "out_h"))
    return max(0, ((out_h - 1) * s + k - h + 1) // 2)


def _search_space_layers(row: dict) -> list[Layer]:
    from codesign.search_space import OPS

    op, cin, cout, h, w = row["op"], int(row["cin"]), int(row["cout"]), int(row["h"]), int(row["w"])
    with torch.device("meta"):
        module = OPS[op].build(cin, cout).eval()
    layers: list[Layer] = []

    def record(conv: nn.Conv2d, inputs, _output):
        _, c, ih, iw = inputs[0].shape
        layers.append(Layer("Conv", c, conv.out_channels, conv.kernel_size[0], ih, iw,
                            conv.stride[0], conv.groups, conv.padding[0]))

    hooks = [m.register_forward_hook(record) for m in module.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        module(torch.empty(1, cin, h, w, device="meta"))
    for hook in hooks:
        hook.remove()
    layers += [Layer("Add", cout, cout, 1, h, w, groups=cout)] * RESIDUAL_ADDS.get(op, 0)
    return layers


def _nb201_layers(row: dict) -> list[Layer]:
    op = row["op"]
    cin, cout, k, s, g = (int(row[c]) for c in ("cin", "cout", "kernel", "stride", "groups"))
    h, w = int(row["h"]), int(row["w"])
    if op in NB201_CONVS:
        return [Layer("Conv", cin, cout, k, h, w, s, g, _padding(row))]
    if op in NB201_POOLS:
        return [Layer("Pooling", cin, cin, k, h, w, s, cin, _padding(row))]
    n_adds = max(1, int(round(row["bytes_in"] / max(row["bytes_out"], 1))) - 1)
    return [Layer("Add", cin, cin, 1, h, w, groups=cin)] * n_adds


def kernel_layers(row: dict) -> list[Layer]:
    """The simulator layers of one kernel row (profile-schema columns); ValueError for an op
    with no simulator model."""
    from codesign.search_space import OPS

    op = row["op"]
    if op in OPS:
        return _search_space_layers(row)
    if op in NB201_CONVS | NB201_POOLS | NB201_ELEMENTWISE:
        return _nb201_layers(row)
    raise ValueError(f"op {op!r} has no simulator model (not in the search space or NAS-Bench-201)")
