"""The predictor store: per (device, host, runtime), and a local-cpu predictor from another host
is only ever transferred."""
import json

from devices.host_identity import fingerprint
from predictors.store import find_predictor, host_provenance, predictor_dir


def _put(path):
    path.mkdir(parents=True)
    (path / "predictor.json").write_text(json.dumps({"format_version": 1}))
    return path


def test_the_hosts_own_runtime_predictor_is_found_before_the_devices(tmp_path, monkeypatch):
    monkeypatch.setenv("CODESIGN_PREDICTORS", str(tmp_path))
    here = fingerprint()["host_id"]
    device_level = _put(tmp_path / "local-cpu")
    assert find_predictor("local-cpu", host_id=here, runtime="onnxruntime") == device_level
    own = _put(predictor_dir(tmp_path, "local-cpu", here, "onnxruntime"))
    assert find_predictor("local-cpu", host_id=here, runtime="onnxruntime") == own
    assert find_predictor("local-cpu", host_id="another-host", runtime="onnxruntime") == device_level


def test_a_local_cpu_predictor_from_another_or_an_unrecorded_host_is_transferred_with_a_warning():
    here = fingerprint()["host_id"]
    assert host_provenance({"host_id": here}, "local-cpu") == ("predicted", None)
    label, warning = host_provenance({"host_id": "authenticamd-f26-m2-2c-znver5-abcdef"}, "local-cpu")
    assert label == "transferred" and "znver5" in warning and here in warning
    label, warning = host_provenance({"host": "vm (AMD EPYC, 2 cores, znver4)"}, "local-cpu")
    assert label == "transferred" and "unrecorded host id" in warning
    assert host_provenance({}, "pixel7") == ("predicted", None)  # describes the phone, not this host


def test_a_fit_records_its_host_and_runtime_and_refuses_mixed_hosts():
    import pandas as pd
    import pytest

    from predictors.train import measured_where

    rows = pd.DataFrame({"host_id": ["h1", "h1"], "backend": ["onnxruntime"] * 2, "host": ["vm (x)"] * 2})
    assert measured_where(rows, "p.csv") == {"host_id": "h1", "runtime": "onnxruntime", "host": "vm (x)"}
    with pytest.raises(ValueError, match="mixes host_ids h1, h2"):
        measured_where(rows.assign(host_id=["h1", "h2"]), "p.csv")
    old = pd.DataFrame({"backend": ["tvm-local"], "host": ["vm (AMD EPYC, 2 cores, znver4)"]})
    assert measured_where(old, "p.csv")["host_id"] is None
