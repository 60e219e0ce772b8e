"""The AI Hub zoo's two face networks and its PPE detector, written here from the zoo's code (two
are Qualcomm's own architectures, defined in the zoo itself) and the authors' code of the third,
at the configuration the zoo exports, for counting layer features only (no weights, no data).

- `face_attrib_net` (Facial-Attribute-Detection; Qualcomm; quic/ai-hub-models at 52c080d,
  BSD-3-Clause: ``models/face_attrib_net/model.py`` and ``layers.py``, built as its
  from_pretrained does: ``FaceAttribNet(64, [2, 6, 3])``, all five attributes on, the
  detection-only network the zoo has exported since v0.42). A stem (3×3 convolution, then two
  strided branches summed) and three stages of 2, 6 and 3 blocks (64→128, 256, 512 channels,
  strides 4…16) in which every unit is a grouped 3×3 convolution (32 input channels a group, 64
  in a downsampling block's second one; no batch norm) followed by a 1×1 convolution with batch
  norm, PReLU (one slope) after most; the first
  block of a stage sums a one-unit and a two-unit strided branch, the others add their input.
  Five attribute heads (left and right eye openness, eyeglasses, mask, sunglasses), each: one
  strided unit on the 16×16 map, concatenated to the 8×8 one, another strided unit, a 4×4
  average pool and a linear layer to two logits; the logits stacked, softmaxed, and each
  attribute's second probability kept. At 1×3×128×128; 1×5 probabilities out.
- `cavaface` (CavaFace IR-SE-100; cavalleria/cavaface at 822651f, the commit the zoo's
  ``cavaface/model.py`` names, MIT licence: ``backbone/resnet_irse.py`` ``IR_SE_100`` and
  ``backbone/common.py`` ``bottleneck_IR_SE``/``SEModule``): a 3×3 convolution to 64 channels,
  then 3-13-30-3 pre-activation IR units (64/128/256/512 wide, the first of each stage of
  stride 2: batch norm, 3×3 convolution, PReLU, 3×3 strided convolution, batch norm,
  squeeze-excitation of ratio 16), each added to its input — through a 1×1 max pool of the
  unit's stride where the width is kept (a plain op in the traced graph, kept) or a strided 1×1
  convolution and batch norm where it widens —; batch norm, flatten, a 25088→512 linear layer and
  a 1-D batch norm (dropout is off at export). The zoo loads the authors' TorchScript checkpoint
  (``IR_SE_100_Combined_Epoch_24``, released June 2020) and takes ``[0]`` of its output, so it
  was traced from code returning a pair, as cavaface's of May 2020 did (the embedding and the
  flat feature map, a view); that code's last batch norm had no affine (1024 parameters fewer),
  the ops are the same. At 1×3×112×112; a 1×512 unit-length embedding out; 12.08 GMACs, the
  24.18 G "flops" of cavaface's MODEL_ZOO.md for IR-SE-100.
- `gear_guard_net` (PPE-Detection; Qualcomm; quic/ai-hub-models at 52c080d:
  ``models/gear_guard_net/model.py`` and ``layers.py``, the configuration its from_pretrained
  builds: a YOLOv5-style layout, depth 0.33 and width 0.5, of DoubleBlaze blocks): a 6×6
  stride-2 convolution, four stride-2 3×3 convolutions (to 64/128/256/512 channels, strides
  4…32) each followed by 1, 1, 3 and 1 DoubleBlaze blocks (5×5 depthwise and 1×1 convolutions
  with batch norm, twice, to half the wider width in between; added to the input, through a
  biased 1×1 convolution where the width changes; ReLU), a 3×3 convolution; a PAN neck (1×1
  lateral convolutions, nearest ×2 upsamplings, stride-2 3×3 convolutions, concatenations,
  DoubleBlaze blocks) and three biased 1×1 detection convolutions to 3 anchors × (5 + 2 classes)
  at strides 8, 16 and 32. The zoo exports it with its decoding and post-processing inside
  (include_postprocessing defaults to True): sigmoids, grid offsets and anchor sizes, corners
  from centres, class score × objectness and the best class. Input is height × width
  1×3×320×192 (the zoo's get_input_spec: height 320, width 192); boxes 1×3780×4, scores and
  class indices 1×3780 out.

Each inside the zoo's wrapper, as exported: face_attrib_net normalises the [0, 1] image to
(x − 0.5) / 0.50196078, cavaface to (255 x − 127.5) / 128 and divides its embedding by its L2 norm
+ 1e-9; gear_guard_net takes the [0, 1] image as it is. Three ops are written in a form the
feature counter knows (it has no class for aten's vector norm or ``max.dim``): cavaface's
``torch.norm`` as x·x summed and square-rooted, gear_guard_net's ``torch.max(…, -1)`` as amax
and argmax (as ONNX exports it: ReduceMax and ArgMax); gear_guard_net's decoding grids and
per-prediction anchor sizes are constants of the exported graph (the tracer folds its
arange/meshgrid/indexing), kept here as buffers made for the input size the network is built
for. Batch norms are nn.BatchNorm2d (cavaface's last one nn.BatchNorm1d), folded by the feature
counter.

Checked against the zoo's own modules (FaceAttribNet, GearGuardNet with its layers.py and
post-processing from quic/ai-hub-models 52c080d) and the authors' ``IR_SE_100`` (822651f), built
from those commits with their imports stubbed: the same parameter shapes (in module order;
cavaface's as a multiset, its authors registering the output layers before the body), the same
output shapes and, with the same random weights and batch-norm statistics copied in, the same
outputs exactly (the zoo registers the sunglasses head before the mask head, whose output comes
first); on the meta device, count_features gives the same MACs, bytes and op
counts per feature class for face_attrib_net whole, for cavaface whole (the authors' backbone in
the zoo's wrapper, its norm written as here), and for gear_guard_net's network up to its raw
detection maps; its decoding and post-processing were checked op by op (the same aten ops on
the same shapes, bar the folded grid constants and max written as amax + argmax).

The zoo's info.yaml "Number of parameters" counts the network with its batch norms folded (one
bias per channel left): 6,190,079 for gear_guard_net is its 6.19 M (unfolded 6.20 M), and
cavaface's 65.48 M folded (65.50 M unfolded) its 65.5 M. face_attrib_net has 10,822,384
parameters (10.81 M folded) where info.yaml says 12.1 M: that is the multitask network the zoo
exported up to v0.41 (a 1×1 convolution to one channel first, a face-embedding block and a
liveness head among its differences; 12,145,810 parameters, whose 4 B each are info.yaml's
46.3 MB float size), which v0.42 replaced by this detection-only network and a new checkpoint,
leaving info.yaml as it was.
"""
from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

