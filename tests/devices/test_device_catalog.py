"""Device catalog: every entry loads, validates and gives a TVM target; unknown names exit 2."""
import json
import subprocess
import sys

import pytest

from devices.catalog import CATALOG_DIR, UnknownDeviceError, device_names, get_device, list_devices
from devices.list import catalog_table

REQUIRED = {"local-cpu", "h100", "pixel7", "snapdragon835", "kirin970", "rk3399", "bcm2837", "pynq"}


def test_catalog_has_the_devices_the_issue_names():
    assert REQUIRED <= set(device_names())


def test_every_entry_validates_and_its_target_is_a_tvm_target():
    import tvm

    for device in list_devices():
        target = tvm.target.Target(device.target)
        assert target.kind.name == device.target["kind"]
        assert device.lr_input_hw[0] > 0 and device.latency_budget_ms > 0
        for field in ("cores", "clock_ghz", "peak_fp32_gflops", "mem_bandwidth_gbs"):
            assert device.spec[field]["source"], (device.name, field)


def test_local_cpu_is_detected_from_the_host():
    import os

    device = get_device("local-cpu")
    assert device.target["mcpu"] not in ("", "detected", "generic")
    assert 1 <= device.target["num-cores"] <= os.cpu_count()
    assert device.spec["model"]["value"]


def test_pixel7_targets_aarch64_cortex_x1_over_rpc():
    device = get_device("pixel7")
    assert device.target["mtriple"].startswith("aarch64") and device.target["mcpu"] == "cortex-x1"
    assert device.method == "tvm-rpc" and device.rpc_key == "pixel7"
    assert device.predictor["provenance"] == "transferred"


def test_unknown_device_lists_known_ones():
    with pytest.raises(UnknownDeviceError) as err:
        get_device("pixel99")
    assert "pixel7" in str(err.value) and "\n" not in str(err.value)


def test_profile_cli_unknown_device_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "codesign.profile", "--device", "nope", "--out",
                           str(tmp_path / "p.csv")], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown device 'nope'") and "local-cpu" in lines[0]
    assert not (tmp_path / "p.csv").exists()


def test_list_table_shows_every_device_with_its_predictor_provenance():
    table = catalog_table().splitlines()
    assert len(table) == 1 + len(device_names())
    assert all(any(line.startswith(name + " ") for line in table) for name in device_names())


def test_malformed_catalog_entry_is_rejected(tmp_path, monkeypatch):
    import devices.catalog as catalog

    entry = json.loads((CATALOG_DIR / "rk3399.json").read_text())
    del entry["spec"]["peak_fp32_gflops"]["source"]
    (tmp_path / "rk3399.json").write_text(json.dumps(entry))
    monkeypatch.setattr(catalog, "CATALOG_DIR", tmp_path)
    with pytest.raises(ValueError, match="peak_fp32_gflops"):
        catalog.get_device("rk3399")


def test_public_and_transferred_latencies_say_how_many_threads_they_assume():
    """Issue 16: pixel7's transferred latencies assume its 2 Cortex-X1 threads, the TopHub
    phones their big cores, GPUs none; the table shows it, measured devices show '-'."""
    for device in list_devices():
        if device.predictor["provenance"] in ("public", "transferred"):
            assert device.threads["source"]
            cpu = device.kind.endswith("cpu")
            assert (device.threads["value"] == device.target["num-cores"]) if cpu else device.threads["value"] is None
    assert get_device("pixel7").threads["value"] == 2 and "0.46" in get_device("pixel7").threads["source"]
    lines = catalog_table().splitlines()
    at = lines[0].index("threads")  # the columns are padded to line up
    shown = {line.split()[0]: line[at:].split()[0] for line in lines[1:]}
    assert (shown["pixel7"], shown["snapdragon835"], shown["adreno"], shown["local-cpu"]) == ("2", "4", "n/a", "-")


@pytest.mark.parametrize("change, says", [(lambda e: e.pop("threads"), "threads needs a value"),
                                          (lambda e: e["threads"].update(value=0), "threads needs a value"),
                                          (lambda e: e.update(tophub_modle="x"), "unknown fields")])
def test_a_transferred_entry_without_its_threads_or_with_a_stray_field_is_rejected(tmp_path, monkeypatch, change, says):
    from devices import catalog

    entry = json.loads((CATALOG_DIR / "pixel7.json").read_text())
    change(entry)
    (tmp_path / "pixel7.json").write_text(json.dumps(entry))
    monkeypatch.setattr(catalog, "CATALOG_DIR", tmp_path)
    with pytest.raises(ValueError, match=says):
        catalog.get_device("pixel7")
