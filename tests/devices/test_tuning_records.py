"""Shipped tuning records (devices.tuning_records): the best record per workload is exported,
seeds an empty database on the same target (a tuned build then applies them to every fused task
without tuning again), and is never applied as it is on another target: there it is re-measured,
and only what ran here is committed, with this machine's timings."""
import gzip
import json
import logging

import pytest
import torch

from devices import tuning_records
from devices.backends import create
from devices.catalog import get_device
from devices.tvm_compile import tuning

SHAPE = (1, 8, 12, 12)
SMALL_POPULATION = 32  # evolutionary-search population: tiny kernels tune in seconds, not minutes


def _net():
    return torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.LeakyReLU(0.2)).eval()


def _lines(path):
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    return [line for line in text.splitlines() if line.strip()]


def test_records_travel_to_the_same_target_and_are_flagged_on_another(tmp_path, caplog):
    device = get_device("local-cpu")
    tuned = create("tvm-local", device, trials=3, dominant_share=1.0, population=SMALL_POPULATION,
                   work_dir=tmp_path / "tuned", trials_per_iter=3,
                   repeats=2, min_repeat_ms=5)
    artifact = tuned.build(_net(), SHAPE)
    n_tasks = len(artifact.fused_tasks.split("+"))
    assert len(_lines(tmp_path / "tuned" / "database_tuning_record.json")) > n_tasks  # several per task

    shipped_root = tmp_path / "shipped"
    count = tuning_records.export_best(tmp_path / "tuned", shipped_root / "zen-test", device.target, {"host_id": "h"})
    assert count == n_tasks  # one best record per workload
    assert len(_lines(shipped_root / "zen-test" / "database_tuning_record.json.gz")) == n_tasks
    assert not (shipped_root / "zen-test" / "database_tuning_record.json").exists()  # shipped gzipped only
    meta = json.loads((shipped_root / "zen-test" / "target.json").read_text())
    assert meta["target"] == device.target and meta["host"] == {"host_id": "h"}

    # same target: copied, then a tuned build applies the records to every fused task, tuning nothing
    fresh = tmp_path / "fresh"
    assert tuning_records.seed(fresh, device.target, shipped_root) == "shipped:zen-test"
    assert tuning_records.seed(fresh, device.target, shipped_root) == "own"
    assert set(json.loads((shipped_root / "zen-test" / "attempted.json").read_text()).values()) == {3}
    # the same budget as the shipping machine's: its trials count as spent (the levels ship too)
    reuse = create("tvm-local", device, trials=3, dominant_share=1.0, population=SMALL_POPULATION,
                   work_dir=fresh, trials_per_iter=3, repeats=2, min_repeat_ms=5)
    assert reuse.build(_net(), SHAPE).database_hits == f"{n_tasks}/{n_tasks}"
    assert len(_lines(fresh / "database_tuning_record.json")) == n_tasks

    # another target: not copied, one warning naming what was shipped (and that it will be re-measured)
    other = {**device.target, "mcpu": "znver5" if device.target.get("mcpu") != "znver5" else "znver4"}
    with caplog.at_level(logging.WARNING, logger="devices.tuning_records"):
        assert tuning_records.seed(tmp_path / "elsewhere", other, shipped_root) == "none"
    assert not tuning_records.has_database(tmp_path / "elsewhere")
    assert any("zen-test" in r.getMessage() and "never applied" in r.getMessage() for r in caplog.records)


