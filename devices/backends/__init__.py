"""Measurement backends behind one interface: `for_device(device, runtime)` picks the one that
times a catalog device in a runtime; `create("tvm-local" | "tvm-rpc" | "onnxruntime" | ...)`
makes one by name.

A backend named `foo-bar` lives in `devices/backends/foo_bar.py` and defines `BACKEND`, its class;
adding one touches no other file.
"""
from devices.backends.base import (RUNTIMES, Artifact, Backend, Measurement, NoBackend,
                                   available_backends, create, for_device)

__all__ = ["RUNTIMES", "Artifact", "Backend", "Measurement", "NoBackend", "available_backends",
           "create", "for_device"]
