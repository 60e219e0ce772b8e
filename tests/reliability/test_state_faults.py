"""Fault injection for the state the project makes for itself (issue 42): cached self-made
profiles and predictors, predictor files, the timing lock, the cache folder. This host's
onnxruntime is the stand-in of conftest.py: no test reads this machine's wall clock as a latency.
"""
import dataclasses
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_search_faults import REPO, _main, _one_error

from codesign.op_instances import op_instances
from codesign.search_api import SearchRequest, default_schedule, plan
from devices.profile_csv import ProfileError
from devices.host_identity import fingerprint
from predictors.profile_io import read_kernel_profile

SCHEDULE = dataclasses.replace(default_schedule(), steps=4, warmup_steps=1, batch_size=1,
                               patch_size=16)


def _request(tmp_path, **kw) -> SearchRequest:
    """The tiny schedule T on local-cpu with a latency budget above the whole space."""
    return SearchRequest(**{"budget": "1000ms", "device": "local-cpu", "input": "24x32", "nf": 8,
                            "num_cells": 2, "finetune_steps": 2, "measure": False,
                            "schedule": SCHEDULE, "out": str(tmp_path / "run"), **kw})


def _cache(tmp_path) -> tuple[Path, Path]:
    """(this host's cached onnxruntime profile, its predictor.json) under the test's cache."""
    host = fingerprint()["host_id"]
    cache = tmp_path / "cache"
    return (cache / "profiles" / "local-cpu" / host / "onnxruntime.csv",
            cache / "predictors" / "local-cpu" / host / "onnxruntime" / "predictor.json")


def _keys(request) -> set[str]:
    from codesign.search_space import SearchSpace
    from codesign.search_inputs import parse_input

    space = SearchSpace(nf=request.nf, num_cells=request.num_cells, scale=4)
    return set(op_instances(space, parse_input(request.input))["key"])


def test_1_a_self_made_predictor_is_used_only_for_the_kernels_it_was_trained_on(
        stand_in_host, tmp_path, capsys):
    small = _request(tmp_path)
    first = plan(small)
    csv, predictor = _cache(tmp_path)
    assert len(stand_in_host.calls) == len(_keys(small)) and first.table.provenance == "predicted"
    assert set(json.loads(predictor.read_text())["meta"]["training_keys"]) == _keys(small)

    wider = _request(tmp_path, nf=16)
    new = _keys(wider) - _keys(small)
    assert new
    capsys.readouterr()
    dry = plan(dataclasses.replace(wider, dry_run=True))
    note = capsys.readouterr().err
    assert f"lacks {len(new)} of them" in note and f"time those {len(new)} op instances" in note
    assert str(predictor.parent) not in dry.table.source  # never labelled from the small one
    assert len(stand_in_host.calls) == len(_keys(small))  # a dry run times nothing

    checked = plan(wider)
    assert len(stand_in_host.calls) == len(_keys(small)) + len(new)  # only the missing ones
    assert set(json.loads(predictor.read_text())["meta"]["training_keys"]) >= _keys(wider)
    assert checked.table.provenance == "predicted" and str(predictor.parent) in checked.table.source
    rows = pd.read_csv(csv)
    assert rows["key"].is_unique and set(rows["key"]) == _keys(small) | _keys(wider)


@pytest.mark.parametrize("cut", ["half row", "older format"])
def test_2_a_row_without_the_minimum_is_timed_again_and_never_mixed_into_a_fit(
        stand_in_host, tmp_path, cut):
    request = _request(tmp_path)
    plan(request)
    csv, predictor = _cache(tmp_path)
    predictor.unlink()  # as if the profiling was interrupted before the fit
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    victim = lines[-1] if cut == "half row" else lines[3]
    cells = victim.split(",")
    key = cells[header.index("key")]
    if cut == "half row":  # the file cut after latency_ms
        lines[-1] = ",".join(cells[:header.index("latency_ms") + 1])
    else:  # a row of the older format: no minimum
        cells[header.index("latency_min_ms")] = ""
        lines[3] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(ProfileError, match="latency_min_ms: empty, and 1 of"):
        read_kernel_profile(csv, "local-cpu")

    calls = len(stand_in_host.calls)
    plan(dataclasses.replace(request, out=str(tmp_path / "again")))
    assert len(stand_in_host.calls) == calls + 1  # that kernel, and only it, timed again
    rows = pd.read_csv(csv)
    assert rows["key"].is_unique and rows["latency_min_ms"].notna().all() and key in set(rows["key"])
    assert json.loads(predictor.read_text())["meta"]["statistic"] == "min"


