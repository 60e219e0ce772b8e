"""Few-shot transfer on real NAS-Bench-201 measurements (HELP data): 10 target samples."""

import numpy as np
import pandas as pd
import pytest

from benchmarks.prediction.predictor_nb201 import FEWSHOT_FEATURES, HELP_SOURCES
from codesign_common import public_data
from predictors.fewshot import SOURCE_PREFIX, FewShotModel, choose_samples, fit_few_shot
from predictors.kinds.models import create
from predictors.metrics import accuracy
from predictors.public.nb201 import nb201_features

DATA = public_data.LATENCY_DIR


@pytest.fixture(scope="module")
def nb201():
    lat = pd.read_csv(DATA / "nb201_help.csv.gz").pivot(index="arch_index", columns="device", values="latency_ms")
    archs = pd.read_csv(DATA / "nb201_archs.csv.gz").set_index("arch_index")
    sample = lat.sample(1500, random_state=0)
    features = nb201_features(list(archs.loc[sample.index, "arch_str"]))
    features.index = sample.index
    return sample, features


def test_ten_fpga_samples_rank_the_other_networks(nb201):
    lat, features = nb201
    pool = pd.concat([features[FEWSHOT_FEATURES], lat[HELP_SOURCES].add_prefix(SOURCE_PREFIX)], axis=1)
    chosen = choose_samples(pool, FEWSHOT_FEATURES, 10, seed=0)
    assert len(set(chosen)) == 10
    y = lat["fpga"].to_numpy()
    model = fit_few_shot(pool, FEWSHOT_FEATURES, chosen, y[chosen])
    test = np.setdiff1d(np.arange(len(pool)), chosen)
    mean, std = model.predict(pool.iloc[test])
    assert accuracy(y[test], mean)["spearman"] > 0.97  # HELP reports 0.932 mean over its targets
    assert accuracy(y[test], pool["n:relu_conv3x3_bn"].to_numpy()[test])["spearman"] < 0.97
    assert np.all(std > 0)
    loaded = FewShotModel.from_json(model.to_json())
    np.testing.assert_array_equal(loaded.predict(pool.iloc[test])[0], mean)


def test_roofline_sum_of_kernels_predicts_eyeriss_within_10pct(nb201):
    lat, features = nb201
    y = lat["eyeriss"].to_numpy()
    model = create("roofline").fit(features.iloc[:100], y[:100])
    acc = accuracy(y[100:], model.predict(features.iloc[100:])[0])
    assert acc["within_10pct"] > 0.99 and acc["spearman"] > 0.99