def test_records_of_another_target_are_remeasured_here_not_applied_as_they_are(tmp_path, caplog):
    device = get_device("local-cpu")
    tuned = create("tvm-local", device, trials=2, dominant_share=1.0, population=SMALL_POPULATION,
                   work_dir=tmp_path / "tuned", trials_per_iter=2, repeats=2, min_repeat_ms=5)
    artifact = tuned.build(_net(), SHAPE)
    n_tasks = len(artifact.fused_tasks.split("+"))
    other = {**device.target, "mcpu": "znver5" if device.target.get("mcpu") != "znver5" else "znver4"}
    root = tmp_path / "shipped"
    tuning_records.export_best(tmp_path / "tuned", root / "elsewhere", other, {"host_id": "h"})
    # a set whose triple differs is no candidate: its schedules may not build for this target
    tuning_records.export_best(tmp_path / "tuned", root / "arm", {**other, "mtriple": "aarch64-linux-gnu"},
                               {"host_id": "a"})
    shipped_before = (root / "elsewhere" / "database_tuning_record.json.gz").read_bytes()

    fresh = tmp_path / "fresh"
    with caplog.at_level(logging.WARNING, logger="devices.tuning_records"):
        assert tuning_records.seed(fresh, device.target, root) == "none"
    assert any("re-measured here" in r.getMessage() for r in caplog.records)
    backend = create("tvm-local", device, trials=1, dominant_share=1.0, population=SMALL_POPULATION,
                     work_dir=fresh, trials_per_iter=1, repeats=2, min_repeat_ms=5)
    tasks = backend._tasks(_net(), SHAPE)
    assert backend.record_sources(_net(), SHAPE) == {"none": n_tasks}  # no record at all yet
    committed = tuning_records.transfer(tasks, fresh, device.target, backend.target, backend.settings,
                                        backend.tuning_runner(), root=root)
    assert committed == n_tasks
    assert (root / "elsewhere" / "database_tuning_record.json.gz").read_bytes() == shipped_before  # read, not written
    shipped_secs = {json.dumps(r[1][0]): r[1][1] for r in map(json.loads, _lines(root / "elsewhere" / "database_tuning_record.json.gz"))}
    for line in _lines(fresh / "database_tuning_record.json"):
        _, (trace, run_secs, target, _args) = json.loads(line)
        assert target["mcpu"] == device.target["mcpu"]  # committed for this target...
        assert json.dumps(trace) in shipped_secs and run_secs != shipped_secs[json.dumps(trace)]  # ...timed here
    assert backend.record_sources(_net(), SHAPE) == {"elsewhere": n_tasks}
    assert backend.trials_spent(_net(), SHAPE) == n_tasks  # one measured trial per task
    # a build at that budget applies them to every fused task and tunes nothing more
    assert backend.build(_net(), SHAPE).database_hits == f"{n_tasks}/{n_tasks}"
    assert len(_lines(fresh / "database_tuning_record.json")) == n_tasks
    # tasks that already have records are not transferred again
    assert tuning_records.transfer(tasks, fresh, device.target, backend.target, backend.settings,
                                   backend.tuning_runner(), root=root) == 0


def test_a_tuned_build_counts_database_hits_for_every_fused_task(tmp_path):
    device = get_device("local-cpu")
    backend = create("tvm-local", device, trials=2, dominant_share=1.0, population=SMALL_POPULATION, work_dir=tmp_path,
                     trials_per_iter=2, repeats=2, min_repeat_ms=5)
    net = torch.nn.Sequential(torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(8, 8, 1), torch.nn.PixelShuffle(2)).eval()
    artifact = backend.build(net, SHAPE)
    tasks = artifact.fused_tasks.split("+")
    assert len(tasks) >= 3 and artifact.database_hits == f"{len(tasks)}/{len(tasks)}"
    # without the records the same build replaces nothing
    from devices.tvm_compile import fused_kernels
    from devices.tvm_compile import layout as tvm_layout

    mod = fused_kernels.fuse(tvm_layout.convert_layout(fused_kernels.relax_from_torch(net, SHAPE), backend.layout),
                             backend.target)
    empty = tuning.open_database(tmp_path / "empty")
    assert tuning.database_hits(mod, backend.target, empty)[0] == 0


def test_shipping_an_empty_database_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        tuning_records.main(["--work-dir", str(tmp_path / "none"), "--root", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no tuning records in")
    assert not (tmp_path / "out").exists()


def test_the_committed_record_sets_name_their_target_and_host():
    sets = tuning_records.shipped(tuning_records.SHIPPED_DIR)
    assert sets, "devices/tuning_records holds no record set"
    for directory, meta in sets:
        assert directory.name == tuning_records.default_name(meta["target"])
        assert meta["target"]["kind"] == "llvm" and meta["host"]["host_id"]
