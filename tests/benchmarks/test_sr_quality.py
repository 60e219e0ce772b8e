"""benchmarks.quality.sr_quality: the authors' rows are published_weights.csv's measurements,
an evaluation is reused from its cache, and the report renders one row per network."""
import pandas as pd
import pytest
import torch

from benchmarks.benchmark_args import RESULTS
from benchmarks.quality.sr_quality import authors, quality_rows
from benchmarks.report import sr_quality


def test_the_authors_rows_are_the_published_weights_measurements():
    rows = authors("imdn", 4)
    measured = pd.read_csv(RESULTS / "published_weights.csv").query("model == 'imdn' and scale == 4")
    assert list(rows["set"]) == list(measured["set"])
    assert list(rows["psnr"]) == list(measured["psnr_float_y"])


def test_an_evaluation_is_reused_only_for_the_weights_it_was_made_with(tmp_path, monkeypatch):
    import benchmarks.quality.sr_quality as sr_quality
    from codesign.sr.models import build_model

    monkeypatch.setattr(sr_quality, "present_test_sets", lambda: ["set5"])
    calls = []
    monkeypatch.setattr(sr_quality, "evaluation_table", lambda model, *a: calls.append(1) or pd.DataFrame(
        [{"image": "mean", "psnr_float_y": 30.1, "ssim_float_y": 0.85, "psnr_bicubic_float_y": 28.4,
          "ssim_bicubic_float_y": 0.81}]))
    cache = tmp_path / "quality.csv"
    net = build_model("espcn", 4)
    first = quality_rows(net, "espcn", 4, cache)
    assert quality_rows(net, "espcn", 4, cache).equals(first) and len(calls) == 1
    with torch.no_grad():
        next(net.parameters()).add_(1.0)  # other weights: evaluated again
    quality_rows(net, "espcn", 4, cache)
    assert len(calls) == 2 and "weights_sha256" not in first
    pd.read_csv(cache).drop(columns="weights_sha256").to_csv(cache, index=False)  # an older cache
    quality_rows(net, "espcn", 4, cache)
    assert len(calls) == 3


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


def test_a_teacher_twin_trains_apart_at_equal_steps_and_learns_other_weights(tmp_path):
    import torch

    from benchmarks.quality.baselines import train_reference
    from codesign.sr.train import CHECKPOINT

    settings = dict(scale=2, steps=3, batch_size=2, patch_size=32, lr=1e-3, data=None, work=tmp_path)
    plain, row = train_reference("espcn", **settings)
    teacher = str(tmp_path / "espcn_x2" / CHECKPOINT)               # a codesign.train checkpoint
    taught, taught_row = train_reference("espcn", **settings, teacher=teacher)
    assert (tmp_path / "espcn_x2_teacher" / CHECKPOINT).exists()
    assert row["steps"] == taught_row["steps"] == 3 and row["teacher"] == ""
    assert taught_row["teacher"] == CHECKPOINT and str(tmp_path) not in taught_row["teacher"]
    # same seed, same init, same batches: only the loss differs
    assert any(not torch.equal(a, b) for a, b in zip(plain.state_dict().values(), taught.state_dict().values()))


def test_the_gap_to_the_authors_is_taken_against_our_best_network_in_no_more_time_on_that_host():
    from benchmarks.report import sr_quality_gap

    def row(kind, model, psnr, ms, host="h1", schedule="demo"):
        return {"kind": kind, "model": model, "set": "set5", "psnr": psnr, "latency_ms": ms,
                "host_id": host, "schedule": schedule}

    frame = pd.DataFrame([row("authors", "rlfn", 32.0, 10.0), row("searched", "fast", 30.0, 8.0),
                          row("trained", "slow", 31.5, 12.0), row("trained", "elsewhere", 31.9, 1.0, host="h2"),
                          row("trained", "weak", 29.0, 5.0), row("bicubic", "bicubic", 28.4, 1.0)])
    header, rows = sr_quality_gap(frame)
    assert header[-1] == "set5 gap dB"
    assert rows == [["rlfn", "10.0", "`demo`", "fast (searched)", "8.0", "2.00"]]


