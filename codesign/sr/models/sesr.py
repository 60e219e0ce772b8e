"""SESR-M5 (Bhardwaj et al., MLSys 2022, arXiv:2103.09404) as Qualcomm AI Hub deploys it.

The graph of ``SESRRelease`` (num_channels 16, num_lblocks 5) in quic/aimet-model-zoo, which
quic/ai-hub-models' ``sesr_m5`` loads **uncollapsed** (its layer counts, 27–33 per job, match
the expanded graph): collapsible linear blocks, each a k×k conv to 256 channels (no bias) and a
1×1 conv back. First block 5×5 3→16 with ReLU; five residual blocks 3×3 16→16 (x + block(x),
then ReLU); a long residual add; last block 5×5 16→3·scale²; plus an anchor (a 1×1 conv
3→3·scale² that repeats each input channel scale² times, i.e. nearest upsampling after the
shuffle, fixed: the zoo's ``AnchorOp`` freezes it), added; pixel shuffle. ``collapsed=True`` builds the inference form of the paper
instead (each block one k×k conv). Written here from that description. 343,120 parameters
at ×4 uncollapsed, the zoo's 343K (the graph it times is ×4).
"""
from __future__ import annotations

import torch
from torch import nn

from codesign.sr.models.anchor import nearest_anchor_
from codesign.sr.models.registry import register

EXPAND = 256  # the blocks' hidden width in the released (uncollapsed) model


def _block(cin: int, cout: int, kernel: int, collapsed: bool) -> nn.Module:
    if collapsed:
        return nn.Conv2d(cin, cout, kernel, padding=kernel // 2)
    return nn.Sequential(nn.Conv2d(cin, EXPAND, kernel, padding=kernel // 2, bias=False),
                         nn.Conv2d(EXPAND, cout, 1))


class SESR(nn.Module):
    """SESR with ``channels`` features and ``blocks`` residual blocks, integer ``scale``;
    (N, 3, h, w) → (N, 3, scale·h, scale·w)."""

    def __init__(self, scale: int, channels: int = 16, blocks: int = 5, collapsed: bool = False):
        super().__init__()
        self.anchor = nearest_anchor_(nn.Conv2d(3, 3 * scale**2, 1), scale, trainable=False)
        self.first = _block(3, channels, 5, collapsed)
        self.blocks = nn.ModuleList(_block(channels, channels, 3, collapsed) for _ in range(blocks))
        self.last = _block(channels, 3 * scale**2, 5, collapsed)
        self.shuffle = nn.PixelShuffle(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = torch.relu(self.first(x))
        y = first
        for block in self.blocks:
            y = torch.relu(y + block(y))
        return self.shuffle(self.last(y + first) + self.anchor(x))


@register("sesr_m5")
def sesr_m5(scale: int, collapsed: bool = False) -> SESR:
    """SESR-M5: 16 channels, 5 residual blocks (uncollapsed, as deployed, unless ``collapsed``)."""
    return SESR(scale, 16, 5, collapsed)
