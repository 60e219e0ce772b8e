"""Two small CNNs of the AI Hub zoo, written here from their papers and their authors' code at the
configuration and input the zoo exports, for counting layer features only (no weights, no data).

- `dla102x`: DLA-X-102 (Yu et al., "Deep Layer Aggregation", arXiv:1707.06484), which the zoo's
  ``dla102x/model.py`` takes from timm (``timm.create_model("dla102x")``, timm 1.0.15 as its
  requirements.txt pins; ``timm/models/dla.py``, Apache-2.0, adapted by timm from ucbdrive/dla,
  BSD-3-Clause): levels 1-1-1-3-4-1, widths 16/32/128/256/512/1024, ResNeXt bottlenecks (32
  groups of width 4 per 64 channels, middle width = output width), root shortcuts. A 7×7 stem,
  two 3×3 convolutions (the second strided), then four stride-2 aggregation trees: each leaf
  holds two bottlenecks and a root (1×1 convolution of its concatenated inputs, batch norm, the
  first input added, ReLU); a strided tree max-pools (2×2) its input for the leaf's shortcut
  (projected by a 1×1 convolution where the width changes) and, at a level root, as one more
  root input. Global average pool, a biased 1×1 convolution to the 1000 classes, flattened:
  1×1000 logits from the zoo's 1×3×224×224 (the shared ``ImagenetClassifier`` get_input_spec).
  Inside the zoo's wrapper, which normalises the [0, 1] image with the ImageNet mean and std (two
  elementwise ops). timm's eager forward also max-pools the input of every strided tree that is
  neither a leaf nor a level root, and never uses the result: the graph the zoo traces
  (``torch.jit.trace``) drops those three pools (6 max pools in it, 9 in eager), and so does this
  network. The two pools of the same input at level 3 and at level 4 (level root and leaf) stay
  in the traced graph and here.
- `sinet`: SINet (Park et al., "SINet: Extreme Lightweight Portrait Segmentation Networks with
  Spatial Squeeze Modules and Information Blocking Decoder", arXiv:1911.09099;
  clovaai/ext_portrait_segmentation at 9bc1bad, the commit the zoo pins, MIT: ``models/SINet.py``)
  as the zoo's ``sinet/model.py`` builds it: ``SINet(classes=2, p=2, q=8, config=…, chnn=1)``
  with the configuration of that file's ``__main__`` (the zoo's one patch, ``.data.size()`` →
  ``.shape``, changes no op). Encoder: a strided 3×3 conv-BN-PReLU to 12 channels, a strided
  separable block with squeeze-excitation (depthwise 3×3, SE of fully connected layers and
  PReLUs, 1×1 convolution, BN, PReLU) to 16, two S2 modules to 48 (a 1×1 convolution of 2
  groups, a channel shuffle, two S2 blocks on it — average pool where the block's second number
  > 1, depthwise k×k + BN, PReLU, 1×1 convolution, bilinear upsampling back, BN — concatenated,
  the input added but in the first module, BN, PReLU), another strided SE block to 48, eight S2
  modules to 96, concatenations with the stage inputs through BN-PReLU, and a 1×1 convolution
  to the 2 classes at 1/8. Information-blocking decoder: the coarse logits ×2 upsampled (bilinear,
  corners aligned) and batch-normed, their softmax's channel maximum gating (1 − confidence,
  broadcast over the classes) a 1×1 conv-BN-PReLU of the 1/4 encoder map, plus the coarse
  logits, ×2 upsampled, batch-normed, ×2 upsampled again and a 3×3 convolution: 1×2×224×224
  logits from the zoo's 1×3×224×224 (its get_input_spec). The authors' ``torch.max(…, dim=1)[0]``
  is written ``amax`` here (the same values; the unused indices are the one difference). Inside
  the zoo's wrapper (its ``forward`` overrides ``CityscapesSegmentor``'s): (image − mean / 255) /
  std with the training set's mean and std in 0…255 units, std not rescaled (two elementwise
  ops).

Batch norms are nn.BatchNorm2d (SINet's with its eps 1e-3); the feature counter takes every one
as folded (free), SINet's 1,364 channels of batch norm after sums, concatenations and upsamplings
too. Checked once against the authors' modules (timm 1.0.15's ``dla102x``;
SINet.py of that commit, patched as the zoo patches it, in a scratch copy): the same parameter
shapes, the same output shapes and, on the meta device, the same MACs, bytes and op counts per
feature class, bar the wrappers' two normalisation ops, timm's three dead max pools (3 ops,
4.82 MB) and, for SINet, after writing its ``torch.max`` as ``amax`` in the scratch copy (the
counter has no class for ``max``); and DLA-X-102's ``torch.jit.trace`` graph holds the same aten
ops as timm's (106 convolutions, 6 max pools, 42 adds, 14 concatenations …) bar the wrapper's.

Parameters: DLA-X-102 has 26.31 M (26.26 M with its batch norms folded), the zoo's info.yaml
26.3 M. SINet has 86,910, the tensors of the authors' SINet.pth bar batch-norm statistics (their
README: 0.087 M); the zoo's info.yaml says 91.9 K (since v0.3.0). The zoo fills that field with its
``scripts/autofill_info_yaml.py`` (not in the mirror; a public copy of it counts with
``utils/measurement.get_tflite_unique_parameters``), which counts every constant tensor of the
compiled TFLite file, not the network's parameters. The weights with batch norms folded into the
convolutions before them, plus a second constant (scale and shift) for each of the 1,364
batch-norm channels that follow no convolution (85,392), a materialised 1×2×56×56 broadcast of the
decoder's gate (6,272) and a few hundred shape, padding and normalisation constants would make
about 91.9 K; that reading is not checked. The network counts 5.85 GMACs (DLA-X-102) and 0.064
(SINet; its README's "Flop : 0.064 G", its ``__main__``'s count at 224×224).
"""
from __future__ import annotations

