import math

import pytest
import torch

from codesign.space.sparsestmax import sparsemax, sparsestmax


def _on_simplex(p, dim=-1):
    return bool((p >= -1e-7).all()) and torch.allclose(p.sum(dim), torch.ones(()).to(p), atol=1e-6)


def test_sparsemax_matches_closed_form_and_is_sparse():
    z = torch.tensor([[2.0, 1.0, -1.0], [0.5, 0.5, 0.5], [3.0, 0.0, 0.0]])
    p = sparsemax(z)
    # (2, 1, -1): the threshold tau = 1 keeps only the first coordinate
    expected = torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert torch.allclose(p, expected, atol=1e-6)
    z = torch.tensor([0.6, 0.4, -2.0])
    assert torch.allclose(sparsemax(z), torch.tensor([0.6, 0.4, 0.0]), atol=1e-6)


def test_sparsemax_is_the_euclidean_projection_onto_the_simplex():
    torch.manual_seed(0)
    z = torch.randn(64, 7, dtype=torch.float64)
    p = sparsemax(z)
    assert _on_simplex(p)
    # projection optimality: for any other simplex point q, <z - p, q - p> <= 0
    q = torch.softmax(torch.randn(64, 7, dtype=torch.float64), -1)
    assert bool((((z - p) * (q - p)).sum(-1) <= 1e-9).all())


@pytest.mark.parametrize("radius", [0.0, 0.2, 0.5, 0.8, 1.0])
def test_sparsestmax_outputs_lie_on_the_simplex(radius):
    torch.manual_seed(1)
    p = sparsestmax(torch.randn(200, 5), radius)
    assert _on_simplex(p)


def test_radius_zero_is_sparsemax():
    torch.manual_seed(2)
    z = torch.randn(32, 6)
    assert torch.equal(sparsestmax(z, 0.0), sparsemax(z))


@pytest.mark.parametrize("num", [2, 4, 5, 55])
def test_large_radius_gives_one_hot_at_argmax(num):
    torch.manual_seed(3)
    z = torch.randn(100, num) * 0.01
    radius = math.sqrt((num - 1) / num)
    p = sparsestmax(z, radius)
    assert torch.allclose(p, torch.nn.functional.one_hot(z.argmax(-1), num).float(), atol=1e-5)


def test_point_inside_circle_is_pushed_onto_it():
    z = torch.tensor([0.40, 0.35, 0.25], dtype=torch.float64)  # sparsemax keeps it, full support
    p = sparsestmax(z, 0.3)
    centre = torch.full((3,), 1 / 3, dtype=torch.float64)
    assert torch.allclose(torch.linalg.vector_norm(p - centre), torch.tensor(0.3, dtype=torch.float64))
    assert (p.argsort() == z.argsort()).all()  # the radial push keeps the order
    # a point already outside the circle is left alone
    assert torch.allclose(sparsestmax(z, 0.05), sparsemax(z))


def test_equal_logits_give_no_nan_and_resolve_like_argmax():
    z = torch.zeros(3, 4, requires_grad=True)
    p = sparsestmax(z, 0.5)
    assert torch.isfinite(p).all() and _on_simplex(p.detach())
    assert (p.argmax(-1) == 0).all()
    (p * torch.arange(4.0)).sum().backward()
    assert torch.isfinite(z.grad).all()
    one_hot = sparsestmax(torch.zeros(4), 1.0)
    assert torch.allclose(one_hot, torch.tensor([1.0, 0, 0, 0]))


def test_batched_equals_row_by_row_along_any_dim():
    torch.manual_seed(4)
    z = torch.randn(6, 5, 3)
    radii = torch.linspace(0, 0.9, 6)
    rows = torch.stack([sparsestmax(z[i], float(radii[i]), dim=0) for i in range(6)])
    batched = sparsestmax(z, radii[:, None], dim=1)
    assert torch.allclose(rows, batched, atol=1e-6)


def test_gradients_are_finite_for_every_radius():
    torch.manual_seed(5)
    for radius in torch.linspace(0, 1, 11).tolist():
        z = torch.randn(50, 5, requires_grad=True)
        (sparsestmax(z, radius) * torch.randn(50, 5)).sum().backward()
        assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("radius", [0.0, 0.3, 0.6])
def test_gradcheck_where_differentiable(radius):
    torch.manual_seed(6)
    z = torch.randn(8, 5, dtype=torch.float64)
    z.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: sparsestmax(t, radius), (z,), eps=1e-7, atol=1e-5)
