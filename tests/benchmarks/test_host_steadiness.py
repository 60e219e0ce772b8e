import numpy as np
import pandas as pd

from benchmarks.host_steadiness_local_cpu import summarise, window_minima


def test_window_minima_slide_by_a_second_and_a_long_span_takes_the_whole_trace():
    t = np.arange(0.0, 10.0, 0.5)
    ms = np.where((t >= 4) & (t < 6), 10.0, 13.0)  # fast only in [4, 6) s
    assert window_minima(t, ms, 2.0).tolist() == [13.0, 13.0, 13.0, 10.0, 10.0, 10.0, 13.0, 13.0]
    assert window_minima(t, ms, np.inf).tolist() == [10.0]


def test_summary_reads_each_network_against_its_floor_over_all_passes():
    t = np.arange(0.0, 30.0, 0.1)
    slow = pd.DataFrame({"t_s": t, "ms": 13.0, "pass": 0})  # a pass spent in a slow spell
    fast = pd.DataFrame({"t_s": t, "ms": 10.0, "pass": 1})
    rows = pd.concat([slow, fast]).assign(network="a", foreign_cpu_share=0.0)
    summary = summarise(rows).set_index("span_s")
    assert summary.loc[6.0, "within_5pct"] == 0.5 and summary.loc[6.0, "max_over_floor"] == 1.3
    assert summary.loc["whole trace", "windows"] == 2  # one per network and pass
    assert summary.loc["whole trace", "within_10pct"] == 0.5
