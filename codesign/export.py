"""Deployable outputs of a derived network: safetensors weights, ONNX checked in onnxruntime."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import torch


def save_weights(model: torch.nn.Module, path: str | Path) -> None:
    """State dict as safetensors (written to a temporary file, then renamed)."""
    from safetensors.torch import save_file

    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_onnx(model: torch.nn.Module, lr_hw: tuple[int, int], path: str | Path) -> float:
    """Export to ONNX (opset 17, input ``lr`` of 1×3×h×w) and run it in onnxruntime; returns the
    largest absolute difference from PyTorch on a random input (raises if above 1e-3)."""
    import onnxruntime as ort

    path = Path(path)
    model = model.cpu().eval()
    x = torch.rand(1, 3, *lr_hw, generator=torch.Generator().manual_seed(0))
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        torch.onnx.export(model, (x,), tmp, input_names=["lr"], output_names=["sr"],
                          opset_version=17, dynamo=False)
        session = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
        (out,) = session.run(None, {"lr": x.numpy()})
        with torch.no_grad():
            diff = float(np.abs(out - model(x).numpy()).max())
        if diff > 1e-3:
            raise RuntimeError(f"onnxruntime output differs from PyTorch by {diff:.2e}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return diff
