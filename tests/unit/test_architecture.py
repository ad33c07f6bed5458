"""The import graph is the architecture (ARCHITECTURE.md): layers, no upward import, no cycle.

Every import of the package's own modules counts (module top, function-local, inside ``try``), except
those under ``if TYPE_CHECKING:``. The fresh-interpreter check that importing ``spec`` loads no other
part is in ``tests/unit/spec/test_catalog.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "airflow_provider_scheduler"
ROOT = Path(__file__).resolve().parents[2] / PACKAGE

#: Bottom up, as ARCHITECTURE.md draws it. A part may import parts of its own layer or below.
LAYERS: dict[str, int] = {
    "spec": 0,
    "rest": 1,
    "get_provider_info": 2,
    "store": 2,
    "hooks": 2,
    "timetables": 3,
    "triggers": 3,
    "sensors": 3,
    "operators": 3,
    "notifications": 3,
    "templates": 4,
    "factory": 5,
    "cli": 6,
    "plugin": 6,
}


def _part_of(module: str) -> str | None:
    if not module.startswith(PACKAGE + "."):
        return None
    return module.split(".")[1]


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str | None = None) -> list[tuple[str, int]]:
    """(imported module, line) for every import outside ``if TYPE_CHECKING:`` blocks.

    :param module: the dotted name the file is imported as (default: from its place in the package).
    """
    is_pkg = path.name == "__init__.py"
    if module is None:
        module, is_pkg = _module_name(path)
    found: list[tuple[str, int]] = []
    stack: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # ``from PACKAGE import part`` names a part too
            found.extend((f"{target}.{alias.name}", node.lineno) for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _edges() -> dict[tuple[str, str], list[str]]:
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        source, _ = _module_name(path)
        src = _part_of(source) or ""
        for target, line in _imports(path):
            dst = _part_of(target)
            if dst and src and dst != src and dst in LAYERS:
                edges.setdefault((src, dst), []).append(f"{path.relative_to(ROOT.parent)}:{line}")
    return edges


class TestImportLayers:
    def test_every_part_has_a_layer(self):
        parts = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} | {
            p.stem for p in ROOT.glob("*.py") if p.name != "__init__.py"
        }
        assert parts - set(LAYERS) == set(), "add the new part to LAYERS and to ARCHITECTURE.md"

    def test_no_part_imports_a_layer_above_it(self):
        upward = {
            f"{src} -> {dst}": where for (src, dst), where in _edges().items() if LAYERS[dst] > LAYERS[src]
        }
        assert upward == {}

    def test_no_cycle_between_parts(self):
        graph: dict[str, set[str]] = {}
        for src, dst in _edges():
            graph.setdefault(src, set()).add(dst)

        def reaches(start: str, goal: str, seen: set[str]) -> bool:
            for nxt in graph.get(start, ()):
                if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                    return True
            return False

        assert [part for part in graph if reaches(part, part, {part})] == []

    @pytest.mark.parametrize("part", ["spec", "rest"])
    def test_ground_floor_imports_nothing_of_the_package(self, part):
        assert {dst: where for (src, dst), where in _edges().items() if src == part} == {}

    def test_the_checker_sees_function_local_imports(self, tmp_path):
        # A checker that missed local imports would pass a hidden cycle (the v1 spec <-> templates).
        probe = ROOT / "spec" / "parser.py"
        assert any(target.startswith(f"{PACKAGE}.spec") for target, _ in _imports(probe))
        fake = tmp_path / "m.py"
        fake.write_text(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import airflow_provider_scheduler.cli\n"
            "def f():\n    from airflow_provider_scheduler.templates import registry\n"
        )
        targets = {t for t, _ in _imports(fake, module=f"{PACKAGE}.spec.m")}
        assert "airflow_provider_scheduler.templates.registry" in targets
        assert "airflow_provider_scheduler.cli" not in targets
