"""Run ZigZag (zigzag-dse) on simulator layers: cycles per layer, cached on disk.

ZigZag (Mei et al., IEEE TC 2021) is an analytical design-space explorer: for every layer it
searches temporal mappings (LOMA) under the given spatial mapping and memory hierarchy and
reports the latency in cycles, stalls from memory bandwidth included (`latency_total2`).
Each distinct layer is simulated once per array configuration; `CycleCache` keeps the
cycles in a JSON file keyed by the configuration's fingerprint and the layer signature, so
re-running skips what was simulated before.
"""
from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import yaml

from codesign_common.atomic import write_text_atomic
from devices.simulator.arrays import ArrayConfig
from devices.simulator.layers import Layer

LPF_LIMIT = 4  # LOMA loop-prime-factor limit: 4 and ZigZag's default 6 gave identical cycles on
               # 64→64 3×3 convs at 32×32 and 180×320 on both arrays (docs/accelerators.md)
MEMORY_OPERAND_LINKS = {"O": "O", "W": "I2", "I": "I1"}


class CycleCache:
    """JSON file {fingerprint: {layer signature: cycles}}; writes are atomic."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self.data: dict[str, dict[str, float]] = {}
        if self.path and self.path.exists():
            self.data = json.loads(self.path.read_text())

    def get(self, fingerprint: str, signature: str) -> float | None:
        return self.data.get(fingerprint, {}).get(signature)

    def put(self, fingerprint: str, cycles: dict[str, float]) -> None:
        self.data.setdefault(fingerprint, {}).update(cycles)
        if self.path:
            write_text_atomic(self.path, json.dumps(self.data, indent=0, sort_keys=True))


def _workload_entry(index: int, layer: Layer, precision: dict) -> dict:
    name = f"layer{index}"
    if layer.kind == "Conv":
        g = layer.groups
        return dict(
            id=index, name=name, operator_type="Conv",
            equation="O[b][g][k][oy][ox]+=W[g][k][c][fy][fx]*I[b][g][c][iy][ix]",
            dimension_relations=[f"ix={layer.stride}*ox+{layer.dilation}*fx",
                                 f"iy={layer.stride}*oy+{layer.dilation}*fy"],
            loop_dims=["B", "K", "G", "OX", "OY", "C", "FX", "FY"],
            loop_sizes=[1, layer.cout // g, g, layer.out_w, layer.out_h, layer.cin // g,
                        layer.kernel, layer.kernel],
            operand_precision=dict(precision), operand_source={"I": index},
            pr_loop_dims=["IX", "IY"], pr_loop_sizes=[layer.w, layer.h],
            padding=[[layer.padding, layer.padding], [layer.padding, layer.padding]])
    if layer.kind == "Pooling":
        return dict(
            id=index, name=name, operator_type="Pooling",
            equation="O[b][g][oy][ox]+=W[fx][fy]*I[b][g][iy][ix]",
            dimension_relations=[f"ix={layer.stride}*ox+1*fx", f"iy={layer.stride}*oy+1*fy"],
            loop_dims=["B", "G", "OY", "OX", "FX", "FY"],
            loop_sizes=[1, layer.cin, layer.out_h, layer.out_w, layer.kernel, layer.kernel],
            operand_precision=dict(precision, W=0), operand_source={"I": index, "W": index},
            pr_loop_dims=["IX", "IY"], pr_loop_sizes=[layer.w, layer.h],
            padding=[[layer.padding, layer.padding], [layer.padding, layer.padding]])
    if layer.kind == "Add":
        return dict(
            id=index, name=name, operator_type="Add",
            equation="O[b][g][oy][ox]=W[b][g][oy][ox]+I[b][g][oy][ox]",
            loop_dims=["B", "G", "OY", "OX"], loop_sizes=[1, layer.cin, layer.h, layer.w],
            operand_precision=dict(precision), operand_source={"I": index, "W": index})
    raise ValueError(f"unknown layer kind {layer.kind!r}")


def _spatial_mapping(array: ArrayConfig, layer: Layer) -> dict:
    """The array's spatial mapping for this layer, each unrolling clipped to the loop size."""
    key = "Conv_1x1" if layer.kind == "Conv" and layer.kernel == 1 else layer.kind
    sizes = {"K": layer.cout // layer.groups, "C": layer.cin // layer.groups, "G": layer.cin,
             "OX": layer.out_w, "OY": layer.out_h, "FX": layer.kernel, "FY": layer.kernel}
    if layer.kind == "Add":
        sizes.update(OX=layer.w, OY=layer.h)
    mapping = {}
    for dim, unrollings in array.mapping[key].items():
        mapping[dim] = [f"{loop}, {max(1, min(size, sizes[loop]))}" for loop, size in unrollings]
    return mapping


def simulate_layers(array: ArrayConfig, layers: list[Layer], cache: CycleCache | None = None) -> list[float]:
    """Cycles of each layer on `array` (ZigZag latency incl. memory stalls, on/off-loading)."""
    from zigzag.api import get_hardware_performance_zigzag

    cache = cache or CycleCache(None)
    fingerprint = array.fingerprint()
    todo = sorted({l for l in layers if cache.get(fingerprint, l.signature()) is None},
                  key=Layer.signature)
    if todo:
        with tempfile.TemporaryDirectory() as tmp:
            workload = [_workload_entry(i, l, array.precision) for i, l in enumerate(todo)]
            mapping = [dict(name=f"layer{i}", spatial_mapping=_spatial_mapping(array, l),
                            memory_operand_links=MEMORY_OPERAND_LINKS) for i, l in enumerate(todo)]
            mapping.append(dict(name="default", memory_operand_links=MEMORY_OPERAND_LINKS))
            mapping_path = Path(tmp) / "mapping.yaml"
            mapping_path.write_text(yaml.safe_dump(mapping))
            previous = logging.root.manager.disable
            logging.disable(logging.CRITICAL)
            try:
                _, _, cmes = get_hardware_performance_zigzag(
                    workload, str(array.hardware_path), str(mapping_path), opt="latency",
                    dump_folder=str(Path(tmp) / "out"), lpf_limit=LPF_LIMIT,
                    loma_show_progress_bar=False)
            finally:
                logging.disable(previous)
            by_name = {cme.layer.name: float(cme.latency_total2) for cme, _ in cmes[0][1]}
            cache.put(fingerprint, {l.signature(): by_name[f"layer{i}"] for i, l in enumerate(todo)})
    return [cache.get(fingerprint, l.signature()) for l in layers]
