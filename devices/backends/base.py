"""The backend interface: build (compile/tune) → run (time) → a Measurement in one schema, and
`for_device`, the one factory that picks a catalog device's backend for a runtime.

Besides `build` (a PyTorch module), a backend may build a Relax module (`build_relax`) or an
ONNX file (`build_onnx`) and time every call inside a built network (`breakdown`); the class
attributes `builds_relax`, `builds_onnx` and `breaks_down` say which it can. A new runtime is one
file here (its `BACKEND` class) and its line in RUNTIME_BACKENDS."""
from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import torch

from devices import quiet_timing
from devices.catalog import Device
from devices.timing import Timing


@dataclass
class Artifact:
    """What `build` produced and `run` times: a runnable object plus facts about how it was made."""

    runnable: object
    input_shape: tuple[int, ...]
    target: str
    trials: int = 0
    tuned: bool = False
    fused_tasks: str = ""
    database_hits: str = ""


@dataclass(frozen=True)
class Measurement:
    """One timed workload: latency statistics and how it was built."""

    timing: Timing
    backend: str
    runtime: str
    target: str
    trials: int
    tuned: bool
    fused_tasks: str = ""
    database_hits: str = ""
    foreign_cpu_share: float | None = None  # share of the CPUs others used while it was timed
    provenance: str = "measured"  # or e.g. `simulated:zigzag` (docs/architecture.md)


class Backend(ABC):
    """A way to time a PyTorch module on a device. Subclasses set `name` and `runtime`."""

    name: str = ""
    times_locally = True  # False where nothing runs on this machine's CPU (tvm-rpc, simulator)
    provenance = "measured"  # the label of its latencies
    builds_relax = False  # capabilities beyond `build`: see the module docstring
    builds_onnx = False
    breaks_down = False

    def __init__(self, device: Device, **options):
        self.device = device
        self.options = options

    @abstractmethod
    def build(self, module: torch.nn.Module, input_shape: tuple[int, ...]) -> Artifact:
        """Compile (and tune) `module` for an NCHW float32 input of `input_shape`."""

    @abstractmethod
    def run(self, artifact: Artifact) -> Timing:
        """Time a built artifact (warm-up, repeats)."""

    def build_relax(self, mod, input_shape: tuple[int, ...]) -> Artifact:
        """Compile a Relax module (where `builds_relax`)."""
        raise NotImplementedError(f"{self.name} does not build Relax modules")

    def build_onnx(self, model: bytes | str, input_shape: tuple[int, ...]) -> Artifact:
        """Build an ONNX model, given as bytes or a file path (where `builds_onnx`)."""
        raise NotImplementedError(f"{self.name} does not build ONNX models")

    def breakdown(self, artifact: Artifact, runs: int = 5):
        """Per-call times inside a built network, a DataFrame (where `breaks_down`)."""
        raise NotImplementedError(f"{self.name} cannot time the calls inside a network")

    def call(self, artifact: Artifact):
        """A function running the built artifact once on a fixed input, finished when it returns
        (for timings that interleave several artifacts, devices.quiet_timing.interleaved)."""
        raise NotImplementedError(f"{self.name} cannot run an artifact in this process")

    @property
    @abstractmethod
    def runtime(self) -> str:
        """Runtime and version, e.g. `tvm-0.27.0.post1`."""

    def run_measurement(self, artifact: Artifact) -> Measurement:
        """run under the machine-wide timing lock (devices.quiet_timing: repeated, then refused,
        when other processes disturb it), with how the artifact was built, as one Measurement."""
        if self.times_locally:
            timing, share = quiet_timing.guarded(lambda: self.run(artifact))
        else:
            timing, share = self.run(artifact), None
        return Measurement(timing, self.name, self.runtime, artifact.target, artifact.trials,
                           artifact.tuned, artifact.fused_tasks, artifact.database_hits, share,
                           self.provenance)

    def measure(self, module: torch.nn.Module, input_shape: tuple[int, ...]) -> Measurement:
        """build → run, as one Measurement."""
        return self.run_measurement(self.build(module, input_shape))

    def close(self) -> None:
        """Release sessions and worker processes (default: nothing to release)."""


