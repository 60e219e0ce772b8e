"""Measurement backends behind one interface; `create("tvm-local" | "tvm-rpc" | "onnxruntime" | ...)`.

A backend named `foo-bar` lives in `devices/backends/foo_bar.py` and defines `BACKEND`, its class;
adding one touches no other file.
"""
from devices.backends.base import Artifact, Backend, Measurement, available_backends, create

__all__ = ["Artifact", "Backend", "Measurement", "available_backends", "create"]
