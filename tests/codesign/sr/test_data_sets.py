"""Standard SR sets by name (codesign.sr.data.sets): the carried Set5, the manifest, resolution."""
import hashlib

import pytest
from PIL import Image

from codesign.sr.data import DataError, load_hr_images, load_pairs, sets
from codesign.sr.data.sets import (
    CARRIED,
    SETS,
    TEST_SETS,
    manifest,
    present_test_sets,
    resolve_data,
)


@pytest.fixture
def empty_root(tmp_path, monkeypatch):
    root = tmp_path / "data_root"
    monkeypatch.setenv("CODESIGN_DATA", str(root))
    return root


def test_carried_set5_is_byte_identical_to_its_manifest_rows():
    rows = manifest("set5")
    assert sorted(r.file for r in rows) == ["baby.png", "bird.png", "butterfly.png", "head.png",
                                            "woman.png"]
    for row in rows:
        data = (CARRIED["set5"] / row.file).read_bytes()
        assert len(data) == row.bytes and hashlib.sha256(data).hexdigest() == row.sha256


def test_manifest_lists_every_fetchable_set_once_with_well_formed_sums():
    counts = {"set5": 5, "set14": 14, "b100": 100, "urban100": 100, "manga109": 109,
              "t91": 91, "bsd200": 200, "291": 291, "div2k": 0}
    assert {name: len(manifest(name)) for name in SETS} == counts
    rows = manifest("291") + [r for name in TEST_SETS for r in manifest(name)]
    assert len({(r.set, r.file) for r in rows}) == len(rows)
    assert all(len(r.sha256) == 64 and int(r.sha256, 16) >= 0 and r.bytes > 0 for r in rows)
    assert all(len(r.commit) == 40 for r in rows)


def test_set5_resolves_to_the_carried_copy_with_nothing_fetched(empty_root):
    assert resolve_data("set5") == CARRIED["set5"]
    assert resolve_data("Set5") == CARRIED["set5"]
    pairs = load_pairs("set5", "val", 4)
    assert [name for name, _, _ in pairs] == ["baby", "bird", "butterfly", "head", "woman"]
    assert pairs[2][1].shape == (64, 64, 3) and pairs[2][2].shape == (256, 256, 3)
    assert present_test_sets() == ["set5"]


def test_a_folder_of_that_name_wins_over_the_set(tmp_path, monkeypatch, empty_root):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "set5").mkdir()
    Image.new("RGB", (40, 40)).save(tmp_path / "set5" / "mine.png")
    assert [name for name, _ in load_hr_images("set5", "val")] == ["mine"]


def test_a_set_not_fetched_is_one_line_saying_how_to_fetch_it(empty_root):
    with pytest.raises(DataError) as err:
        load_pairs("b100", "val", 4)
    message = str(err.value)
    assert "python -m codesign.data fetch b100" in message and "\n" not in message
    with pytest.raises(DataError, match="DIV2K_train_HR.zip"):
        resolve_data("div2k")


def test_unknown_names_and_none_pass_through_unchanged(empty_root):
    assert resolve_data(None) is None
    assert str(resolve_data("no/such/folder")) == "no/such/folder"
    with pytest.raises(DataError, match="does not exist"):
        load_hr_images("no_such_set_or_folder", "train")


def test_div2k_and_291_resolve_once_their_files_are_in_place(empty_root, tmp_path, monkeypatch):
    (empty_root / "div2k" / "DIV2K_train_HR").mkdir(parents=True)
    Image.new("RGB", (32, 32), (9, 9, 9)).save(empty_root / "div2k" / "DIV2K_train_HR" / "0001.png")
    assert [n for n, _ in load_hr_images("div2k", "train")] == ["0001"]
    # A small manifest stands in for the real one: 291 = t91 + bsd200, each complete.
    files = {"t91": ("t1.bmp", b"a" * 7), "bsd200": ("2092.png", b"b" * 5)}
    table = tmp_path / "manifest.csv"
    table.write_text("set,file,repo,commit,path,bytes,sha256\n" + "".join(
        f"{s},{f},o/r,{'0' * 40},{f},{len(d)},{hashlib.sha256(d).hexdigest()}\n"
        for s, (f, d) in files.items()))
    monkeypatch.setattr(sets, "MANIFEST", table)
    with pytest.raises(DataError, match="fetch 291"):
        resolve_data("291")
    for name, (file, data) in files.items():
        path = sets.set_folder(name) / file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    assert resolve_data("291") == empty_root / "291"
    assert resolve_data("t91") == empty_root / "291" / "t91"
