"""benchmarks.networks_local_cpu: the genotype sampler and the leave-one-out fits."""
import numpy as np

from benchmarks.networks_local_cpu import fit_loo, sample_genotypes
from codesign.op_instances import op_instances
from codesign.search_space import SearchSpace

LR = (12, 20)


def test_loo_fit_recovers_exact_coefficients_and_holds_out_each_row():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    design = np.stack([x, np.ones_like(x)], 1)
    coef, loo = fit_loo(design, 3 * x + 1)
    assert np.allclose(coef, [3, 1]) and np.allclose(loo, 3 * x + 1)
    y = 3 * x + 1
    y[3] += 10  # an outlier is predicted from the other rows only
    _, loo = fit_loo(design, y)
    assert np.isclose(loo[3], 25.0)


def test_sampler_keeps_covered_ops_and_the_cost_cap():
    space = SearchSpace()
    keys = op_instances(space, LR).key.tolist()
    covered = set(keys[::2]) | {k for k in keys if k.startswith(("skip", "stem", "upsample", "head"))}
    cost = lambda g: len(g.op_keys(LR))
    genotypes = sample_genotypes(space, covered, LR, 10, seed=0, cost=cost, max_cost=20)
    assert genotypes and len({g.to_json() for g in genotypes}) == len(genotypes)
    for g in genotypes:
        cell_keys = [k for k in g.op_keys(LR) if not k.startswith(("stem", "upsample", "head"))]
        assert set(cell_keys) <= covered
        assert cost(g) <= 20
    assert sample_genotypes(space, covered, LR, 10, seed=0, cost=cost, max_cost=20) == genotypes