import math
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import nn


class _Normalize(nn.Module):
    """(image − mean) / std with fixed per-colour constants: the zoo wrapper's two elementwise ops."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return (image - self.mean) / self.std


IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


# ---- DLA-X-102 -----------------------------------------------------------------------------------

class _Bottleneck(nn.Module):
    """DLA-X bottleneck: 1×1, grouped 3×3 (strided), 1×1, each with batch norm, ReLU but after
    the last; the shortcut (the input unless given) added, then ReLU."""

    def __init__(self, cin: int, cout: int, stride: int = 1, cardinality: int = 32, base_width: int = 4):
        super().__init__()
        mid = math.floor(cout * base_width / 64) * cardinality // 2
        self.body = nn.Sequential(*_conv_bn(cin, mid, 1), nn.ReLU(inplace=True),
                                  *_conv_bn(mid, mid, 3, stride, cardinality), nn.ReLU(inplace=True),
                                  *_conv_bn(mid, cout, 1))

    def forward(self, x: torch.Tensor, shortcut: torch.Tensor | None = None) -> torch.Tensor:
        return F.relu(self.body(x) + (x if shortcut is None else shortcut))


class _Tree(nn.Module):
    """DLA aggregation tree. A leaf (``levels`` 1): two bottlenecks and a root over [second,
    first, *children]; deeper: two subtrees, the first's output a child of the second's root.
    ``level_root``: the (max-pooled) input is a root input too. The input is pooled only where
    used: for a leaf's shortcut and for a level root (timm also pools it, unused, elsewhere)."""

    def __init__(self, levels: int, cin: int, cout: int, stride: int = 1, level_root: bool = False,
                 root_dim: int = 0):
        super().__init__()
        root_dim = (root_dim or 2 * cout) + (cin if level_root else 0)
        self.level_root, self.leaf = level_root, levels == 1
        self.pool = nn.MaxPool2d(stride, stride) if stride > 1 and (self.leaf or level_root) else nn.Identity()
        if self.leaf:
            self.tree1, self.tree2 = _Bottleneck(cin, cout, stride), _Bottleneck(cout, cout)
            self.project = nn.Sequential(*_conv_bn(cin, cout, 1)) if cin != cout else nn.Identity()
            self.root = nn.Sequential(nn.Conv2d(root_dim, cout, 1, bias=False), nn.BatchNorm2d(cout))
        else:
            self.tree1 = _Tree(levels - 1, cin, cout, stride)
            self.tree2 = _Tree(levels - 1, cout, cout, root_dim=root_dim + cout)

    def forward(self, x: torch.Tensor, children: list[torch.Tensor] | None = None) -> torch.Tensor:
        children = [] if children is None else children
        bottom = self.pool(x)
        if self.level_root:
            children.append(bottom)
        if self.leaf:
            x1 = self.tree1(x, self.project(bottom))
            x2 = self.tree2(x1)
            return F.relu(self.root(torch.cat([x2, x1, *children], 1)) + x2)   # root shortcut
        children.append(x1 := self.tree1(x))
        return self.tree2(x1, children)


