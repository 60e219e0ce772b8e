"""The AI Hub zoo's six Cityscapes segmentation CNNs from third-party repositories, written here
from their papers and their authors' code at the configuration the zoo exports, for counting layer
features only (no weights, no data).

- FFNet (Mehta et al., "Simple and Efficient Architectures for Semantic Segmentation",
  arXiv:2206.08236; Qualcomm-AI-research/FFNet at 0887620, the commit the zoo's
  ``_shared/cityscapes_segmentation`` pins; its one patch only renames the datasets package):
  ``models/resnet.py`` (backbones), ``models/ffnet_blocks.py`` (adapter, up-branch and heads),
  ``models/ffnet_S_mobile.py`` and ``models/ffnet_NS_mobile.py`` (the configurations). A ResNet
  of basic blocks; its four feature maps are narrowed by 1×1 adapters, merged top-down
  (nearest upsampling, sums, 3×3 convolutions), nearest-upsampled to the finest map,
  concatenated and classified.

  - `ffnet_40s`, `ffnet_54s`, `ffnet_78s` (``segmentation_ffnet{40,54,78}S_dBBB_mobile``): the
    slim backbone (two stride-2 3×3 stem convolutions, stages 64/128/192/320 wide of 4-5-6-4,
    5-8-8-5 and 6-12-12-8 blocks, every stage strided: strides 8…64), head B (adapters to
    64/128/128/256, up-branch outputs 96/96/64/32, a 3×3 convolution to 256 and a 3×3 one to
    the 19 classes), at 1×3×1024×2048; 1×19×128×256 logits out.
  - `ffnet_78s_lowres` (``segmentation_ffnet78S_BCC_mobile_pre_down``): the 78S backbone with
    its first stage unstrided (strides 4…32) and head C (adapters to 128, up-branch outputs
    128/16/16/16, a 3×3 convolution to 128 and a 1×1 one to the classes).
  - `ffnet_122ns_lowres` (``segmentation_ffnet122NS_CCC_mobile_pre_down``): the three-stage
    narrow backbone (three 3×3 stem convolutions, the last unstrided and its output the first
    feature map; stages 64/128/256 wide of 16-24-20 blocks), head C.

  The two ``pre_down`` models first smooth and halve their input (height reflect-padded by 1,
  then a fixed 5×5 Gaussian depthwise convolution of stride 2); the zoo (``FFNetLowRes``) feeds
  them 1×3×512×1024 nonetheless (its get_input_spec), so they run at 255×510 inside and give
  1×19×64×128 logits (the FFNet README's 512×1024 → 128×256 assumes a 1024×2048 input).
- `ddrnet23_slim`: DDRNet-23-slim (Hong et al., arXiv:2101.06085; chenjun2hao/DDRNet.pytorch at
  bc0e193, the commit the zoo names, unpatched: ``lib/models/ddrnet_23_slim.py``, built as the
  zoo's ``ddrnet23_slim/model.py`` does: ``DualResNet(BasicBlock, [2, 2, 2, 2], planes=32,
  spp_planes=128, head_planes=64, augment=False)``, so no auxiliary head). A low-resolution
  ResNet branch (strides 8…64) and a high-resolution one kept at stride 8, exchanging features
  twice (strided 3×3 convolutions down, 1×1 convolutions and bilinear resizes up), a DAPPM
  pyramid pool (average pools of 5, 9, 17 and global) on the low branch and a 3×3 + 1×1 head,
  at 1×3×1024×2048; 1×19×128×256 logits out.

All six inside the zoo's ``CityscapesSegmentor`` wrapper: the [0, 1] image normalised with the
ImageNet mean and std (two elementwise ops), raw logits out at the network's own stride (the
wrapper does not upsample them). Batch norms are nn.BatchNorm2d, folded by the feature counter.
Checked once against the authors' modules built from those two commits: the same parameter
shapes and, on the meta device, the same MACs, bytes and op counts per feature class, bar the
wrapper's two normalisation ops.

The zoo's info.yaml "Number of parameters" counts the network with its batch norms folded (one
bias per channel left): parameters less one per batch-norm channel here give 13.90, 18.03, 27.48,
26.81 and 32.15 M for its 13.9, 18.0, 27.5, 26.8 and 32.1 M (unfolded, ffnet_122ns_lowres has
32.17 M), and 5.69 M for DDRNet-23-slim, its info.yaml's figure up to v0.28 and its 21.7 MB float
size at 4 B each; from v0.32 its info.yaml says 6.13 M, with neither its model.py's network nor
that size changed.
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

CLASSES = 19


class _Normalize(nn.Module):
    """The zoo's ``normalize_image_torchvision``: (image − ImageNet mean) / ImageNet std."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, relu: bool = True) -> nn.Sequential:
    """k×k convolution (padded to keep the size, no bias), batch norm, ReLU unless told not."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, nn.ReLU(inplace=True)) if relu else nn.Sequential(*layers)


class _BasicBlock(nn.Module):
    """ResNet basic block: two 3×3 convolutions (the first strided) with batch norm, added to
    the input or to its 1×1 (strided) projection where the shape changes; ReLU after the sum
    unless ``relu_out`` is False (DDRNet's last block of a stage)."""

    def __init__(self, cin: int, cout: int, stride: int = 1, relu_out: bool = True):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(cin, cout, 3, stride), _conv_bn(cout, cout, 3, relu=False))
        self.shortcut = (_conv_bn(cin, cout, 1, stride, relu=False) if stride != 1 or cin != cout
                         else nn.Identity())
        self.relu_out = relu_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x) + self.shortcut(x)
        return F.relu(out) if self.relu_out else out


