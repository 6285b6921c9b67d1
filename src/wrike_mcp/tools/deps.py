"""What a tool reaches through its MCP context: the Wrike client, the resolver, the settings, the user's today.

A server runs in one of four modes (`WrikeContext.mode`): against the built-in sandbox, with a permanent token,
with the OAuth grant of `wrike-mcp auth login`, or remote (multi-user HTTP, each request its signed-in user's).
The first three serve one `StaticContext`; remote mode serves `UserContexts`, one per request.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mcp.server.mcpserver import Context
from mcp.types import ClientCapabilities

from wrike_mcp import scopes as scope_rules
from wrike_mcp.config import Settings

if TYPE_CHECKING:
    from wrike_mcp.wrike.client import WrikeClient
    from wrike_mcp.wrike.resolve import Resolver


Mode = Literal["sandbox", "permanent token", "oauth", "oauth (remote, multi-user)"]


@dataclass
class WrikeContext:
    settings: Settings
    client: WrikeClient
    granted_scopes: frozenset[str] | None = None  # None: unknown (permanent token without WRIKE_SCOPES)
    mode: Mode = "permanent token"
    # Sign bulk update previews (tools/bulk.py), never sent out: random per server; in remote mode derived per
    # user from each configured secret key, so a preview made on one replica is applied on another, also while
    # the key is being rotated. The first signs, every one verifies.
    preview_keys: tuple[bytes, ...] = field(default_factory=lambda: (secrets.token_bytes(32),), repr=False)
    # The resolver and its caches; a remote user's outlives a request. Built at first use otherwise, so that
    # its module and Wrike's models stay out of a cold start (the first tool call imports them).
    given_resolver: Resolver | None = field(default=None, repr=False)

    @property
    def resolver(self) -> Resolver:
        if self.given_resolver is None:
            from wrike_mcp.wrike.resolve import Resolver

            self.given_resolver = Resolver(self.client)
        return self.given_resolver

    def hooked(self, on_request: Callable[[str, str], None]) -> WrikeContext:
        """This context for one call, whose Wrike requests (the resolver's too) `on_request` hears: the
        access log's count. The client and the resolver's caches stay shared."""
        client = self.client.hooked(on_request)
        return dataclasses.replace(self, client=client, given_resolver=self.resolver.bound(client))


async def user_zone(deps: WrikeContext) -> tuple[str, tzinfo]:
    """The user's Wrike time zone (the `timezone` of `me`): its name and the zone; UTC when Wrike names none
    this machine knows."""
    name = (await deps.resolver.me()).timezone
    try:
        return (name, ZoneInfo(name)) if name else ("UTC", UTC)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", UTC


async def today(deps: WrikeContext) -> date:
    """Today for the user: the date in their Wrike time zone. Every due, overdue and relative date counts
    from it, never from the server's clock zone."""
    _, zone = await user_zone(deps)
    return datetime.now(zone).date()


def can_elicit(capabilities: ClientCapabilities | None) -> bool:
    """Whether a client can answer a form elicitation (to confirm a delete, say)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


# Multi-user serving (remote mode) puts the signed-in user's context in the HTTP request's ASGI scope under
# this key; the server copies it into REQUEST_CONTEXT for the duration of each MCP request.
REQUEST_CONTEXT_KEY = "wrike_mcp.context"
REQUEST_CONTEXT: ContextVar[WrikeContext | None] = ContextVar("wrike_mcp_request_context", default=None)
# The capabilities of the client of the MCP request being handled (whether it can confirm a delete, say).
CLIENT_CAPABILITIES: ContextVar[ClientCapabilities | None] = ContextVar(
    "wrike_mcp_client_capabilities", default=None
)


class ContextProvider(Protocol):
    """Where each request's WrikeContext comes from (what `create_server` takes)."""

    @property
    def offered_scopes(self) -> frozenset[str] | None:
        """The scopes that decide which tools the server registers (None: unknown, so all)."""
        ...

    def current(self) -> WrikeContext:
        """The context of the request being handled."""
        ...


@dataclass(frozen=True)
class StaticContext:
    """One context for every request: the sandbox, a permanent token or `auth login`'s grant."""

    context: WrikeContext

    @property
    def offered_scopes(self) -> frozenset[str] | None:
        return self.context.granted_scopes

    def current(self) -> WrikeContext:
        return self.context


@dataclass(frozen=True)
class UserContexts:
    """Remote mode: each request is its signed-in user's, whose context the HTTP gate puts in the request
    (REQUEST_CONTEXT_KEY). Every tool is registered; each user is offered those their scopes cover."""

    offered_scopes: frozenset[str] = scope_rules.KNOWN_SCOPES

    def current(self) -> WrikeContext:
        state = REQUEST_CONTEXT.get()
        if state is None:
            raise RuntimeError(
                "no Wrike context for this request (remote mode serves authenticated HTTP only)"
            )
        return state


def wrike(ctx: Context[Any]) -> WrikeContext:
    contexts: ContextProvider = ctx.request_context.lifespan_context
    return contexts.current()


# ---- toolsets a session turns on (enable_toolsets) -----------------------------------------------------------


@dataclass(frozen=True)
class ToolsetView:
    """A toolset as one session sees it."""

    name: str
    summary: str
    tools: tuple[str, ...]  # the tools it holds that this user's grant and the server's filters allow
    on: bool
    switchable: bool  # off, and this server lets a session turn it on


@runtime_checkable
class ToolsetSwitch(Protocol):
    """What enable_toolsets asks of the server (WrikeMCPServer implements it; tools never import the server)."""

    def toolset_views(self) -> list[ToolsetView]: ...

    def why_no_switch(self) -> str | None:
        """None when this session can turn toolsets on; else why not, and what to do instead."""
        ...

    async def turn_on(self, ctx: Context[Any], names: list[str]) -> list[str]:
        """Turn these toolsets on for this session and tell the client its tool list changed; returns the
        names that were off. ToolError for a name it cannot turn on."""
        ...


def toolset_switch(ctx: Context[Any]) -> ToolsetSwitch:
    server = ctx.mcp_server
    if not isinstance(server, ToolsetSwitch):
        raise RuntimeError("enable_toolsets runs on wrike-mcp's own server only")
    return server
