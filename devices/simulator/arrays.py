"""Array configurations of the simulated accelerators: ZigZag hardware, mapping, clock, precision.

Each `ArrayConfig` names the ZigZag hardware description it runs on (the YAML files shipped with
zigzag-dse 3.9.1 under `zigzag/inputs/hardware/`, written by ZigZag's authors), the spatial
mapping of each operator type onto the array's dimensions, the operand precisions in bits and
the clock that turns cycles into milliseconds. `SOURCES` says where every number comes from;
docs/accelerators.md restates them in one table.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import zigzag

ZIGZAG_INPUTS = Path(zigzag.__file__).parent / "inputs"


@dataclass(frozen=True)
class ArrayConfig:
    """One simulated accelerator: ZigZag hardware YAML name, per-operator spatial mapping
    (`{operator_type: {array dim: [(loop dim, size)]}}`), clock in MHz, precisions in bits."""

    name: str
    hardware: str                  # file stem under zigzag/inputs/hardware/
    mapping: dict = field(hash=False)
    clock_mhz: float
    precision: dict = field(hash=False)   # bits of W, I, O (partial sums), O_final
    macs_per_cycle: int
    sources: dict = field(hash=False)

    @property
    def hardware_path(self) -> Path:
        return ZIGZAG_INPUTS / "hardware" / f"{self.hardware}.yaml"

    def fingerprint(self) -> str:
        """Short hash of everything that changes a simulated number (config, hardware file,
        ZigZag version): cached cycles are only reused under the same fingerprint."""
        payload = json.dumps({k: v for k, v in asdict(self).items() if k != "sources"}, sort_keys=True)
        payload += self.hardware_path.read_text() + zigzag_version()
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def describe(self) -> str:
        """One line for the profile CSV `target` column."""
        return (f"zigzag-dse {zigzag_version()} hardware={self.hardware} "
                f"macs/cycle={self.macs_per_cycle} clock={self.clock_mhz:g}MHz "
                f"bits(W,I,O_final)={self.precision['W']},{self.precision['I']},{self.precision['O_final']} "
                f"config={self.fingerprint()}")


def zigzag_version() -> str:
    from importlib.metadata import version

    return version("zigzag-dse")


_ELEMENTWISE_EYERISS = {"D1": [("G", 14)], "D2": [("OX", 12)]}
_ELEMENTWISE_EDGETPU = {"D1": [("G", 8)], "D2": [("OX", 8)], "D3": [("OY", 4)]}

ARRAYS: dict[str, ArrayConfig] = {
    "eyeriss_like": ArrayConfig(
        name="eyeriss_like",
        hardware="eyeriss_like",
        # Row-stationary style: output rows across the 14 columns, filter rows (and input
        # channels, to fill the 12 PE rows of a 3-tap filter) down the rows.
        mapping={"Conv": {"D1": [("OY", 14)], "D2": [("FY", 3), ("C", 4)]},
                 "Conv_1x1": {"D1": [("OY", 14)], "D2": [("C", 12)]},
                 "Add": _ELEMENTWISE_EYERISS, "Pooling": _ELEMENTWISE_EYERISS},
        clock_mhz=200.0,
        precision={"W": 16, "I": 16, "O": 16, "O_final": 16},
        macs_per_cycle=168,
        sources={
            "array": "14x12 = 168 PEs: zigzag-dse 3.9.1 inputs/hardware/eyeriss_like.yaml; "
                     "Chen et al., Eyeriss, IEEE JSSC 52(1) 2017 (168 PEs)",
            "memories": "per-PE RFs 64 B (I), 64 B (W), 16 B (O); 8 KB O, 64 KB W, 1 MB I/O SRAM; "
                        "DRAM port 64 bit/cycle: zigzag eyeriss_like.yaml as shipped",
            "clock": "200 MHz core clock: Chen et al. JSSC 2017 (measured results at 200 MHz)",
            "precision": "16-bit fixed point: Chen et al. JSSC 2017",
            "mapping": "row-stationary style (OY over columns, FY x C over rows): ours, after "
                       "Chen et al. ISCA 2016; ZigZag ships no Eyeriss mapping",
        },
    ),
    "edgetpu_like": ArrayConfig(
        name="edgetpu_like",
        hardware="edge_tpu_like",
        mapping={"Conv": {"D1": [("K", 8)], "D2": [("C", 8)], "D3": [("OX", 4)], "D4": [("OY", 4)]},
                 "Conv_1x1": {"D1": [("K", 8)], "D2": [("C", 8)], "D3": [("OX", 4)], "D4": [("OY", 4)]},
                 "Add": _ELEMENTWISE_EDGETPU, "Pooling": _ELEMENTWISE_EDGETPU},
        clock_mhz=500.0,
        precision={"W": 8, "I": 8, "O": 16, "O_final": 8},
        macs_per_cycle=1024,
        sources={
            "array": "8x8x4x4 = 1024 MACs, 32 KB W SRAM, 2 MB I/O SRAM, DRAM port 64 bit/cycle: "
                     "zigzag-dse 3.9.1 inputs/hardware/edge_tpu_like.yaml as shipped",
            "conv mapping": "K8 | C8 | OX4 | OY4: zigzag inputs/mapping/edge_tpu_like.yaml",
            "clock": "500 MHz: assumed (Coral Edge TPU is specified as 4 TOPS int8; clock not "
                     "published by Google)",
            "precision": "int8 weights/activations: Coral Edge TPU runs int8 TFLite models only",
            "elementwise mapping": "G8 | OX8 | OY4 (256 lanes): ours; ZigZag's example maps G8 only",
        },
    ),
}


def array_config(name: str) -> ArrayConfig:
    """The configuration called `name`; ValueError listing the known names otherwise."""
    if name not in ARRAYS:
        raise ValueError(f"unknown simulated array {name!r}; known: {', '.join(sorted(ARRAYS))}")
    return ARRAYS[name]
