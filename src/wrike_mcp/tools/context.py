"""The `context` toolset: who the assistant is acting as, and against which Wrike."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import today, user_zone, wrike
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import role_of
from wrike_mcp.wrike.models import Account


class Me(Model):
    user: Ref = Field(description="the Wrike user the credentials act as")
    email: str | None = None
    role: str | None = Field(default=None, description="User, Collaborator or Owner/Admin")
    account: Ref
    api_host: str = Field(description="the Wrike API base URL in use (data centre)")
    granted_scopes: list[str] | None = Field(
        default=None, description="Wrike scopes of the credentials; absent when unknown (permanent token)"
    )
    mode: str = Field(description="sandbox, permanent token or oauth")
    today: str = Field(
        description="the user's date (YYYY-MM-DD) in their time zone: overdue and relative dates count from it"
    )
    time_zone: str = Field(description="the user's Wrike time zone, e.g. America/New_York (UTC if unknown)")


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="Who am I in Wrike")
async def get_me(ctx: Context[Any]) -> Me:
    """Who you act as in Wrike: user, email, role, account, API host, granted scopes, server mode; and the
    user's today and time zone."""
    deps = wrike(ctx)
    me = await deps.resolver.me()
    zone_name, _ = await user_zone(deps)
    account = await deps.client.get_one("/account", model=Account)
    return Me(
        user=Ref(id=me.id, name=show_title(me.name) or None),
        email=me.email,
        role=role_of(me),
        account=Ref(id=account.id, name=show_title(account.name) or None),
        api_host=deps.client.base_url,
        granted_scopes=sorted(deps.granted_scopes) if deps.granted_scopes is not None else None,
        mode=deps.mode,
        today=(await today(deps)).isoformat(),
        time_zone=zone_name,
    )
