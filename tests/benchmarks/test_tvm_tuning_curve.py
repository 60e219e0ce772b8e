"""tvm_tuning_curve plans only the asked curves and keeps other hosts' rows apart."""
import pandas as pd

from benchmarks.latency.tvm_tuning_curve import COLUMNS, other_rows, plan, plot


def test_plan_runs_the_asked_layouts_and_skips_an_empty_side_curve():
    steps = plan([32, 64], [], ("NCHW",), mcpu="emeraldrapids")
    assert [(v, layout, budgets) for v, _, layout, budgets in steps] == [
        ("tvm untuned emeraldrapids NCHW", "NCHW", [0]), ("tvm tuned emeraldrapids NCHW", "NCHW", [32, 64])]
    full = plan([16], [16], mcpu="znver4")
    assert [v for v, *_ in full][-1] == "tvm tuned core-avx2 NHWC"
    assert {layout for _, _, layout, _ in full} == {"NCHW", "NHWC"}


def _row(host: str, variant: str, trials: int, ms: float) -> dict:
    return {**dict.fromkeys(COLUMNS), "variant": variant, "trials": trials, "latency_ms": ms,
            "latency_std_ms": 0.1, "host_id": host, "host": f"vm ({host})"}


def test_other_hosts_and_phases_survive_and_the_plot_has_a_panel_per_host(tmp_path):
    out = tmp_path / "curve.csv"
    assert other_rows(out, "intel", "tuning").empty
    rows = [_row("zen4", "tvm tuned znver4 NCHW", 64, 5.1), _row("zen4", "onnxruntime (reference)", 0, 5.2),
            _row("intel", "tvm tuned emeraldrapids NCHW", 64, 9.0),
            {**_row("intel", "tvm tuned emeraldrapids NCHW", 64, 8.0), "phase": "retimed"}]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(out, index=False)
    kept = other_rows(out, "intel", "tuning")  # a new tuning run on intel keeps its re-timed rows
    assert sorted(zip(kept["host_id"], kept["phase"])) == [("intel", "retimed"), ("zen4", "tuning"),
                                                          ("zen4", "tuning")]
    assert set(other_rows(out, "intel", "retimed")["latency_ms"]) == {5.1, 5.2, 9.0}
    png = tmp_path / "curve.png"
    plot(pd.read_csv(out), png)
    import matplotlib.image

    height, width = matplotlib.image.imread(png).shape[:2]
    assert width > 1.5 * height  # two 7-inch panels side by side, 4.5 inches high
