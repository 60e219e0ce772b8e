"""Latency statistics from TVM's time evaluator (or any list of per-repeat seconds)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STATISTIC = "min"
"""The latency statistic predictors learn and budgets are judged by: the minimum over the
repeats. On a quiet 2-core Zen 4 host, 50 networks timed twice >= 10 minutes apart in
onnxruntime agreed within +-10 % for 100 % of them by their minimum and 88 % by their median
(within +-5 %: 96 % and 78 %; benchmarks/results/retest_local_cpu.csv, summarised): the
minimum is what this machine can reproduce, the median carries whatever else ran."""
PROFILE_COLUMNS = {"median": "latency_ms", "min": "latency_min_ms"}  # profile rows (devices.profile_csv)

NETWORK_SPAN_S = 24.0
"""Wall time (s) the repeats of a whole-network timing span at least (codesign.search.report,
devices.measure; $CODESIGN_NETWORK_SPAN_S overrides it, network_span_s). On a 2-vCPU Intel
Xeon VM (family 6, model 207) the same network runs 1.3-1.6x slower for seconds to minutes
while nothing in the VM uses the CPU, so a short timing's minimum often misses the network's
floor (its fastest repeat over minutes): benchmarks/results/host_steadiness_local_cpu.csv (summarised)
has the share of windows within 5 % of the floor per span: 6 s 33 %, 24 s 73 % on 2026-12-01
16:52 (39 % and 54 % at 13:48); 48 s reached only 87 % (ad hoc, from the same rows), so no
span makes a noisy host quiet. On the quiet Zen 4 VM 6 s was enough; 24 s costs each searched
network's measurement 18 s more."""


MAX_NETWORK_SPAN_S = 3600.0  # an hour: a longer span is a typo, not a measurement plan


def env_number(name: str, default: float, low: float, high: float) -> float:
    """The environment variable ``name`` as a finite number in [low, high], else ``default``
    when unset; UsageError (one line naming the variable) otherwise."""
    import math
    import os

    from codesign_common.cli import UsageError

    text = os.environ.get(name)
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"${name}={text!r} is not a number") from None
    if not (math.isfinite(value) and low <= value <= high):
        raise UsageError(f"${name}={text} must be a finite number in [{low:g}, {high:g}]")
    return value


def network_span_s() -> float:
    """The span (s) of a whole-network timing: $CODESIGN_NETWORK_SPAN_S (0 to
    MAX_NETWORK_SPAN_S), else NETWORK_SPAN_S."""
    return env_number("CODESIGN_NETWORK_SPAN_S", NETWORK_SPAN_S, 0.0, MAX_NETWORK_SPAN_S)


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
