"""Host identity: a profile row says which host it describes; hosts that differ never share an id."""
from devices import host_identity
from devices.backends.base import Measurement
from devices.profile_csv import COLUMNS, make_row
from devices.timing import Timing

ZEN4 = {"vendor": "AuthenticAMD", "family": "25", "model_id": "17", "model": "AMD EPYC", "cores": 2,
        "isa_flags": ["avx2", "avx512f", "fma"], "mcpu": "znver4"}


def test_zen4_and_zen5_vms_of_the_same_name_get_different_ids():
    zen5 = ZEN4 | {"family": "26", "model_id": "2", "mcpu": "znver5"}
    assert host_identity.host_id(ZEN4) != host_identity.host_id(zen5)
    assert host_identity.host_id(ZEN4) == host_identity.host_id(dict(ZEN4))
    assert host_identity.host_id(ZEN4).startswith("authenticamd-f25-m17-2c-znver4-")
    assert host_identity.host_id(ZEN4 | {"cores": 4}) != host_identity.host_id(ZEN4)


def test_this_hosts_fingerprint_names_its_cpu_cores_and_runtimes():
    fp = host_identity.fingerprint()
    assert fp["host_id"] == host_identity.host_id(fp)
    assert fp["cores"] >= 1 and fp["mcpu"] and "onnxruntime" in fp["runtimes"]


def test_a_profile_row_records_the_host_id_and_foreign_cpu_share():
    timing = Timing(2.0, 2.1, 0.1, 1.9, 2.3, 10, 5)
    measurement = Measurement(timing, "onnxruntime", "onnxruntime-1", "cpu threads=2", 0, False,
                              foreign_cpu_share=0.012)
    features = {c: 1 for c in COLUMNS} | {"key": "conv3x3:x", "op": "conv3x3"}
    row = make_row("local-cpu", features, measurement)
    assert row["host_id"] == host_identity.fingerprint()["host_id"]
    assert row["foreign_cpu_share"] == 0.012
