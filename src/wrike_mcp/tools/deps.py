"""What a tool reaches through its MCP context: the Wrike client, the resolver, the settings."""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import ClientCapabilities

from wrike_mcp.config import Settings
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.resolve import Resolver


@dataclass
class WrikeContext:
    settings: Settings
    client: WrikeClient
    resolver: Resolver
    granted_scopes: frozenset[str] | None  # None: unknown (permanent token without WRIKE_SCOPES)
    mode: str  # "sandbox", "permanent token" or "oauth"
    # Signs bulk update previews (tools/bulk.py); random per server (per user in remote mode), never sent out.
    preview_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)


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


def current(default: WrikeContext | None) -> WrikeContext:
    """This request's user's context (remote mode), else the server's own."""
    state = REQUEST_CONTEXT.get() or default
    if state is None:
        raise RuntimeError("no Wrike context for this request (remote mode serves authenticated HTTP only)")
    return state


def wrike(ctx: Context[Any]) -> WrikeContext:
    default = ctx.request_context.lifespan_context
    return current(default if isinstance(default, WrikeContext) else None)
