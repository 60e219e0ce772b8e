"""The package list of pyproject.toml names every Python package of the project, and the
carried data is found the same way from a clone and from an install."""
import tomllib
from pathlib import Path

from codesign_common import public_data

REPO = Path(__file__).resolve().parents[1]


def test_pyproject_lists_every_package_and_maps_the_data_folder():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    dirs = config["package-dir"]
    listed = {p: REPO / dirs.get(p, p.replace(".", "/")) for p in config["packages"]}
    found = {".".join(p.parent.relative_to(REPO).parts) for top in ("codesign", "codesign_common", "devices",
                                                                     "predictors", "benchmarks")
             for p in (REPO / top).rglob("__init__.py")}
    assert found | {"codesign_data"} == set(listed)
    assert all((path / "__init__.py").is_file() for path in listed.values())
    assert dirs == {"codesign_data": "data"}


def test_carried_data_is_found_in_the_clone():
    assert public_data.DATA_DIR.resolve() == (REPO / "data").resolve()
    assert public_data.NB201_HELP.is_file()
