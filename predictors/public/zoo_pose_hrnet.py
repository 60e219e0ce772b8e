"""The AI Hub zoo's two HRNet pose estimators, written here from their papers and their authors'
code at the configuration the zoo exports, for counting layer features only (no weights, no data).
Both take a 1×3×256×192 (height × width) image in [0, 1] (their get_input_spec) and give 17 COCO
keypoint heatmaps of 64×48.

- `hrnet_pose`: HRNet-W32 (Sun et al., "Deep High-Resolution Representation Learning for Human
  Pose Estimation", arXiv:1902.09212; leoxiaobin/deep-high-resolution-net.pytorch at 6f69e46, the
  commit the zoo pins, MIT licence: ``lib/models/pose_hrnet.py`` built with
  ``experiments/coco/hrnet/w32_256x192_adam_lr1e-3.yaml``, the zoo's default ``coco`` variant,
  whose AIMET-zoo weights load into it strictly). Two 3×3 stride-2 stem convolutions to 64, four
  bottlenecks to 256, then stages of 1, 4 and 3 multi-resolution modules on 2, 3 and 4 branches
  32/64/128/256 wide (strides 4…32), four basic blocks per branch per module; each module's fuse
  layer adds every branch to every other (upwards: 1×1 convolution, batch norm, nearest upsampling;
  downwards: a chain of 3×3 stride-2 convolutions), the last module keeping only the finest
  output, and a biased 1×1 convolution to the 17 heatmaps. Inside the zoo's ``HRNetPose``: the
  image normalised with the ImageNet mean and std first (two elementwise ops); heatmaps out.
- `litehrnet`: Lite-HRNet-18 (Yu et al., "Lite-HRNet: A Lightweight High-Resolution Network",
  arXiv:2104.06403; HRNet/Lite-HRNet, Apache-2.0) as mmpose 1.2.0 (the version the zoo's README
  installs; Apache-2.0) builds ``td-hm_litehrnet-18_8xb64-210e_coco-256x192``, the zoo's default
  inferencer: ``mmpose/models/backbones/litehrnet.py`` with mmcv-lite 2.1.0's ConvModule and
  DepthwiseSeparableConvModule, and ``HeatmapHead`` with no deconvolutions (a biased 1×1
  convolution from 40 to 17). A ShuffleNet-like stem (3×3 stride-2 convolution to 32, then a
  two-branch stride-2 shuffle unit), stages of 2, 4 and 2 modules on 2, 3 and 4 branches
  40/80/160/320 wide, each module two conditional channel weighting blocks (half the channels of
  every branch weighted across resolutions, depthwise 3×3, spatially weighted, concatenated back
  and channel-shuffled) and a fuse layer whose downward steps are depthwise 3×3 stride-2 +
  pointwise convolutions, then mmpose's iterative head (coarse to fine: bilinear align-corners
  upsampling, sum, depthwise-separable convolution). mmpose's fuse, as the authors', computes the
  finest branch's downsampled term twice for every coarser output (``y = fuse[i][0](x[0])``, and
  again in the loop over j, which starts at 0) and adds the finest branch to itself in place for
  the finest output: both kept here, as they are in the traced graph (the repeated terms are
  43.7 M of its 242.3 M MACs). Inside the zoo's ``LiteHRNet``: channels reversed (an index op),
  the mmpose preprocessor's mean and std (its 0-255 constants on the [0, 1] image, as the
  wrapper writes it), ``TopdownPoseEstimator._forward``, and the keypoint decode in the graph:
  the heatmaps flattened, their maximum and its index per keypoint, the index split into column
  and row by the heatmap width 48 and stacked; keypoints (1×17×2), scores (1×17) and heatmaps out. The
  wrapper's ``torch.max(…, dim=2)`` is written as amax + argmax (the ReduceMax + ArgMax pair it
  exports as), its ``//`` as a floor division and its ``%`` as index − 48·row, because the
  feature counter has no class for aten max, floor_divide and remainder: one more elementwise op
  on 17 elements than the zoo's graph, the same keypoints and scores. (The wrapper's ``self.H``
  is mmpose's heatmap_size[0], the width 48, so its split is right.)

Batch norms are nn.BatchNorm2d, folded by the feature counter. Checked once against the authors'
modules (leoxiaobin's PoseHighResolutionNet from the pinned commit and its yaml; mmpose 1.2.0's
TopdownPoseEstimator built from that config with mmcv-lite 2.1.0 and mmengine 0.10.7, mmcv's
native extension and cv2 stubbed), each inside the same wrapper ops as here: the same parameter
shapes, the same output shapes, on the meta device the same MACs, bytes and op counts per
feature class, and, with their random weights and batch-norm statistics copied into these
modules (paired by call order), bit-identical outputs on a random 256×192 image.

The zoo's info.yaml "Number of parameters" counts the network with its batch norms folded (one
bias per channel left): parameters less one per batch-norm channel here give 28.51 and 1.115 M
for its 28.5 and 1.11 M (unfolded: 28.54 and 1.131 M, the latter not 1.11).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

JOINTS = 17
POSE_INPUT = (1, 3, 256, 192)


class _Standardize(nn.Module):
    """The wrappers' input normalisation: (image − mean) / std, the channels reversed first where
    ``reverse`` (the zoo's LiteHRNet: ``image[:, [2, 1, 0], ...]``)."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...], reverse: bool = False):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
        self.reverse = reverse

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if self.reverse:
            image = image[:, [2, 1, 0], ...]
        return (image - self.mean) / self.std


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, relu: bool = True,
             bn: bool = True, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """k×k convolution (padded to keep the size; biased only without batch norm: mmcv's
    ConvModule), batch norm unless ``bn`` is False, then ``act`` (a ReLU unless told) unless
    ``relu`` is False."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=not bn)]
    layers += [nn.BatchNorm2d(cout)] if bn else []
    return nn.Sequential(*layers, act()) if relu else nn.Sequential(*layers)


# A network's unit(cin, cout, stride, relu) for its transitions and downward fuse steps:
# HRNet a 3×3 convolution, Lite-HRNet a depthwise 3×3 and a pointwise convolution.
Unit = Callable[[int, int, int, bool], nn.Module]


def _hrnet_unit(cin: int, cout: int, stride: int, relu: bool) -> nn.Module:
    return _conv_bn(cin, cout, 3, stride, relu=relu)


def _lite_unit(cin: int, cout: int, stride: int, relu: bool) -> nn.Module:
    return nn.Sequential(*_conv_bn(cin, cin, 3, stride, groups=cin, relu=False),
                         *_conv_bn(cin, cout, 1, relu=relu))


def _transition(pre: tuple[int, ...], cur: tuple[int, ...], unit: Unit) -> nn.ModuleList:
    """Between stages: an existing branch whose width changes goes through a stride-1 unit
    (None: unchanged); each new branch is the coarsest old one through stride-2 units."""
    layers = []
    for i, c in enumerate(cur):
        if i < len(pre):
            layers.append(unit(pre[i], c, 1, True) if c != pre[i] else None)
        else:
            steps = i + 1 - len(pre)
            layers.append(nn.Sequential(*(unit(pre[-1], c if s == steps - 1 else pre[-1], 2, True)
                                          for s in range(steps))))
    return nn.ModuleList(layers)


def _apply_transition(transition: nn.ModuleList, xs: list[torch.Tensor]) -> list[torch.Tensor]:
    return [xs[i] if t is None else t(xs[min(i, len(xs) - 1)]) for i, t in enumerate(transition)]


class _Fuse(nn.Module):
    """HRNet's exchange between branches (defined once for both networks): output i sums every
    branch j brought to its resolution and width (j > i: 1×1 convolution, batch norm, nearest
    upsampling by 2^(j−i); j < i: i−j stride-2 units, the last to branch i's width and without
    ReLU), then a ReLU. ``outputs``: how many of the finest outputs are made. ``mmpose``: the
    Lite-HRNet fusion loop, which adds branch i to output i (for i = 0 to itself, in place) and,
    for i > 0, branch 0's term a second time."""

    def __init__(self, widths: tuple[int, ...], outputs: int, unit: Unit, mmpose: bool = False):
        super().__init__()
        self.mmpose = mmpose
        self.layers = nn.ModuleList()
        for i in range(outputs):
            row = []
            for j, cj in enumerate(widths):
                if j > i:
                    row.append(nn.Sequential(nn.Conv2d(cj, widths[i], 1, bias=False),
                                             nn.BatchNorm2d(widths[i]),
                                             nn.Upsample(scale_factor=2 ** (j - i), mode="nearest")))
                elif j == i:
                    row.append(None)
                else:
                    last = i - j - 1
                    row.append(nn.Sequential(*(unit(cj, widths[i] if k == last else cj, 2, k < last)
                                               for k in range(i - j))))
            self.layers.append(nn.ModuleList(row))

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        out = []
        for i, row in enumerate(self.layers):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(0 if self.mmpose else 1, len(xs)):
                if self.mmpose:
                    y += xs[j] if i == j else row[j](xs[j])
                else:
                    y = y + (xs[j] if i == j else row[j](xs[j]))
            out.append(F.relu(y))
        return out


# ---------------------------------------------------------------------------------------- HRNet

class _BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm, added to the input, ReLU."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(width, width), _conv_bn(width, width, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + x)


class _Bottleneck(nn.Module):
    """1×1, 3×3, 1×1 to 4× ``width`` with batch norms, added to the input (or to its 1×1
    projection where the width changes), ReLU."""

    def __init__(self, cin: int, width: int):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(cin, width, 1), _conv_bn(width, width, 3),
                                  _conv_bn(width, 4 * width, 1, relu=False))
        self.shortcut = _conv_bn(cin, 4 * width, 1, relu=False) if cin != 4 * width else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.shortcut(x))


