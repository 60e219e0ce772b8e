"""One network plan: the op instance of every module a network of a search space can run.

An op instance is an op of ``OPS`` from ``cin`` to ``cout`` channels on an input of
``resolution``× the LR size; at an LR input of (h, w) pixels it has a profile-schema row and a
stable key (``predictors.kernel_features.kernel_key``), e.g. ``conv3x3:cin=64:cout=32:h=90:w=160``.

``node_step`` says what a network whose path (the string of C and U modules after the stem
cell, see codesign.space.network_tree) ends at a node runs there: the upsampler of a U node and the
head a network ending there runs. Stem, upsamplers and heads are found in ``OPS`` by their role
and spatial factor, so a new one is taught to ``OPS`` alone. A cell is a chain of
``ops_per_cell`` positions; position k takes width k−1 to width k, the first input and the last
output being nf.

``NetworkPlan`` (one per search space, ``network_plan(space)``) holds these for every node of the
space's tree and the candidate op instances of every cell position at every resolution. The
supernet, the derived network, the op-instance enumeration, the cost tables and the budget fit
all read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch
from torch import nn

from codesign.space.network_tree import NetworkTree, path_resolution
from codesign.space.search_space import OPS, SearchSpace, upsample_factors
from predictors.fused_ops import conv_kernel, elementwise_kernel, encode
from predictors.kernel_features import BYTES_PER_ELEMENT, kernel_key

COLUMNS = ["key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w", "out_h", "out_w",
           "macs", "params", "bytes_in", "bytes_out", "kernels"]


def module_kernels(module: nn.Module, h: int, w: int) -> list[dict]:
    """The kernels an op's module runs at (h, w) input pixels, read from its submodules in
    order: a conv each (its bias, activation and a following add fused), a PixelShuffle of
    factor > 1 an elementwise kernel moving its input once each way. Every conv must keep
    the input size (stride 1, same padding, any dilation)."""
    kernels, channels = [], 0
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            k, d = m.kernel_size[0], m.dilation[0]
            if m.stride != (1, 1) or m.padding != (d * (k // 2),) * 2 or m.kernel_size != (k, k):
                raise ValueError(f"{type(module).__name__}: a conv that changes the input size; "
                                 f"list its kernels in OPS (OpSpec.kernels)")
            kernels.append(conv_kernel(m.in_channels, m.out_channels, k, h, w, groups=m.groups))
            channels = m.out_channels
        elif isinstance(m, nn.PixelShuffle) and m.upscale_factor > 1:
            kernels.append(elementwise_kernel(channels * h * w, channels * h * w))
    return kernels


@cache
def _op_row(op: str, cin: int, cout: int, h: int, w: int) -> tuple:
    spec = OPS[op]
    with torch.device("meta"):
        module = spec.build(cin, cout)
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    out_h, out_w = h * spec.out_factor, w * spec.out_factor
    row = {"op": op, "cin": cin, "cout": cout, "kernel": spec.kernel,
           "groups": cin if spec.depthwise else 1, "stride": 1, "h": h, "w": w,
           "out_h": out_h, "out_w": out_w,
           "macs": sum(c.weight.numel() for c in convs) * h * w,  # every conv runs at the input size
           "params": sum(p.numel() for p in module.parameters()),
           "bytes_in": cin * h * w * BYTES_PER_ELEMENT,
           "bytes_out": cout * out_h * out_w * BYTES_PER_ELEMENT,
           "kernels": encode(spec.kernels(cin, cout, h, w) if spec.kernels else module_kernels(module, h, w))}
    row["key"] = kernel_key(row)
    return tuple(row[c] for c in COLUMNS)


@dataclass(frozen=True)
class OpInstance:
    """An op of ``OPS`` from ``cin`` to ``cout`` channels on an input of ``resolution``× the LR
    size (batch 1, float32)."""

    op: str
    cin: int
    cout: int
    resolution: int = 1

    def row(self, lr_hw: tuple[int, int]) -> dict:
        """Profile-schema features (``COLUMNS``) at an LR input of ``lr_hw`` = (h, w) pixels:
        ``macs`` of all convs of the fused op, ``bytes_in``/``bytes_out`` its float32 activations."""
        return dict(zip(COLUMNS, self._row(lr_hw)))

    def key(self, lr_hw: tuple[int, int]) -> str:
        """Stable key at an LR input of ``lr_hw`` pixels, e.g. ``skip:cin=64:cout=32:h=90:w=160``."""
        return self._row(lr_hw)[0]

    def _row(self, lr_hw: tuple[int, int]) -> tuple:
        r = self.resolution
        return _op_row(self.op, self.cin, self.cout, lr_hw[0] * r, lr_hw[1] * r)

    def build(self) -> nn.Module:
        """A freshly initialised module of this op at these channels."""
        return OPS[self.op].build(self.cin, self.cout)


def module_op(role: str, factor: int = 1) -> str:
    """The op of ``OPS`` that plays ``role`` ("stem", "upsample", "head") with spatial factor
    ``factor``, e.g. the ×2 upsampler."""
    names = [name for name, spec in OPS.items() if spec.role == role and spec.out_factor == factor]
    if len(names) != 1:
        raise ValueError(f"OPS holds {len(names)} {role} ops of factor {factor}, not one")
    return names[0]


def stem_instance(nf: int) -> OpInstance:
    """The stem: RGB to nf features at LR."""
    return OpInstance(module_op("stem"), 3, nf)


@dataclass(frozen=True)
class NodeStep:
    """What a network whose path ends at ``path`` runs there: its output is ``resolution``× LR;
    a U node runs ``upsampler`` on its parent's output (None for the root and C nodes); a
    network ending here runs ``head`` to the HR image."""

    path: str
    resolution: int
    upsampler: OpInstance | None
    head: OpInstance


@cache
def node_step(nf: int, scale: int, path: str) -> NodeStep:
    """The step of ``path`` in a network of nf features at ×``scale``."""
    factors = upsample_factors(scale)
    r = path_resolution(factors, path)
    upsampler = None
    if path.endswith("U"):
        factor = factors[path.count("U") - 1]
        upsampler = OpInstance(module_op("upsample", factor), nf, nf, r // factor)
    return NodeStep(path, r, upsampler, OpInstance(module_op("head", scale // r), nf, 3, r))


def path_steps(nf: int, scale: int, path: str) -> list[NodeStep]:
    """Steps of every node from the root to ``path`` inclusive."""
    return [node_step(nf, scale, path[:k]) for k in range(len(path) + 1)]


def cell_instances(nf: int, ops: tuple[str, ...], widths: tuple[int, ...],
                   resolution: int) -> list[OpInstance]:
    """The op instances of one cell: ``ops[k]`` from width k−1 to width k (nf at both ends)."""
    cins, couts = (nf,) + tuple(widths), tuple(widths) + (nf,)
    return [OpInstance(op, a, b, resolution) for op, a, b in zip(ops, cins, couts)]


class NetworkPlan:
    """Every node of ``space``'s tree with its step (``nodes``, in tree order) and the candidate
    op instances of every cell position at every resolution (``cell_choices``)."""

    def __init__(self, space: SearchSpace):
        self.space = space
        self.tree = NetworkTree(space.searchable_cells, space.upsample_factors)
        self.stem = stem_instance(space.nf)
        self.nodes = [node_step(space.nf, space.scale, n.path) for n in self.tree.nodes]
        self.resolutions = tuple(sorted({step.resolution for step in self.nodes}))
        self._choices = {r: [self._position_choices(k, r) for k in range(space.ops_per_cell)]
                         for r in self.resolutions}

    def position_widths(self, position: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Indices into ``space.widths`` of the input and of the output widths cell position
        ``position`` may have (the first input and the last output are nf)."""
        space = self.space
        every, nf = tuple(range(len(space.widths))), (space.widths.index(space.nf),)
        return (nf if position == 0 else every,
                nf if position == space.ops_per_cell - 1 else every)

    def _position_choices(self, position: int, resolution: int) -> dict:
        widths, ops = self.space.widths, self.space.ops
        ins, outs = self.position_widths(position)
        return {(a, b): tuple(OpInstance(op, widths[a], widths[b], resolution) for op in ops)
                for b in outs for a in ins}

    def cell_choices(self, resolution: int) -> list[dict[tuple[int, int], tuple[OpInstance, ...]]]:
        """Per cell position: (input width index a, output width index b) → the op instance of
        every op of the space (in ``space.ops`` order) from width a to width b, for a cell at
        ``resolution``× LR; the pairs ordered by b, then a."""
        return self._choices[resolution]

    def instances(self) -> list[OpInstance]:
        """Every distinct op instance: the stem; at every resolution the cell ops (op by op, at
        every width pair some position allows) and the head; the upsamplers."""
        heads = {step.resolution: step.head for step in self.nodes}
        out = [self.stem]
        for r in self.resolutions:
            pairs = {pair: ops for position in self.cell_choices(r) for pair, ops in position.items()}
            out += [pairs[pair][i] for i in range(len(self.space.ops)) for pair in sorted(pairs)]
            out.append(heads[r])
        out += [step.upsampler for step in self.nodes if step.upsampler is not None]
        return list(dict.fromkeys(out))


@cache
def network_plan(space: SearchSpace) -> NetworkPlan:
    """The plan of ``space``, computed once per space."""
    return NetworkPlan(space)
