"""Fault injection for the state the project makes for itself (issue 42): cached self-made
profiles and predictors, predictor files, the timing lock, the cache folder. This host's
onnxruntime is the stand-in of conftest.py: no test reads this machine's wall clock as a latency.
"""
import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_search_faults import REPO, _main, _one_error

from codesign.search.api import SearchRequest, default_schedule, plan
from codesign.space.op_instances import op_instances
from devices.host_identity import fingerprint
from devices.profile_csv import ProfileError
from predictors.profile_io import read_kernel_profile

SCHEDULE = dataclasses.replace(default_schedule(), steps=4, warmup_steps=1, batch_size=1,
                               patch_size=16)


def _request(tmp_path, **kw) -> SearchRequest:
    """The tiny schedule T on local-cpu with a latency budget above the whole space."""
    return SearchRequest(**{"budget": "1000ms", "device": "local-cpu", "input": "24x32", "nf": 8,
                            "num_cells": 2, "finetune_steps": 2, "measure": False,
                            "finetune_batch_size": 1, "finetune_patch_size": 16,
                            "schedule": SCHEDULE, "out": str(tmp_path / "run"), **kw})


def _cache(tmp_path) -> tuple[Path, Path]:
    """(this host's cached onnxruntime profile, its predictor.json) under the test's cache."""
    host = fingerprint()["host_id"]
    cache = tmp_path / "cache"
    return (cache / "profiles" / "local-cpu" / host / "onnxruntime.csv",
            cache / "predictors" / "local-cpu" / host / "onnxruntime" / "predictor.json")


def _keys(request) -> set[str]:
    from codesign.search.inputs import parse_input
    from codesign.space.search_space import SearchSpace

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
    from codesign.search import inputs as search_inputs

    host = fingerprint()["host_id"]
    package = tmp_path / "package"
    shipped = package / "devices" / "profiles" / "local-cpu" / host / "onnxruntime-networks.csv"
    shipped.parent.mkdir(parents=True)
    from codesign.space.derive import derive_genotype
    from codesign.space.search_space import SearchSpace
    from codesign.space.supernet import Supernet

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


# ---------------------------------------------------------------- 5-8: hangs and double work

HOLD = ("import sys, time\nfrom codesign_common.locks import exclusive_lock\n"
        "with exclusive_lock(sys.argv[1], 'a test holder'):\n"
        "    print('held', flush=True)\n    time.sleep(60)\n")


def test_5_the_timing_lock_wait_names_its_holder_at_once_and_gives_up_after_the_timeout(
        tmp_path, monkeypatch, capsys):
    import subprocess
    import sys
    import time

    from codesign_common.locks import LockBusy, exclusive_lock
    from devices import quiet_timing

    lock = tmp_path / "timing.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        said, started = [], time.monotonic()
        with pytest.raises(LockBusy, match=f"held by pid {holder.pid}, .*python -c"):
            with exclusive_lock(lock, "the timing lock", wait=True, timeout_s=1.5,
                                notify=lambda line: said.append((time.monotonic() - started, line))):
                pass
        assert len(said) == 1 and said[0][0] < 1.0 and f"pid {holder.pid}" in said[0][1]
        monkeypatch.setenv("CODESIGN_TIMING_LOCK_TIMEOUT_S", "1")
        with pytest.raises(LockBusy, match="gave up after waiting 1 s for the timing lock"):
            quiet_timing.guarded(lambda: 1.0, lock=lock)
        assert f"waiting for the timing lock, held by pid {holder.pid}" in capsys.readouterr().err
        assert time.monotonic() - started < 10
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("variable, value, words", [
    ("CODESIGN_NETWORK_SPAN_S", "inf", ["$CODESIGN_NETWORK_SPAN_S=inf", "finite"]),
    ("CODESIGN_NETWORK_SPAN_S", "-1", ["$CODESIGN_NETWORK_SPAN_S=-1"]),
    ("CODESIGN_FOREIGN_LIMIT", "abc", ["$CODESIGN_FOREIGN_LIMIT='abc' is not a number"]),  # 12
    ("CODESIGN_TIMING_LOCK_TIMEOUT_S", "nan", ["$CODESIGN_TIMING_LOCK_TIMEOUT_S"]),
    ("CODESIGN_TIMING_LOCK", "/tmp", ["$CODESIGN_TIMING_LOCK /tmp is a folder"]),  # 10
])
def test_6_10_12_timing_settings_of_the_environment_are_checked_before_any_work(
        tmp_path, monkeypatch, capsys, variable, value, words):
    from codesign.hardware.measure import main as measure_main

    monkeypatch.setenv(variable, value)
    out = tmp_path / "f.csv"
    with pytest.raises(SystemExit) as stop:
        measure_main(["--device", "local-cpu", "--arch", "espcn", "--input", "24x32",
                      "--runtimes", "onnxruntime", "--out", str(out)])
    _one_error(stop.value.code, capsys.readouterr().err, *words)
    assert not out.exists()


