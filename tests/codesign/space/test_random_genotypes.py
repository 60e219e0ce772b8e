"""Random genotypes come from the network plan: every cell position takes a width pair the plan
allows, a filter restricts the draw to chosen op instances, the cost cap holds, and a seed
repeats the same list."""
from codesign.space.network_plan import network_plan
from codesign.space.op_instances import op_instances
from codesign.space.random_genotypes import sample_genotypes
from codesign.space.search_space import SearchSpace

LR = (12, 20)


def test_cells_follow_the_plans_width_pairs():
    space = SearchSpace()
    plan = network_plan(space)
    for g in sample_genotypes(space, 10, seed=3):
        for cell in g.cells:
            widths = (space.nf, *cell.widths, space.nf)
            for position, (cin, cout) in enumerate(zip(widths, widths[1:])):
                pair = (space.widths.index(cin), space.widths.index(cout))
                assert pair in plan.cell_choices(1)[position]


def test_filter_cost_cap_and_seed():
    space = SearchSpace()
    keys = op_instances(space, LR).key.tolist()
    covered = set(keys[::2]) | {k for k in keys if k.startswith(("skip", "stem", "upsample", "head"))}
    cost = lambda g: len(g.op_keys(LR))
    draw = lambda: sample_genotypes(space, 10, seed=0, allowed=lambda i: i.key(LR) in covered,
                                    cost=cost, max_cost=20)
    genotypes = draw()
    assert genotypes and len({g.to_json() for g in genotypes}) == len(genotypes)
    for g in genotypes:
        cell_keys = [k for k in g.op_keys(LR) if not k.startswith(("stem", "upsample", "head"))]
        assert set(cell_keys) <= covered and cost(g) <= 20
    assert draw() == genotypes
    assert sample_genotypes(space, 5, seed=0, allowed=lambda i: False) == []
