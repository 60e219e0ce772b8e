"""`simulator`: latency of a simulated accelerator (devices.simulator), for catalog devices whose
measurement method is `simulator`; the array is the catalog's `measurement.array`.

`build(module, input_shape)` decomposes the module into simulator layers
(devices.simulator.layers.module_layers) and `run` simulates each distinct layer once with
ZigZag on the device's array (devices.simulator.zigzag_runner, cached), sums the cycles and
converts them to milliseconds at the array's clock. A deterministic model has no spread:
repeats = 1, std = 0; latencies are labelled `simulated:zigzag` and `target` describes the array.
`measure_kernels` does the same for a table of kernel rows, with `cycles` and `n_layers` columns.
"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pandas as pd

from codesign_common.cache import cache_root
from devices.backends.base import Artifact, Backend
from devices.simulator.arrays import array_config
from devices.simulator.layers import kernel_layers, module_layers
from devices.simulator.zigzag_runner import CycleCache, simulate_layers
from devices.timing import Timing

PROFILE_COLUMNS = ["device", "key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w",
                   "out_h", "out_w", "macs", "params", "bytes_in", "bytes_out", "latency_ms",
                   "latency_std_ms", "repeats", "trials", "backend", "target", "provenance"]
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent.parent / "simulator" / "cache"


class Simulator(Backend):
    """Options: cache_path (default ``$CODESIGN_CACHE/simulator/<array>.json``, with the cycles
    shipped in devices/simulator/cache/<array>.json read too; None keeps the cycles in memory
    only)."""

    name = "simulator"
    times_locally = False  # nothing is timed: no timing lock, no foreign CPU share
    provenance = "simulated:zigzag"

    def __init__(self, device, *, cache_path: str | Path | None = "default", **_ignored):
        super().__init__(device)
        self.array = array_config(device.measurement["array"])
        shipped = CycleCache(DEFAULT_CACHE_DIR / f"{self.array.name}.json") \
            if cache_path == "default" else None
        if cache_path == "default":  # new cycles go to the cache, never into the package
            cache_path = cache_root() / "simulator" / f"{self.array.name}.json"
        self.cache = CycleCache(cache_path)
        for fingerprint, cycles in (shipped.data.items() if shipped else ()):
            self.cache.data[fingerprint] = {**cycles, **self.cache.data.get(fingerprint, {})}

    @property
    def runtime(self) -> str:
        return f"zigzag-dse-{metadata.version('zigzag-dse')}"

    def build(self, module, input_shape) -> Artifact:
        return Artifact(module_layers(module, input_shape), tuple(input_shape), self.array.describe())

    def run(self, artifact: Artifact) -> Timing:
        ms = sum(simulate_layers(self.array, artifact.runnable, self.cache)) / (self.array.clock_mhz * 1e3)
        return Timing(ms, ms, 0.0, ms, ms, 1, 1)

    def measure_kernels(self, kernels: pd.DataFrame, modules=None) -> pd.DataFrame:
        """Profile rows (PROFILE_COLUMNS + cycles, n_layers) of kernel rows with schema features.
        ``modules[i]`` is the PyTorch module of row i (e.g. a search-space op instance, run at
        the row's cin × h × w); without modules the rows must be NAS-Bench-201 kernels."""
        rows = kernels.reset_index(drop=True).copy()
        records = rows.to_dict("records")
        per_kernel = ([module_layers(m, (1, int(r["cin"]), int(r["h"]), int(r["w"])))
                       for m, r in zip(modules, records)] if modules is not None
                      else [kernel_layers(r) for r in records])
        flat = [layer for layers in per_kernel for layer in layers]
        cycles = iter(simulate_layers(self.array, flat, self.cache))
        rows["device"] = self.device.name
        rows["cycles"] = [sum(next(cycles) for _ in layers) for layers in per_kernel]
        rows["n_layers"] = [len(layers) for layers in per_kernel]
        rows["latency_ms"] = rows["cycles"] / (self.array.clock_mhz * 1e3)
        rows["latency_std_ms"] = 0.0
        rows["repeats"] = 1
        rows["trials"] = 0
        rows["backend"] = self.name
        rows["target"] = self.array.describe()
        rows["provenance"] = self.provenance
        return rows[PROFILE_COLUMNS + ["cycles", "n_layers"]]


BACKEND = Simulator
