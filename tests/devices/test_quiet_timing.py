"""The measurement protocol: timings never overlap, a disturbed timing is repeated, then refused."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devices.quiet_timing import CpuShareSample, DisturbedTiming, guarded

REPO = Path(__file__).resolve().parents[2]

HOLD = """
import json, sys, time
from pathlib import Path
from devices.quiet_timing import guarded
def work():
    start = time.time(); time.sleep(1.0); return start, time.time()
(start, end), share = guarded(work, limit=1.0, lock=Path(sys.argv[1]))
print(json.dumps([start, end]))
"""


def test_two_timings_of_ours_never_overlap(tmp_path):
    lock = tmp_path / "timing.lock"
    procs = [subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], cwd=REPO, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    (a_start, a_end), (b_start, b_end) = sorted(json.loads(p.communicate(timeout=60)[0]) for p in procs)
    assert all(p.returncode == 0 for p in procs)
    assert b_start >= a_end  # the second waited for the first to release the lock


class _Scripted(CpuShareSample):
    """A sampler reporting preset foreign shares, one per attempt."""

    shares: list = []

    def share(self) -> float:
        return self.shares.pop(0)


def _count_calls():
    calls = []
    return calls, lambda: calls.append(1) or len(calls)


def test_a_disturbed_timing_is_repeated_and_kept_once_quiet(tmp_path):
    _Scripted.shares = [0.40, 0.02]
    calls, measure = _count_calls()
    result, share = guarded(measure, limit=0.05, pause_s=0, lock=tmp_path / "l", sampler=_Scripted)
    assert (result, share, len(calls)) == (2, 0.02, 2)


def test_a_timing_disturbed_every_time_is_refused_with_the_shares(tmp_path):
    _Scripted.shares = [0.40, 0.30, 0.50]
    calls, measure = _count_calls()
    with pytest.raises(DisturbedTiming, match="40%, 30%, 50% of the CPU in 3 attempts"):
        guarded(measure, limit=0.05, retries=2, pause_s=0, lock=tmp_path / "l", sampler=_Scripted)
    assert len(calls) == 3


def test_another_process_busy_on_a_cpu_shows_as_foreign_share(tmp_path):
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        _, share = guarded(lambda: time.sleep(1.0), limit=1.0, lock=tmp_path / "l")
    finally:
        spinner.kill()
    assert share >= 0.5 / os.cpu_count()  # one busy process of the machine's CPUs


def test_interleaved_timing_runs_every_workload_once_per_round(tmp_path):
    from devices.quiet_timing import interleaved

    order = []
    workloads = {"a": lambda: order.append("a") or time.sleep(0.002),
                 "b": lambda: order.append("b") or time.sleep(0.004)}
    result = interleaved(workloads, rounds=3, min_repeat_ms=1, warmup=1, limit=1.0, lock=tmp_path / "l")
    timed = order[2:]  # after one warm-up call each
    assert timed == ["a", "a", "b", "b"] * 3  # round-robin: an untimed call, then a repeat of one
    assert result["a"][0].repeats == 3 and result["b"][0].median_ms > result["a"][0].median_ms
    assert 0.0 <= result["a"][1] <= 1.0


def test_runtimes_time_their_builds_interleaved(tmp_path):
    import torch

    from devices.backends import create
    from devices.catalog import get_device
    from devices.quiet_timing import interleaved

    device, shape = get_device("local-cpu"), (1, 4, 16, 16)
    calls = {}
    for name in ("onnxruntime", "pytorch"):
        backend = create(name, device)
        calls[name] = backend.call(backend.build(torch.nn.Conv2d(4, 4, 3, padding=1), shape))
    result = interleaved(calls, rounds=3, min_repeat_ms=2, warmup=1, limit=1.0, lock=tmp_path / "l")
    assert all(timing.repeats == 3 and timing.min_ms > 0 for timing, _ in result.values())


def test_paired_ratio_cancels_a_machine_that_switches_speed():
    from devices.quiet_timing import paired_ratio

    speed = [1.0, 1.5, 1.5, 1.0, 1.5]  # the machine's slowdown in each round, shared within a round
    tvm = [10.0 * s for s in speed]
    ort = [8.0 * s for s in speed]
    tvm[3] *= 2  # one round disturbed TVM alone
    assert paired_ratio(tvm, ort) == pytest.approx(1.25)
    assert paired_ratio(ort, tvm) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="equal number"):
        paired_ratio([1.0], [1.0, 2.0])


def test_interleaved_reports_each_rounds_times(tmp_path):
    from devices.quiet_timing import interleaved

    per_round = {}
    result = interleaved({"a": lambda: time.sleep(0.002), "b": lambda: time.sleep(0.004)}, rounds=3,
                         min_repeat_ms=1, warmup=1, limit=1.0, lock=tmp_path / "l", per_round=per_round)
    assert set(per_round) == {"a", "b"} and all(len(v) == 3 for v in per_round.values())
    assert min(per_round["a"]) == result["a"][0].min_ms and all(b > a for a, b in zip(per_round["a"], per_round["b"]))
