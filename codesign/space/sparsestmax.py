"""Sparsemax and sparsestmax over the last (or any) dimension of a batched tensor.

sparsemax (Martins & Astudillo, 2016) is the Euclidean projection of the logits onto the
probability simplex. sparsestmax (Shao et al., "SSN: Learning Sparse Switchable Normalization
via SparsestMax", CVPR 2019) adds the constraint ‖p − u‖ ≥ r, u the centre of the support face:

1. p = sparsemax(z); S = support(p); u = 1_S / |S|.
2. If ‖p − u‖ < r, push p radially onto the circle of radius r around u (inside the face).
3. If a coordinate became negative, project onto the simplex again (a smaller face S', centre u')
   and repeat from 2 with the circle that the old sphere cuts in the new face:
   r' = √(r² − ‖u' − u‖²).

radius = 0 gives sparsemax; radius ≥ √((K−1)/K) gives a one-hot at the argmax (a circle as wide
as the current face, √((m−1)/m) for m coordinates, reaches only its vertices, so such rows snap
to the vertex of their largest coordinate; the radial push and projection keep the order). Where p equals u
(equal logits) the radial direction is undefined (the reference code divides by zero there);
this module pushes towards the vertex of the first maximal logit instead, so ties resolve like
``argmax`` and no NaN appears. Every step is made of differentiable torch ops, so autograd
gives the exact Jacobian wherever the support does not change.
"""

from __future__ import annotations

import torch

_TINY = 1e-12


def sparsemax(logits: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Euclidean projection of ``logits`` onto the probability simplex along ``dim``."""
    z = logits.movedim(dim, -1)
    z_sorted, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, device=z.device, dtype=z.dtype)
    cumsum = z_sorted.cumsum(dim=-1) - 1.0
    support_size = (z_sorted - cumsum / k > 0).sum(dim=-1, keepdim=True)
    tau = cumsum.gather(-1, support_size - 1) / support_size.to(z.dtype)
    return torch.clamp(z - tau, min=0.0).movedim(-1, dim)


def sparsestmax(logits: torch.Tensor, radius: float | torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Sparsestmax of ``logits`` along ``dim`` with circle ``radius`` (a float or a tensor that
    broadcasts against the batch shape, i.e. ``logits`` without ``dim``)."""
    z = logits.movedim(dim, -1)
    num = z.shape[-1]
    r = torch.as_tensor(radius, dtype=z.dtype, device=z.device)
    r = torch.broadcast_to(r, z.shape[:-1]).unsqueeze(-1)
    p = sparsemax(z)
    if num == 1 or not bool((r > 0).any()):
        return p.movedim(-1, dim)
    tie_vertex = torch.nn.functional.one_hot(z.argmax(dim=-1), num).to(z.dtype)
    active = torch.ones(z.shape[:-1] + (1,), dtype=torch.bool, device=z.device)
    centre_old = None
    for _ in range(num):
        support = (p > 0).to(z.dtype)
        size = support.sum(dim=-1, keepdim=True)
        centre = support / size
        if centre_old is not None:
            shrink = ((centre - centre_old) ** 2).sum(dim=-1, keepdim=True)
            r = torch.sqrt(torch.clamp(r * r - shrink, min=_TINY))
        offset = p - centre
        distance_sq = (offset * offset).sum(dim=-1, keepdim=True)
        push = active & (size > 1) & (distance_sq < r * r)
        if not bool(push.any()):
            break
        at_centre = distance_sq <= _TINY
        safe_distance = torch.sqrt(torch.where(at_centre, torch.ones_like(distance_sq), distance_sq))
        direction = torch.where(at_centre, tie_vertex - centre, offset)
        direction_norm = torch.where(
            at_centre,
            torch.sqrt(torch.clamp((direction * direction).sum(dim=-1, keepdim=True), min=_TINY)),
            safe_distance,
        )
        pushed = torch.where(push, centre + r * direction / direction_norm, p)
        # a circle at least as wide as the face reaches only its vertices: snap to the argmax vertex
        # (exact in arithmetic; without the snap, rounding leaves ~1e-6 on a second coordinate)
        saturated = push & (r * r >= (size - 1) / size * (1 - 1e-6))
        vertex = torch.nn.functional.one_hot(p.argmax(dim=-1), num).to(z.dtype)
        left_simplex = push & ~saturated & (pushed.min(dim=-1, keepdim=True).values < 0)
        p = torch.where(saturated, vertex, torch.where(left_simplex, sparsemax(pushed), pushed))
        active = left_simplex
        centre_old = centre
    return p.movedim(-1, dim)
