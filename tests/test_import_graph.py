"""The declared layering (docs/architecture.md), read from the source with `ast`: imports run
codesign_common ← devices ← predictors ← codesign.space ← codesign.sr ← codesign.hardware ←
codesign.search ← codesign's commands ← benchmarks, no two modules import each other (directly or
round a loop; imports inside functions count), and no module imports a private name (`_x`) of
another layer."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("codesign_common", "devices", "predictors", "codesign", "benchmarks")
# Lowest first; a module belongs to the longest layer its name starts with, so `codesign` itself
# is the layer of the commands beside the parts (codesign.train, codesign.search's CLI is a part).
LAYERS = ("codesign_common", "devices", "predictors", "codesign.space", "codesign.sr",
          "codesign.hardware", "codesign.search", "codesign", "benchmarks")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the layered packages: dotted name → file."""
    return {module_name(p): p for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, list[str]]]:
    """(imported module, names taken from it) for every import statement anywhere in the file,
    inside functions included; `from package import module` counts as importing the module."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(anchor + ([base] if base else []))
            names = [alias.name for alias in node.names]
            submodules = [n for n in names if f"{base}.{n}" in known]
            found += [(f"{base}.{n}", []) for n in submodules]
            found.append((base, [n for n in names if n not in submodules]))
    return [(target, names) for target, names in found if target.split(".")[0] in PACKAGES]


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str, str]]]:
    """({module: modules it imports}, [(importer, imported module, name)] of every from-import)."""
    known = modules()
    graph, taken = {}, []
    for name, path in known.items():
        found = imports(name, path, set(known))
        graph[name] = {target for target, _ in found if target != name}
        taken += [(name, target, n) for target, names in found for n in names]
    return graph, taken


def layer(module: str) -> str:
    return max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """`a -> b` for every import of a higher layer by a lower one."""
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if LAYERS.index(layer(b)) > LAYERS.index(layer(a)))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def private_imports(taken: list[tuple[str, str, str]]) -> list[str]:
    """`importer: from module import _name` where the two modules are in different layers."""
    return sorted(f"{a}: from {b} import {n}" for a, b, n in taken
                  if n.startswith("_") and not n.startswith("__") and layer(a) != layer(b))


def test_no_import_runs_against_the_declared_layers():
    graph, _ = import_graph()
    assert upward_imports(graph) == []


def test_no_modules_import_each_other():
    graph, _ = import_graph()
    assert cycles(graph) == []


def test_no_module_imports_a_private_name_of_another_package():
    _, taken = import_graph()
    assert private_imports(taken) == []


def test_the_graph_reads_lazy_relative_and_submodule_imports(tmp_path, monkeypatch):
    """The checker itself, on a synthetic tree: each rule fires where it should."""
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    files = {
        "codesign_common/__init__.py": "",
        "codesign_common/low.py": "def f():\n    from codesign.top import g\n",
        "codesign/__init__.py": "",
        "codesign/top.py": "from . import other\nfrom devices.mid import _hidden\n",
        "codesign/other.py": "import codesign.top\n",
        "codesign/space/__init__.py": "",
        "codesign/space/ops.py": "from codesign.search.api import run\n",
        "codesign/search/__init__.py": "",
        "codesign/search/api.py": "from codesign.space.ops import OPS\n",
        "devices/__init__.py": "",
        "devices/mid.py": "from codesign_common import low\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    graph, taken = import_graph()
    assert upward_imports(graph) == ["codesign.space.ops -> codesign.search.api",
                                     "codesign_common.low -> codesign.top"]
    assert cycles(graph) == [["codesign.other", "codesign.top", "codesign_common.low", "devices.mid"],
                             ["codesign.search.api", "codesign.space.ops"]]
    assert private_imports(taken) == ["codesign.top: from devices.mid import _hidden"]


@pytest.mark.parametrize("graph, expected", [
    ({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}, [["a.x", "a.y", "a.z"]]),
    ({"a.x": {"a.y"}, "a.y": set()}, []),
])
def test_cycles_are_found_round_loops_not_along_chains(graph, expected):
    assert cycles(graph) == expected
