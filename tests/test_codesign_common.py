"""codesign_common: the one atomic writer and the exclusive lock."""
import os
import stat

import pytest

from codesign_common.atomic import atomic_path, write_text_atomic


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def test_written_file_gets_the_umasks_permissions_not_0600(tmp_path, umask_027):
    path = write_text_atomic(tmp_path / "report.csv", "a,b\n1,2\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == "a,b\n1,2\n"


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_text_atomic(tmp_path / "genotype.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genotype.json"]


def test_two_writers_of_one_path_get_distinct_temporaries(tmp_path):
    with atomic_path(tmp_path / "x.csv") as first, atomic_path(tmp_path / "x.csv") as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_text("1")
        second.write_text("2")
    assert (tmp_path / "x.csv").read_text() == "1"  # the outer writer renamed last


def test_a_held_lock_is_refused_at_once_naming_the_holder(tmp_path):
    from codesign_common.locks import LockBusy, exclusive_lock

    with exclusive_lock(tmp_path / ".lock", "the output folder"):
        with pytest.raises(LockBusy, match=f"pid {os.getpid()}"):
            with exclusive_lock(tmp_path / ".lock", "the output folder"):
                pass
    with exclusive_lock(tmp_path / ".lock", "the output folder"):  # released after the block
        pass