@pytest.mark.parametrize("entry, value, words", [
    ("overhead_ms", -1000, ["overhead_ms is -1000", ">= 0"]),
    ("overhead_ms", -50, ["overhead_ms is -50"]),
    ("op_scales", {"conv3x3": -5}, ["op_scales.conv3x3 is -5"]),
    ("kernel_scale", 0, ["kernel_scale is 0"]),
    ("kernel_scale", "abc", ["kernel_scale is 'abc', not a number"]),
    ("ms_per_gmac", 1e308, ["non-finite cost"]),
    ("format_version", 99, ["unsupported predictor format 99"]),
    ("model", None, ["missing entries model"]),
    ("meta", None, ["meta"]),
])
def test_3_and_9_hostile_predictor_values_are_refused_in_one_line(tmp_path, capsys, entry, value,
                                                                 words):
    folder = tmp_path / "predictor"
    shutil.copytree(REPO / "predictors" / "trained" / "local-cpu", folder)
    state = json.loads((folder / "predictor.json").read_text())
    if value is None:
        del state[entry]
    else:
        state[entry] = value
    (folder / "predictor.json").write_text(json.dumps(state))
    rc, out, err = _main(["--device", "local-cpu", "--budget", "30ms", "--dry-run", "--predictor",
                          str(folder), "--out", str(tmp_path / "run")], capsys)
    _one_error(rc, err.replace(_transferred_warning(err), ""), *words)
    assert "reachable" not in out


def _transferred_warning(err: str) -> str:
    """The committed predictor's one warning line (made on another host), which may precede."""
    return next((line + "\n" for line in err.splitlines() if line.startswith("warning: the local-cpu")), "")


def test_11_measured_networks_go_to_the_cache_and_the_shipped_profile_is_only_read(
        stand_in_host, tmp_path, monkeypatch):
    from codesign import search_inputs

    host = fingerprint()["host_id"]
    package = tmp_path / "package"
    shipped = package / "devices" / "profiles" / "local-cpu" / host / "onnxruntime-networks.csv"
    shipped.parent.mkdir(parents=True)
    from codesign.derive import derive_genotype
    from codesign.search_space import SearchSpace
    from codesign.supernet import Supernet

    genotype = derive_genotype(Supernet(SearchSpace(nf=8, num_cells=2, scale=4))).to_json()
    pd.DataFrame([{"device": "local-cpu", "lr_h": 24, "lr_w": 32, "measured_ms": 1.5,
                   "statistic": "min", "genotype": genotype}]).to_csv(shipped, index=False)
    before = shipped.read_bytes()
    monkeypatch.setattr(search_inputs, "REPO", package)
    checked = plan(_request(tmp_path, measure=True))
    assert checked.network_profile == tmp_path / "cache" / "profiles" / "local-cpu" / host / \
        "onnxruntime-networks.csv"
    assert len(checked.measured) == 1  # the shipped row is a read-only default
    assert shipped.read_bytes() == before


def test_9_an_empty_network_profile_file_is_no_network_in_a_dry_run(tmp_path, capsys):
    empty = tmp_path / "networks.csv"
    empty.touch()
    rc, out, err = _main(["--device", "local-cpu", "--budget", "60ms", "--dry-run", "--nf", "8",
                          "--num-cells", "2", "--predictor",
                          str(REPO / "predictors" / "trained" / "local-cpu"),
                          "--network-profile", str(empty), "--out", str(tmp_path / "run")], capsys)
    assert rc == 0 and ("reachable" in out or "above the dearest" in out), err