def _profile_script(cache: Path, go: Path) -> str:
    """A process that waits for ``go``, then self-profiles the tiny space with the stand-in
    (each kernel "taking" 50 ms of sleep) and prints how many kernels it timed."""
    return (f"import os, sys, time\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            f"os.environ['CODESIGN_CACHE'] = {str(cache)!r}\n"
            "from conftest import StandInBackend\nfrom devices import profile\n"
            "backend = StandInBackend()\nmeasure = backend.measure\n"
            "def slow(module, shape):\n    time.sleep(0.05)\n    return measure(module, shape)\n"
            "backend.measure = slow\nprofile.for_device = lambda *a, **k: backend\n"
            "from codesign.search.self_profile import profile_this_host\n"
            "from codesign.space.search_space import SearchSpace\nfrom devices.catalog import get_device\n"
            f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.01)\n"
            "profile_this_host(get_device('local-cpu'), 'onnxruntime', "
            "SearchSpace(nf=8, num_cells=2, scale=4), (24, 32), progress=False)\n"
            "print(len(backend.calls))\n")


def test_7_two_searches_sharing_a_cache_time_no_kernel_twice_and_lose_no_row(tmp_path):
    import os
    import subprocess
    import sys

    cache, go = tmp_path / "cache", tmp_path / "go"
    env = {**os.environ, "CODESIGN_TIMING_LOCK": str(tmp_path / "timing.lock"),
           "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", _profile_script(cache, go)], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    time.sleep(0.5)
    go.touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in results]
    timed = sorted(int(out.split()[-1]) for out, _ in results)
    csv, _ = _cache(tmp_path)
    rows = pd.read_csv(csv)
    assert timed == [0, 18] and len(rows) == 18 and rows["key"].is_unique


def test_7_concurrent_appends_to_one_profile_lose_no_row(tmp_path):
    import subprocess
    import sys

    path, go = tmp_path / "p.csv", tmp_path / "go"
    script = ("import os, sys, time\nfrom devices.profile_csv import COLUMNS, append_rows\n"
              f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.01)\n"
              "for i in range(25):\n"
              "    row = {c: 1 for c in COLUMNS} | {'device': 'd', 'backend': 'b', 'op': 'conv3x3',"
              " 'key': f'{sys.argv[1]}-{i}'}\n"
              f"    append_rows({str(path)!r}, [row])\n")
    procs = [subprocess.Popen([sys.executable, "-c", script, name], cwd=REPO)
             for name in ("a", "b")]
    time.sleep(0.5)
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert len(pd.read_csv(path)) == 50


@pytest.mark.parametrize("bad, error", [({"out": "README.md"}, "is a file"),
                                        ({"data": "/nonexistent"}, "does not exist")])
def test_8_out_and_data_are_checked_before_self_profiling(stand_in_host, tmp_path, monkeypatch,
                                                        bad, error):
    from codesign.sr.data import DataError
    from codesign_common.cli import UsageError

    monkeypatch.chdir(REPO)
    with pytest.raises((UsageError, DataError), match=error):
        plan(_request(tmp_path, **bad))
    assert stand_in_host.calls == []


# ---------------------------------------------------------------- 9-10: one error line

