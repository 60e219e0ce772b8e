"""Latency statistics from TVM's time evaluator (or any list of per-repeat seconds)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATISTIC = "min"
"""The latency statistic predictors learn and budgets are judged by: the minimum over the
repeats. On a quiet 2-core Zen 4 host, 50 networks timed twice >= 10 minutes apart in
onnxruntime agreed within +-10 % for 100 % of them by their minimum and 88 % by their median
(within +-5 %: 96 % and 78 %; benchmarks/results/test_retest_local_cpu_summary.csv): the
minimum is what this machine can reproduce, the median carries whatever else ran."""
PROFILE_COLUMNS = {"median": "latency_ms", "min": "latency_min_ms"}  # profile rows (devices.profile_csv)

NETWORK_SPAN_S = 6.0
"""Wall time (s) the repeats of a whole-network timing span at least (codesign.search_report,
devices.measure). On a 2-vCPU Intel Xeon VM (family 6, model 207) a 10 ms onnxruntime network
ran 1.3x slower for 2-4 s about every 12 s while nothing else ran in the VM (40 s of timing: all
8,000 busy jiffies ours, 7 stolen), so the minimum of repeats within ~1 s fell inside such a
spell about one timing in four: the same 40 networks re-timed three times spread by up to 1.45x
(max/min; an ad-hoc re-timing of one budget_hit run, kept in no CSV). Over 6 s, 12 of them
re-timed three times spread by 1.04 (median; at most 1.10; ad hoc too) while the spells were short, but 1.21 (at most 1.43) against 1.38 over ~1 s later that morning, when
the machine ran slow for minutes (benchmarks/results/timing_span_local_cpu_summary.csv): the span
helps; what it cannot remove, devices.quiet_timing's spread limit refuses."""


@dataclass(frozen=True)
class Timing:
    """Per-run latency in ms over `repeats` repeats, each the mean of `number` back-to-back runs."""

    median_ms: float
    mean_ms: float
    std_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    number: int

    @classmethod
    def from_seconds(cls, seconds, number: int) -> "Timing":
        ms = np.asarray(list(seconds), dtype=float) * 1e3
        if ms.size == 0 or not np.all(np.isfinite(ms)) or np.any(ms <= 0):
            raise ValueError(f"invalid timings: {ms.tolist()}")
        return cls(float(np.median(ms)), float(ms.mean()), float(ms.std(ddof=1) if ms.size > 1 else 0.0),
                   float(ms.min()), float(ms.max()), int(ms.size), int(number))

    def value_ms(self, statistic: str = STATISTIC) -> float:
        """The latency by `statistic` (a key of PROFILE_COLUMNS), ms."""
        return {"median": self.median_ms, "min": self.min_ms}[statistic]


def runs_per_repeat(estimate_ms: float, min_repeat_ms: float) -> int:
    """Back-to-back runs per repeat so that one repeat lasts at least `min_repeat_ms`."""
    return max(1, int(np.ceil(min_repeat_ms / max(estimate_ms, 1e-3))))


def time_vm(vm, dev, args, repeats: int = 10, min_repeat_ms: float = 100.0, warmup: int = 2,
            min_span_s: float = 0.0) -> Timing:
    """Time `vm["main"](*args)` on `dev` with TVM's time evaluator: `warmup` untimed calls, then
    `repeats` repeats of enough runs to last `min_repeat_ms` each, more (in batches of
    `repeats`) until they span `min_span_s` seconds."""
    import time

    for _ in range(max(1, warmup)):
        start = time.perf_counter()
        vm["main"](*args)
        dev.sync()
        estimate_ms = (time.perf_counter() - start) * 1e3
    number = runs_per_repeat(estimate_ms, min_repeat_ms)
    evaluator = vm.time_evaluator("main", dev, number=number, repeat=repeats)
    seconds, started = [], time.perf_counter()
    while not seconds or time.perf_counter() - started < min_span_s:
        seconds.extend(evaluator(*args).results)
    return Timing.from_seconds(seconds, number)
