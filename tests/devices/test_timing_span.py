"""Repeats that span a minimum wall time: a minimum taken inside a slow spell of the machine
(devices.timing.NETWORK_SPAN_S) is not the machine's speed."""
import time

from devices.reference_runtimes import time_callable


def _slow_for(seconds: float, slow_ms: float, fast_ms: float):
    """A workload that takes slow_ms per call for the first ``seconds`` after its first call,
    fast_ms after: a machine in a slow spell when the timing starts."""
    start = []

    def fn():
        start.append(start[0] if start else time.perf_counter())
        time.sleep((slow_ms if time.perf_counter() - start[0] < seconds else fast_ms) / 1e3)
    return fn


def test_repeats_inside_a_slow_spell_report_the_spell_and_a_span_past_it_does_not():
    short = time_callable(_slow_for(0.6, 6.0, 2.0), repeats=4, min_repeat_ms=20, warmup=1)
    assert short.min_ms > 5.0  # every repeat fell inside the spell
    spread = time_callable(_slow_for(0.6, 6.0, 2.0), repeats=4, min_repeat_ms=20, warmup=1,
                           min_span_s=1.0)
    assert spread.min_ms < 3.0 and spread.repeats > 4


def test_the_span_is_met_in_wall_time_and_the_repeat_count_is_a_floor():
    started = time.perf_counter()
    timing = time_callable(lambda: time.sleep(0.002), repeats=3, min_repeat_ms=10, warmup=1,
                           min_span_s=0.3)
    assert time.perf_counter() - started >= 0.3
    assert timing.repeats >= 3 and timing.number >= 1
    assert time_callable(lambda: time.sleep(0.002), repeats=3, min_repeat_ms=10).repeats == 3


class _FakeVm:
    """TVM's VM as time_vm uses it: ``vm["main"]`` and a time evaluator of ``repeat`` results."""

    def __init__(self, seconds_per_run: float):
        self.seconds, self.evaluations = seconds_per_run, 0

    def __getitem__(self, name):
        return lambda *args: time.sleep(self.seconds)

    def time_evaluator(self, name, dev, number, repeat):
        def evaluate(*args):
            self.evaluations += 1
            time.sleep(self.seconds * number * repeat)
            return type("Result", (), {"results": [self.seconds] * repeat})()
        return evaluate


class _Dev:
    def sync(self):
        pass


def test_tvm_timings_repeat_the_evaluator_until_the_span_is_met():
    from devices.timing import time_vm

    vm = _FakeVm(0.005)
    timing = time_vm(vm, _Dev(), [], repeats=2, min_repeat_ms=10, warmup=1, min_span_s=0.2)
    assert vm.evaluations >= 4 and timing.repeats == 2 * vm.evaluations
    vm = _FakeVm(0.005)
    assert time_vm(vm, _Dev(), [], repeats=2, min_repeat_ms=10, warmup=1).repeats == 2
    assert vm.evaluations == 1
