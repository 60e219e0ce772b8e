"""The AI Hub zoo's two inpainting CNNs, written here from their papers and their authors' code at
the configuration the zoo exports, for counting layer features only (no weights, no data).

They are held out of every NPU fit, like the SR models, and were added after the fit's design (its
feature classes and two dense-MAC rates) was fixed, so they test that design on image-to-image
networks it never saw (benchmarks.prediction.predictor_qaihub, part ``unseen``).

- `aotgan`: AOT-GAN's generator (Zeng et al., arXiv:2104.01431; researchmm/AOT-GAN-for-Inpainting
  ``src/model/aotgan.py``, as the zoo builds it: dilation rates 1, 2, 4, 8 and 8 AOT blocks, its
  layer norm in the zoo's patched form), on image ⊕ mask as the zoo's wrapper feeds it.
- `lama_dilated`: LaMa's multi-dilated generator (Suvorov et al., arXiv:2109.07161;
  advimman/lama ``pix2pixhd_multidilated``, its config ``pix2pixhd_multidilated_catin_4dil_9b``:
  64 base channels, 3 stride-2 downsamplings, 9 residual blocks whose 3×3 convolutions are four
  convolutions of dilations 1, 2, 4, 8 on a quarter of the channels each, summed, reflect-padded;
  transposed-convolution upsampling; sigmoid output). The zoo reads the configuration from a
  training_config.json of its asset store, not in any repository; this is the one generator of
  the LaMa repository named for dilation, and its 45.6 M parameters are info.yaml's 45.6 M.

Both at the zoo's 1×3×512×512 image and 1×1×512×512 mask (``_shared/repaint`` get_input_spec),
given here as one 1×4×512×512 tensor that the wrappers split (views, no cost).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

RATES = (1, 2, 4, 8)


class _AOTBlock(nn.Module):
    """AOT block: four reflect-padded 3×3 convolutions of dilation 1, 2, 4, 8 to a quarter of
    the channels each, concatenated and fused by a 3×3 convolution, mixed with the input by a
    gate (3×3 convolution, layer norm, sigmoid)."""

    def __init__(self, dim: int):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(nn.ReflectionPad2d(r), nn.Conv2d(dim, dim // 4, 3, dilation=r), nn.ReLU(True))
            for r in RATES)
        self.fuse = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3))
        self.gate = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3))

    @staticmethod
    def layer_norm(feat: torch.Tensor) -> torch.Tensor:
        """The zoo's patched ``my_layer_norm``: per-channel standardisation, scaled to ±5."""
        mean = feat.mean((2, 3), keepdim=True)
        samples = feat.shape[2] * feat.shape[3]
        std = torch.sqrt(torch.sum((feat - mean) ** 2 / (samples - 1), (2, 3), keepdim=True)) + 1e-9
        return 5 * (2 * (feat - mean) / std - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.fuse(torch.cat([branch(x) for branch in self.branches], 1))
        mask = torch.sigmoid(self.layer_norm(self.gate(x)))
        return x * (1 - mask) + out * mask


class _UpConv(nn.Module):
    """×2 bilinear upsampling (corners aligned), then a 3×3 convolution."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True))


class AOTGAN(nn.Module):
    """AOT-GAN's generator inside the zoo's wrapper (inputs to [-1, 1], masked; output blended
    with the image outside the mask)."""

    def __init__(self, blocks: int = 8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3), nn.Conv2d(4, 64, 7), nn.ReLU(True),
            nn.Conv2d(64, 128, 4, stride=2, padding=1), nn.ReLU(True),
            nn.Conv2d(128, 256, 4, stride=2, padding=1), nn.ReLU(True))
        self.middle = nn.Sequential(*[_AOTBlock(256) for _ in range(blocks)])
        self.decoder = nn.Sequential(_UpConv(256, 128), nn.ReLU(True), _UpConv(128, 64), nn.ReLU(True),
                                     nn.Conv2d(64, 3, 3, padding=1))

    def forward(self, image_and_mask: torch.Tensor) -> torch.Tensor:
        image, mask = image_and_mask[:, :3], image_and_mask[:, 3:]
        masked = (image * 2 - 1) * (1 - mask) + mask
        pred = torch.tanh(self.decoder(self.middle(self.encoder(torch.cat([masked, mask], 1)))))
        pred = (torch.clamp(pred, -1, 1) + 1) / 2
        return pred * mask + image * (1 - mask)


class _MultiDilatedConv(nn.Module):
    """LaMa's ``MultidilatedConv`` (comb_mode cat_in): the input split in four, each quarter
    through a 3×3 convolution of dilation 1, 2, 4, 8 to all output channels, reflect-padded,
    the four outputs summed."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(cin // len(RATES), cout, 3, padding=r, dilation=r,
                                             padding_mode="reflect") for r in RATES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [conv(part) for conv, part in zip(self.convs, x.chunk(len(self.convs), dim=1))]
        return sum(outs[1:], outs[0])


class _MultiDilatedBlock(nn.Module):
    """Residual block of two multi-dilated convolutions with batch norm, ReLU between."""

    def __init__(self, dim: int):
        super().__init__()
        self.body = nn.Sequential(_MultiDilatedConv(dim, dim), nn.BatchNorm2d(dim), nn.ReLU(True),
                                  _MultiDilatedConv(dim, dim), nn.BatchNorm2d(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class LamaDilated(nn.Module):
    """LaMa's multi-dilated generator inside the zoo's wrapper (image masked, mask concatenated;
    output blended with the image outside the mask)."""

    def __init__(self, base: int = 64, downsamplings: int = 3, blocks: int = 9):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(4, base, 7), nn.BatchNorm2d(base), nn.ReLU(True)]
        for i in range(downsamplings):
            layers += [nn.Conv2d(base * 2**i, base * 2 ** (i + 1), 3, stride=2, padding=1),
                       nn.BatchNorm2d(base * 2 ** (i + 1)), nn.ReLU(True)]
        layers += [_MultiDilatedBlock(base * 2**downsamplings) for _ in range(blocks)]
        for i in range(downsamplings, 0, -1):
            layers += [nn.ConvTranspose2d(base * 2**i, base * 2 ** (i - 1), 3, stride=2, padding=1,
                                          output_padding=1),
                       nn.BatchNorm2d(base * 2 ** (i - 1)), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(base, 3, 7), nn.Sigmoid()]
        self.generator = nn.Sequential(*layers)

    def forward(self, image_and_mask: torch.Tensor) -> torch.Tensor:
        image, mask = image_and_mask[:, :3], image_and_mask[:, 3:]
        pred = self.generator(torch.cat([image * (1 - mask), mask], 1))
        return mask * pred + (1 - mask) * image


INPAINT_INPUT = (1, 4, 512, 512)
ZOO_INPAINTERS = {
    "aotgan": (AOTGAN, INPAINT_INPUT,
               ("AOT-GAN generator (arXiv:2104.01431) as researchmm/AOT-GAN-for-Inpainting, "
                "rates 1/2/4/8, 8 blocks, the zoo's wrapper; written here")),
    "lama_dilated": (LamaDilated, INPAINT_INPUT,
                     ("LaMa pix2pixhd_multidilated (arXiv:2109.07161) as advimman/lama "
                      "pix2pixhd_multidilated_catin_4dil_9b, the zoo's wrapper; written here")),
}
"""zoo model id → (builder, input shape, architecture source), as ZOO_ARCHITECTURES; held out."""
