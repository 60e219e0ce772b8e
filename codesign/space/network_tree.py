"""Network level of the search space: a tree of paths, every node a candidate output.

A node is named by the string of modules on its path from the root: ``C`` adds a cell, ``U`` an
upsampling module (the k-th U of a path upsamples by ``upsample_factors[k]``). The root ``""`` is
the output of the stem cell. A path holds at most ``searchable_cells`` Cs and
``len(upsample_factors)`` Us in any order, so with 4 cells and 2 upsamplers there are
Σ_{c≤4, u≤2} C(c+u, u) = 55 nodes and C(6, 2) = 15 complete root-to-leaf paths.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import torch


@dataclass(frozen=True)
class Node:
    """One tree node: ``path`` ("" for the root), its index and its parent's (None for the root)."""

    path: str
    index: int
    parent: int | None

    @property
    def kind(self) -> str:
        return "root" if not self.path else ("cell" if self.path[-1] == "C" else "upsample")


def path_resolution(upsample_factors: tuple[int, ...], path: str) -> int:
    """Spatial factor of the output of ``path`` over the LR input: the product of the factors of
    its upsamplers (the k-th U of a path upsamples by ``upsample_factors[k]``)."""
    return math.prod(upsample_factors[:path.count("U")])


class NetworkTree:
    """All nodes in breadth-first order (parents before children), with the quantities the
    supernet and the cost model need: cell numbering, resolutions, subtree sums, paths."""

    def __init__(self, searchable_cells: int, upsample_factors: tuple[int, ...]):
        self.searchable_cells = searchable_cells
        self.upsample_factors = tuple(upsample_factors)
        paths = [""]
        frontier = [""]
        while frontier:
            frontier = [p + m for p in frontier for m in "CU" if self._allowed(p + m)]
            paths += frontier
        index = {p: i for i, p in enumerate(paths)}
        self.nodes = [Node(p, i, index[p[:-1]] if p else None) for i, p in enumerate(paths)]
        self.index = index
        cells = [n.index for n in self.nodes if n.kind in ("root", "cell")]
        self.cell_of_node = {node: c for c, node in enumerate(cells)}  # cell 0 = the stem cell

    def _allowed(self, path: str) -> bool:
        return (path.count("C") <= self.searchable_cells
                and path.count("U") <= len(self.upsample_factors))

    def __len__(self) -> int:
        return len(self.nodes)

    @property
    def num_cells(self) -> int:
        """Cells with weights: the stem cell plus one per cell node."""
        return len(self.cell_of_node)

    def resolution(self, node: Node) -> int:
        """Spatial factor of the node's output over the LR input in the derived network."""
        return path_resolution(self.upsample_factors, node.path)

    def ancestors(self, node: Node) -> list[Node]:
        """Nodes from the root down to ``node`` inclusive."""
        return [self.nodes[self.index[node.path[:k]]] for k in range(len(node.path) + 1)]

    @cached_property
    def leaves(self) -> list[Node]:
        has_child = {n.parent for n in self.nodes}
        return [n for n in self.nodes if n.index not in has_child]

    @cached_property
    def root_to_leaf_paths(self) -> list[list[int]]:
        """Node indices of every complete path, root first."""
        return [[a.index for a in self.ancestors(leaf)] for leaf in self.leaves]

    @cached_property
    def subtree_matrix(self) -> torch.Tensor:
        """M (n, n) with M[i, j] = 1 when node j is node i or below it, so that
        P(node i runs) = (M @ γ)[i] for a distribution γ over output nodes."""
        m = torch.zeros(len(self), len(self))
        for node in self.nodes:
            for a in self.ancestors(node):
                m[a.index, node.index] = 1.0
        return m