class CpuReferenceBackend(Backend):
    """Shared options of the reference CPU runtimes: threads (default: the device's cores),
    repeats, min_repeat_ms, warmup, min_span_s (devices.timing.NETWORK_SPAN_S)."""

    def __init__(self, device: Device, *, threads: int | None = None, repeats: int = 10,
                 min_repeat_ms: float = 100.0, warmup: int = 2, min_span_s: float = 0.0,
                 **_ignored):
        super().__init__(device)
        self.threads = threads or int(device.target.get("num-cores", 1))
        self.timing = dict(repeats=repeats, min_repeat_ms=min_repeat_ms, warmup=warmup,
                           min_span_s=min_span_s)


def available_backends() -> list[str]:
    """Names of the backend modules in this package, e.g. ['onnxruntime', 'tvm-local', ...]."""
    here = Path(__file__).parent
    return sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules([str(here)])
                  if m.name not in ("base", "__init__"))


def create(name: str, device: Device, **options) -> Backend:
    """The backend `name` for `device`; ValueError listing the known names otherwise."""
    if name not in available_backends():
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(available_backends())}")
    module = importlib.import_module(f"devices.backends.{name.replace('-', '_')}")
    return module.BACKEND(device, **options)


# runtime → (backend timing it on this machine or a simulator, backend over an RPC tracker)
RUNTIME_BACKENDS = {"tvm": ("tvm-local", "tvm-rpc"), "tvm-untuned": ("tvm-local", "tvm-rpc"),
                    "onnxruntime": ("onnxruntime", None), "pytorch": ("pytorch", None),
                    "simulator": ("simulator", None)}
RUNTIMES = tuple(RUNTIME_BACKENDS)
HOST_RUNTIMES = ("onnxruntime", "pytorch")  # run on this machine's CPU only


class NoBackend(ValueError):
    """The device cannot be timed in the runtime asked for (one line for the user)."""


class NotThisHost(NoBackend):
    """A runtime of this machine's CPU asked for another device."""


def check_runtime(device: Device, runtime: str, remote: bool = False) -> None:
    """NoBackend (one line) unless ``device`` can be timed in ``runtime``: a simulated device
    only in `simulator`, this machine's CPU runtimes only for local-cpu (NotThisHost)."""
    if runtime not in RUNTIMES:
        raise NoBackend(f"unknown runtime {runtime!r}; known: {', '.join(RUNTIMES)}")
    if device.method == "simulator" and runtime != "simulator":
        raise NoBackend(f"{device.name} is simulated (devices.simulator), not timed in {runtime}")
    if device.method != "simulator" and runtime == "simulator":
        raise NoBackend(f"{device.name} is measured by {device.method}, not simulated")
    if runtime in HOST_RUNTIMES and (remote or device.method != "tvm-local" or device.kind != "cpu"):
        raise NotThisHost(f"{runtime} times this machine's CPU only; {device.name} is a "
                          f"{device.kind} device measured by {device.method}")


def for_device(device: Device, runtime: str = "tvm", *, rpc_tracker: str | None = None,
               rpc_key: str | None = None, **options) -> Backend:
    """The backend that times ``device`` in ``runtime`` (RUNTIME_BACKENDS), chosen from its
    catalog entry: the local backend, or the remote one where the device is reached over an RPC
    tracker. ``tvm-untuned`` is TVM with trials=0; other options go to the backend, which
    ignores those it has no use for."""
    check_runtime(device, runtime, remote=bool(rpc_tracker))
    local, remote = RUNTIME_BACKENDS[runtime]
    if runtime == "tvm-untuned":
        options["trials"] = 0
    if remote is None or not (rpc_tracker or device.method == "tvm-rpc"):
        return create(local, device, **options)
    if not rpc_tracker:
        raise NoBackend(f"{device.name} is reached over a TVM RPC tracker: give --rpc-tracker HOST:PORT")
    return create(remote, device, tracker=rpc_tracker, key=rpc_key, **options)
