"""The sandbox's module layout: no import cycles inside it, and nothing from the rest of wrike_mcp.

Imports are read from the source with ast, wherever they stand: one inside a function or under TYPE_CHECKING
still ties the two modules together, and deferring it was how the old `seed ↔ state` cycle hid.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wrike_mcp.sandbox

PACKAGE = "wrike_mcp.sandbox"
ROOT = Path(wrike_mcp.sandbox.__file__).parent
# The one module outside the sandbox it may use: a standard-library-only leaf holding Wrike's audit-log names,
# so the client and the emulator share one list (see its docstring).
ALLOWED_OUTSIDE = {"wrike_mcp.wrike.audit_log"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def sandbox_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """Every wrike_mcp module `path` imports; `from pkg import mod` counts as importing pkg.mod."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {target for target in found if target == "wrike_mcp" or target.startswith("wrike_mcp.")}


def import_graph() -> dict[str, set[str]]:
    modules = sandbox_modules()
    known = set(modules)
    return {name: imported_modules(name, path, known) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that starts and ends at the same module, or None."""
    done: set[str] = set()
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in trail:
            return [*trail[trail.index(node) :], node]
        if node in done or node not in graph:
            return None
        trail.append(node)
        for target in sorted(graph[node]):
            cycle = visit(target)
            if cycle is not None:
                return cycle
        trail.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle is not None:
            return cycle
    return None


def test_the_graph_is_read_from_the_real_modules() -> None:
    graph = import_graph()
    # Edges this layout is built on, so an empty or mis-resolved graph cannot pass the checks below.
    assert f"{PACKAGE}.backend" in graph[f"{PACKAGE}.seed"]
    assert {f"{PACKAGE}.backend", f"{PACKAGE}.seed", f"{PACKAGE}.tokens"} <= graph[f"{PACKAGE}.state"]
    assert f"{PACKAGE}.entities" in graph[f"{PACKAGE}.backend.core"]
    assert f"{PACKAGE}.backend.core" in graph[f"{PACKAGE}.backend.tasks"]
    assert f"{PACKAGE}.routes.tasks" in graph[f"{PACKAGE}.routes"]


def test_the_sandbox_has_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_sees_a_deferred_import_back() -> None:
    graph = import_graph()
    graph[f"{PACKAGE}.seed"].add(f"{PACKAGE}.state")  # what `seed` importing `SandboxState` used to do
    cycle = find_cycle(graph)
    assert cycle is not None
    assert set(cycle) == {f"{PACKAGE}.seed", f"{PACKAGE}.state"}


def test_the_sandbox_imports_nothing_else_from_wrike_mcp() -> None:
    outside = {
        (name, target)
        for name, targets in import_graph().items()
        for target in targets
        if not target.startswith(f"{PACKAGE}.") and target != PACKAGE and target not in ALLOWED_OUTSIDE
    }
    assert outside == set()
