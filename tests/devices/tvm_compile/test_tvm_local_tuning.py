"""tvm-local: a tiny fused kernel is tuned with MetaSchedule, compiled, timed and correct; a second
run reuses the JSON database instead of tuning again."""
import json

import numpy as np
import torch

from devices.backends import create
from devices.catalog import get_device

SHAPE = (1, 8, 12, 12)
SMALL_POPULATION = 32  # evolutionary-search population: tiny kernels tune in seconds, not minutes


class ConvLReLU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.act = torch.nn.LeakyReLU(0.2)

    def forward(self, x):
        return self.act(self.conv(x))


def _records(work_dir):
    path = work_dir / "database_tuning_record.json"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_tuned_kernel_is_one_fused_task_applied_from_the_database_and_correct(tmp_path):
    import tvm
    from tvm import relax

    module = ConvLReLU().eval()
    backend = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION, work_dir=tmp_path,
                     repeats=3, min_repeat_ms=5, trials_per_iter=2)
    artifact = backend.build(module, SHAPE)
    assert artifact.fused_tasks == "fused_conv2d_add_leaky_relu*1"
    assert artifact.database_hits == "1/1" and artifact.tuned
    assert len(_records(tmp_path)) >= 1

    x = np.random.default_rng(1).standard_normal(SHAPE, dtype="float32")
    vm = relax.VirtualMachine(artifact.runnable, tvm.cpu())
    got = vm["main"](tvm.runtime.tensor(x)).numpy()
    want = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)

    timing = backend.run(artifact)
    assert timing.repeats == 3 and 0 < timing.min_ms <= timing.median_ms <= timing.max_ms

    again = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION,
                   work_dir=tmp_path, repeats=3, min_repeat_ms=5)
    before = len(_records(tmp_path))
    assert again.build(ConvLReLU().eval(), SHAPE).database_hits == "1/1"
    assert len(_records(tmp_path)) == before  # records reused, nothing tuned again


def test_untuned_build_is_labelled_untuned(tmp_path):
    backend = create("tvm-local", get_device("local-cpu"), trials=0, work_dir=tmp_path, repeats=2, min_repeat_ms=5)
    measurement = backend.measure(ConvLReLU(), SHAPE)
    assert not measurement.tuned and measurement.trials == 0 and measurement.timing.median_ms > 0
    assert not (tmp_path / "database_tuning_record.json").exists()


def test_records_pointing_at_another_workload_are_salvaged_and_the_database_loads(tmp_path):
    from devices.tvm_compile import tuning

    backend = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION, work_dir=tmp_path,
                     repeats=2, min_repeat_ms=5, trials_per_iter=2)
    backend.build(ConvLReLU().eval(), SHAPE)
    good = (tmp_path / "database_tuning_record.json").read_text().splitlines()
    # what a second process appending to the same files produced: a workload the record's
    # trace does not fit (a depthwise conv: no block named conv2d_nchw), and a record that
    # points at it
    workloads = (tmp_path / "database_workload.json").read_text().splitlines()
    other = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION,
                   work_dir=tmp_path / "other",
                   repeats=2, min_repeat_ms=5, trials_per_iter=2)
    other.build(torch.nn.Conv2d(8, 8, 3, padding=1, groups=8).eval(), SHAPE)
    foreign = (tmp_path / "other" / "database_workload.json").read_text().splitlines()[0]
    (tmp_path / "database_workload.json").write_text("\n".join(workloads + [foreign]) + "\n")
    bad = json.loads(good[0])
    bad[0] = len(workloads)
    (tmp_path / "database_tuning_record.json").write_text("\n".join(good + [json.dumps(bad)]) + "\n")
    database = tuning.open_database(tmp_path)
    assert len(database) == len(good)
    assert (tmp_path / "database_tuning_record.json.corrupt").exists()


def test_database_lock_excludes_another_process(tmp_path):
    import subprocess
    import sys

    from devices.tvm_compile.tuning import database_lock

    probe = ("import fcntl, sys; f = open(sys.argv[1], 'w')\n"
             "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\nexcept OSError:\n"
             "    sys.exit(3)\n")
    with database_lock(tmp_path):
        held = subprocess.run([sys.executable, "-c", probe, str(tmp_path / ".lock")])
    free = subprocess.run([sys.executable, "-c", probe, str(tmp_path / ".lock")])
    assert held.returncode == 3 and free.returncode == 0


def test_a_task_with_fewer_schedules_than_trials_is_not_tuned_again(tmp_path):
    from devices.tvm_compile import fused_kernels, tuning

    module = torch.nn.Sequential(torch.nn.PixelShuffle(2), torch.nn.LeakyReLU(0.2)).eval()
    backend = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION,
                     work_dir=tmp_path, trials_per_iter=2)  # 2 trials for every task, the largest too
    tasks = fused_kernels.extract_fused_tasks(fused_kernels.relax_from_torch(module, SHAPE), backend.target)
    assert tasks
    first = tuning.tune_tasks(tasks, backend.target, tmp_path, backend.settings, backend.tuning_runner())
    assert first == 2 * len(tasks)
    assert len(_records(tmp_path)) < first  # a reshape has fewer distinct schedules than 2
    assert set(tuning.read_attempts(tmp_path).values()) == {2}
    assert tuning.tune_tasks(tasks, backend.target, tmp_path, backend.settings, backend.tuning_runner()) == 0


