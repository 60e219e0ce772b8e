"""Authors' published checkpoints loaded into the project's reference networks by name.

A :class:`WeightFormat` is one release's tensor naming (a key map of regex rules, applied in
order) and the value range its network was trained on, read from the authors' test script.
Files are read with ``torch.load(weights_only=True)``: tensors only, never pickled code. A file
that is not the named network's at that scale is refused in one line naming the mismatch.

Formats (the ``source`` of each says where its convention was read):
- ``Zheng222/IMDN`` (``checkpoints/IMDN_x{2,3,4}.pth``, into ``imdn``): inputs in [0, 1].
- ``bytedance/RLFN`` (``model_zoo/rlfn{,_s}_x{2,4}.pth``, ``rlfn_ntire_x4.pth``, into ``rlfn``,
  ``rlfn_s``, ``rlfn_ntire``): inputs in [0, 255].
- ``ofsoundof/NTIRE2022_ESR`` RLFN (``model_zoo/team04_rlfn.pth``, into ``rlfn_ntire``): the
  same tensors as ``bytedance/RLFN``'s ``rlfn_ntire_x4.pth`` under other names, so [0, 255].
- ``codesign``: the project's own state dict (as ``model.state_dict()`` saves it), [0, 1].
"""
from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from codesign.sr.models.registry import build_model


class WeightsError(ValueError):
    """A weights file that cannot be loaded into the named network (one-line message)."""


@dataclass(frozen=True)
class WeightFormat:
    """One release's naming: ``rules`` map its keys to the project's, ``value_range`` is the
    pixel range (1 or 255) its network reads and writes."""

    name: str
    archs: tuple[str, ...]
    rules: tuple[tuple[str, str | Callable[[re.Match], str]], ...]
    value_range: float
    source: str

    def map_key(self, key: str) -> str:
        for pattern, repl in self.rules:
            key = re.sub(pattern, repl, key)
        return key


def _block(prefix: str) -> tuple[str, Callable[[re.Match], str]]:
    """Rule renaming ``<prefix>N.`` (blocks numbered from 1) to ``blocks.<N-1>.``."""
    return rf"^{prefix}(\d+)\.", lambda m: f"blocks.{int(m[1]) - 1}."


FORMATS = (
    WeightFormat("Zheng222/IMDN", ("imdn",), (
        (r"^module\.", ""), (r"^fea_conv\.", "head."), _block("IMDB"),
        (r"\.cca\.conv_du\.", ".cca.gate."), (r"^c\.0\.", "fuse.0."),
        (r"^LR_conv\.", "body_tail."),
    ), 1.0, "github.com/Zheng222/IMDN test_IMDN.py: im_input = im_l / 255.0"),
    WeightFormat("bytedance/RLFN", ("rlfn", "rlfn_s", "rlfn_ntire"), (
        (r"^conv_1\.", "head."), _block("block_"), (r"^conv_2\.", "body_tail."),
    ), 255.0, "github.com/bytedance/RLFN test_demo.py: img_L = img_L * 255."),
    WeightFormat("ofsoundof/NTIRE2022_ESR", ("rlfn_ntire",), (
        (r"^fea_conv\.", "head."), _block("B"), (r"^LR_conv\.", "body_tail."),
    ), 255.0, "team04_rlfn.pth holds bytedance/RLFN rlfn_ntire_x4.pth's tensors, renamed"),
    WeightFormat("codesign", (), (), 1.0, "the project's own model.state_dict()"),
)


class ValueRange(nn.Module):
    """``net`` trained on pixels in [0, ``value_range``], fed and read in [0, 1] like every
    network of the project."""

    def __init__(self, net: nn.Module, value_range: float):
        super().__init__()
        self.net, self.value_range = net, float(value_range)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * self.value_range) / self.value_range


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a weights file (``weights_only=True``; a ``state_dict``/``params``/``model``
    wrapper is unwrapped). WeightsError for anything else."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = (str(exc).strip().splitlines() or [""])[0]
        raise WeightsError(f"{path} holds more than tensors (refused: weights_only=True): "
                           f"{first}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise WeightsError(f"{path} is not a readable PyTorch weights file: {first}") from None
    if isinstance(state, dict):
        for wrapper in ("state_dict", "params", "model"):
            if isinstance(state.get(wrapper), dict):
                state = state[wrapper]
                break
    if not (isinstance(state, dict) and state
            and all(isinstance(v, torch.Tensor) for v in state.values())):
        raise WeightsError(f"{path} holds no state dict of tensors")
    return state


def _mismatch(expected: dict, state: dict) -> tuple[int, str] | None:
    """What keeps ``state`` from loading into a model with state dict ``expected``: (number of
    names that differ, one-line reason), or None where it fits."""
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        parts = [f"{len(missing)} tensors missing ({', '.join(missing[:2])}, …)" if missing
                 else "",
                 f"{len(extra)} unexpected ({', '.join(extra[:2])}, …)" if extra else ""]
        return len(missing) + len(extra), ", ".join(p for p in parts if p)
    for key, tensor in expected.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            return 0, (f"{key} is {'x'.join(map(str, state[key].shape))} in the file, "
                       f"{'x'.join(map(str, tensor.shape))} in the network")
    return None


def load_authors_weights(arch: str, scale: int, path: str | Path) -> tuple[nn.Module, WeightFormat]:
    """Network ``arch`` at ``scale`` with the weights of ``path`` in whichever known format
    fits, wrapped in :class:`ValueRange` where that format's range is not 1. WeightsError
    (one line: the closest format's mismatch) when none fits."""
    state = read_state_dict(path)
    net = build_model(arch, scale)
    expected = net.state_dict()
    tried = []
    for fmt in FORMATS:
        if fmt.archs and arch not in fmt.archs:
            continue
        mapped = {fmt.map_key(k): v for k, v in state.items()}
        why = _mismatch(expected, mapped)
        if why is None:
            net.load_state_dict(mapped)
            return (net if fmt.value_range == 1 else ValueRange(net, fmt.value_range)), fmt
        tried.append((*why, fmt.name))
    _, why, name = min(tried, key=lambda t: t[0])  # the format whose names fit best
    hint = _scale_hint(state, scale)
    raise WeightsError(f"{path} is not a {arch!r} x{scale} checkpoint{hint} "
                       f"(closest format {name}: {why})")


def _scale_hint(state: dict, scale: int) -> str:
    """``: it upsamples xN`` when the file's upsampler conv feeds a pixel shuffle of another
    scale (every known release names it ``upsampler.0``)."""
    last = [v for k, v in state.items() if k.endswith("upsampler.0.weight") and v.dim() == 4]
    if last and last[0].shape[0] % 3 == 0:
        other = round((last[0].shape[0] // 3) ** 0.5)
        if other > 1 and 3 * other * other == last[0].shape[0] and other != scale:
            return f": it upsamples x{other}"
    return ""
