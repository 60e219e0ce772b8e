"""The searched network as a registered model: ``build_model("trilevel", scale, genotype=...)``
builds the standalone network of a genotype (``codesign.space.genotype``)."""
from __future__ import annotations

from pathlib import Path

from codesign.space.genotype import Genotype, TrilevelNet
from codesign.sr.models.registry import register


@register("trilevel")
def build_trilevel(scale: int, genotype, search_geometry: bool = False) -> TrilevelNet:
    """Registry builder: ``genotype`` is a Genotype, its dict, or a path to its JSON file."""
    if isinstance(genotype, (str, Path)):
        genotype = Genotype.load(genotype)
    elif isinstance(genotype, dict):
        genotype = Genotype.from_dict(genotype)
    if genotype.scale != scale:
        raise ValueError(f"genotype is for ×{genotype.scale}, not ×{scale}")
    return TrilevelNet(genotype, search_geometry=search_geometry)