# ---------------------------------------------------------------------------------------------
# face_attrib_net


def _unit(cin: int, mid: int, cout: int, stride: int, groups: int, prelu: bool) -> list[nn.Module]:
    """FaceAttribNet's unit: grouped 3×3 convolution (no bias, no batch norm), 1×1 convolution,
    batch norm, PReLU (one slope) if asked."""
    layers = [nn.Conv2d(cin, mid, 3, stride, 1, groups=groups, bias=False),
              nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
    return layers + [nn.PReLU()] if prelu else layers


class _SumPReLU(nn.Module):
    """PReLU of the sum of two branches; the second one the identity when not given (the zoo's
    HeadBlock and DownsampleBlock; NormalBlock)."""

    def __init__(self, branch1: list[nn.Module], branch2: list[nn.Module] | None = None):
        super().__init__()
        self.branch1 = nn.Sequential(*branch1)
        self.branch2 = nn.Sequential(*branch2) if branch2 else nn.Identity()
        self.act = nn.PReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.branch1(x) + self.branch2(x))


class _AttributeHead(nn.Module):
    """One attribute: a strided unit on the 4b-channel map, concatenated to the 8b-channel map
    at half its size, a strided unit to 2b, a 4×4 average pool (stride 1: to 1×1), a linear
    layer to two logits."""

    def __init__(self, b: int, group_size: int):
        super().__init__()
        self.branch1 = nn.Sequential(*_unit(4 * b, 2 * b, 2 * b, 2, 4 * b // group_size, True))
        self.branch2 = nn.Sequential(*_unit(10 * b, 5 * b, 2 * b, 2, 10 * b // group_size, True))
        self.pool = nn.AvgPool2d(4, 1)
        self.cls = nn.Linear(2 * b, 2)

    def forward(self, fea3: torch.Tensor, fea4: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.branch1(fea3), fea4), 1)
        return self.cls(self.pool(self.branch2(x)).flatten(1))


class FaceAttribNet(nn.Module):
    """The zoo's FaceAttribNet (detection only, five attributes) inside its wrapper: the [0, 1]
    image in, the five attributes' probabilities out."""

    def __init__(self, chan: int = 64, blocks: tuple[int, ...] = (2, 6, 3), group_size: int = 32,
                 attributes: int = 5):
        super().__init__()
        c, g = chan, chan // group_size        # g: groups of every grouped convolution at width c
        self.stem = nn.Sequential(
            nn.Conv2d(3, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.PReLU(),
            _SumPReLU(_unit(c, c, c, 2, g, True) + _unit(c, c, c, 1, g, False), _unit(c, c, c, 2, g, False)))
        self.stages = nn.ModuleList()
        for n in blocks:
            # DownsampleBlock: all three grouped convolutions have the input's c // 32 groups
            down = _SumPReLU(_unit(c, 2 * c, 2 * c, 2, g, True),
                             _unit(c, 4 * c, 2 * c, 2, g, True) + _unit(2 * c, 4 * c, 2 * c, 1, g, False))
            c, g = 2 * c, 2 * g
            normal = [_SumPReLU(_unit(c, 2 * c, c, 1, g, True) + _unit(c, 2 * c, c, 1, g, False))
                      for _ in range(n - 1)]
            self.stages.append(nn.Sequential(down, *normal))
        self.heads = nn.ModuleList(_AttributeHead(chan, group_size) for _ in range(attributes))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.stem((image - 0.5) / 0.50196078)
        feats = []
        for stage in self.stages:
            x = stage(x)
            feats.append(x)
        logits = torch.stack([head(feats[-2], feats[-1]) for head in self.heads], 1)
        return F.softmax(logits, 2)[:, :, 1]


# ---------------------------------------------------------------------------------------------
# cavaface


class _SqueezeExcite(nn.Module):
    """cavaface's SEModule: global average pool, 1×1 convolutions (no bias) to 1/ratio of the
    channels and back with ReLU between, sigmoid, times the input."""

    def __init__(self, channels: int, ratio: int = 16):
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, channels // ratio, 1, bias=False), nn.ReLU(inplace=True),
            nn.Conv2d(channels // ratio, channels, 1, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class _IRSEUnit(nn.Module):
    """cavaface's bottleneck_IR_SE: batch norm, 3×3 convolution, PReLU (per channel), 3×3
    convolution of the unit's stride, batch norm, squeeze-excitation; added to the input through a
    1×1 max pool of that stride (same width) or a strided 1×1 convolution and batch norm."""

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.shortcut = (nn.MaxPool2d(1, stride) if cin == cout else
                         nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))
        self.res = nn.Sequential(
            nn.BatchNorm2d(cin), nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.PReLU(cout),
            nn.Conv2d(cout, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), _SqueezeExcite(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.res(x)


class CavaFaceIRSE(nn.Module):
    """cavaface's IR-SE backbone (``units`` per stage; IR-SE-100 by default) inside the zoo's
    CavaFace wrapper: the [0, 1] 112×112 image in, the L2-normalised 512-d embedding out."""

    def __init__(self, units: tuple[int, ...] = (3, 13, 30, 3), widths: tuple[int, ...] = (64, 128, 256, 512),
                 embedding: int = 512, size: int = 112):
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False),
                                         nn.BatchNorm2d(widths[0]), nn.PReLU(widths[0]))
        body, cin = [], widths[0]
        for n, cout in zip(units, widths):
            body += [_IRSEUnit(cin if i == 0 else cout, cout, 2 if i == 0 else 1) for i in range(n)]
            cin = cout
        self.body = nn.Sequential(*body)
        self.bn2 = nn.BatchNorm2d(cin)
        side = size // 2 ** len(units)
        self.fc = nn.Linear(cin * side * side, embedding)
        self.features = nn.BatchNorm1d(embedding)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = self.body(self.input_layer((image * 255 - 127.5) / 128.0))
        emb = self.features(self.fc(torch.flatten(self.bn2(x), 1)))
        norm = (emb * emb).sum(1, keepdim=True).sqrt() + 1e-9     # torch.norm(emb, dim=1, keepdim=True)
        return emb / norm


# ---------------------------------------------------------------------------------------------
# gear_guard_net


def _conv_bn_relu(cin: int, cout: int, k: int = 1, stride: int = 1, padding: int | None = None) -> nn.Sequential:
    """The zoo's FusedConvBatchNorm: convolution (no bias; padding k // 2 unless given), batch
    norm, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2 if padding is None else padding, bias=False),
                         nn.BatchNorm2d(cout, eps=1e-3, momentum=0.03), nn.ReLU(inplace=True))


class _DoubleBlaze(nn.Module):
    """The zoo's DoubleBlazeBlock (stride 1, 5×5): depthwise convolution, batch norm, 1×1
    convolution to half the wider width, batch norm; ReLU, depthwise convolution, batch norm,
    1×1 convolution to the output, batch norm; added to the input (through a biased 1×1
    convolution where the width changes), ReLU."""

    def __init__(self, cin: int, cout: int, k: int = 5):
        super().__init__()
        hidden = max(cin, cout) // 2

        def bn(c: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(c, eps=1e-3, momentum=0.03)

        self.pad = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cin, k, 1, k // 2, groups=cin, bias=False), bn(cin),
                                   nn.Conv2d(cin, hidden, 1, bias=False), bn(hidden))
        self.conv2 = nn.Sequential(nn.ReLU(inplace=True),
                                   nn.Conv2d(hidden, hidden, k, 1, k // 2, groups=hidden, bias=False), bn(hidden),
                                   nn.Conv2d(hidden, cout, 1, bias=False), bn(cout))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv2(self.conv1(x)) + self.pad(x))


GEAR_GUARD_ANCHORS = ((10, 13, 16, 30, 33, 23), (30, 61, 62, 45, 59, 119), (116, 90, 156, 198, 373, 326))
GEAR_GUARD_STRIDES = (8, 16, 32)


class GearGuardNet(nn.Module):
    """The zoo's GearGuardNet (its from_pretrained configuration: widths 32…512, 2 classes, 3
    anchors a scale) with its decoding and post-processing, for an input of ``size`` (height,
    width): the [0, 1] image in; boxes (x1, y1, x2, y2), scores and class indices out."""

    def __init__(self, size: tuple[int, int] = (320, 192), classes: int = 2):
        super().__init__()
        w = (32, 64, 128, 256, 512)
        self.stem = nn.Sequential(_conv_bn_relu(3, w[0], 6, 2, 2), _conv_bn_relu(w[0], w[1], 3, 2),
                                  _DoubleBlaze(w[1], w[1]))
        self.p3 = nn.Sequential(_conv_bn_relu(w[1], w[2], 3, 2), _DoubleBlaze(w[2], w[2]))
        self.p4 = nn.Sequential(_conv_bn_relu(w[2], w[3], 3, 2), *(_DoubleBlaze(w[3], w[3]) for _ in range(3)))
        self.p5 = nn.Sequential(_conv_bn_relu(w[3], w[4], 3, 2), _DoubleBlaze(w[4], w[4]),
                                _conv_bn_relu(w[4], w[4], 3, 1))
        self.lateral5 = _conv_bn_relu(w[4], w[3])
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.top_down4 = _DoubleBlaze(w[4], w[3])
        self.lateral4 = _conv_bn_relu(w[3], w[2])
        self.out3 = _DoubleBlaze(w[3], w[2])
        self.down3 = _conv_bn_relu(w[2], w[2], 3, 2)
        self.out4 = _DoubleBlaze(w[3], w[3])
        self.down4 = _conv_bn_relu(w[3], w[3], 3, 2)
        self.out5 = _DoubleBlaze(w[4], w[4])
        self.classes = classes
        self.detect = nn.ModuleList(nn.Conv2d(c, 3 * (5 + classes), 1) for c in w[2:])
        self.register_buffer("strides", torch.tensor(GEAR_GUARD_STRIDES, dtype=torch.float32))
        for i, (anchors, stride) in enumerate(zip(GEAR_GUARD_ANCHORS, GEAR_GUARD_STRIDES)):
            ny, nx = size[0] // stride, size[1] // stride
            gy, gx = torch.meshgrid(torch.arange(ny), torch.arange(nx), indexing="ij")
            grid = torch.stack([gx, gy]).view(2, ny, nx, 1).expand(2, ny, nx, 3).reshape(2, 1, -1)
            self.register_buffer(f"grid{i}", grid.float())     # (x, y) of each (row, column, anchor)
            wh = torch.tensor(anchors, dtype=torch.float32).view(3, 2)
            self.register_buffer(f"anchor{i}", wh.repeat(ny * nx, 1).unsqueeze(0))   # (w, h) of each

    def detector(self, image: torch.Tensor) -> list[torch.Tensor]:
        """The three raw detection maps (strides 8, 16, 32)."""
        c3 = self.p3(self.stem(image))
        c4 = self.p4(c3)
        lat5 = self.lateral5(self.p5(c4))
        lat4 = self.lateral4(self.top_down4(torch.cat([self.up(lat5), c4], 1)))
        o3 = self.out3(torch.cat([self.up(lat4), c3], 1))
        o4 = self.out4(torch.cat([self.down3(o3), lat4], 1))
        o5 = self.out5(torch.cat([self.down4(o4), lat5], 1))
        return [conv(o) for conv, o in zip(self.detect, (o3, o4, o5))]

    def _decode(self, out: torch.Tensor, i: int) -> torch.Tensor:
        """The zoo's ``_decode_scale``: per prediction (row, column, anchor) centre, size,
        objectness and class scores."""
        out = out.permute(0, 2, 3, 1)
        b, h, w, _ = out.shape
        pred = out.reshape(b, h, w, 3, -1)
        obj, cls = pred[..., 4].sigmoid(), pred[..., 5:].sigmoid()
        obj, cls = obj.reshape(b, -1), cls.reshape(b, -1, self.classes)
        pred = pred.reshape(b, -1, pred.shape[-1])
        grid, anchor, stride = getattr(self, f"grid{i}"), getattr(self, f"anchor{i}"), self.strides[i]
        bx = (pred[..., 0].sigmoid() * 2 - 0.5 + grid[0]) * stride
        by = (pred[..., 1].sigmoid() * 2 - 0.5 + grid[1]) * stride
        bw = 4 * pred[..., 2].sigmoid() ** 2 * anchor[..., 0]
        bh = 4 * pred[..., 3].sigmoid() ** 2 * anchor[..., 1]
        return torch.cat([torch.stack([bx, by, bw, bh, obj], 2), cls], 2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        det = torch.cat([self._decode(out, i) for i, out in enumerate(self.detector(image))], 1)
        boxes, conf, scores = det[:, :, :4], det[:, :, 4:5], det[:, :, 5:]
        centre, half = boxes[..., :2], boxes[..., 2:] * 0.5
        boxes = torch.cat((centre - half, centre + half), -1)
        scores *= conf
        best, index = [], []                  # the zoo's get_most_likely_score: chunks of 5000
        for split in torch.split(scores, 5000, dim=-2):
            best.append(split.amax(-1))
            index.append(split.argmax(-1).int())
        return boxes, torch.cat(best, -1), torch.cat(index, -1).to(torch.uint8)


FACE_ATTRIB_INPUT = (1, 3, 128, 128)
CAVAFACE_INPUT = (1, 3, 112, 112)
GEAR_GUARD_INPUT = (1, 3, 320, 192)
ZOO_FACE_PPE = {
    "face_attrib_net": (FaceAttribNet, FACE_ATTRIB_INPUT,
                        ("Facial-Attribute-Detection (Qualcomm) as quic/ai-hub-models@52c080d "
                         "models/face_attrib_net/model.py+layers.py FaceAttribNet(64, [2, 6, 3]), the zoo's "
                         "wrapper; written here")),
    "cavaface": (CavaFaceIRSE, CAVAFACE_INPUT,
                 ("CavaFace IR-SE-100 as cavalleria/cavaface@822651f backbone/resnet_irse.py IR_SE_100, "
                  "the zoo's wrapper; written here")),
    "gear_guard_net": (partial(GearGuardNet, GEAR_GUARD_INPUT[2:]), GEAR_GUARD_INPUT,
                       ("PPE-Detection (Qualcomm) as quic/ai-hub-models@52c080d models/gear_guard_net/"
                        "model.py+layers.py GearGuardNet, its decoding and post-processing; written here")),
}
"""zoo model id → (builder, input shape, architecture source), as ZOO_ARCHITECTURES; held out."""