class DLA102X(nn.Module):
    """timm's ``dla102x`` inside the zoo's ImageNet wrapper: 1×1000 logits."""

    def __init__(self, levels: tuple[int, ...] = (1, 1, 1, 3, 4, 1),
                 widths: tuple[int, ...] = (16, 32, 128, 256, 512, 1024), classes: int = 1000):
        super().__init__()
        self.normalize = _Normalize(IMAGENET_MEAN, IMAGENET_STD)
        stem, cin = [*_conv_bn(3, widths[0], 7), nn.ReLU(inplace=True)], widths[0]
        for i in (0, 1):
            for j in range(levels[i]):
                stem += [*_conv_bn(cin, widths[i], 3, 2 if i == 1 and j == 0 else 1), nn.ReLU(inplace=True)]
                cin = widths[i]
        self.stem = nn.Sequential(*stem)
        self.trees = nn.Sequential(*(_Tree(levels[i], widths[i - 1], widths[i], 2, level_root=i > 2)
                                     for i in range(2, 6)))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(widths[-1], classes, 1), nn.Flatten(1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.head(self.trees(self.stem(self.normalize(image))))


# ---- SINet ---------------------------------------------------------------------------------------

# (kernel, average-pool size) of the two S2 blocks of each S2 module: 2 in stage 2, 8 in stage 3
SINET_CONFIG = (((3, 1), (5, 1)), ((3, 1), (3, 1)), ((3, 1), (5, 1)), ((3, 1), (3, 1)), ((5, 1), (3, 2)),
                ((5, 2), (3, 4)), ((3, 1), (3, 1)), ((5, 1), (5, 1)), ((3, 2), (3, 4)), ((3, 1), (5, 2)))
# the zoo's wrapper: the training set's mean (scaled to [0, 1]) and std (in 0…255 units)
SINET_MEAN = tuple(m / 255 for m in (113.05697, 120.847824, 133.786))
SINET_STD = (65.05263, 65.393776, 67.238205)


def _bn(c: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(c, eps=1e-3)


def _cbr(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    """SINet's CBR: k×k convolution (no bias), batch norm, PReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), _bn(cout), nn.PReLU(cout))


def _up(x: torch.Tensor, scale: int) -> torch.Tensor:
    """nn.UpsamplingBilinear2d: bilinear, corners aligned."""
    return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=True)


class _Squeeze(nn.Module):
    """Squeeze-excitation of SINet: global average pool, fully connected + PReLU (two of them,
    through c / divide, where divide > 1), the input scaled channelwise (no sigmoid)."""

    def __init__(self, c: int, divide: float):
        super().__init__()
        hidden = (int(c / divide),) if divide > 1 else ()
        dims = (c, *hidden, c)
        self.dense = nn.Sequential(*(m for a, b in pairwise(dims) for m in (nn.Linear(a, b), nn.PReLU(b))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        return self.dense(F.avg_pool2d(x, list(x.shape[-2:])).view(b, -1)).view(b, c, 1, 1) * x


def _se_separable(cin: int, cout: int, k: int, stride: int, divide: float) -> nn.Sequential:
    """SEseparableCBR: depthwise k×k (strided), squeeze-excitation, 1×1, batch norm, PReLU."""
    return nn.Sequential(nn.Conv2d(cin, cin, k, stride, k // 2, groups=cin, bias=False), _Squeeze(cin, divide),
                         nn.Conv2d(cin, cout, 1, bias=False), _bn(cout), nn.PReLU(cout))


class _S2Block(nn.Module):
    """S2 block: [average pool by ``pool``], depthwise k×k + batch norm, PReLU, 1×1 convolution,
    [bilinear upsampling by ``pool``], batch norm."""

    def __init__(self, cin: int, cout: int, k: int, pool: int):
        super().__init__()
        self.pool = pool
        self.body = nn.Sequential(nn.AvgPool2d(pool, pool) if pool > 1 else nn.Identity(),
                                  nn.Conv2d(cin, cin, k, 1, k // 2, groups=cin, bias=False), _bn(cin),
                                  nn.PReLU(cin), nn.Conv2d(cin, cout, 1, bias=False))
        self.bn = _bn(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return self.bn(_up(x, self.pool) if self.pool > 1 else x)


class _S2Module(nn.Module):
    """S2 module: a 1×1 convolution of as many groups as blocks to cout / blocks channels, a
    channel shuffle, each S2 block on it, concatenated, [+ input], batch norm, PReLU."""

    def __init__(self, cin: int, cout: int, config: tuple[tuple[int, int], ...], add: bool = True):
        super().__init__()
        g = len(config)
        n = cout // g
        self.groups, self.add = g, add
        self.reduce = nn.Conv2d(cin, n, 1, bias=False, groups=g)
        self.blocks = nn.ModuleList(_S2Block(n, n + (cout - g * n if i == 0 else 0), k, p)
                                    for i, (k, p) in enumerate(config))
        self.br = nn.Sequential(_bn(cout), nn.PReLU(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.reduce(x)
        b, c, h, w = y.shape
        y = y.view(b, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous().view(b, c, h, w)
        out = torch.cat([block(y) for block in self.blocks], 1)
        return self.br(x + out if self.add else out)


class SINet(nn.Module):
    """SINet (p = 2, q = 8, chnn = 1, 2 classes) inside the zoo's wrapper: logits at the input size."""

    def __init__(self, classes: int = 2, p: int = 2, q: int = 8, config=SINET_CONFIG):
        super().__init__()
        d1, d2, d3 = 16, 48, 96
        self.normalize = _Normalize(SINET_MEAN, SINET_STD)
        self.level1 = _cbr(3, 12, 3, 2)
        self.level2_0 = _se_separable(12, d1, 3, 2, divide=1)
        self.level2 = nn.Sequential(*(_S2Module(d1 if i == 0 else d2, d2, config[i], add=i > 0) for i in range(p)))
        self.br2 = nn.Sequential(_bn(d1 + d2), nn.PReLU(d1 + d2))
        self.level3_0 = _se_separable(d1 + d2, d2, 3, 2, divide=2)
        self.level3 = nn.Sequential(*(_S2Module(d2 if i == 0 else d3, d3, config[2 + i], add=i > 0)
                                      for i in range(q)))
        self.br3 = nn.Sequential(_bn(d2 + d3), nn.PReLU(d2 + d3))
        self.enc_classifier = nn.Conv2d(d2 + d3, classes, 1, bias=False)
        self.bn_3, self.bn_2 = _bn(classes), _bn(classes)
        self.level2_c = _cbr(d2, classes, 1)
        self.classifier = nn.Conv2d(classes, classes, 3, 1, 1, bias=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        out2_0 = self.level2_0(self.level1(self.normalize(image)))
        out2 = self.level2(out2_0)
        out3_0 = self.level3_0(self.br2(torch.cat([out2_0, out2], 1)))
        coarse = self.enc_classifier(self.br3(torch.cat([out3_0, self.level3(out3_0)], 1)))   # 1/8
        stage1 = self.bn_3(_up(coarse, 2))                                                    # 1/4
        gate = (1 - F.softmax(stage1, 1).amax(1)).unsqueeze(1).expand_as(stage1)
        stage2 = self.bn_2(_up(self.level2_c(out2) * gate + stage1, 2))                      # 1/2
        return self.classifier(_up(stage2, 2))


IMAGE_224 = (1, 3, 224, 224)
ZOO_DLA_SINET = {
    "dla102x": (DLA102X, IMAGE_224,
                ("DLA-X-102 (arXiv:1707.06484) as timm 1.0.15 dla102x, the zoo's ImageNet wrapper, "
                 "traced graph; written here")),
    "sinet": (SINet, IMAGE_224,
              ("SINet (arXiv:1911.09099) as clovaai/ext_portrait_segmentation@9bc1bad models/SINet.py, "
               "p=2 q=8, the zoo's wrapper; written here")),
}
"""zoo model id → (builder, input shape, architecture source), as ZOO_ARCHITECTURES."""
