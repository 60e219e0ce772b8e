"""The trilevel search space as plain data, and the one table of candidate operations.

``SearchSpace`` holds every size (nf, cells, widths, scale, ops); ``OPS`` maps an op name to its
constructor, shape facts and, where its module does not show them, the kernels it runs. The supernet, the derived network and the op-instance enumeration
used by the latency predictors all build operations from ``OPS`` only, through the network plan
(codesign.space.network_plan), which finds the stem, the upsamplers and the heads by their role and
factor: a new op is taught to ``OPS`` alone.

Cell operations take ``(cin, cout)`` and accept an optional ``out_mask`` (one weight per output
channel, see codesign.space.slimmable) so that the supernet can run them at a soft width. No batch
norm; convs inside cells have no bias; activations are LeakyReLU(0.2).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import nn

from codesign.space.slimmable import apply_mask
from predictors.fused_ops import conv_kernel, elementwise_kernel

NEGATIVE_SLOPE = 0.2


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    return nn.functional.leaky_relu(x, NEGATIVE_SLOPE)


def _conv(cin: int, cout: int, kernel: int, groups: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, groups=groups, bias=bias)


class SkipOp(nn.Module):
    """``skip``: 1×1 conv + LeakyReLU (a learnt projection, not the identity)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout, 1)

    def forward(self, x, out_mask=None):
        return _lrelu(apply_mask(self.conv(x), out_mask))


class Conv3x3Op(nn.Module):
    """``conv3x3``: 3×3 conv + LeakyReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout, 3)

    def forward(self, x, out_mask=None):
        return _lrelu(apply_mask(self.conv(x), out_mask))


class ResidualOp(nn.Module):
    """``residual``: 3×3 → LeakyReLU → 3×3, plus a 1×1 projection shortcut, LeakyReLU after the add."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = _conv(cin, cout, 3)
        self.conv2 = _conv(cout, cout, 3)
        self.shortcut = _conv(cin, cout, 1)

    def forward(self, x, out_mask=None):
        y = apply_mask(self.conv2(_lrelu(apply_mask(self.conv1(x), out_mask))), out_mask)
        return _lrelu(y + apply_mask(self.shortcut(x), out_mask))


class DWSBlockOp(nn.Module):
    """``dwsblock``: depthwise 3×3 → LeakyReLU → pointwise 1×1 → LeakyReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.depthwise = _conv(cin, cin, 3, groups=cin)
        self.pointwise = _conv(cin, cout, 1)

    def forward(self, x, out_mask=None):
        return _lrelu(apply_mask(self.pointwise(_lrelu(self.depthwise(x))), out_mask))


class StemConv(nn.Module):
    """``stem``: 3×3 conv (with bias) from RGB to nf features, no activation."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = _conv(cin, cout, 3, bias=True)

    def forward(self, x):
        return self.conv(x)


class SubPixelUpsample(nn.Module):
    """``upsample_x{f}``: 3×3 conv (cin → cout·f², bias) → PixelShuffle(f) → LeakyReLU."""

    def __init__(self, cin: int, cout: int, factor: int):
        super().__init__()
        self.conv = _conv(cin, cout * factor * factor, 3, bias=True)
        self.shuffle = nn.PixelShuffle(factor)

    def forward(self, x):
        return _lrelu(self.shuffle(self.conv(x)))


class Head(nn.Module):
    """``head_x{r}``: 3×3 conv (cin → 3·r², bias) → PixelShuffle(r) to the HR image."""

    def __init__(self, cin: int, cout: int, factor: int):
        super().__init__()
        self.conv = _conv(cin, cout * factor * factor, 3, bias=True)
        self.shuffle = nn.PixelShuffle(factor)

    def forward(self, x):
        return self.shuffle(self.conv(x))


