"""The sandbox's module layout: no import cycles inside it, a package's `__init__` and its modules included
(import-linter's acyclic_siblings contract compares siblings only), and nothing from the rest of wrike_mcp.

The imports are import-linter's own graph (grimp), which counts an import wherever it stands: one inside a
function or under TYPE_CHECKING still ties the two modules together, and deferring it was how the old
`seed ↔ state` cycle hid.
"""

from __future__ import annotations

import grimp

PACKAGE = "wrike_mcp.sandbox"
# The one module outside the sandbox it may use: a standard-library-only leaf holding Wrike's audit-log names,
# so the client and the emulator share one list (see its docstring).
ALLOWED_OUTSIDE = {"wrike_mcp.wrike.audit_log"}


def import_graph() -> dict[str, set[str]]:
    """Each sandbox module → the wrike_mcp modules it imports (`from pkg import mod` names pkg.mod)."""
    graph = grimp.build_graph("wrike_mcp", cache_dir=None)
    return {
        name: set(graph.find_modules_directly_imported_by(name)) - {name}
        for name in graph.modules
        if name == PACKAGE or name.startswith(f"{PACKAGE}.")
    }


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
