"""QuickSRNet (Berger et al., CVPR-W 2023, arXiv:2303.04336), small / medium / large, as
Qualcomm AI Hub deploys them.

The graph of ``QuickSRNetBase`` in quic/aimet-model-zoo, which quic/ai-hub-models'
``quicksrnet{small,medium,large}`` build: conv 3×3 3→C and N convs 3×3 C→C, each followed by a
clipped ReLU (hardtanh to [0, 1]); conv 3×3 C→3·scale²; for the large variant an
input-to-output connection (a 1×1 conv 3→3·scale² of the input, added); a clipped ReLU; pixel
shuffle. (C, N, input-to-output) = small (32, 2, no), medium (32, 5, no), large (64, 11, yes).
Initialised as the paper and that code do, so that the net starts as nearest upsampling: every
body conv gets 1 added at its centre tap from input channel i to output channel i (a residual
at initialisation), and the output is nearest upsampling of the input, by the last conv (1 added
from channel k // scale² to output channel k) or, with the input-to-output connection, by that
1×1 conv (set to nearest upsampling, trainable). With default initialisation alone the large
variant's twelve clipped layers do not train. Written here from that description. At ×4:
33,264 / 61,008 / 435,888 parameters, the zoo's 33.3K / 61.0K / 436K (the graphs it times are ×4).
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.anchor import add_nearest_taps_, nearest_anchor_
from codesign.sr.models.registry import register

VARIANTS = {"small": (32, 2, False), "medium": (32, 5, False), "large": (64, 11, True)}


class QuickSRNet(nn.Module):
    """QuickSRNet with ``channels`` features and ``layers`` intermediate convs, integer ``scale``;
    (N, 3, h, w) → (N, 3, scale·h, scale·w) in [0, 1]."""

    def __init__(self, scale: int, channels: int, layers: int, input_to_output: bool):
        super().__init__()
        body = [nn.Conv2d(3, channels, 3, padding=1), nn.Hardtanh(0.0, 1.0)]
        for _ in range(layers):
            body += [nn.Conv2d(channels, channels, 3, padding=1), nn.Hardtanh(0.0, 1.0)]
        self.body = nn.Sequential(*body, nn.Conv2d(channels, 3 * scale**2, 3, padding=1))
        self.anchor = nn.Conv2d(3, 3 * scale**2, 1) if input_to_output else None
        self.out = nn.Sequential(nn.Hardtanh(0.0, 1.0), nn.PixelShuffle(scale))
        self._initialise(scale)

    @torch.no_grad()
    def _initialise(self, scale: int) -> None:
        """Residual body convs and a nearest-upsampling output path (see the module doc)."""
        convs = [m for m in self.body if isinstance(m, nn.Conv2d)]
        for conv in convs[:-1]:
            centre = conv.kernel_size[0] // 2
            for i in range(min(conv.in_channels, conv.out_channels)):
                conv.weight[i, i, centre, centre] += 1.0
        if self.anchor is not None:
            nearest_anchor_(self.anchor, scale, trainable=True)
        else:
            add_nearest_taps_(convs[-1], scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.out(y if self.anchor is None else y + self.anchor(x))


def _variant(name: str):
    def build(scale: int) -> QuickSRNet:
        return QuickSRNet(scale, *VARIANTS[name])
    build.__doc__ = f"QuickSRNet-{name} (channels, layers, input-to-output) = {VARIANTS[name]}."
    return build


for _name in VARIANTS:
    register(f"quicksrnet_{_name}")(_variant(_name))
