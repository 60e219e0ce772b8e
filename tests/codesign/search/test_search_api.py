"""The search API (codesign.search.api) without the CLI: plan checks before writing, run
returns the result, a finished run is not run again; the run folder's stale temporaries."""
import dataclasses
import json

import pandas as pd
import pytest

from codesign.search.api import SearchRequest, default_schedule, plan, run
from codesign.search.budget import BAND
from codesign.search.folder import remove_stale_temporaries
from codesign.search.inputs import SearchError
from codesign.space.genotype import Genotype
from codesign.sr.checkpoint import stale_temporaries

TINY_SCHEDULE = dataclasses.replace(default_schedule(), steps=2, warmup_steps=1, batch_size=1,
                                    patch_size=16)


def _tiny(out, **changes) -> SearchRequest:
    return dataclasses.replace(
        SearchRequest(budget="0.02GFLOPs", input="24x32", nf=8, num_cells=2,
                      schedule=TINY_SCHEDULE, finetune_steps=2, finetune_batch_size=1,
                      finetune_patch_size=16, measure=False, out=str(out)),
        **changes)


def test_plan_resolves_the_request_and_writes_nothing(tmp_path):
    checked = plan(SearchRequest(budget="20GFLOPs", out=str(tmp_path / "run"), dry_run=True))
    assert checked.lr_hw == (180, 320) and checked.scale == 4 and checked.runtime is None
    assert checked.table.provenance == "counted" and checked.network_profile is None
    assert checked.low <= 20 <= checked.high and any(checked.feasible)
    assert checked.settings["--budget"] == "20GFLOPs" and checked.settings["--steps"] == 400
    assert checked.summary().endswith(f"budget 20 GFLOPs is reachable; outputs would go to "
                                      f"{tmp_path / 'run'}")
    assert not (tmp_path / "run").exists()
    with pytest.raises(SearchError, match="only printed"):
        run(checked)
    above = plan(SearchRequest(budget="5000GFLOPs", dry_run=True))
    assert above.above and f"below [{BAND[0]}, {BAND[1]}] x budget" in above.summary()


@pytest.mark.parametrize("changes, words", [
    ({"budget": "0.0001GFLOPs"}, "below the cheapest network"),
    ({"resume": True, "force": True}, "exclude each other"),
    ({"trials": 8, "dominant_trials": 4}, "--dominant-trials must be at least --trials"),
    ({"input": "4x4"}, "is not HxW"),
    ({"schedule": dataclasses.replace(TINY_SCHEDULE, patch_size=10)}, "--patch-size 10"),
    ({"teacher": "rlfn:w.pth"}, "the teacher would not be used"),   # the schedule's weight is 0
])
def test_plan_refuses_in_one_line(tmp_path, changes, words):
    with pytest.raises(SearchError, match=words) as info:
        plan(_tiny(tmp_path / "run", **changes))
    assert "\n" not in str(info.value)
    assert not (tmp_path / "run").exists()


def test_run_returns_the_result_and_a_finished_run_is_not_run_again(tmp_path):
    out = tmp_path / "run"
    result = run(plan(_tiny(out)))
    report = pd.read_csv(out / "report.csv")
    assert result.out == out and len(result.report) == 1
    assert result.genotype == Genotype.load(out / "genotype.json")
    assert result.psnr == pytest.approx(report.psnr.iloc[0])
    assert result.cost == pytest.approx(report.cost.iloc[0]) and result.cost <= 0.02
    assert result.measured_ms is None  # measure=False
    names = {p.name for p in result.files}
    assert {"report.csv", "genotype.json", "weights.safetensors", "model.onnx"} <= names
    assert "search_checkpoint.pt" not in names
    assert json.loads((out / "run.json").read_text())["status"] == "complete"

    written = (out / "report.csv").stat().st_mtime_ns
    again = run(plan(_tiny(out, resume=True)))
    assert (out / "report.csv").stat().st_mtime_ns == written  # nothing was run
    assert again.genotype == result.genotype and again.psnr == pytest.approx(result.psnr)
    with pytest.raises(SearchError, match="--resume"):
        plan(_tiny(out))  # neither --resume nor --force: refused


def test_stale_temporaries_of_any_file_are_removed_in_the_run_folders_only(tmp_path):
    out = tmp_path / "run"
    (out / "finetune").mkdir(parents=True)
    (out / "round1" / "finetune").mkdir(parents=True)
    stale = [out / ".report.csv.ab12cd34.tmp", out / ".pareto.png.x_9k2lmn.png",
             out / "finetune" / ".checkpoint.pt.qwe12345.tmp",
             out / "round1" / ".model.onnx.zz99yy88.onnx",
             out / "round1" / "finetune" / ".train_log.csv.a1b2c3d4.tmp"]
    kept = [out / "report.csv", out / "notes.txt", out / ".lock", out / ".hidden.cfg",
            out / "finetune" / "checkpoint.pt"]
    for path in stale + kept:
        path.write_text("x")
    assert stale_temporaries(out, "report.csv") == [stale[0]]  # by name, .tmp only
    assert stale_temporaries(out, suffixes=(".tmp", ".png")) == sorted(stale[:2])
    assert sorted(remove_stale_temporaries(out)) == sorted(stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)


def test_the_resume_key_names_the_predictors_costs_not_its_folder(tmp_path):
    """A run resumes from another checkout (the same predictor elsewhere) and refuses one whose
    predictor was re-fitted: the key is the costs' digest, never the folder's path."""
    import shutil
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[3] / "predictors" / "trained" / "pixel7"
    here, there = tmp_path / "a" / "pixel7", tmp_path / "b" / "pixel7"
    shutil.copytree(shipped, here)
    shutil.copytree(shipped, there)
    def key(folder):
        return plan(SearchRequest(device="pixel7", budget="50ms", predictor=str(folder),
                                  dry_run=True)).settings["--predictor"]
    assert key(here) == key(there) and str(tmp_path) not in key(here)
    state = json.loads((there / "predictor.json").read_text())
    state["overhead_ms"] += 0.5
    (there / "predictor.json").write_text(json.dumps(state))
    assert key(here) != key(there)


@pytest.mark.parametrize("size, extrapolated", [("128x128", False), ("180x320", True)])
def test_an_npu_search_says_what_its_costs_rest_on(capsys, size, extrapolated):
    plan(SearchRequest(device="galaxy-s24-npu", budget="2ms", input=size, dry_run=True))
    err = capsys.readouterr().err
    assert "galaxy-s24-npu's predictor is fitted on AI Hub's whole-model times" in err
    assert "measure the derived network on the device" in err
    assert ("its costs are extrapolated" in err) == extrapolated


def test_a_search_off_the_ai_hub_npus_has_no_ai_hub_note(capsys):
    plan(SearchRequest(device="pixel7", budget="50ms", dry_run=True))
    assert "AI Hub" not in capsys.readouterr().err
