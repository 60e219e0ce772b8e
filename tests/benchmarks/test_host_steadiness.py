import numpy as np
import pandas as pd

from benchmarks.latency.host_steadiness_local_cpu import summarise, windows

RUN = {"run": "2026-12-01T00:00+00:00", "host_id": "h", "runtime": "onnxruntime-1", "seconds": 30.0,
       "gap_minutes": 5.0}


def test_windows_slide_by_a_second_and_a_long_span_takes_the_whole_trace():
    t = np.arange(0.0, 10.0, 0.5)
    ms = np.where((t >= 4) & (t < 6), 10.0, 13.0)  # fast only in [4, 6) s
    minima, spreads = windows(t, ms, 2.0)
    assert minima.tolist() == [13.0, 13.0, 13.0, 10.0, 10.0, 10.0, 13.0, 13.0]
    assert spreads[0] == 1.0 and spreads[4] == 1.0  # all repeats alike in those windows
    assert windows(t, ms, np.inf)[0].tolist() == [10.0]


def test_summary_reads_each_network_against_its_floor_over_all_passes_of_its_run():
    t = np.arange(0.0, 30.0, 0.1)
    slow = pd.DataFrame({"t_s": t, "ms": 13.0, "pass": 0})  # a pass spent in a slow spell
    fast = pd.DataFrame({"t_s": t, "ms": 10.0, "pass": 1})
    rows = pd.concat([slow, fast]).assign(network="a", foreign_cpu_share=0.0, **RUN)
    calm = pd.concat([fast, fast.assign(**{"pass": 1})]).assign(
        network="a", foreign_cpu_share=0.0, **{**RUN, "run": "later"})
    summary = summarise(pd.concat([rows, calm]))
    first = summary[summary.run == RUN["run"]].set_index("span_s")
    assert first.loc[6.0, "within_5pct"] == 0.5 and first.loc[6.0, "max_over_floor"] == 1.3
    assert first.loc["whole trace", "windows"] == 2  # one per network and pass
    assert first.loc["whole trace", "within_10pct"] == 0.5
    assert (summary[summary.run == "later"].within_5pct == 1.0).all()  # its own floor, not the first run's


def test_the_spread_guard_columns_say_what_a_median_over_min_refusal_keeps():
    t = np.arange(0.0, 30.0, 0.1)
    # fast repeats now and then (the floor), mostly 1.4x: a spread the guard refuses
    bursty = np.where(np.arange(t.size) % 10 == 0, 10.0, 14.0)
    rows = pd.concat([pd.DataFrame({"t_s": t, "ms": bursty, "pass": 0}),
                      pd.DataFrame({"t_s": t, "ms": 13.0, "pass": 1})])  # steady but slow
    summary = summarise(rows.assign(network="a", foreign_cpu_share=0.0, **RUN)).set_index("span_s")
    assert summary.loc[6.0, "spread_guard_accepts"] == 0.5  # only the slow pass's windows
    assert summary.loc[6.0, "within_5pct_of_accepted"] == 0.0
    assert summary.loc[6.0, "within_5pct"] == 0.5
