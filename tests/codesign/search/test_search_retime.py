"""A derived network measured far over its prediction is timed once more; the lower minimum is kept."""
from types import SimpleNamespace

from codesign.search.report import RETIME_OFF, _timed
from devices.timing import Timing


class _Backend:
    def __init__(self, minima):
        self.minima = list(minima)
        self.calls = 0

    def run_measurement(self, artifact):
        self.calls += 1
        ms = self.minima.pop(0)
        return SimpleNamespace(timing=Timing(ms * 1.3, ms * 1.3, 1.0, ms, ms * 2, 100, 1))


def test_a_timing_near_its_prediction_is_taken_once():
    backend = _Backend([10.0 * (1 + RETIME_OFF) - 0.01])
    measurement, timings, note = _timed(backend, None, predicted_ms=10.0)
    assert (backend.calls, timings, note) == (1, 1, "")


def test_a_timing_far_over_its_prediction_is_taken_again_and_the_lower_minimum_kept():
    backend = _Backend([14.61, 11.42])
    measurement, timings, note = _timed(backend, None, predicted_ms=11.0)
    assert backend.calls == 2 and timings == 2
    assert measurement.timing.min_ms == 11.42
    assert "timed twice, 14.61 then 11.42 ms" in note and "1.33x the predicted 11 ms" in note
    backend = _Backend([7.0])  # far under the prediction: interference only adds time
    assert _timed(backend, None, predicted_ms=10.0)[1:] == (1, "") and backend.calls == 1


def test_without_a_prediction_in_ms_one_timing_is_taken():
    backend = _Backend([30.0])
    assert _timed(backend, None, predicted_ms=None)[1] == 1


def test_tvm_builds_of_the_search_get_the_trial_levels_asked_for(tmp_path, monkeypatch):
    """--trials / --dominant-trials reach the TVM backend that times the derived network."""
    import pytest

    import devices.backends.base as base
    from codesign.search.report import measure_on_device
    from devices.catalog import get_device

    seen = {}

    class Stop(Exception):
        pass

    def for_device(device, runtime, **options):
        seen.update(options, runtime=runtime)
        raise Stop

    monkeypatch.setattr(base, "for_device", for_device)
    with pytest.raises(Stop):
        measure_on_device(None, get_device("local-cpu"), (8, 8), tmp_path, trials=8, runtime="tvm",
                          dominant_trials=8)
    assert (seen["runtime"], seen["trials"], seen["dominant_share"]) == ("tvm", 8, 1.0)
    with pytest.raises(Stop):
        measure_on_device(None, get_device("local-cpu"), (8, 8), tmp_path, trials=8, runtime="tvm")
    assert seen["dominant_share"] == 4.0  # default: the task with the most FLOPs gets 4 x trials