class _Bottleneck(nn.Module):
    """DDRNet's bottleneck (expansion 2): 1×1, 3×3 (strided), 1×1 to twice the width, batch norms,
    added to the 1×1 projection of the input; no ReLU after the sum."""

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(_conv_bn(cin, width, 1), _conv_bn(width, width, 3, stride),
                                  _conv_bn(width, 2 * width, 1, relu=False))
        self.shortcut = _conv_bn(cin, 2 * width, 1, stride, relu=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


def _stage(cin: int, cout: int, blocks: int, stride: int, last_relu: bool = True) -> nn.Sequential:
    """``blocks`` basic blocks, the first strided and widening."""
    return nn.Sequential(*(_BasicBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1,
                                       relu_out=last_relu or i < blocks - 1) for i in range(blocks)))


class _GaussianDownsample(nn.Module):
    """FFNet's pre-downsampling: the height reflect-padded by 1, then a fixed (unlearnt, a
    buffer) 5×5 Gaussian (σ 0.7) depthwise convolution of stride 2 on the three colours."""

    def __init__(self, size: int = 5, sigma: float = 0.7):
        super().__init__()
        g = torch.exp(-((torch.arange(size) - size // 2) ** 2) / (2 * sigma**2))
        g = g / g.sum()
        self.register_buffer("weight", (g[:, None] * g[None, :]).expand(3, 1, size, size).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, (0, 0, 1, 1), mode="reflect"), self.weight, stride=2, groups=3)


# FFNet head letter → (adapter widths, up-branch output widths); segmentation head letter →
# (mid width, kernel of the last convolution)
FFNET_UP = {"B": ((64, 128, 128, 256), (96, 96, 64, 32)), "C": ((128, 128, 128, 128), (128, 16, 16, 16))}
FFNET_SEG = {"B": (256, 3), "C": (128, 1)}


class _FFNetHead(nn.Module):
    """FFNet's mobile up-head: 1×1 adapters, the top-down up-branch (each level: a 3×3
    convolution to its output, and a 1×1 convolution to the next finer level's width,
    nearest-upsampled and added to it), the coarser outputs nearest-upsampled to the finest and
    concatenated to it one at a time, then 3×3 convolution, batch norm, ReLU, and a convolution
    to the classes."""

    def __init__(self, taps: tuple[int, ...], up: str, seg: str, classes: int = CLASSES):
        super().__init__()
        base, outs = FFNET_UP[up]
        mid, k = FFNET_SEG[seg]
        self.adapters = nn.ModuleList(_conv_bn(t, b, 1) for t, b in zip(taps, base))
        self.smooth = nn.ModuleList(_conv_bn(b, o, 3) for b, o in zip(base, outs))
        self.lateral = nn.ModuleList(_conv_bn(base[i + 1], base[i], 1) for i in range(len(base) - 1))
        self.classifier = nn.Sequential(nn.Conv2d(sum(outs), mid, 3, padding=1), nn.BatchNorm2d(mid),
                                        nn.ReLU(inplace=True), nn.Conv2d(mid, classes, k, padding=k // 2))

    def forward(self, feats: list[torch.Tensor]) -> torch.Tensor:
        feats = [adapter(f) for adapter, f in zip(self.adapters, feats)]
        outs, x = [None] * len(feats), feats[-1]
        for i in range(len(feats) - 1, 0, -1):
            outs[i] = self.smooth[i](x)
            finer = feats[i - 1]
            x = F.interpolate(self.lateral[i - 1](x), size=finer.shape[-2:], mode="nearest") + finer
        x = self.smooth[0](x)
        for out in outs[1:]:                  # one concatenation per coarser map, as in UpsampleCat
            x = torch.cat([x, F.interpolate(out, size=x.shape[-2:], mode="nearest")], 1)
        return self.classifier(x)


class FFNet(nn.Module):
    """FFNet inside the zoo's wrapper. ``stem``: (width, stride) of each 3×3 stem convolution;
    ``widths``/``blocks``/``strides``: the ResNet stages; a three-stage backbone taps its stem
    as the first feature map. ``up``/``seg``: the head letters of the model's name."""

    def __init__(self, stem: tuple[tuple[int, int], ...], widths: tuple[int, ...], blocks: tuple[int, ...],
                 strides: tuple[int, ...], up: str, seg: str, pre_down: bool = False):
        super().__init__()
        self.normalize = _Normalize()
        self.smoothing = _GaussianDownsample() if pre_down else nn.Identity()
        layers, cin = [], 3
        for cout, stride in stem:
            layers.append(_conv_bn(cin, cout, 3, stride))
            cin = cout
        self.stem = nn.Sequential(*layers)
        self.stages = nn.ModuleList()
        for cout, n, stride in zip(widths, blocks, strides):
            self.stages.append(_stage(cin, cout, n, stride))
            cin = cout
        self.tap_stem = len(widths) == 3
        self.head = _FFNetHead(((stem[-1][0],) if self.tap_stem else ()) + tuple(widths), up, seg)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.smoothing(self.normalize(image)))
        feats = [x] if self.tap_stem else []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        return self.head(feats)


SLIM_STEM, SLIM_WIDTHS = ((32, 2), (64, 2)), (64, 128, 192, 320)
NARROW_STEM, NARROW_WIDTHS = ((64, 2), (64, 2), (64, 1)), (64, 128, 256)


def _bn_relu_conv(cin: int, cout: int, k: int) -> nn.Sequential:
    """DDRNet's pre-activation unit: batch norm, ReLU, k×k convolution (no bias)."""
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(inplace=True),
                         nn.Conv2d(cin, cout, k, padding=k // 2, bias=False))


class _DAPPM(nn.Module):
    """Deep aggregation pyramid pooling: the input and its average pools (5/2, 9/4, 17/8,
    global) each to ``branch`` channels by a 1×1 unit; each pooled one bilinearly resized,
    added to the previous level and refined by a 3×3 unit; the five concatenated, compressed by
    a 1×1 unit and added to a 1×1 shortcut."""

    def __init__(self, cin: int, branch: int, cout: int):
        super().__init__()
        self.pools = nn.ModuleList([nn.AvgPool2d(5, 2, 2), nn.AvgPool2d(9, 4, 4), nn.AvgPool2d(17, 8, 8),
                                    nn.AdaptiveAvgPool2d(1)])
        self.scales = nn.ModuleList(_bn_relu_conv(cin, branch, 1) for _ in range(5))
        self.process = nn.ModuleList(_bn_relu_conv(branch, branch, 3) for _ in range(4))
        self.compression = _bn_relu_conv(5 * branch, cout, 1)
        self.shortcut = _bn_relu_conv(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size, outs = x.shape[-2:], [self.scales[0](x)]
        for pool, scale, process in zip(self.pools, self.scales[1:], self.process):
            outs.append(process(F.interpolate(scale(pool(x)), size=size, mode="bilinear") + outs[-1]))
        return self.compression(torch.cat(outs, 1)) + self.shortcut(x)


class DDRNet23Slim(nn.Module):
    """DDRNet-23-slim (augment off) inside the zoo's wrapper: logits at 1/8 of the input."""

    def __init__(self, planes: int = 32, spp_planes: int = 128, head_planes: int = 64,
                 classes: int = CLASSES):
        super().__init__()
        high = 2 * planes
        self.normalize = _Normalize()
        self.stem = nn.Sequential(
            nn.Conv2d(3, planes, 3, 2, 1), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),   # biased
            nn.Conv2d(planes, planes, 3, 2, 1), nn.BatchNorm2d(planes), nn.ReLU(inplace=True))
        self.layer1 = _stage(planes, planes, 2, 1, last_relu=False)
        self.layer2 = _stage(planes, 2 * planes, 2, 2, last_relu=False)
        self.layer3 = _stage(2 * planes, 4 * planes, 2, 2, last_relu=False)
        self.layer4 = _stage(4 * planes, 8 * planes, 2, 2, last_relu=False)
        self.layer3_ = _stage(2 * planes, high, 2, 1, last_relu=False)
        self.layer4_ = _stage(high, high, 2, 1, last_relu=False)
        self.layer5_ = _Bottleneck(high, high)
        self.layer5 = _Bottleneck(8 * planes, 8 * planes, stride=2)
        self.compression3 = _conv_bn(4 * planes, high, 1, relu=False)
        self.compression4 = _conv_bn(8 * planes, high, 1, relu=False)
        self.down3 = _conv_bn(high, 4 * planes, 3, 2, relu=False)
        self.down4 = nn.Sequential(_conv_bn(high, 4 * planes, 3, 2),
                                   _conv_bn(4 * planes, 8 * planes, 3, 2, relu=False))
        self.spp = _DAPPM(16 * planes, spp_planes, 4 * planes)
        self.head = nn.Sequential(_bn_relu_conv(4 * planes, head_planes, 3), nn.BatchNorm2d(head_planes),
                                  nn.ReLU(inplace=True), nn.Conv2d(head_planes, classes, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        size = (image.shape[-2] // 8, image.shape[-1] // 8)

        def up(t: torch.Tensor) -> torch.Tensor:
            return F.interpolate(t, size=size, mode="bilinear")

        l2 = self.layer2(F.relu(self.layer1(self.stem(self.normalize(image)))))
        l3 = self.layer3(F.relu(l2))
        high = self.layer3_(F.relu(l2))
        low = l3 + self.down3(F.relu(high))
        high = high + up(self.compression3(F.relu(l3)))
        l4 = self.layer4(F.relu(low))
        high = self.layer4_(F.relu(high))
        low = l4 + self.down4(F.relu(high))
        high = high + up(self.compression4(F.relu(l4)))
        high = self.layer5_(F.relu(high))
        low = up(self.spp(self.layer5(F.relu(low))))
        return self.head(low + high)


CITYSCAPES_INPUT = (1, 3, 1024, 2048)
LOWRES_INPUT = (1, 3, 512, 1024)
_FFNET = "FFNet (arXiv:2206.08236) as Qualcomm-AI-research/FFNet@0887620 {}, the zoo's wrapper; written here"
ZOO_SEGMENTERS = {
    "ffnet_40s": (partial(FFNet, SLIM_STEM, SLIM_WIDTHS, (4, 5, 6, 4), (2, 2, 2, 2), "B", "B"),
                  CITYSCAPES_INPUT, _FFNET.format("segmentation_ffnet40S_dBBB_mobile")),
    "ffnet_54s": (partial(FFNet, SLIM_STEM, SLIM_WIDTHS, (5, 8, 8, 5), (2, 2, 2, 2), "B", "B"),
                  CITYSCAPES_INPUT, _FFNET.format("segmentation_ffnet54S_dBBB_mobile")),
    "ffnet_78s": (partial(FFNet, SLIM_STEM, SLIM_WIDTHS, (6, 12, 12, 8), (2, 2, 2, 2), "B", "B"),
                  CITYSCAPES_INPUT, _FFNET.format("segmentation_ffnet78S_dBBB_mobile")),
    "ffnet_78s_lowres": (partial(FFNet, SLIM_STEM, SLIM_WIDTHS, (6, 12, 12, 8), (1, 2, 2, 2), "C", "C",
                                 pre_down=True),
                         LOWRES_INPUT, _FFNET.format("segmentation_ffnet78S_BCC_mobile_pre_down")),
    "ffnet_122ns_lowres": (partial(FFNet, NARROW_STEM, NARROW_WIDTHS, (16, 24, 20), (2, 2, 2), "C", "C",
                                   pre_down=True),
                           LOWRES_INPUT, _FFNET.format("segmentation_ffnet122NS_CCC_mobile_pre_down")),
    "ddrnet23_slim": (DDRNet23Slim, CITYSCAPES_INPUT,
                      ("DDRNet-23-slim (arXiv:2101.06085) as chenjun2hao/DDRNet.pytorch@bc0e193 "
                       "lib/models/ddrnet_23_slim.py, augment off, the zoo's wrapper; written here")),
}
"""zoo model id → (builder, input shape, architecture source), as ZOO_ARCHITECTURES; held out."""
