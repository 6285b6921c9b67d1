"""The one place wrike-mcp touches private attributes of the MCP SDK.

Everything else uses the SDK's public surface (including the overridable `MCPServer.list_tools`,
`list_resources`, ... and middleware). Each function here names the private attribute it relies on; they were
written for the SDK versions in `WRITTEN_FOR`, and tests/test_sdk_adapter.py exercises each one, so an SDK
upgrade that moves one fails there first, naming it.
"""

from __future__ import annotations

from typing import Any

from mcp.server.lowlevel.server import RequestHandler
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

# The `mcp` requirement of pyproject.toml when this module was last checked against the SDK's source.
WRITTEN_FOR = "mcp>=2.3,<3"


def registered_tool(server: MCPServer[Any], name: str) -> Tool:
    """The SDK's record of a tool added with `add_tool`, to adjust its schemas in place.

    Private: `MCPServer._tool_manager`; there is no public getter for the `Tool` (only its wire form).
    """
    tool = server._tool_manager.get_tool(name)
    if tool is None:
        raise KeyError(f"tool {name} is not registered")
    return tool


def has_tool(server: MCPServer[Any], name: str) -> bool:
    """Whether a tool of this name was added. Private: `MCPServer._tool_manager`."""
    return server._tool_manager.get_tool(name) is not None


def add_request_handler(
    server: MCPServer[Any], method: str, params_type: type[Any], handler: RequestHandler[Any, Any]
) -> None:
    """Serve a JSON-RPC method MCPServer has no decorator for (e.g. `logging/setLevel`).

    Private: `MCPServer._lowlevel_server`.
    """
    server._lowlevel_server.add_request_handler(method, params_type, handler)
