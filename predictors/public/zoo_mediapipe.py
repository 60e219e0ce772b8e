"""The AI Hub zoo's six MediaPipe networks (a detector and a landmark regressor each for faces,
hands and poses), written here from the PyTorch port of MediaPipe's TFLite models at the commit
the zoo pins and as the zoo exports them, for counting layer features only (no weights, no data).

Sources: zmurez/MediaPipePyTorch at 65f2549 (2021-03-03; Apache-2.0, MediaPipe's licence; it
builds on hollance/BlazeFace-PyTorch), the commit the zoo's ``_shared/mediapipe/utils.py`` pins
(``MediaPipePyTorchAsRoot``): ``blazebase.py`` (the blocks), ``blazeface.py``, ``blazepalm.py``,
``blazepose.py`` and their ``*_landmark.py``. The snapshot of zmurez's repository held here stops
at b38dbe3 (2020-08-30), before the back-camera face model; 65f2549 was read from the fork
AlbertaBeef/MediaPipePyTorch, which holds it unchanged. The zoo: quic/ai-hub-models at 52c080d
(BSD-3-Clause), ``models/mediapipe_{face,hand,pose}/model.py``, whose find-and-replace patches of
the port are applied here. Papers: BlazeFace arXiv:1907.05047, face mesh arXiv:1907.06724,
MediaPipe Hands arXiv:2006.10214, BlazePose arXiv:2006.10204.

All six are BlazeBlock networks whose batch norms TFLite already folded (there are none): a
depthwise k×k convolution and a 1×1 one (both biased), added to the shortcut, then ReLU (PReLU in
the face landmark model). A stride-2 block zero-pads its depthwise input as TFLite does (right and
bottom by 2 for k = 3; left/top 1, right/bottom 2 for k = 5; the convolution itself unpadded) and
max-pools its shortcut 2×2; a widening block appends zero channels to the shortcut, or (the pose
detector) projects it with a 1×1 convolution.

- `mediapipe_face:FaceDetector`: BlazeFace's back-camera model (``BlazeFace(back_model=True)``) at
  1×3×256×256: the input zero-padded by 2 on every side (the zoo's patch; the port pads 1, 2), a
  5×5 stride-2 convolution to 24, 31 blocks (24, 24, 48, 96 wide, halving to 64, 32 and 16) to
  96×16×16, a last stride-2 block without shortcut to 8×8; per scale a 1×1 classifier and regressor
  (2 and 6 anchors a cell, 16 coordinates each). The zoo's patch returns the four head outputs
  apart (1×512×16, 1×384×16, 1×512×1, 1×384×1) instead of concatenated.
- `mediapipe_face:FaceLandmarkDetector` (``BlazeFaceLandmark``) at 1×3×192×192: PReLU blocks to
  128×6×6, two heads from there: 468×3 landmarks (a 3×3 convolution on 3×3, ÷192) and the face
  flag (sigmoid).
- `mediapipe_hand:HandDetector` (``BlazePalm``, unpatched) at 1×3×256×256: blocks to 128×32×32,
  256×16×16 and 256×8×8, a top-down path (2×2 stride-2 transposed convolutions, ReLU, added, a
  block), heads on the three scales (2, 2, 6 anchors; 18 coordinates), concatenated: 1×2944×18
  and 1×2944×1.
- `mediapipe_hand:HandLandmarkDetector` (``BlazeHandLandmark``) at 1×3×256×256: 5×5 blocks to 8×8,
  bilinear ×2 upsampling added back at 16, 32 and 64, blocks down to 288×2×2, three 2×2
  convolutions: hand flag and handedness (sigmoid), 21×3 landmarks (÷256).
- `mediapipe_pose:PoseDetector` (``BlazePose``) at 1×3×128×128: the input zero-padded left 1,
  right 2, top and bottom 2 (the zoo's patch uncomments the port's pad and changes it), so the
  5×5 stem and first blocks run at 132×131; 5×5 blocks with projected shortcuts to 128×16×16 and
  256×8×8, heads as the face detector's (12 coordinates), outputs apart (patched).
- `mediapipe_pose:PoseLandmarkDetector` (``BlazePoseLandmark``) at 1×3×256×256: blocks to
  288×8×8, a top-down path of separable convolutions (3×3 depthwise, 1×1, ReLU; bilinear ×2
  upsampling, added) to 48×64×64, a second encoder fed by it and by separable convolutions of
  the first's features, to 288×2×2; flag (sigmoid) and 31×4 landmarks (÷256), of which the zoo's
  wrapper keeps the first 25 (a slice). The port also computes a 128×128 segmentation mask that
  the wrapper drops; it is absent from the graph the zoo compiles (the ONNX export of the zoo's
  trace, see below), so that branch (four separable convolutions and a 3×3 convolution, 1,537
  parameters) is not built here.

Nothing else is in the exported graphs: the wrappers feed the [0, 1] image straight in (the
port's ÷255 preprocessing, and the detectors' anchor decoding, score sigmoid and NMS, are outside
them: ``include_postprocessing`` is False by default). The NHWC input is a compile option
(``--force_channel_last_input``), not a graph op, and is not modelled.

Checked once against the port's modules built from 65f2549 with the zoo's patches applied (in a
scratch copy): the same parameter shapes (those of the port's weight files too, for the three the
snapshot holds: face back, face landmark, pose detector) and output shapes; the same aten ops in
torch.jit.trace of the zoo's wrappers around the port's modules as in the trace of these (the
patched detectors still concatenate their outputs before returning them apart; the trace drops
those two concatenations, as these leave them out), but for the pose landmark model, whose trace
keeps the mask branch but its last convolution (held by in-place ReLUs), while torch.onnx's export
of that trace has this module's 133 convolutions and no branch; and on the meta device the same
MACs, bytes and op counts per feature class (the port's detectors less their dead
concatenations, its pose landmark model less its mask branch).

Parameters: info.yaml's figures (135K, 603K, 1.76M, 2.01M, 815K, 3.36M) are those of the
converted graph, inferred: the depthwise biases, all zero in the three weight files held (the
TFLite depthwise convolutions had none), stored once per width as one shared zero tensor, and the
mask branch gone. Counted so, these networks have 134.9K, 603.4K, 1.758M, 2.007M, 815.0K and
3.364M, each the zoo's figure; their own parameter counts, 136.2K, 604.7K, 1.763M, 2.014M, 818.1K
and 3.376M (the port's pose landmark model with its mask branch 3.377M; the zoo printed 3.37M up to
v0.28), and the counts less all depthwise biases (the pose detector's 814.4K) miss some of them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _act(kind: str, channels: int) -> nn.Module:
    return nn.PReLU(channels) if kind == "prelu" else nn.ReLU(inplace=True)


class _BlazeBlock(nn.Module):
    """Depthwise k×k and 1×1 convolutions (biased) added to the shortcut, then the activation.
    Stride 2: the depthwise input zero-padded TFLite-style and the shortcut max-pooled 2×2. A
    wider output: the shortcut zero-padded in channels, or projected by a 1×1 convolution
    (``proj``). ``shortcut`` False: no shortcut (the port's FinalBlazeBlock)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, act: str = "relu",
                 proj: bool = False, shortcut: bool = True):
        super().__init__()
        self.k, self.stride, self.extra, self.shortcut = k, stride, cout - cin, shortcut
        self.dw = nn.Conv2d(cin, cin, k, stride, 0 if stride == 2 else (k - 1) // 2, groups=cin)
        self.pw = nn.Conv2d(cin, cout, 1)
        self.proj = nn.Conv2d(cin, cout, 1) if proj else None
        self.act = _act(act, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if self.stride == 2:
            h = F.pad(x, (0, 2, 0, 2) if self.k == 3 else (1, 2, 1, 2))
        out = self.pw(self.dw(h))
        if not self.shortcut:
            return self.act(out)
        if self.stride == 2:
            x = F.max_pool2d(x, 2)
        if self.proj is not None:
            x = self.proj(x)
        elif self.extra > 0:
            x = F.pad(x, (0, 0, 0, 0, 0, self.extra))
        return self.act(out + x)


def _blocks(cin: int, plan: str, k: int = 3, act: str = "relu", proj: bool = False) -> nn.Sequential:
    """BlazeBlocks from a plan such as ``"24x7 48/2 48x7"``: ``CxN`` is N blocks C wide (``C``
    one), ``C/2`` one stride-2 block to C wide (its shortcut projected if ``proj``)."""
    layers = []
    for step in plan.split():
        if step.endswith("/2"):
            cout, n, stride = int(step[:-2]), 1, 2
        else:
            width, _, count = step.partition("x")
            cout, n, stride = int(width), int(count or 1), 1
        for _ in range(n):
            layers.append(_BlazeBlock(cin, cout, k, stride, act, proj and stride == 2))
            cin = cout
    return nn.Sequential(*layers)


def _stem(pad: tuple[int, int, int, int], cout: int, k: int, stride: int, padding: int = 0,
          act: str = "relu") -> nn.Sequential:
    """The input zero-padded (left, right, top, bottom), a k×k convolution from RGB, activation."""
    return nn.Sequential(nn.ZeroPad2d(pad), nn.Conv2d(3, cout, k, stride, padding), _act(act, cout))


def _separable(cin: int, cout: int) -> nn.Sequential:
    """BlazePose's up unit: 3×3 depthwise (same-padded), 1×1 to ``cout``, ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, 1, 1, groups=cin), nn.Conv2d(cin, cout, 1), nn.ReLU(True))


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="bilinear")


class _Head(nn.Module):
    """SSD head on one scale: 1×1 regressor (``coords`` per anchor) and classifier (one score per
    anchor), each channels-last and flattened to (batch, cells·anchors, ·)."""

    def __init__(self, cin: int, anchors: int, coords: int):
        super().__init__()
        self.coords = coords
        self.reg = nn.Conv2d(cin, anchors * coords, 1)
        self.cls = nn.Conv2d(cin, anchors, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b = x.shape[0]
        return (self.reg(x).permute(0, 2, 3, 1).reshape(b, -1, self.coords),
                self.cls(x).permute(0, 2, 3, 1).reshape(b, -1, 1))


class TwoScaleDetector(nn.Module):
    """BlazeFace / BlazePose detector as the zoo patches it: stem, blocks to the 16×16 scale,
    more to 8×8, heads of 2 and 6 anchors; regressions and scores of the two scales returned
    apart (r16, r8, c16, c8)."""

    def __init__(self, stem: nn.Module, body: nn.Module, down: nn.Module, widths: tuple[int, int],
                 coords: int):
        super().__init__()
        self.stem, self.body, self.down = stem, body, down
        self.heads = nn.ModuleList([_Head(widths[0], 2, coords), _Head(widths[1], 6, coords)])

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.body(self.stem(image))
        (r1, c1), (r2, c2) = self.heads[0](x), self.heads[1](self.down(x))
        return r1, r2, c1, c2


def blazeface_back() -> TwoScaleDetector:
    """``BlazeFace(back_model=True)``, the zoo's padding patch (2 on every side)."""
    return TwoScaleDetector(_stem((2, 2, 2, 2), 24, 5, 2), _blocks(24, "24x7 24/2 24x7 48/2 48x7 96/2 96x7"),
                            _BlazeBlock(96, 96, stride=2, shortcut=False), (96, 96), 16)


def blazepose_detector() -> TwoScaleDetector:
    """``BlazePose``, the zoo's padding patch (left 1, right 2, top 2, bottom 2)."""
    return TwoScaleDetector(_stem((1, 2, 2, 2), 48, 5, 1, padding=2),
                            _blocks(48, "48x3 64/2 64x3 96/2 96x6 128/2 128x7", k=5, proj=True),
                            _blocks(128, "256/2 256x6", k=5, proj=True), (128, 256), 12)


class BlazePalm(nn.Module):
    """MediaPipe's palm detector: three scales, a top-down path, 2944 anchors; the concatenated
    regressions (18 coordinates) and scores."""

    def __init__(self):
        super().__init__()
        self.stem = _stem((0, 1, 0, 1), 32, 3, 2)
        self.backbone1 = _blocks(32, "32x7 64/2 64x7 128/2 128x7")
        self.backbone2 = _blocks(128, "256/2 256x7")
        self.backbone3 = _blocks(256, "256/2 256x7")
        self.up1, self.blaze1 = nn.ConvTranspose2d(256, 256, 2, 2), _BlazeBlock(256, 256)
        self.up2, self.blaze2 = nn.ConvTranspose2d(256, 128, 2, 2), _BlazeBlock(128, 128)
        self.heads = nn.ModuleList([_Head(128, 2, 18), _Head(256, 2, 18), _Head(256, 6, 18)])

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.backbone1(self.stem(image))
        y = self.backbone2(x)
        z = self.backbone3(y)
        y = self.blaze1(y + F.relu(self.up1(z), True))
        x = self.blaze2(x + F.relu(self.up2(y), True))
        outs = [head(t) for head, t in zip(self.heads, (x, y, z))]
        return torch.cat([r for r, _ in outs], 1), torch.cat([c for _, c in outs], 1)


class BlazeFaceLandmark(nn.Module):
    """MediaPipe's face mesh regressor (PReLU): the face flag and 468×3 landmarks."""

    def __init__(self):
        super().__init__()
        self.stem = _stem((0, 1, 0, 1), 16, 3, 2, act="prelu")
        self.backbone = _blocks(16, "16x2 32/2 32x2 64/2 64x2 128/2 128x2 128/2 128x2", act="prelu")
        self.mesh = nn.Sequential(_blocks(128, "128/2 128x2", act="prelu"), nn.Conv2d(128, 32, 1),
                                  nn.PReLU(32), _BlazeBlock(32, 32, act="prelu"), nn.Conv2d(32, 1404, 3))
        self.flag = nn.Sequential(_blocks(128, "128/2", act="prelu"), nn.Conv2d(128, 32, 1),
                                  nn.PReLU(32), _BlazeBlock(32, 32, act="prelu"), nn.Conv2d(32, 1, 3))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.backbone(self.stem(image))
        landmarks = self.mesh(x).view(-1, 468, 3) / 192
        return self.flag(x).sigmoid().view(-1), landmarks


class BlazeHandLandmark(nn.Module):
    """MediaPipe's hand landmark regressor: hand flag, handedness and 21×3 landmarks."""

    def __init__(self):
        super().__init__()
        self.stem = _stem((0, 1, 0, 1), 24, 3, 2)
        self.backbone1 = _blocks(24, "24x2 48/2", k=5)
        self.backbone2 = _blocks(48, "48x2 96/2", k=5)
        self.backbone3 = _blocks(96, "96x2 96/2", k=5)
        self.backbone4 = _blocks(96, "96x2 96/2", k=5)
        self.blaze5, self.blaze6 = _BlazeBlock(96, 96, 5), _BlazeBlock(96, 96, 5)
        self.conv7 = nn.Conv2d(96, 48, 1)
        self.backbone8 = _blocks(48, "48x4 96/2 96x4 288/2 288x4 288/2 288x4 288/2 288x4 288/2 288x4", k=5)
        self.hand_flag, self.handed = nn.Conv2d(288, 1, 2), nn.Conv2d(288, 1, 2)
        self.landmarks = nn.Conv2d(288, 63, 2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.backbone1(self.stem(image))
        y = self.backbone2(x)
        z = self.backbone3(y)
        w = self.backbone4(z)
        z = self.blaze5(z + _up(w))
        y = self.conv7(self.blaze6(y + _up(z)))
        x = self.backbone8(x + _up(y))
        return (self.hand_flag(x).view(-1).sigmoid(), self.handed(x).view(-1).sigmoid(),
                self.landmarks(x).view(-1, 21, 3) / 256)


class BlazePoseLandmark(nn.Module):
    """MediaPipe's full pose landmark regressor as the zoo exports it: the flag and the first
    ``keep`` of its 31×4 landmarks; the mask branch, absent from the compiled graph, left out."""

    def __init__(self, keep: int = 25):
        super().__init__()
        self.keep = keep
        self.stem = _stem((0, 1, 0, 1), 24, 3, 2)
        self.backbone1 = _blocks(24, "24x2")
        self.backbone2 = _blocks(24, "48/2 48x3")
        self.backbone3 = _blocks(48, "96/2 96x4")
        self.backbone4 = _blocks(96, "192/2 192x5")
        self.backbone5 = _blocks(192, "288/2 288x6")
        self.up1, self.up2 = _separable(288, 48), _separable(192, 48)
        self.up3, self.up4 = _separable(96, 48), _separable(48, 48)
        self.block1, self.up5 = _blocks(48, "96/2 96x4"), _separable(96, 96)
        self.block2, self.up6 = _blocks(96, "192/2 192x5"), _separable(192, 192)
        self.block3, self.up7 = _blocks(192, "288/2 288x6"), _separable(288, 288)
        self.block4 = _blocks(288, "288/2 288x7 288/2 288x6 288")   # the port's block4 and block5
        self.flag, self.landmarks = nn.Conv2d(288, 1, 2), nn.Conv2d(288, 124, 2)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = self.backbone2(self.backbone1(self.stem(image)))
        z = self.backbone3(y)
        w = self.backbone4(z)
        v = self.backbone5(w)
        w1 = self.up2(w) + _up(self.up1(v))
        z1 = self.up3(z) + _up(w1)
        y1 = self.up4(y) + _up(z1)
        out = self.block1(y1) + self.up5(z)
        out = self.block2(out) + self.up6(w)
        out = self.block4(self.block3(out) + self.up7(v))
        landmarks = self.landmarks(out).view(out.shape[0], 31, 4) / 256
        return self.flag(out).view(-1).sigmoid(), landmarks[:, :self.keep]


_PORT = "{} as zmurez/MediaPipePyTorch@65f2549 {}, the zoo's {}; written here"
ZOO_MEDIAPIPE = {
    "mediapipe_face:FaceDetector": (
        blazeface_back, (1, 3, 256, 256),
        _PORT.format("BlazeFace back-camera (arXiv:1907.05047)", "blazeface.py BlazeFace(back_model=True)",
                     "patches (pad 2, outputs apart) and FaceDetector wrapper")),
    "mediapipe_face:FaceLandmarkDetector": (
        BlazeFaceLandmark, (1, 3, 192, 192),
        _PORT.format("MediaPipe face mesh (arXiv:1907.06724)", "blazeface_landmark.py",
                     "FaceLandmarkDetector wrapper")),
    "mediapipe_hand:HandDetector": (
        BlazePalm, (1, 3, 256, 256),
        _PORT.format("MediaPipe palm detector (arXiv:2006.10214)", "blazepalm.py", "HandDetector wrapper")),
    "mediapipe_hand:HandLandmarkDetector": (
        BlazeHandLandmark, (1, 3, 256, 256),
        _PORT.format("MediaPipe hand landmarks (arXiv:2006.10214)", "blazehand_landmark.py",
                     "HandLandmarkDetector wrapper")),
    "mediapipe_pose:PoseDetector": (
        blazepose_detector, (1, 3, 128, 128),
        _PORT.format("BlazePose detector (arXiv:2006.10204)", "blazepose.py",
                     "patches (pad 1-2/2-2, outputs apart) and PoseDetector wrapper")),
    "mediapipe_pose:PoseLandmarkDetector": (
        BlazePoseLandmark, (1, 3, 256, 256),
        _PORT.format("BlazePose full landmarks (arXiv:2006.10204)", "blazepose_landmark.py",
                     "PoseLandmarkDetector wrapper (25 landmarks kept, mask branch dropped)")),
}
"""zoo model:component id → (builder, input shape, architecture source), as ZOO_SEGMENTERS."""
