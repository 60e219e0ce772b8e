"""The `simulator` measurement backend: kernel rows → simulated latency rows (profile schema).

`SimulatorBackend.measure(kernels)` decomposes every kernel row into simulator layers
(devices.simulator.layers), simulates each distinct layer once with ZigZag on the device's
array (devices.simulator.zigzag_runner, cached), sums the cycles of a kernel's layers and
converts them to milliseconds at the array's clock. Rows carry `provenance =
simulated:zigzag`, `backend = simulator` and the full array description in `target`;
`cycles` and `n_layers` are extra columns. A deterministic model has no spread: repeats = 1,
latency_std_ms = 0.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from devices.simulator.arrays import ArrayConfig, array_config
from devices.simulator.layers import kernel_layers
from devices.simulator.zigzag_runner import CycleCache, simulate_layers

PROFILE_COLUMNS = ["device", "key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w",
                   "out_h", "out_w", "macs", "params", "bytes_in", "bytes_out", "latency_ms",
                   "latency_std_ms", "repeats", "trials", "backend", "target", "provenance"]
PROVENANCE = "simulated:zigzag"
DEFAULT_CACHE_DIR = Path(__file__).parent / "cache"


class SimulatorBackend:
    """Simulated latency of kernels on one array configuration, for catalog device `device`."""

    name = "simulator"

    def __init__(self, array: ArrayConfig, device: str, cache_path: str | Path | None = None):
        self.array = array
        self.device = device
        self.cache = CycleCache(cache_path)

    def cycles(self, kernels: pd.DataFrame) -> list[float]:
        """Simulated cycles of each kernel row (sum over its layers)."""
        per_kernel = [kernel_layers(row) for row in kernels.to_dict("records")]
        flat = [layer for layers in per_kernel for layer in layers]
        cycles = iter(simulate_layers(self.array, flat, self.cache))
        return [sum(next(cycles) for _ in layers) for layers in per_kernel]

    def measure(self, kernels: pd.DataFrame) -> pd.DataFrame:
        """Profile rows (PROFILE_COLUMNS + cycles, n_layers) for kernel rows with schema features."""
        rows = kernels.reset_index(drop=True).copy()
        cycles = self.cycles(rows)
        rows["device"] = self.device
        rows["cycles"] = cycles
        rows["n_layers"] = [len(kernel_layers(r)) for r in rows.to_dict("records")]
        rows["latency_ms"] = rows["cycles"] / (self.array.clock_mhz * 1e3)
        rows["latency_std_ms"] = 0.0
        rows["repeats"] = 1
        rows["trials"] = 0
        rows["backend"] = self.name
        rows["target"] = self.array.describe()
        rows["provenance"] = PROVENANCE
        return rows[PROFILE_COLUMNS + ["cycles", "n_layers"]]


def create(device: str, array: str, cache_path: str | Path | None = "default") -> SimulatorBackend:
    """Backend for catalog device `device` simulated as array `array` (e.g. `eyeriss_like`);
    the default cache is devices/simulator/cache/<array>.json, None keeps it in memory."""
    config = array_config(array)
    if cache_path == "default":
        cache_path = DEFAULT_CACHE_DIR / f"{config.name}.json"
    return SimulatorBackend(config, device, cache_path)
