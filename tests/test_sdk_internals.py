"""Only wrike_mcp/sdk_adapter.py relies on the MCP SDK's internals, so an SDK upgrade breaks in one module whose
every function tests/test_sdk_adapter.py exercises.

The rule, from what the adapter wraps: outside it, code imports from the SDK only the modules listed in PUBLIC
(what the SDK's own documentation and examples build servers and authorization servers from), never a name
or module starting with `_`; it reads no `_private` attribute of anything (the adapter's `_tool_manager` and
`_lowlevel_server` are the SDK's), and assigns no attribute of an SDK module or class.
"""

from __future__ import annotations

import ast
from pathlib import Path

import wrike_mcp

PACKAGE = Path(wrike_mcp.__file__).resolve().parent
ADAPTER = PACKAGE / "sdk_adapter.py"

# The SDK's public surface as wrike-mcp uses it. Not here, so only for the adapter: the record of a tool and its
# argument model (mcp.server.mcpserver.tools, ...utilities), the low-level server (mcp.server.lowlevel.server).
PUBLIC = (
    "mcp",
    "mcp.types",
    "mcp.server.mcpserver",  # MCPServer, Context, Elicit ... (its __all__)
    "mcp.server.mcpserver.exceptions",
    "mcp.server.mcpserver.resolve",
    "mcp.server.context",  # middleware: ServerMiddleware, CallNext, ServerRequestContext
    "mcp.server.lowlevel.helper_types",  # ReadResourceContents, in the overridable read_resource's signature
    "mcp.server.request_state",
    "mcp.server.transport_security",
    "mcp.server.auth",  # the authorization server: provider, routes, settings, middleware (and below)
    "mcp.shared.auth",
)
# namedtuple's public methods carry an underscore so as not to clash with field names
NAMEDTUPLE = {"_replace", "_asdict", "_fields", "_make", "_field_defaults"}


def is_public(module: str) -> bool:
    return any(
        module == public or (public == "mcp.server.auth" and module.startswith("mcp.server.auth."))
        for public in PUBLIC
    )


def sdk_uses(path: Path) -> list[str]:
    """What in the file relies on the SDK's internals, as `line: what`."""
    found: list[str] = []
    sdk_names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "mcp" or alias.name.startswith("mcp."):
                    sdk_names.add((alias.asname or alias.name).split(".")[0])
                    if not is_public(alias.name) or "._" in alias.name:
                        found.append(f"{node.lineno}: import {alias.name}")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and (node.module == "mcp" or node.module.startswith("mcp."))
        ):
            # `from package import module` imports that module
            names = [alias.name for alias in node.names]
            if "._" in node.module or not all(
                is_public(node.module) or is_public(f"{node.module}.{name}") for name in names
            ):
                found.append(f"{node.lineno}: from {node.module} import ...")
            for alias in node.names:
                sdk_names.add(alias.asname or alias.name)
                if alias.name.startswith("_"):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = ast.unparse(node.value)
            if owner not in ("self", "cls") and node.attr not in NAMEDTUPLE:
                found.append(f"{node.lineno}: {owner}.{node.attr}")
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute):
                root = target.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in sdk_names:
                    found.append(f"{target.lineno}: assigns {ast.unparse(target)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and node.args
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id in sdk_names
        ):
            found.append(f"{node.lineno}: setattr({node.args[0].id}, ...)")
    return sorted(found, key=lambda use: int(use.split(":")[0]))


def test_only_the_adapter_relies_on_sdk_internals() -> None:
    offending = {
        str(path.relative_to(PACKAGE)): uses
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != ADAPTER and (uses := sdk_uses(path))
    }
    assert offending == {}, f"go through wrike_mcp/sdk_adapter.py for these: {offending}"


def test_the_adapter_is_what_the_rule_exempts() -> None:
    """The adapter itself does what the rule forbids elsewhere, so the scan finds something to forbid."""
    uses = "\n".join(sdk_uses(ADAPTER))
    for needle in ("mcp.server.mcpserver.tools", "mcp.server.lowlevel.server", "server._tool_manager"):
        assert needle in uses


def test_the_scan_catches_each_kind_of_use(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import mcp.server.mcpserver.utilities.func_metadata\n"
        "from mcp.server.mcpserver.tools.base import Tool\n"
        "from mcp.types import _Private\n"
        "from mcp.server.mcpserver import MCPServer\n"
        "from mcp.server import auth\n"
        "def f(server, parts):\n"
        "    server._tool_manager.get_tool('x')\n"
        "    parts._replace(netloc='x')\n"
        "    MCPServer.call_tool = None\n"
        "    auth.routes.x = 1\n"
        "    setattr(MCPServer, 'list_tools', None)\n",
        encoding="utf-8",
    )
    assert sdk_uses(probe) == [
        "1: import mcp.server.mcpserver.utilities.func_metadata",
        "2: from mcp.server.mcpserver.tools.base import ...",
        "3: from mcp.types import _Private",
        "7: server._tool_manager",
        "9: assigns MCPServer.call_tool",
        "10: assigns auth.routes.x",
        "11: setattr(MCPServer, ...)",
    ]
