"""benchmarks.latency.networks_local_cpu: the genotype sampler and the leave-one-out fits."""
import numpy as np

from benchmarks.latency.networks_local_cpu import fit_loo
from codesign.space.op_instances import op_instances
from codesign.space.random_genotypes import sample_genotypes
from codesign.space.search_space import SearchSpace

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


def test_measured_networks_join_the_device_network_profile_once(tmp_path):
    import pandas as pd

    from benchmarks.latency.networks_local_cpu import add_to_network_profile
    from codesign.search.closed_loop import read_network_profile

    space = SearchSpace()
    g = sample_genotypes(space, 1, seed=0)[0]
    measured = pd.Series({"latency_ms": 42.0, "latency_std_ms": 1.0, "load_1min": 1.1, "trials": 8,
                          "repeats": 10, "runtime": "tvm-0.27.0.post1", "target": "llvm"})
    path = tmp_path / "net.csv"
    assert add_to_network_profile(path, measured, g.to_json(), LR)
    assert not add_to_network_profile(path, measured, g.to_json(), LR)
    rows = pd.read_csv(path)
    assert len(rows) == 1 and rows.measured_ms.iloc[0] == 42.0 and rows.statistic.iloc[0] == "median"
    assert rows.measurement.iloc[0].startswith("measured: TVM tuned, 8 MetaSchedule trials")
    assert read_network_profile(path, LR).empty  # medians never join a fit of minima


def test_a_rerun_scores_the_networks_of_the_previous_results(tmp_path):
    import pandas as pd

    from benchmarks.latency.networks_local_cpu import previous_sample

    space = SearchSpace()
    genotypes = sample_genotypes(space, 3, seed=1)
    out = tmp_path / "nets.csv"
    assert previous_sample(out, 3) == []
    pd.DataFrame({"network": ["a", "b", "c", "summary: x"],
                  "genotype": [g.to_json() for g in genotypes] + [None]}).to_csv(out, index=False)
    assert [g.to_json() for g in previous_sample(out, 3)] == [g.to_json() for g in genotypes]
    assert previous_sample(out, 4) == []  # another --count draws a new sample


def test_score_fits_and_labels_against_the_chosen_timing():
    import pandas as pd

    from benchmarks.latency.networks_local_cpu import score

    space = SearchSpace()
    instances = op_instances(space, LR).set_index("key", drop=False)
    genotypes = sample_genotypes(space, 8, seed=2)
    keys = [g.op_keys(LR) for g in genotypes]
    rng = np.random.default_rng(0)
    predicted = rng.uniform(10, 100, len(keys))
    nets = pd.DataFrame({"predicted_ms": predicted, "kernels": [len(k) for k in keys],
                         "mb_written": rng.uniform(1, 50, len(keys)), "measured_kernel_sum_ms": predicted * 1.1,
                         "measured_ms": rng.uniform(10, 100, len(keys)), "remeasured_ms": 2 * predicted + 1})
    columns, rows = score(nets, "remeasured_ms", keys, instances)
    assert np.allclose(columns["affine_loo_ms"], nets.remeasured_ms)  # exactly affine: LOO recovers it
    assert {r["truth"] for r in rows} == {"remeasured_ms"}
    affine = next(r for r in rows if r["network"].startswith("summary: network-level fit"))
    assert affine["within_10pct"] == 1.0 and "2.000 x predicted + 1.00 ms" in affine["network"]
    first, _ = score(nets, "measured_ms", keys, instances)
    assert not np.allclose(first["affine_loo_ms"], columns["affine_loo_ms"])
