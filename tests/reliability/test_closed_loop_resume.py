"""Issue 42, case 4: a closed loop interrupted in any round resumes to what the uninterrupted run
gives, even when other runs measured networks in between; and benchmarks.search.budget_hit resumes
from --work after SIGINT. The device is conftest.py's stand-in: a whole network "measures"
0.5 ms + 1.3 × its MACs at the stand-in's kernel rate, so the first round misses the band."""
import dataclasses
import json

import pytest
from test_state_faults import _request

from codesign.search import report as search_report
from codesign.search.api import SearchInterrupted, plan, run
from codesign.search.closed_loop import append_network_profile
from codesign.sr.complexity import count_macs


class StandInNetworks:
    """measure_on_device's stand-in; ``stop_at`` (1-based call) raises KeyboardInterrupt there,
    as a SIGINT during that round's timing would."""

    def __init__(self):
        self.calls, self.stop_at = 0, None

    def __call__(self, net, device, lr_hw, out, trials, runtime="tvm", predicted_ms=None,
                 dominant_trials=None):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        ms = 0.5 + 1.3 * count_macs(net, lr_hw) / 2e7
        return {"measured_ms": ms, "measured_statistic": "min", "measured_median_ms": ms,
                "measured_std_ms": 0.0, "measurement": "stand-in network timing",
                "measured_timings": 1}


@pytest.fixture
def networks(stand_in_host, monkeypatch) -> StandInNetworks:
    stand_in = StandInNetworks()
    monkeypatch.setattr(search_report, "measure_on_device", stand_in)
    return stand_in


def _closed_loop_request(tmp_path, name: str):
    """T with measurement on, three rounds, a budget in the middle of the space's span."""
    base = _request(tmp_path, measure=True, rounds=3, out=str(tmp_path / name),
                    network_profile=str(tmp_path / f"{name}-networks.csv"))
    checked = plan(base)  # (writes nothing; the first one profiles this host)
    budget = f"{checked.low + 0.4 * (checked.high - checked.low):.4g}ms"
    return dataclasses.replace(base, budget=budget)


def _outcome(result) -> list[dict]:
    columns = ["round", "genotype", "cost", "measured_ms", "psnr", "result"]
    return result.report[columns].to_dict("records")


def test_4_an_interrupted_closed_loop_resumes_to_the_uninterrupted_result(tmp_path, networks):
    stop_at = 2  # round 1's timing
    straight = run(plan(_closed_loop_request(tmp_path, "straight")))
    rounds = len(straight.report)
    assert rounds >= stop_at, straight.report  # the interruption falls inside the loop

    request = _closed_loop_request(tmp_path, "stopped")
    networks.calls, networks.stop_at = 0, stop_at
    with pytest.raises(SearchInterrupted):
        run(plan(request))
    assert json.loads((tmp_path / "stopped" / "run.json").read_text())["status"] != "complete"
    # other runs measure networks in between: the shared profile moves the re-fit factor
    profile = tmp_path / "stopped-networks.csv"
    for factor in (0.3, 0.35):
        append_network_profile(profile, "local-cpu", (24, 32),
                               {"measured_ms": factor * straight.report.iloc[0].cost,
                                "genotype": straight.report.iloc[0].genotype}, run=f"other {factor}")
    networks.calls, networks.stop_at = 0, None
    resumed = run(plan(dataclasses.replace(request, resume=True)))
    assert networks.calls == stop_at - 1  # the rounds timed before are kept, not timed again
    assert _outcome(resumed) == _outcome(straight)
    assert (tmp_path / "stopped" / "weights.safetensors").read_bytes() == \
        (tmp_path / "straight" / "weights.safetensors").read_bytes()
    # 12: every round's row says where it trained and how long its fine-tuning took
    assert straight.report["train_device"].notna().all()
    assert straight.report["search_finetune_wall_s"].notna().all()


def test_4_and_10_budget_hit_records_its_budgets_and_stops_on_sigint_with_one_line(
        tmp_path, monkeypatch, capsys):
    import signal

    from benchmarks.search import budget_hit

    work = tmp_path / "work"
    computed = iter([[10.0, 20.0], [11.0, 23.0]])  # the network profile moved in between
    monkeypatch.setattr(budget_hit, "default_budgets", lambda *args, **kw: next(computed))
    started = []

    def interrupted_row(device, budget, args):
        started.append(budget)
        raise SearchInterrupted(work / f"{device}-{budget:g}ms", signal.SIGINT, 3)

    monkeypatch.setattr(budget_hit, "budget_row", interrupted_row)
    argv = ["--work", str(work), "--count", "2", "--out", str(tmp_path / "hit.csv")]

    def main() -> int:
        try:
            return budget_hit.main(argv)
        except KeyboardInterrupt as exc:  # escaping, it would end the whole test session
            pytest.fail(f"budget_hit let {exc!r} through")

    assert main() == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "interrupted by SIGINT" in err and "run the same command again" in err
    assert main() == 130
    assert started == [10.0, 10.0]  # the re-run resumes the same searches


def test_9_an_empty_network_profile_means_no_measured_network(tmp_path):
    from test_search_faults import REPO

    from benchmarks.search.budget_hit import default_budgets

    empty = tmp_path / "networks.csv"
    empty.touch()
    budgets = default_budgets("local-cpu", 2, str(REPO / "predictors" / "trained" / "local-cpu"),
                              str(empty), "onnxruntime")
    assert len(budgets) == 2 and 0 < budgets[0] < budgets[1]
