"""Tool modules stay independent: each is imported at its tool's first call (see server.py `build_tool`), so a
tool module importing another would load that one too and undo the lazy loading the manifest bought. Shared
code lives in the non-tool helper modules of wrike_mcp/tools (inputs, output, render, task_search, ...)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import wrike_mcp
from wrike_mcp.tools.registry import TOOL_MODULES

SRC = Path(wrike_mcp.__file__).resolve().parent.parent
TOOLS = SRC / "wrike_mcp" / "tools"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts)


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of the file names, at any depth (function-level ones included);
    `from package import name` counts as importing `package.name` too, since `name` may be a module."""
    package = module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def tool_module_imports() -> dict[str, set[str]]:
    """Module of wrike_mcp/tools → the tool modules it imports (other than itself)."""
    tool_modules = set(TOOL_MODULES)
    return {
        module_name(path): (imported_modules(path) & tool_modules) - {module_name(path)}
        for path in sorted(TOOLS.glob("*.py"))
    }


def test_the_tool_modules_are_found() -> None:
    modules = {module_name(path) for path in TOOLS.glob("*.py")}
    assert set(TOOL_MODULES) <= modules and len(TOOL_MODULES) > 10


def test_no_module_of_the_tools_package_imports_a_tool_module() -> None:
    """Neither a tool module (it would load another toolset's code at its first call) nor a helper module
    (every tool module importing it would); the registry imports them by name, at a call."""
    offending = {module: sorted(found) for module, found in tool_module_imports().items() if found}
    assert offending == {}, f"move what these share into a helper module of wrike_mcp/tools: {offending}"


def test_the_scan_sees_function_level_and_relative_imports(tmp_path: Path) -> None:
    probe = TOOLS / "_probe_imports.py"
    probe.write_text(
        "def later():\n    from wrike_mcp.tools import tasks\n    from .folders import x\n"
        "import wrike_mcp.tools.directory\n",
        encoding="utf-8",
    )
    try:
        found = tool_module_imports()["wrike_mcp.tools._probe_imports"]
    finally:
        probe.unlink()
    assert found == {"wrike_mcp.tools.tasks", "wrike_mcp.tools.folders", "wrike_mcp.tools.directory"}


@pytest.mark.parametrize("module", TOOL_MODULES)
def test_importing_a_tool_module_loads_no_other(module: str) -> None:
    """What the first call of one of its tools imports, in a fresh interpreter (this one imported them all)."""
    script = "import importlib, sys; importlib.import_module(sys.argv[1]); print(sorted(set(sys.argv[2:]) & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script, module, *TOOL_MODULES], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == repr([module])
