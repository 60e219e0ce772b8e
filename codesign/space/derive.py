"""Derive a standalone network from the supernet: argmax choices, then weight inheritance.

``derive_genotype`` takes the argmax of γ (the output node, hence the path), of α (the op at
every position of every cell on the path) and of the width logits. ``inherit_weights`` copies
the supernet's weights into a ``TrilevelNet``: every op gets the leading-channel slice of its
full-width supernet op (codesign.space.slimmable), upsamplers and stem are copied whole. The head is
copied whole when the path has no upsampler; with u upsamplers the deployed head upsamples by
r = scale / 2ᵘ only, and inherits the sub-pixel phases (a, b) < r of the ×scale head (an
initialisation for fine-tuning, not an identity: real upsampling moves the later convs to a
finer grid than during search). In ``search_geometry`` the derived network computes exactly
what the supernet computes with one-hot distributions at the genotype.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from codesign.space.genotype import CellGenotype, DerivedCell, Genotype, TrilevelNet
from codesign.space.slimmable import copy_leading_channels
from codesign.space.supernet import Distributions, Supernet


def derive_genotype(supernet: Supernet) -> Genotype:
    """The supernet's current argmax architecture."""
    space, tree = supernet.space, supernet.tree
    node = tree.nodes[int(supernet.masked_gamma_logits().argmax())]
    cells = []
    for a in tree.ancestors(node):
        if a.kind == "upsample":
            continue
        c = tree.cell_of_node[a.index]
        ops = tuple(space.ops[i] for i in supernet.alpha_logits[c].argmax(-1).tolist())
        widths = tuple(space.widths[j] for j in supernet.width_logits[c].argmax(-1).tolist())
        cells.append(CellGenotype(ops, widths))
    return Genotype(scale=space.scale, nf=space.nf, path=node.path, cells=tuple(cells),
                    res_scale=space.res_scale)


def _path_cells(supernet: Supernet, genotype: Genotype) -> list[int]:
    """Supernet cell indices of the genotype's cells (stem cell first)."""
    tree = supernet.tree
    prefixes = [""] + [genotype.path[:j + 1] for j, m in enumerate(genotype.path) if m == "C"]
    return [tree.cell_of_node[tree.index[p]] for p in prefixes]


def choice_distributions(supernet: Supernet, genotype: Genotype) -> Distributions:
    """One-hot distributions at the genotype's choices (cells off its path: at their argmax)."""
    space, tree = supernet.space, supernet.tree
    alpha = F.one_hot(supernet.alpha_logits.argmax(-1), len(space.ops)).float()
    width = F.one_hot(supernet.width_logits.argmax(-1), len(space.widths)).float()
    for c, cell in zip(_path_cells(supernet, genotype), genotype.cells):
        alpha[c] = F.one_hot(torch.tensor([space.ops.index(o) for o in cell.ops]), len(space.ops))
        width[c] = F.one_hot(torch.tensor([space.widths.index(w) for w in cell.widths]),
                             len(space.widths))
    gamma = F.one_hot(torch.tensor(tree.index[genotype.path]), len(tree)).float()
    return Distributions(gamma.to(supernet.gamma_logits), alpha.to(supernet.gamma_logits),
                         width.to(supernet.gamma_logits))


@torch.no_grad()
def inherit_weights(net: TrilevelNet, supernet: Supernet) -> TrilevelNet:
    """Copy the supernet's weights for ``net.genotype`` into ``net`` (in place; returns it)."""
    g, space = net.genotype, supernet.space
    net.stem.load_state_dict(supernet.stem.state_dict())
    derived_cells = [net.stem_cell] + [m for m in net.body if isinstance(m, DerivedCell)]
    for c, cell, derived in zip(_path_cells(supernet, g), g.cells, derived_cells):
        for k, (op, module) in enumerate(zip(cell.ops, derived.ops)):
            copy_leading_channels(module, supernet.cells[c].positions[k][op])
    for j, (m, module) in enumerate(zip(g.path, net.body)):
        if m == "U":
            target = module.upsample if net.search_geometry else module
            target.load_state_dict(supernet.upsamplers[g.path[:j + 1]].state_dict())
    s = space.scale
    r = net.head.shuffle.upscale_factor
    phases = torch.tensor([c * s * s + a * s + b for c in range(3) for a in range(r) for b in range(r)])
    net.head.conv.weight.copy_(supernet.head.conv.weight[phases])
    net.head.conv.bias.copy_(supernet.head.conv.bias[phases])
    return net


def derive(supernet: Supernet, search_geometry: bool = False,
           genotype: Genotype | None = None) -> tuple[Genotype, TrilevelNet]:
    """``genotype`` (default: the supernet's argmax choices) and its network with inherited
    weights."""
    genotype = derive_genotype(supernet) if genotype is None else genotype
    net = TrilevelNet(genotype, search_geometry=search_geometry)
    return genotype, inherit_weights(net, supernet).to(supernet.gamma_logits.device)