def test_the_loaded_database_is_reused_until_its_files_change(tmp_path):
    import os

    from devices.tvm_compile import tuning

    first = tuning.open_database(tmp_path)
    assert tuning.open_database(tmp_path) is first  # parsing a large database takes seconds
    records = tmp_path / "database_tuning_record.json"
    stat = records.stat()
    os.utime(records, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # another process wrote
    assert tuning.open_database(tmp_path) is not first


def test_tuning_survives_handlers_the_caller_put_on_meta_schedules_logger(tmp_path):
    import logging

    logger = logging.getLogger("tvm.s_tir.meta_schedule")
    unnamed = logging.StreamHandler()  # get_name() is None: crashed create_loggers before
    named = logging.NullHandler()
    named.set_name("an-application-handler")  # unknown to MetaSchedule's dictConfig
    logger.addHandler(unnamed)
    logger.addHandler(named)
    try:
        backend = create("tvm-local", get_device("local-cpu"), trials=2, dominant_share=1.0, population=SMALL_POPULATION, work_dir=tmp_path,
                         repeats=2, min_repeat_ms=5, trials_per_iter=2)
        assert backend.build(ConvLReLU().eval(), SHAPE).database_hits == "1/1"
        assert len(_records(tmp_path)) >= 1
        assert unnamed in logger.handlers and named in logger.handlers  # put back afterwards
    finally:
        logger.removeHandler(unnamed)
        logger.removeHandler(named)


def test_the_dominant_tasks_get_more_trials_up_to_the_cap():
    from devices.tvm_compile import fused_kernels, tuning

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.ReLU(), torch.nn.Conv2d(4, 64, 3, padding=1),
                              torch.nn.ReLU(), torch.nn.Conv2d(64, 64, 3, padding=1)).eval()
    target = create("tvm-local", get_device("local-cpu"), trials=2).target
    tasks = fused_kernels.extract_fused_tasks(fused_kernels.relax_from_torch(net, (1, 3, 16, 16)), target)
    flops = [tuning.task_flops(t) for t in tasks]
    levels = tuning.trial_targets(tasks, tuning.TuningSettings(trials=8, trials_per_iter=4, dominant_share=2.5))
    by_flops = [level for _, level in sorted(zip(flops, levels))]
    assert by_flops[0] == 8  # every task gets at least `trials`
    assert by_flops[-1] == 20  # the largest task gets the cap, 2.5 x 8
    assert all(level % 4 == 0 for level in levels)
    # with a high cap the others get trials in proportion to their FLOPs: the 4->64 conv (+ bias,
    # ReLU) does a little over 1/16 of the 64->64 conv's, so 512 x that, rounded up to batches of 4
    wide = tuning.trial_targets(tasks, tuning.TuningSettings(trials=8, trials_per_iter=4, dominant_share=64))
    _, (middle, middle_level), (large, large_level) = sorted(zip(flops, wide))
    assert large_level == 512 and 32 <= middle_level <= 40
    assert middle_level == -(-512 * middle / large // 4) * 4
    assert tuning.trial_targets(tasks, tuning.TuningSettings(trials=8, dominant_share=1.0)) == [8] * len(tasks)


def test_measured_latencies_move_trials_to_the_tasks_that_hold_the_time():
    from devices.tvm_compile import fused_kernels, tuning

    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.ReLU(), torch.nn.Conv2d(4, 64, 3, padding=1),
                              torch.nn.ReLU(), torch.nn.Conv2d(64, 64, 3, padding=1)).eval()
    target = create("tvm-local", get_device("local-cpu"), trials=2).target
    tasks = fused_kernels.extract_fused_tasks(fused_kernels.relax_from_torch(net, (1, 3, 16, 16)), target)
    settings = tuning.TuningSettings(trials=8, trials_per_iter=4, dominant_share=64)
    smallest = min(range(len(tasks)), key=lambda i: tuning.task_flops(tasks[i]))
    # the task with the fewest FLOPs measured slowest: it now holds the time and gets the cap
    seconds = [1e-3] * len(tasks)
    seconds[smallest] = 4e-3
    by_latency = tuning.trial_targets(tasks, settings, seconds)
    assert by_latency[smallest] == 512
    assert all(level == 128 for i, level in enumerate(by_latency) if i != smallest)  # 1/4 of its time
    assert tuning.trial_targets(tasks, settings)[smallest] == 8  # by FLOPs it had the floor
    unknown = [None] * len(tasks)  # never timed: the floor
    assert tuning.trial_targets(tasks, settings, unknown) == [8] * len(tasks)
