"""MCP prompts: task triage and a project status report."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer


def register(server: MCPServer[Any]) -> None:
    """Placeholder until the prompts are built (issue 3)."""
