"""compile_local_cpu's ratios and peak shares stay within one host's rows."""
import pandas as pd
import pytest

from benchmarks.compile_local_cpu import _done, _drop_other_budgets, add_ratios


def _rows(host: str, peak_ms: float, tvm_ms: float, ort_ms: float) -> list[dict]:
    key = "network:espcn:h=90:w=160"
    return [
        {"key": "peak:conv3x3", "backend": "onnxruntime", "tuned": False, "macs": 2e9,
         "latency_ms": peak_ms, "latency_min_ms": peak_ms, "host_id": host},
        {"key": key, "backend": "tvm-local", "tuned": True, "macs": 1e9,
         "latency_ms": tvm_ms, "latency_min_ms": tvm_ms * 0.9, "host_id": host},
        {"key": key, "backend": "onnxruntime", "tuned": False, "macs": 1e9,
         "latency_ms": ort_ms, "latency_min_ms": ort_ms, "host_id": host},
    ]


def test_ratios_and_peak_shares_are_per_host(tmp_path):
    df = add_ratios(pd.DataFrame(_rows("zen4", 20.0, 12.0, 10.0) + _rows("intel", 10.0, 5.0, 10.0)))
    zen4, intel = df[df.host_id == "zen4"], df[df.host_id == "intel"]
    assert zen4.ratio_tvm_tuned_to_ort.dropna().unique() == pytest.approx([1.2])
    assert zen4.ratio_tvm_tuned_to_ort_min.dropna().unique() == pytest.approx([1.08])
    assert intel.ratio_tvm_tuned_to_ort.dropna().unique() == pytest.approx([0.5])
    # each host's peak row is its own 100 %; the faster host's peak does not shrink the other's
    assert df[df.key.str.startswith("peak")].share_of_peak.tolist() == pytest.approx([1.0, 1.0])
    out = tmp_path / "c.csv"
    df.to_csv(out, index=False)
    assert _done(out, "network:espcn:h=90:w=160", "intel") == 2
    assert _done(out, "network:espcn:h=90:w=160", "zen5") == 0


def test_a_new_trial_budget_remeasures_this_hosts_network_only(tmp_path):
    rows = pd.DataFrame(_rows("zen4", 20.0, 12.0, 10.0) + _rows("intel", 10.0, 5.0, 10.0))
    rows["trials_floor"], rows["dominant_trials"], rows["trial_rule"] = 32, 128, "flops+latency"
    out = tmp_path / "c.csv"
    rows.to_csv(out, index=False)
    key = "network:espcn:h=90:w=160"
    assert _done(out, key, "intel", (32, 128, "flops+latency")) == 2
    assert _done(out, key, "intel", (32, 128, "another-rule")) == 0  # another rule is not done
    assert _done(out, key, "intel", (32, 512, "flops+latency")) == 0  # another budget is not done
    _drop_other_budgets(out, key, "intel", (32, 512, "flops+latency"))
    left = pd.read_csv(out)
    assert _done(out, key, "intel") == 0  # this host's rows of that network are gone
    assert _done(out, key, "zen4", (32, 128, "flops+latency")) == 2  # the other host's stay
    assert (left.key.str.startswith("peak") & (left.host_id == "intel")).sum() == 1


def test_the_interleaved_run_resumes_per_network_host_and_budget():
    from benchmarks.compile_interleaved_local_cpu import measured

    done = pd.DataFrame([
        {"network": "espcn", "host_id": "intel", "backend": "tvm-local", "trials": 32, "dominant_trials": 512,
         "trial_rule": "flops+latency"},
        {"network": "espcn", "host_id": "intel", "backend": "onnxruntime", "trials": 0, "dominant_trials": 0,
         "trial_rule": ""},
        {"network": "imdn", "host_id": "zen4", "backend": "tvm-local", "trials": 32, "dominant_trials": 128,
         "trial_rule": "flops+latency"},
    ])
    assert measured(done, "espcn", "intel", (32, 512, "flops+latency"))
    assert not measured(done, "espcn", "intel", (32, 128, "flops+latency"))  # another budget is timed again
    assert not measured(done, "espcn", "intel", (32, 512, "flops"))  # and so is another trial rule
    assert not measured(done, "imdn", "intel", (32, 128, "flops+latency"))  # another host's row does not count
    assert not measured(done.drop(columns="trial_rule"), "espcn", "intel", (32, 512, "flops+latency"))
