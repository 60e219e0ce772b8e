"""Genotype: a derived architecture as plain JSON data, and the standalone network it builds.

    {"version": 1, "scale": 4, "nf": 64, "res_scale": 0.2, "path": "CCUCU",
     "cells": [{"ops": ["conv3x3", ...5], "widths": [40, 24, 64, 56]}, ...]}

``path`` lists the modules after the stem cell (C = cell, U = upsampler, in order); ``cells``
holds the stem cell first, then one entry per C of the path. ``TrilevelNet`` builds the genotype's
op instances (codesign.space.network_plan) as plain modules: stem → stem cell → path (real sub-pixel
upsampling where the path has a U) → head for the remaining factor. ``search_geometry=True``
instead keeps every module at LR as the supernet does during search (upsamplers average-pooled
back, one ×scale head): the exact-inheritance check of codesign.space.derive uses it; deployment uses
the default.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch.nn.functional as F
from torch import nn

from codesign.space.network_plan import (
    OpInstance,
    cell_instances,
    path_steps,
    stem_instance,
)
from codesign.space.search_space import OPS, upsample_factors
from codesign_common.atomic import write_text_atomic

GENOTYPE_VERSION = 1


@dataclass(frozen=True)
class CellGenotype:
    ops: tuple[str, ...]
    widths: tuple[int, ...]


@dataclass(frozen=True)
class Genotype:
    """A derived architecture (see the module docstring for the JSON form)."""

    scale: int
    nf: int
    path: str
    cells: tuple[CellGenotype, ...]
    res_scale: float = 0.2
    version: int = field(default=GENOTYPE_VERSION)

    def __post_init__(self):
        if set(self.path) - set("CU"):
            raise ValueError(f"path {self.path!r} may hold only C and U")
        if self.path.count("U") > len(upsample_factors(self.scale)):
            raise ValueError(f"path {self.path!r} has more upsamplers than ×{self.scale} needs")
        if len(self.cells) != 1 + self.path.count("C"):
            raise ValueError("cells must hold the stem cell plus one entry per C of the path")
        for cell in self.cells:
            if len(cell.widths) != len(cell.ops) - 1:
                raise ValueError("a cell has one inner width per op but the last (which outputs nf)")
            if unknown := [op for op in cell.ops if OPS.get(op) is None or OPS[op].role != "cell"]:
                raise ValueError(f"unknown cell ops {unknown}")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cells"] = [{"ops": list(c.ops), "widths": list(c.widths)} for c in self.cells]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Genotype:
        if data.get("version") != GENOTYPE_VERSION:
            raise ValueError(f"genotype version {data.get('version')} is not {GENOTYPE_VERSION}")
        cells = tuple(CellGenotype(tuple(c["ops"]), tuple(int(w) for w in c["widths"]))
                      for c in data["cells"])
        return cls(scale=int(data["scale"]), nf=int(data["nf"]), path=str(data["path"]),
                   cells=cells, res_scale=float(data["res_scale"]), version=int(data["version"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Genotype:
        return cls.from_dict(json.loads(text))

    def save(self, path) -> None:
        write_text_atomic(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path) -> Genotype:
        return cls.from_json(Path(path).read_text())

    def cell_instances(self, cell: int, resolution: int) -> list[OpInstance]:
        """Op instances of cell ``cell`` (0 = the stem cell) run at ``resolution``× LR."""
        return cell_instances(self.nf, self.cells[cell].ops, self.cells[cell].widths, resolution)

    def op_instances(self) -> list[OpInstance]:
        """Op instances of the deployed network in run order (stem, stem cell, the path's cells
        and upsamplers, head), repeats included."""
        steps = path_steps(self.nf, self.scale, self.path)
        out = [stem_instance(self.nf)] + self.cell_instances(0, 1)
        cell = 0
        for step in steps[1:]:
            if step.upsampler is not None:
                out.append(step.upsampler)
            else:
                cell += 1
                out += self.cell_instances(cell, step.resolution)
        return out + [steps[-1].head]

    def op_keys(self, lr_hw: tuple[int, int]) -> list[str]:
        """Op-instance keys of the deployed network for an LR input of ``lr_hw`` pixels (one per
        op run, repeats included), matching codesign.space.op_instances."""
        return [instance.key(lr_hw) for instance in self.op_instances()]


class DerivedCell(nn.Module):
    """A cell of the derived network: plain ops at their chosen widths, residual scaling."""

    def __init__(self, instances: list[OpInstance], res_scale: float):
        super().__init__()
        self.ops = nn.ModuleList(instance.build() for instance in instances)
        self.res_scale = res_scale

    def forward(self, x):
        y = x
        for op in self.ops:
            y = op(y)
        return x + self.res_scale * y


class LowResUpsample(nn.Module):
    """An upsampling module kept at LR, as during search: sub-pixel conv, then f×f average pool."""

    def __init__(self, upsample: nn.Module, factor: int):
        super().__init__()
        self.upsample, self.factor = upsample, factor

    def forward(self, x):
        return F.avg_pool2d(self.upsample(x), self.factor)


class TrilevelNet(nn.Module):
    """Standalone network of a genotype: LR (N,3,h,w) → HR (N,3,s·h,s·w)."""

    def __init__(self, genotype: Genotype, search_geometry: bool = False):
        super().__init__()
        g = self.genotype = genotype
        self.search_geometry = search_geometry
        steps = path_steps(g.nf, g.scale, g.path)
        self.stem = stem_instance(g.nf).build()
        self.stem_cell = DerivedCell(g.cell_instances(0, 1), g.res_scale)
        body, cell = [], 0
        for step in steps[1:]:
            if step.upsampler is None:
                cell += 1
                body.append(DerivedCell(g.cell_instances(cell, step.resolution), g.res_scale))
            else:
                up = step.upsampler.build()
                factor = OPS[step.upsampler.op].out_factor
                body.append(LowResUpsample(up, factor) if search_geometry else up)
        self.body = nn.Sequential(*body)
        self.head = (steps[0] if search_geometry else steps[-1]).head.build()

    def forward(self, x):
        return self.head(self.body(self.stem_cell(self.stem(x))))
