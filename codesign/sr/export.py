"""Deployable outputs of a derived network: safetensors weights, ONNX checked in onnxruntime."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from codesign_common.atomic import atomic_path


def save_weights(model: torch.nn.Module, path: str | Path) -> None:
    """State dict as safetensors (written to a temporary file, then renamed)."""
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp))


def export_onnx(model: torch.nn.Module, lr_hw: tuple[int, int], path: str | Path) -> float:
    """Export to ONNX (opset 17, input ``lr`` of 1×3×h×w) and run it in onnxruntime; returns the
    largest absolute difference from PyTorch on a random input (raises if above 1e-3)."""
    import onnxruntime as ort

    path = Path(path)
    model = model.cpu().eval()
    x = torch.rand(1, 3, *lr_hw, generator=torch.Generator().manual_seed(0))
    with atomic_path(path, suffix=".onnx") as tmp:
        torch.onnx.export(model, (x,), str(tmp), input_names=["lr"], output_names=["sr"],
                          opset_version=17, dynamo=False)
        session = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        (out,) = session.run(None, {"lr": x.numpy()})
        with torch.no_grad():
            diff = float(np.abs(out - model(x).numpy()).max())
        if diff > 1e-3:
            raise RuntimeError(f"onnxruntime output differs from PyTorch by {diff:.2e}")
    return diff
