"""The layers are one-way: every import of every module follows ``symgrad.layers``, and no two
modules import each other, directly or around a circle.

Every ``import`` statement counts, at the top of a file or inside a function (where the lazy
imports for start-up live, and where a back edge would hide); the modules are read as text, never
imported. Only the exceptions ``symgrad.layers.EXCEPTIONS`` names may run against the order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from symgrad.layers import EXCEPTIONS, LAYERS, room_of

PACKAGE = Path(__file__).resolve().parents[1] / "symgrad"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("symgrad", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported symgrad module, line) for every import statement of ``module``."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names if alias.name.split(".")[0] == "symgrad"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "symgrad":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"  # from symgrad.render import backends: the module
                out.append((sub if sub in MODULES else target, node.lineno))
    return out


EDGES = {(m, t, line) for m, p in MODULES.items() for t, line in _imports(m, p) if t != m}


def test_every_module_has_a_room() -> None:
    assert [m for m in MODULES if room_of(m) is None] == []


def test_imports_follow_the_layers() -> None:
    wrong = []
    for source, target, line in sorted(EDGES):
        here, there = room_of(source), room_of(target)
        if here is None or there is None or (source, target) in EXCEPTIONS:
            continue
        if there[0] > here[0]:
            wrong.append(f"{source}:{line} imports {target}, a higher layer ({LAYERS[there[0]][0]} above "
                         f"{LAYERS[here[0]][0]})")
        elif there[0] == here[0] and there[1] != here[1]:
            wrong.append(f"{source}:{line} imports {target}, another room of the {LAYERS[here[0]][0]} layer")
    assert wrong == []


def test_the_exceptions_are_still_needed() -> None:
    used = {(s, t) for s, t, _ in EDGES}
    assert [pair for pair in EXCEPTIONS if pair not in used] == []


def test_no_import_cycle() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for source, target, _ in EDGES:
        if target in graph and (source, target) not in EXCEPTIONS:  # those are imported at run time, late
            graph[source].add(target)
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


@pytest.mark.parametrize("source", ["import symgrad.render.backends", "from ..render import backends"])
def test_the_reader_sees_every_form_of_import(tmp_path: Path, source: str) -> None:
    path = tmp_path / "mod.py"
    path.write_text(f"def later():\n    {source}\n", encoding="utf-8")
    assert _imports("symgrad.steps.mod", path) == [("symgrad.render.backends", 2)]
