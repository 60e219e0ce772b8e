"""Simulator layers: the convolutions, additions and poolings one kernel runs on an array.

A `Layer` is plain data (operator type, channels, kernel, stride, groups, input size, padding)
that ZigZag can evaluate. A kernel is decomposed from what the caller gives:

- a PyTorch module (`module_layers`, e.g. an op instance of the search space): it is run on the
  meta device and every `nn.Conv2d` it calls is recorded with its real input size, every sum of
  two tensors of one shape (the residual op's shortcut) as one `Add`. Bias, LeakyReLU and
  PixelShuffle are folded into the producing conv's output writes (same bytes written, the
  activation applied on the way out), so they add no layer of their own; docs/accelerators.md
  states this model.
- a NAS-Bench-201 kernel row (`kernel_layers`, ops of `predictors.public.nb201.KERNEL_OPS`): convs and
  the dense layer as `Conv`, average pools as `Pooling`, `add` of n inputs as n-1 `Add`s, and
  the single-input elementwise kernels (`zero`, `bn_relu`) as one `Add`-shaped pass over the
  tensor. Any other op raises ValueError: a kernel the simulator cannot cost is never given zero.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode


@dataclass(frozen=True)
class Layer:
    """One simulator layer, batch 1: `kind` is `Conv`, `Add` or `Pooling`; h, w are the
    input size in pixels, `padding` symmetric per side, `dilation` the spacing of the kernel's
    taps (1: dense)."""

    kind: str
    cin: int
    cout: int
    kernel: int
    h: int
    w: int
    stride: int = 1
    groups: int = 1
    padding: int = 0
    dilation: int = 1

    @property
    def out_h(self) -> int:
        return (self.h + 2 * self.padding - self.dilation * (self.kernel - 1) - 1) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.w + 2 * self.padding - self.dilation * (self.kernel - 1) - 1) // self.stride + 1

    def signature(self) -> str:
        """Stable text naming this layer in the cycle cache (dense layers keep the names they
        had before dilation was recorded)."""
        dilated = f":d={self.dilation}" if self.dilation != 1 else ""
        return (f"{self.kind}:cin={self.cin}:cout={self.cout}:k={self.kernel}:s={self.stride}"
                f":g={self.groups}:p={self.padding}{dilated}:h={self.h}:w={self.w}")


NB201_CONVS = {"stem_conv3x3_bn", "relu_conv3x3_bn", "relu_conv1x1_bn", "conv1x1", "dense"}
NB201_POOLS = {"avgpool3x3", "avgpool2x2", "global_avgpool"}
NB201_ELEMENTWISE = {"add", "zero", "bn_relu"}


def _padding(row: dict) -> int:
    """Symmetric padding that gives the row's out_h from h, kernel and stride."""
    k, s, h, out_h = (int(row[c]) for c in ("kernel", "stride", "h", "out_h"))
    return max(0, ((out_h - 1) * s + k - h + 1) // 2)


TENSOR_SUMS = {torch.add, torch.Tensor.add, torch.Tensor.__add__, torch.Tensor.__radd__}


class _RecordSums(TorchFunctionMode):
    """Appends an `Add` layer to `layers` for every sum of two NCHW tensors of one shape."""

    def __init__(self, layers: list[Layer]):
        super().__init__()
        self.layers = layers

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        a, b = (args + (None, None))[:2]
        if func in TENSOR_SUMS and isinstance(b, torch.Tensor) and a.shape == b.shape and a.dim() == 4:
            _, c, h, w = out.shape
            self.layers.append(Layer("Add", c, c, 1, h, w, groups=c))
        return out


def module_layers(module: nn.Module, input_shape: tuple[int, ...]) -> list[Layer]:
    """The simulator layers one forward pass of ``module`` runs on an NCHW input of
    ``input_shape`` (batch 1), in call order; the module itself is left untouched."""
    meta = copy.deepcopy(module).to("meta").eval()
    layers: list[Layer] = []

    def record(conv: nn.Conv2d, inputs, _output):
        _, c, ih, iw = inputs[0].shape
        layers.append(Layer("Conv", c, conv.out_channels, conv.kernel_size[0], ih, iw,
                            conv.stride[0], conv.groups, conv.padding[0], conv.dilation[0]))

    hooks = [m.register_forward_hook(record) for m in meta.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad(), _RecordSums(layers):
            meta(torch.empty(*input_shape, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
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
    """The simulator layers of one NAS-Bench-201 kernel row (profile-schema columns);
    ValueError for an op with no simulator model (give its module to `module_layers`)."""
    op = row["op"]
    if op in NB201_CONVS | NB201_POOLS | NB201_ELEMENTWISE:
        return _nb201_layers(row)
    raise ValueError(f"op {op!r} has no simulator model (not a NAS-Bench-201 kernel; "
                     "give its module)")