@dataclass(frozen=True)
class OpSpec:
    """One candidate operation: constructor ``build(cin, cout)``, its largest kernel, whether its
    first conv is depthwise (groups = cin), the spatial output factor and its role in the net.

    ``kernels(cin, cout, h, w)`` lists the kernels TVM runs for one instance at (h, w) input
    pixels (predictors.fused_ops builders), for predictors that price kernels (transferred and
    public-data rooflines). None reads them from the module (codesign.space.network_plan): one
    per conv, a PixelShuffle as an elementwise kernel; say them where fusion hides one, as
    ``residual`` does for its add."""

    build: Callable[[int, int], nn.Module]
    kernel: int
    role: str  # "cell", "stem", "upsample" or "head"
    depthwise: bool = False
    out_factor: int = 1
    kernels: Callable[[int, int, int, int], list[dict]] | None = None


def _residual_kernels(cin: int, cout: int, h: int, w: int) -> list[dict]:
    """conv1, the shortcut, then conv2 with the add and LeakyReLU fused into it: the add reads
    the shortcut's output once more (cout·h·w floats)."""
    return [conv_kernel(cin, cout, 3, h, w), conv_kernel(cin, cout, 1, h, w),
            conv_kernel(cout, cout, 3, h, w), elementwise_kernel(cout * h * w, 0)]


def _factor_op(cls, factor: int) -> Callable[[int, int], nn.Module]:
    def build(cin: int, cout: int) -> nn.Module:
        return cls(cin, cout, factor)
    return build


OPS: dict[str, OpSpec] = {
    "skip": OpSpec(SkipOp, kernel=1, role="cell"),
    "conv3x3": OpSpec(Conv3x3Op, kernel=3, role="cell"),
    "residual": OpSpec(ResidualOp, kernel=3, role="cell", kernels=_residual_kernels),
    "dwsblock": OpSpec(DWSBlockOp, kernel=3, role="cell", depthwise=True),
    "stem": OpSpec(StemConv, kernel=3, role="stem"),
    **{f"upsample_x{f}": OpSpec(_factor_op(SubPixelUpsample, f), kernel=3, role="upsample",
                                out_factor=f) for f in (2, 3)},
    **{f"head_x{r}": OpSpec(_factor_op(Head, r), kernel=3, role="head", out_factor=r)
       for r in (1, 2, 3, 4, 8)},
}


def upsample_factors(scale: int) -> tuple[int, ...]:
    """Factors of the upsampling modules a path may hold: ×4 → (2, 2), ×3 → (3,), ×2 → (2,)."""
    factors, rest = [], scale
    while rest % 2 == 0 and rest > 1:
        factors.append(2)
        rest //= 2
    if rest == 3:
        factors.append(3)
    elif rest != 1:
        raise ValueError(f"scale {scale} is not a product of 2s and at most one 3")
    return tuple(factors)


@dataclass(frozen=True)
class SearchSpace:
    """Sizes of the three levels. ``num_cells`` counts the stem cell: ``num_cells − 1`` cells are
    searchable at network level. Widths are ``width_fractions`` of nf rounded to the nearest
    multiple of ``width_multiple`` (nf = 64 → 24, 32, 40, 56, 64)."""

    nf: int = 64
    num_cells: int = 5
    scale: int = 4
    ops: tuple[str, ...] = ("skip", "conv3x3", "residual", "dwsblock")
    ops_per_cell: int = 5
    width_fractions: tuple[float, ...] = (4 / 12, 6 / 12, 8 / 12, 10 / 12, 12 / 12)
    width_multiple: int = 8
    res_scale: float = 0.2

    def __post_init__(self):
        unknown = [op for op in self.ops if OPS.get(op) is None or OPS[op].role != "cell"]
        if unknown:
            raise ValueError(f"not cell operations of OPS: {unknown}")
        upsample_factors(self.scale)

    @property
    def widths(self) -> tuple[int, ...]:
        """Candidate inner widths of a cell, ascending and distinct; the largest is nf."""
        m = self.width_multiple
        rounded = {max(m, round(self.nf * f / m) * m) for f in self.width_fractions}
        return tuple(sorted(min(w, self.nf) for w in rounded | {self.nf}))

    @property
    def upsample_factors(self) -> tuple[int, ...]:
        return upsample_factors(self.scale)

    @property
    def searchable_cells(self) -> int:
        return self.num_cells - 1

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> SearchSpace:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
