"""The carried AI Hub data (data/qaihub): checksums as PROVENANCE.md states them, the schema,
and the SR models kept out of the features the predictors are fitted on."""
import hashlib
import re

import pandas as pd

from codesign_common.public_data import QAIHUB_DIR
from predictors.public.import_qaihub import COLUMNS
from predictors.public.qaihub_features import read_features

SR = {"xlsr", "sesr_m5", "quicksrnetsmall", "quicksrnetmedium", "quicksrnetlarge",
      "real_esrgan_general_x4v3", "real_esrgan_x4plus", "esrgan"}


def test_files_match_the_checksums_in_provenance():
    table = dict(re.findall(r"^\| (\S+) \|.*\| ([0-9a-f]{64}) \|$", (QAIHUB_DIR / "PROVENANCE.md").read_text(), re.M))
    assert set(table) == {"perf.csv.gz", "features.csv", "LICENSE"}
    for name, digest in table.items():
        assert hashlib.sha256((QAIHUB_DIR / name).read_bytes()).hexdigest() == digest, name


def test_licence_is_bsd_3_clause():
    text = (QAIHUB_DIR / "LICENSE").read_text()
    assert "Redistribution and use in source and binary forms" in text and "Qualcomm" in text


def test_perf_rows_are_public_measurements_with_positive_latency():
    perf = pd.read_csv(QAIHUB_DIR / "perf.csv.gz")
    assert list(perf.columns) == COLUMNS
    assert (perf["provenance"] == "public:qai-hub").all() and (perf["latency_ms"] > 0).all()
    assert perf["commit"].nunique() == 1
    s24_sr = perf[(perf["device"] == "Samsung Galaxy S24") & perf["model"].isin(SR)]
    assert set(s24_sr["model"]) == SR


def test_no_sr_model_is_among_the_fitted_features():
    features = read_features()
    assert not SR & set(features["model"]) and len(features) >= 20


def test_every_unseen_network_has_a_measured_time_on_the_catalog_s24_npu():
    """Each held-out family is scored on the Galaxy S24 NPU (QNN, float): a network whose id
    matched no AI Hub job would silently drop out of its family's share."""
    from benchmarks.prediction.predictor_qaihub import UNSEEN_FAMILIES
    from predictors.public.qaihub_fit import npu_latencies, read_perf

    measured = npu_latencies(read_perf(), "Samsung Galaxy S24", "qnn_dlc", "float")
    unseen = {zoo for family in UNSEEN_FAMILIES.values() for zoo in family}
    assert len(unseen) == 21 and unseen <= set(measured.index)
    assert not unseen & set(read_features()["model"])          # and none is fitted
