"""The MCP SDK's private attributes wrike-mcp relies on (all in wrike_mcp/sdk_adapter.py) still work.

An SDK upgrade that moves one fails here first, naming it, instead of somewhere deep in a tool test.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.types import EmptyResult, SetLevelRequestParams
from packaging.requirements import Requirement

from wrike_mcp.sdk_adapter import WRITTEN_FOR, add_request_handler, has_tool, registered_tool

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_the_installed_sdk_is_in_the_range_the_adapter_was_written_for() -> None:
    written_for = Requirement(WRITTEN_FOR)
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    [declared] = [Requirement(line) for line in dependencies if Requirement(line).name == "mcp"]
    assert declared == written_for, (
        f"pyproject.toml now asks for {declared}, sdk_adapter.py was written for {WRITTEN_FOR}: check each of "
        "its functions against the SDK's source, then update WRITTEN_FOR"
    )
    installed = version("mcp")
    assert written_for.specifier.contains(installed), (
        f"mcp {installed} is installed, outside {WRITTEN_FOR}, the range sdk_adapter.py was written for"
    )


def echo(text: str) -> str:
    """Echo the text."""
    return text


def test_registered_tool_is_the_sdks_record_of_the_tool() -> None:
    """`MCPServer._tool_manager`: the record whose schema `tools/list` publishes, changeable in place."""
    server = MCPServer(name="adapter")
    server.add_tool(echo, name="echo")
    tool = registered_tool(server, "echo")
    assert tool.name == "echo" and set(tool.parameters["properties"]) == {"text"}
    with pytest.raises(KeyError, match="tool nope is not registered"):
        registered_tool(server, "nope")


def test_has_tool_says_whether_a_tool_was_added() -> None:
    server = MCPServer(name="adapter")
    assert not has_tool(server, "echo")
    server.add_tool(echo, name="echo")
    assert has_tool(server, "echo") and not has_tool(server, "nope")


async def test_a_schema_changed_in_the_record_is_what_clients_see() -> None:
    server = MCPServer(name="adapter")
    server.add_tool(echo, name="echo")
    registered_tool(server, "echo").parameters = {
        "type": "object",
        "properties": {"text": {"type": "string"}},
    }
    async with Client(server) as client:
        [listed] = (await client.list_tools()).tools
    assert listed.input_schema == {"type": "object", "properties": {"text": {"type": "string"}}}


async def test_add_request_handler_serves_a_method_mcpserver_has_no_decorator_for() -> None:
    """`MCPServer._lowlevel_server.add_request_handler`."""
    levels: list[str] = []

    async def set_level(ctx: ServerRequestContext[Any], params: SetLevelRequestParams) -> EmptyResult:
        levels.append(params.level)
        return EmptyResult()

    server = MCPServer(name="adapter")
    add_request_handler(server, "logging/setLevel", SetLevelRequestParams, set_level)
    async with Client(server, mode="legacy") as client:  # logging/setLevel exists up to 2025-11-25
        await client.set_logging_level("warning")
    assert levels == ["warning"]