class _HRModule(nn.Module):
    """HRNet's multi-resolution module: ``blocks`` basic blocks on each branch, then the fuse."""

    def __init__(self, widths: tuple[int, ...], blocks: int, outputs: int):
        super().__init__()
        self.branches = nn.ModuleList(nn.Sequential(*(_BasicBlock(c) for _ in range(blocks)))
                                      for c in widths)
        self.fuse = _Fuse(widths, outputs, _hrnet_unit)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        return self.fuse([branch(x) for branch, x in zip(self.branches, xs)])


class HRNetPose(nn.Module):
    """PoseHighResolutionNet (HRNet-W``width``, basic blocks) inside the zoo's ``HRNetPose``."""

    def __init__(self, width: int = 32, modules: tuple[int, ...] = (1, 4, 3), blocks: int = 4,
                 joints: int = JOINTS):
        super().__init__()
        self.normalize = _Standardize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
        self.stem = nn.Sequential(_conv_bn(3, 64, 3, 2), _conv_bn(64, 64, 3, 2))
        self.layer1 = nn.Sequential(*(_Bottleneck(64 if i == 0 else 256, 64) for i in range(4)))
        self.transitions, self.stages, pre = nn.ModuleList(), nn.ModuleList(), (256,)
        for s, n in enumerate(modules):
            widths = tuple(width * 2 ** b for b in range(s + 2))
            last = s == len(modules) - 1
            self.transitions.append(_transition(pre, widths, _hrnet_unit))
            self.stages.append(nn.Sequential(*(_HRModule(widths, blocks,
                                                         1 if last and m == n - 1 else len(widths))
                                               for m in range(n))))
            pre = widths
        self.final_layer = nn.Conv2d(width, joints, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        xs = [self.layer1(self.stem(self.normalize(image)))]
        for transition, stage in zip(self.transitions, self.stages):
            xs = stage(_apply_transition(transition, xs))
        return self.final_layer(xs[0])


# ----------------------------------------------------------------------------------- Lite-HRNet

def _channel_shuffle(x: torch.Tensor, groups: int = 2) -> torch.Tensor:
    b, c, h, w = x.shape
    return torch.transpose(x.view(b, groups, c // groups, h, w), 1, 2).contiguous().view(b, c, h, w)


class _LiteStem(nn.Module):
    """3×3 stride-2 convolution; its halves: one through depthwise 3×3 stride 2 and pointwise,
    the other through pointwise, depthwise 3×3 stride 2 and pointwise; concatenated, shuffled."""

    def __init__(self, cin: int = 3, width: int = 32):
        super().__init__()
        half = width // 2
        self.conv1 = _conv_bn(cin, width, 3, 2)
        self.branch1 = nn.Sequential(_conv_bn(half, half, 3, 2, groups=half, relu=False),
                                     _conv_bn(half, half, 1))
        self.branch2 = nn.Sequential(_conv_bn(half, width, 1),
                                     _conv_bn(width, width, 3, 2, groups=width, relu=False),
                                     _conv_bn(width, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1, x2 = self.conv1(x).chunk(2, dim=1)
        x2 = self.branch2(x2)
        return _channel_shuffle(torch.cat((self.branch1(x1), x2), dim=1))


class _ChannelWeighting(nn.Module):
    """Conditional channel weighting: the second half of every branch is weighted across
    resolutions (all average-pooled to the coarsest, concatenated, 1×1 to 1/``ratio`` with batch
    norm and ReLU and back with batch norm and sigmoid, split, nearest-resized back and
    multiplied), then depthwise 3×3 with batch norm and spatially weighted (global average pool,
    biased 1×1 to a quarter, ReLU, biased 1×1 back, sigmoid, multiplied); concatenated to the
    untouched first half and channel-shuffled."""

    def __init__(self, widths: tuple[int, ...], ratio: int):
        super().__init__()
        self.halves = [c // 2 for c in widths]
        total = sum(self.halves)
        self.cross = nn.Sequential(_conv_bn(total, total // ratio, 1),
                                   _conv_bn(total // ratio, total, 1, act=nn.Sigmoid))
        self.depthwise = nn.ModuleList(_conv_bn(c, c, 3, groups=c, relu=False) for c in self.halves)
        self.spatial = nn.ModuleList(
            nn.Sequential(nn.AdaptiveAvgPool2d(1), _conv_bn(c, c // 4, 1, bn=False),
                          _conv_bn(c // 4, c, 1, bn=False, act=nn.Sigmoid)) for c in self.halves)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        halves = [x.chunk(2, dim=1) for x in xs]
        x2 = [h[1] for h in halves]
        size = x2[-1].shape[-2:]
        w = self.cross(torch.cat([F.adaptive_avg_pool2d(s, size) for s in x2[:-1]] + [x2[-1]], dim=1))
        x2 = [s * F.interpolate(a, size=s.shape[-2:], mode="nearest")
              for s, a in zip(x2, torch.split(w, self.halves, dim=1))]
        x2 = [dw(s) for dw, s in zip(self.depthwise, x2)]
        x2 = [s * sw(s) for sw, s in zip(self.spatial, x2)]
        return [_channel_shuffle(torch.cat([h[0], s], dim=1)) for h, s in zip(halves, x2)]


class _LiteModule(nn.Module):
    """Lite-HRNet's multi-resolution module: ``blocks`` channel weighting blocks over all
    branches, then the (mmpose) fuse, every output kept."""

    def __init__(self, widths: tuple[int, ...], blocks: int, ratio: int):
        super().__init__()
        self.blocks = nn.ModuleList(_ChannelWeighting(widths, ratio) for _ in range(blocks))
        self.fuse = _Fuse(widths, len(widths), _lite_unit, mmpose=True)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        for block in self.blocks:
            xs = block(xs)
        return self.fuse(xs)


class _IterativeHead(nn.Module):
    """mmpose's IterativeHead, coarse to fine: each branch plus the previous result bilinearly
    (align corners) upsampled to it, through depthwise 3×3 + batch norm and pointwise + batch
    norm + ReLU to the next finer width (the finest keeps its own); the finest result out."""

    def __init__(self, widths: tuple[int, ...]):
        super().__init__()
        rev = widths[::-1]
        self.projects = nn.ModuleList(
            nn.Sequential(_conv_bn(c, c, 3, groups=c, relu=False),
                          _conv_bn(c, rev[min(i + 1, len(rev) - 1)], 1))
            for i, c in enumerate(rev))

    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        last = None
        for project, s in zip(self.projects, xs[::-1]):
            if last is not None:
                s = s + F.interpolate(last, size=s.shape[-2:], mode="bilinear", align_corners=True)
            last = project(s)
        return last


class _ArgmaxDecode(nn.Module):
    """The zoo's LiteHRNet keypoint decode: per keypoint the heatmap's maximum (score) and its
    flat index, split into (column, row) by the heatmap width and stacked as floats."""

    def forward(self, heatmaps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        b, k, _, w = heatmaps.shape
        flat = heatmaps.view(b, k, -1)
        scores, indices = flat.amax(dim=2), flat.argmax(dim=2)
        rows = torch.div(indices, w, rounding_mode="floor")
        cols = indices - rows * w
        return torch.stack((cols.float(), rows.float()), dim=-1), scores, heatmaps


class LiteHRNetPose(nn.Module):
    """Lite-HRNet (mmpose's, ``LITE`` modules, with its iterative head) and the 1×1 heatmap head
    inside the zoo's ``LiteHRNet``: keypoints, scores and heatmaps out."""

    def __init__(self, modules: tuple[int, ...] = (2, 4, 2), widths: tuple[int, ...] = (40, 80, 160, 320),
                 blocks: int = 2, ratio: int = 8, stem: int = 32, joints: int = JOINTS):
        super().__init__()
        self.standardize = _Standardize((123.675, 116.28, 103.53), (58.395, 57.12, 57.375), reverse=True)
        self.stem = _LiteStem(3, stem)
        self.transitions, self.stages, pre = nn.ModuleList(), nn.ModuleList(), (stem,)
        for s, n in enumerate(modules):
            cur = widths[:s + 2]
            self.transitions.append(_transition(pre, cur, _lite_unit))
            self.stages.append(nn.Sequential(*(_LiteModule(cur, blocks, ratio) for _ in range(n))))
            pre = cur
        self.head = _IterativeHead(pre)
        self.final_layer = nn.Conv2d(widths[0], joints, 1)
        self.decode = _ArgmaxDecode()

    def heatmaps(self, x: torch.Tensor) -> torch.Tensor:
        """TopdownPoseEstimator._forward on the standardised image."""
        xs = [self.stem(x)]
        for transition, stage in zip(self.transitions, self.stages):
            xs = stage(_apply_transition(transition, xs))
        return self.final_layer(self.head(xs))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.decode(self.heatmaps(self.standardize(image)))


ZOO_POSE_HRNET = {
    "hrnet_pose": (partial(HRNetPose, 32), POSE_INPUT,
                   ("HRNet-W32 (arXiv:1902.09212) as leoxiaobin/deep-high-resolution-net.pytorch@6f69e46 "
                    "lib/models/pose_hrnet.py, experiments/coco/hrnet/w32_256x192_adam_lr1e-3.yaml, "
                    "the zoo's wrapper; written here")),
    "litehrnet": (LiteHRNetPose, POSE_INPUT,
                  ("Lite-HRNet-18 (arXiv:2104.06403) as mmpose 1.2.0 "
                   "td-hm_litehrnet-18_8xb64-210e_coco-256x192, the zoo's wrapper with its "
                   "argmax decode; written here")),
}
"""zoo model id → (builder, input shape, architecture source), as ZOO_ARCHITECTURES; held out."""