def test_9_a_nan_latency_in_the_cached_profile_is_one_line(stand_in_host, tmp_path, capsys):
    plan(_request(tmp_path))
    csv, predictor = _cache(tmp_path)
    predictor.unlink()
    rows = pd.read_csv(csv)
    rows.loc[3, "latency_ms"] = float("nan")
    rows.to_csv(csv, index=False)
    capsys.readouterr()
    argv = ["--device", "local-cpu", "--budget", "1000ms", "--input", "24x32", "--nf", "8",
            "--num-cells", "2", "--batch-size", "1", "--patch-size", "16", "--dry-run"]
    rc, _, err = _main([*argv[:-1], "--steps", "4", "--out", str(tmp_path / "run")], capsys)
    err = "\n".join(ln for ln in err.splitlines() if not ln.startswith(("no local-cpu predictor", "profile ")))
    _one_error(rc, err, str(csv), "latency_ms must be positive", "delete the file")


def test_9_rows_of_another_host_in_the_cached_profile_are_dropped_and_timed_again(
        stand_in_host, tmp_path, capsys):
    plan(_request(tmp_path))
    csv, predictor = _cache(tmp_path)
    predictor.unlink()
    rows = pd.read_csv(csv)
    rows.loc[0, "host_id"] = "authenticamd-f26-m2-2c-znver5-bd1754"
    rows.to_csv(csv, index=False)
    capsys.readouterr()
    checked = plan(_request(tmp_path))
    assert "held 1 row(s) timed on another host" in capsys.readouterr().err
    assert len(stand_in_host.calls) == 19 and checked.table.provenance == "predicted"
    assert set(pd.read_csv(csv)["host_id"]) == {fingerprint()["host_id"]}


def _edit(**fields):
    """A damage: the catalog entry with ``fields`` replaced."""
    return lambda text: json.dumps(json.loads(text) | fields)


