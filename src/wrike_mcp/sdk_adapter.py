"""The one place wrike-mcp relies on the MCP SDK's internals: private attributes, the SDK's record of a tool
(`mcp.server.mcpserver.tools`, `...utilities`), the low-level server, and behaviour only its source states.

Everything else uses the SDK's public surface (including the overridable `MCPServer.list_tools`,
`list_resources`, ... and middleware); tests/test_sdk_internals.py fails on any other use. Each function here
names what it relies on; they were written for the SDK versions in `WRITTEN_FOR`, and
tests/test_sdk_adapter.py exercises each one, so an SDK upgrade that moves one fails there first, naming it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mcp.server.lowlevel.server import NotificationOptions, RequestHandler
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.server.session import ServerSession
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import BaseModel, ValidationError
from starlette.routing import BaseRoute, Route

Schema = dict[str, Any]

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


def reshape_tool(
    server: MCPServer[Any],
    name: str,
    *,
    schema: Callable[[Schema], Schema],
    arguments: Callable[[type[BaseModel]], type[BaseModel]],
    output: Callable[[Schema], Schema] | None = None,
) -> None:
    """Rewrite an added tool in place: its published schemas (`inputSchema` through `schema`, and
    `outputSchema` when it has one through `output`, else `schema` too), and the model validating its
    arguments through `arguments`.

    Relies on the SDK's `Tool` record (see `registered_tool`): `parameters` is the `inputSchema` it publishes,
    `fn_metadata.output_schema` the `outputSchema`, and `fn_metadata.arg_model` validates each call's arguments.
    """
    tool = registered_tool(server, name)
    tool.parameters = schema(tool.parameters)
    model = arguments(tool.fn_metadata.arg_model)
    if not issubclass(model, ArgModelBase):
        raise TypeError(f"the arguments model of {name} must extend the SDK's")
    tool.fn_metadata.arg_model = model
    if tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = (output or schema)(tool.fn_metadata.output_schema)


def input_schema(server: MCPServer[Any], name: str) -> Schema:
    """The `inputSchema` an added tool publishes. Relies on: `Tool.parameters`."""
    return registered_tool(server, name).parameters


def arguments_model(server: MCPServer[Any], name: str) -> type[BaseModel]:
    """The model validating an added tool's arguments. Relies on: `Tool.fn_metadata.arg_model`."""
    return registered_tool(server, name).fn_metadata.arg_model


def rejected_arguments(error: ToolError) -> ValidationError | None:
    """The validation error when a tool call failed because its arguments failed the arguments model, else None.

    Relies on `Tool.run`: it raises such a failure as a `ToolError` (not `UnexpectedToolError`) chained `from`
    pydantic's `ValidationError`.
    """
    if isinstance(error, UnexpectedToolError) or not isinstance(error.__cause__, ValidationError):
        return None
    return error.__cause__


def replace_routes(
    routes: Sequence[BaseRoute], replacements: Mapping[str, Callable[[Route], BaseRoute | None]]
) -> list[BaseRoute]:
    """The SDK's routes (`create_auth_routes`) with the one at each path of `replacements` replaced by what its
    function returns for it (None: left out), e.g. a guard around the SDK's handler (`route.app`).

    Relies on the SDK's route layout: each endpoint one `Route` at its path, its handler (CORS included) as
    `app`. KeyError naming a path the SDK no longer serves, so a guard wrapped around it cannot silently go.
    """
    served = {route.path for route in routes if isinstance(route, Route)}
    missing = sorted(set(replacements) - served)
    if missing:
        raise KeyError(f"the MCP SDK no longer serves {', '.join(missing)}: check sdk_adapter.replace_routes")
    replaced: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.path in replacements:
            new = replacements[route.path](route)
            if new is not None:
                replaced.append(new)
        else:
            replaced.append(route)
    return replaced


# Per-client state kept across requests, by the client's channel (see `session_store`).
_SESSION_STORES: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def session_store(session: ServerSession) -> dict[str, Any] | None:
    """State of this client's session that lasts across its requests, or None where each request stands
    alone (the 2026-07-28 protocol over HTTP or in memory, and stateless HTTP in either era).

    Private: `ServerSession._connection`, and that a connection's `outbound` (the standalone channel) is one
    object for the client's whole session: the handshake-era loop builds one `Connection` per session (stdio,
    stateful HTTP: the SDK binds an HTTP session to the credential that opened it), and the 2026-07-28 stdio
    loop one notify-only channel per pipe while it builds a `Connection` per request. A connection without a
    channel (`has_standalone_channel` false) is made for one request. Dropped with the channel.
    """
    connection = session._connection
    if not connection.has_standalone_channel:
        return None
    return _SESSION_STORES.setdefault(connection.outbound, {})


def announce_tools_list_changed(server: MCPServer[Any]) -> None:
    """Advertise `tools.listChanged` to handshake-era clients (2026-07-28 ones learn it from
    `subscriptions/listen`, which MCPServer serves).

    Private: `MCPServer._lowlevel_server` and its `create_initialization_options(notification_options)`, the
    `initialize` answer's source, which MCPServer calls without options (so `listChanged` is false).
    """
    lowlevel = server._lowlevel_server
    build = lowlevel.create_initialization_options

    def with_tools_changed(
        notification_options: NotificationOptions | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        options = notification_options or NotificationOptions()
        options.tools_changed = True
        return build(options, *args, **kwargs)

    lowlevel.create_initialization_options = with_tools_changed  # type: ignore[method-assign]


async def notify_tools_changed(ctx: Context[Any, Any]) -> None:
    """Tell the client of this request (a session `session_store` keeps) that its tool list changed.

    The 2026-07-28 protocol delivers it on the client's `subscriptions/listen` streams, through the server's
    subscription bus (`Context.notify_tools_changed`): only a stdio connection keeps a session in that era, and
    its process serves no other client. The handshake era sends `notifications/tools/list_changed` on the
    session's own standalone channel (`ServerSession.send_tool_list_changed`), never to another session.
    """
    if ctx.request_context.protocol_version in MODERN_PROTOCOL_VERSIONS:
        await ctx.notify_tools_changed()
    else:
        await ctx.session.send_tool_list_changed()
