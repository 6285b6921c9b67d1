"""The MCP SDK's private attributes wrike-mcp relies on (all in wrike_mcp/sdk_adapter.py) still work.

An SDK upgrade that moves one fails here first, naming it, instead of somewhere deep in a tool test.
"""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import pytest
from mcp import Client
from mcp.server.auth.routes import create_auth_routes
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import EmptyResult, SetLevelRequestParams
from packaging.requirements import Requirement
from pydantic import AnyHttpUrl, BaseModel, ValidationError, field_validator
from starlette.routing import Route

from wrike_mcp.sdk_adapter import (
    WRITTEN_FOR,
    add_request_handler,
    announce_tools_list_changed,
    arguments_model,
    has_tool,
    input_schema,
    notify_tools_changed,
    registered_tool,
    rejected_arguments,
    replace_routes,
    reshape_tool,
    session_store,
)

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


def shout(text: str) -> str:
    """Shout the text."""
    raise ToolError("no shouting")


async def test_reshape_tool_changes_what_is_published_and_what_validates() -> None:
    """`Tool.parameters`, `fn_metadata.output_schema` and `fn_metadata.arg_model`, changed in place."""

    def short(model: type[BaseModel]) -> type[BaseModel]:
        def at_most_3(cls: type[BaseModel], value: str) -> str:
            if len(value) > 3:
                raise ValueError("too long")
            return value

        class Short(model):  # type: ignore[misc,valid-type]
            check = field_validator("text")(at_most_3)

        return Short

    def marked(schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "description": "marked"}

    server = MCPServer(name="adapter")
    server.add_tool(echo, name="echo", structured_output=True)
    reshape_tool(server, "echo", schema=marked, arguments=short)
    assert input_schema(server, "echo")["description"] == "marked"
    assert arguments_model(server, "echo").__name__ == "Short"
    async with Client(server) as client:
        [listed] = (await client.list_tools()).tools
        assert listed.input_schema["description"] == "marked"
        assert listed.output_schema is not None and listed.output_schema["description"] == "marked"
        assert (await client.call_tool("echo", {"text": "abc"})).is_error is False
        refused = await client.call_tool("echo", {"text": "abcd"})
    assert refused.is_error and "too long" in refused.content[0].text  # type: ignore[union-attr]


async def test_rejected_arguments_is_the_validation_error_of_arguments_only() -> None:
    """`Tool.run` raises failed arguments as a ToolError chained from pydantic's ValidationError."""
    server = MCPServer(name="adapter")
    server.add_tool(echo, name="echo")
    server.add_tool(shout, name="shout")
    with pytest.raises(ToolError) as bad_arguments:
        await server.call_tool("echo", {"text": 5})
    rejected = rejected_arguments(bad_arguments.value)
    assert isinstance(rejected, ValidationError) and rejected.errors()[0]["loc"] == ("text",)
    with pytest.raises(ToolError) as refused:
        await server.call_tool("shout", {"text": "hi"})
    assert rejected_arguments(refused.value) is None


def test_replace_routes_finds_each_auth_endpoint_the_remote_app_guards() -> None:
    """`create_auth_routes`: one `Route` per endpoint at the paths remote/app.py replaces, the handler as `app`."""
    # the provider is only stored by the handlers, never called while building the routes
    routes = create_auth_routes(
        cast(Any, object()),
        issuer_url=AnyHttpUrl("https://mcp.example.com"),
        client_registration_options=ClientRegistrationOptions(enabled=True),
        revocation_options=RevocationOptions(enabled=True),
    )
    seen: dict[str, Any] = {}

    def keep(route: Route) -> Route:
        seen[route.path] = route.app
        return Route(route.path, endpoint=route.app, methods=["POST"])

    replaced = replace_routes(
        routes,
        {
            "/.well-known/oauth-authorization-server": lambda route: None,
            "/authorize": keep,
            "/token": keep,
            "/revoke": keep,
        },
    )
    assert set(seen) == {"/authorize", "/token", "/revoke"} and all(callable(app) for app in seen.values())
    paths = [route.path for route in replaced if isinstance(route, Route)]
    assert "/.well-known/oauth-authorization-server" not in paths and "/register" in paths
    assert len(replaced) == len(routes) - 1
    with pytest.raises(KeyError, match="no longer serves /nope"):
        replace_routes(routes, {"/nope": keep})


# ---- session state and tools/list_changed (enable_toolsets) ---------------------------------------------


def counting_server() -> MCPServer:
    """A tool that counts its calls in the session's store and says the tool list changed."""
    server = MCPServer("adapter-toy")

    @server.tool()
    async def bump(ctx: Context) -> str:
        store = session_store(ctx.session)
        if store is None:
            return "no session"
        store["n"] = store.get("n", 0) + 1
        await notify_tools_changed(ctx)
        return str(store["n"])

    announce_tools_list_changed(server)
    return server


async def bumps(client: Client) -> list[str]:
    return [
        block.text  # type: ignore[union-attr]
        for _ in range(2)
        for block in (await client.call_tool("bump", {})).content
    ]


async def test_a_handshake_session_keeps_its_store_and_hears_list_changed() -> None:
    """`ServerSession._connection`, `Connection.outbound` per session; `create_initialization_options`."""
    server = counting_server()
    heard: list[str] = []

    async def handler(message: Any) -> None:
        heard.append(str(getattr(getattr(message, "root", message), "method", "")))

    async with (
        Client(server, mode="legacy", message_handler=handler) as one,
        Client(server, mode="legacy") as two,
    ):
        assert (
            one.server_capabilities.tools is not None and one.server_capabilities.tools.list_changed is True
        )
        assert await bumps(one) == ["1", "2"]
        assert await bumps(two) == ["1", "2"]  # another session: another store
    assert heard == ["notifications/tools/list_changed"] * 2


async def test_a_sessionless_request_has_no_store() -> None:
    """The 2026-07-28 in-memory path builds a `Connection` per request, without a standalone channel."""
    async with Client(counting_server(), mode="auto") as client:
        assert await bumps(client) == ["no session", "no session"]