@pytest.mark.parametrize("damage, words", [
    (lambda text: text[:len(text) // 2], ["pixel7.json"]),
    (_edit(lr_input_hw=[0, 0]), ["lr_input_hw must be two positive ints"]),
    (_edit(scale=5), ["scale 5 is not 2, 3 or 4"]),  # 12
    (_edit(scale=-4), ["scale -4"]),
    (lambda text: json.dumps({k: v for k, v in json.loads(text).items() if k != "spec"}),
     ["missing fields ['spec']"]),
])
def test_9_12_a_malformed_catalog_entry_is_one_line_in_the_search(tmp_path, capsys, monkeypatch,
                                                                  damage, words):
    from devices import catalog

    folder = tmp_path / "catalog"
    shutil.copytree(catalog.CATALOG_DIR, folder)
    (folder / "pixel7.json").write_text(damage((folder / "pixel7.json").read_text()))
    monkeypatch.setattr(catalog, "CATALOG_DIR", folder)
    rc, _, err = _main(["--device", "pixel7", "--budget", "50ms", "--dry-run", "--nf", "8",
                        "--num-cells", "2"], capsys)
    _one_error(rc, err, *words)


@pytest.mark.parametrize("cache", ["file", "/proc/codesign-cache", "/sys/codesign-cache"])
def test_10_an_unusable_cache_folder_is_one_line_before_any_timing(stand_in_host, tmp_path,
                                                                   monkeypatch, capsys, cache):
    if cache == "file":
        cache = tmp_path / "a-file"
        cache.write_text("x")
    monkeypatch.setenv("CODESIGN_CACHE", str(cache))
    rc, _, err = _main(["--device", "local-cpu", "--budget", "1000ms", "--input", "24x32",
                        "--nf", "8", "--num-cells", "2", "--batch-size", "1", "--patch-size", "16",
                        "--steps", "4", "--out", str(tmp_path / "run")], capsys)
    _one_error(rc, err, "$CODESIGN_CACHE", "cannot be written")
    assert stand_in_host.calls == [] and not (tmp_path / "run").exists()


def test_10_an_input_no_forward_pass_fits_is_refused_before_training(tmp_path, capsys):
    rc, _, err = _main(["--budget", "1e9GFLOPs", "--input", "100000x100000", "--nf", "8",
                          "--num-cells", "2", "--steps", "4", "--out", str(tmp_path / "run")],
                         capsys)
    _one_error(rc, err, "--input 100000x100000", "GB", "shrink --input")
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- 12: smaller

def test_12_each_skipped_image_is_one_warning_line_however_often_it_is_read(tmp_path, capsys):
    from PIL import Image

    from codesign.sr.data import load_pairs

    for i in range(3):
        Image.fromarray(np.full((64, 64, 3), 40 * i, np.uint8)).save(tmp_path / f"good{i}.png")
    for i in range(4):
        Image.fromarray(np.full((10, 10, 3), 128, np.uint8)).save(tmp_path / f"tiny{i}.png")
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG not really")
    rc, _, err = _main(["--budget", "0.02GFLOPs", "--input", "24x32", "--nf", "8",
                          "--num-cells", "2", "--patch-size", "16", "--data", str(tmp_path),
                          "--finetune-patch-size", "16",
                          "--out", str(tmp_path / "run"), "--dry-run"], capsys)
    assert rc == 0 and "UserWarning" not in err, err
    warned = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert len(warned) == 5 and len(err.strip().splitlines()) == 5, err
    load_pairs(str(tmp_path), "train", 4, min_size=16)  # read again, as the run does
    assert "warning" not in capsys.readouterr().err


def test_12_a_kernel_refused_for_load_is_named_at_once(stand_in_host, tmp_path, capsys):
    from codesign.hardware.profile import profile
    from codesign.space.search_space import SearchSpace
    from devices.quiet_timing import DisturbedTiming

    measure, refused = stand_in_host.measure, []

    def refuse_first(module, shape):
        if not refused:
            refused.append(shape)
            raise DisturbedTiming("timing refused: other processes used 40% of the CPU")
        return measure(module, shape)

    stand_in_host.measure = refuse_first
    with pytest.raises(DisturbedTiming, match="1 of 18 kernels were not timed"):
        profile("local-cpu", str(tmp_path / "p.csv"), runtime="onnxruntime",
                space=SearchSpace(nf=8, num_cells=2, scale=4), input_hw=(24, 32), progress=False)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "not timed (timing refused" in err


def test_11_simulated_cycles_are_cached_under_the_cache_and_the_shipped_ones_only_read(
        tmp_path, monkeypatch):
    from devices.backends.simulator import DEFAULT_CACHE_DIR, Simulator
    from devices.catalog import get_device

    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path / "cache"))
    backend = Simulator(get_device("eyeriss_sim"))
    shipped = DEFAULT_CACHE_DIR / f"{backend.array.name}.json"
    before = shipped.read_bytes()
    assert backend.cache.path == tmp_path / "cache" / "simulator" / shipped.name
    fingerprint, cycles = next(iter(json.loads(before).items()))
    assert backend.cache.get(fingerprint, next(iter(cycles))) == next(iter(cycles.values()))
    backend.cache.put(fingerprint, {"a layer never simulated": 1.0})
    assert shipped.read_bytes() == before and backend.cache.path.is_file()


def test_1_a_host_whose_profile_ships_times_only_the_kernels_it_lacks(stand_in_host, tmp_path,
                                                                      monkeypatch):
    from codesign.search import inputs as search_inputs

    small = _request(tmp_path)
    plan(small)
    csv, _ = _cache(tmp_path)
    package = tmp_path / "package"
    shipped = package / "devices" / "profiles" / "local-cpu" / csv.parent.name / csv.name
    shipped.parent.mkdir(parents=True)
    shutil.move(csv, shipped)
    shutil.rmtree(tmp_path / "cache")
    monkeypatch.setattr(search_inputs, "REPO", package)
    calls = len(stand_in_host.calls)
    wider = _request(tmp_path, nf=16)
    checked = plan(wider)
    assert len(stand_in_host.calls) - calls == len(_keys(wider) - _keys(small))
    assert set(pd.read_csv(csv)["key"]) == _keys(small) | _keys(wider)
    assert checked.table.provenance == "predicted"
