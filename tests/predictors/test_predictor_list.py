import json

from devices.catalog import get_device
from devices.host_identity import fingerprint
from predictors.list import listing_table, predictor_row


def test_every_device_line_says_which_predictor_loads_and_how_accurate_it_is():
    lines = listing_table().splitlines()
    assert lines[0].split() == ["device", "runtime", "predictor", "label", "accuracy"]
    assert len(lines) > 10
    assert predictor_row(get_device("pixel7"))["accuracy"].startswith("leave-one-sibling-out")
    assert predictor_row(get_device("rk3399"))["accuracy"].startswith("held-out")
    assert predictor_row(get_device("eyeriss_sim"))["label"] == "simulated"


def _save(root, meta, host_id=None, runtime=None):
    folder = root / "local-cpu" / (f"{host_id}/{runtime}" if host_id else "")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "predictor.json").write_text(json.dumps({"meta": meta}))


def test_the_local_cpu_label_depends_on_the_host_and_runtime_the_predictor_was_made_on(tmp_path,
                                                                                     monkeypatch):
    monkeypatch.setenv("CODESIGN_PREDICTORS", str(tmp_path / "root"))
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path / "cache"))
    here, cpu = fingerprint()["host_id"], get_device("local-cpu")
    _save(tmp_path / "root", {"host_id": "other-host", "runtime": "onnxruntime-1.32.0"})
    row = predictor_row(cpu, "onnxruntime")
    assert row["label"] == "transferred-from-other-host" and row["accuracy"] == "not measured"
    _save(tmp_path / "root", {"host_id": here, "runtime": "onnxruntime-1.32.0",
                              "heldout_eval": {"mape_pct": 12.0, "spearman": 0.99}}, here, "onnxruntime")
    row = predictor_row(cpu, "onnxruntime")
    assert row["label"] == "predicted" and row["accuracy"].startswith("held-out MAPE 12.0%")
    assert predictor_row(cpu, "tvm")["label"] == "transferred-from-other-host"  # no tvm one here
