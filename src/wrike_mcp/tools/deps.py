"""What a tool reaches through its MCP context: the Wrike client, the resolver, the settings."""

from __future__ import annotations

from dataclasses import dataclass
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


def can_elicit(capabilities: ClientCapabilities | None) -> bool:
    """Whether a client can answer a form elicitation (to confirm a delete, say)."""
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def wrike(ctx: Context[Any]) -> WrikeContext:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, WrikeContext), "the server's lifespan yields a WrikeContext"
    return state
