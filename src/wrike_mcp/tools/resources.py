"""MCP resources (wrike://me, wrike://task/{id}, wrike://folder/{id}, wrike://workflows) and completions."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer


def register(server: MCPServer[Any]) -> None:
    """Placeholder until the resources are built (issue 3)."""