def test_a_searched_network_is_below_the_front_where_a_reference_trained_alike_is_faster_and_better():
    from benchmarks.report import sr_quality_front

    def row(kind, model, s, psnr, ms, schedule="cpu", host="h1"):
        return {"kind": kind, "model": model, "set": s, "psnr": psnr, "latency_ms": ms,
                "host_id": host, "schedule": schedule}

    frame = pd.DataFrame([
        row("searched", "net", "set5", 30.0, 8.0), row("searched", "net", "set14", 27.0, 8.0),
        row("trained", "espcn", "set5", 29.0, 4.0), row("trained", "espcn", "set14", 27.2, 4.0),
        row("trained", "big", "set5", 31.0, 20.0), row("trained", "big", "set14", 28.0, 20.0),   # slower
        row("trained", "other", "set5", 32.0, 1.0, schedule="demo"),                           # not alike
        row("trained+teacher", "espcn", "set5", 35.0, 1.0),                                    # taught
        row("searched+teacher", "net", "set5", 34.0, 8.0),
        row("authors", "imdn", "set5", 32.2, 80.0), row("authors", "imdn", "set14", 28.6, 80.0),
        row("authors", "espcn", "set5", 30.0, 4.0)])                                            # trained alike
    header, rows = sr_quality_front(frame)
    assert header[-4:] == ["set5", "set14", "on or above", "not trained alike (ms here)"]
    assert rows[0] == ["`cpu`", "searched", "net", "8.0", "big, espcn", "yes", "no", "1 of 2",
                       "imdn 80.0: all slower"]
    assert rows[1] == ["`cpu`", "searched+teacher", "net", "8.0", "espcn", "no", "n/a", "0 of 1",
                       "imdn 80.0: all slower"]
    quick = pd.concat([frame, pd.DataFrame([row("authors", "tiny", "set5", 33.0, 2.0)])])
    assert sr_quality_front(quick)[1][0][-1] == "tiny 2.0, imdn 80.0: tiny not slower, unchecked"


@pytest.mark.parametrize("argv", [["--teacher-archs", "espcn"],
                                  ["--teacher", "espcn:w.pth", "--archs", "espcn", "--teacher-archs", "fsrcnn"]])
def test_teacher_archs_need_a_teacher_and_name_trained_networks(argv, tmp_path, capsys):
    from benchmarks.quality.sr_quality import main

    with pytest.raises(SystemExit) as stop:
        main([*argv, "--work", str(tmp_path / "work"), "--out", str(tmp_path / "q.csv")])
    assert stop.value.code == 2 and "--teacher-archs" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("teacher, weight", [(None, 0.0), ("rlfn_ntire:w.pth", 1.0)])
def test_a_taught_search_distils_with_weight_one(tmp_path, monkeypatch, teacher, weight):
    """The searched+teacher rows come from a search whose loss uses the teacher (a weight of 0
    would load it and ignore it; codesign.search.api refuses that)."""
    from benchmarks.quality import sr_quality

    class Stop(Exception):
        pass

    def plan(request):
        assert request.teacher == teacher and request.schedule.distill_weight == weight
        raise Stop

    monkeypatch.setattr(sr_quality, "plan", plan)
    with pytest.raises(Stop):
        sr_quality.searched("pixel7:50ms", "demo", 4, tmp_path, teacher)


def test_the_teacher_table_pairs_each_taught_network_with_its_untaught_twin():
    from benchmarks.report import sr_teacher

    def row(kind, model, s, psnr, params=100, schedule="demo"):
        return {"kind": kind, "model": model, "set": s, "psnr": psnr, "params": params,
                "host_id": "h1", "schedule": schedule}

    frame = pd.DataFrame([
        row("trained", "espcn", "set5", 29.0), row("trained+teacher", "espcn", "set5", 29.5),
        row("trained", "espcn", "set14", 26.0), row("trained+teacher", "espcn", "set14", 25.9),
        row("searched", "net", "set5", 30.0, 50), row("searched+teacher", "net", "set5", 30.2, 60),
        row("trained+teacher", "fsrcnn", "set5", 28.0),                     # no untaught twin
        row("trained", "espcn", "set5", 31.0, schedule="cpu")])              # another schedule
    header, rows = sr_teacher(frame)
    assert header[-3:] == ["set5 dB", "set14 dB", "mean dB"]
    assert rows == [["`demo`", "trained", "espcn", "100 → 100", "0.50", "-0.10", "0.20"],
                    ["`demo`", "searched", "net", "50 → 60", "0.20", "n/a", "0.20"]]
