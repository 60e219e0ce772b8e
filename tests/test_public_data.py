"""The public latency data travels with the clone, unchanged (checksums in data/PROVENANCE.md)."""
import hashlib
import re

from codesign_common import public_data


def test_every_public_data_file_matches_its_recorded_checksum():
    table = (public_data.DATA_DIR / "PROVENANCE.md").read_text()
    sums = dict((name, digest) for name, digest in
                re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", table, flags=re.M))
    assert len(sums) == 7
    for name, digest in sums.items():
        data = (public_data.DATA_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_the_named_data_files_exist_in_the_clone():
    for path in (public_data.NB201_HELP, public_data.NB201_ARCHS,
                 public_data.tophub_log("arm_cpu_v0.08.log")):
        assert path.is_file(), path
