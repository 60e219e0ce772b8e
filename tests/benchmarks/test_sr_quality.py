"""benchmarks.quality.sr_quality: the authors' rows are published_weights.csv's measurements,
an evaluation is reused from its cache, and the report renders one row per network."""
import pandas as pd

from benchmarks.benchmark_args import RESULTS
from benchmarks.quality.sr_quality import authors, quality_rows
from benchmarks.report import sr_quality


def test_the_authors_rows_are_the_published_weights_measurements():
    rows = authors("imdn", 4)
    measured = pd.read_csv(RESULTS / "published_weights.csv").query("model == 'imdn' and scale == 4")
    assert list(rows["set"]) == list(measured["set"])
    assert list(rows["psnr"]) == list(measured["psnr_float_y"])


def test_an_evaluation_written_to_its_cache_is_read_back_without_the_network(tmp_path):
    cache = tmp_path / "quality.csv"
    pd.DataFrame([{"set": "set5", "images": 5, "psnr": 30.1, "ssim": 0.85, "psnr_bicubic": 28.4,
                   "ssim_bicubic": 0.81}]).to_csv(cache, index=False)
    assert quality_rows(None, "any", 4, cache)["psnr"].tolist() == [30.1]


def test_the_report_has_a_row_per_network_and_a_column_per_test_set_in_the_papers_order():
    frame = pd.DataFrame([
        {"schedule": "demo", "kind": kind, "model": model, "set": s, "psnr": psnr, "scale": 4,
         "params": 52440 if kind == "searched" else 0, "macs_720p": 3.0e9, "latency_ms": 4.2}
        for kind, model, psnr in (("searched", "pixel7 50ms", 30.0), ("bicubic", "bicubic", 28.0))
        for s in ("urban100", "set5")])
    header, rows = sr_quality(frame)
    assert header[3:5] == ["set5 ×4", "urban100 ×4"]
    assert rows[0][:5] == ["`demo`", "searched", "pixel7 50ms", "30.00", "30.00"]
    assert len(rows) == 2 and rows[0][-3:] == ["52 k", "3.0", "4.2"]
    assert rows[1][0] == "none" and rows[1][-3] == "0"  # bicubic is not trained
