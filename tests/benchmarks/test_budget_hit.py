"""benchmarks.search.budget_hit's bookkeeping: rows of other hosts and runtimes survive a run, the share
of budgets met is per host and runtime, and TVM trial levels are checked and recorded."""
import pandas as pd
import pytest

import benchmarks.search.budget_hit as budget_hit


def _row(runtime, host_id, budget, measured):
    return {"device": "local-cpu", "runtime": runtime, "host_id": host_id, "budget_ms": budget,
            "measured_ms": measured, "predicted_ms": budget * 0.9, "rounds": 1, "psnr": 30.0,
            "measured_in_band": 0.85 * budget <= measured <= budget, "predicted_in_band": True}


def test_a_run_keeps_other_hosts_rows_and_summarises_per_host_and_runtime(tmp_path, monkeypatch):
    out = tmp_path / "budget_hit.csv"
    old = pd.DataFrame([_row("onnxruntime", "intel", 30.0, 28.0), _row("onnxruntime", "intel", 40.0, 41.0)])
    old.to_csv(out, index=False)
    here = budget_hit.fingerprint()["host_id"]
    seen = []

    def fake_row(device, budget, args):
        seen.append((args.trials, args.dominant_trials))
        return {**_row(args.runtime, here, budget, budget * 0.95), "trials": args.trials,
                "dominant_trials": args.dominant_trials}

    monkeypatch.setattr(budget_hit, "budget_row", fake_row)
    assert budget_hit.main(["--runtime", "tvm", "--budgets", "20,30", "--out", str(out),
                            "--work", str(tmp_path / "w")]) == 0
    assert seen == [(8, 8), (8, 8)]  # the profile's levels by default
    rows = pd.read_csv(out)
    budgets = rows[rows.budget_ms.notna()]
    assert sorted(zip(budgets.runtime, budgets.budget_ms)) == [
        ("onnxruntime", 30.0), ("onnxruntime", 40.0), ("tvm", 20.0), ("tvm", 30.0)]
    assert rows.budget_ms.notna().all()  # one row per budget: summaries are derived, not stored
    summary = budget_hit.summary_rows(rows).set_index("runtime")
    assert len(summary) == 2  # one per host and runtime
    assert float(summary.loc["onnxruntime", "measured_in_band"]) == 0.5 and summary.loc["onnxruntime", "host_id"] == "intel"
    assert float(summary.loc["tvm", "measured_in_band"]) == 1.0 and summary.loc["tvm", "budgets"] == 2


def test_dominant_trials_below_trials_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        budget_hit.main(["--runtime", "tvm", "--trials", "8", "--dominant-trials", "4",
                         "--budgets", "20", "--out", str(tmp_path / "o.csv")])
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()
