"""Part of the `context` toolset: list the toolsets and turn on, for this conversation, those off by default.

The default tools/list leaves out toolsets few conversations need (registry.OFF_BY_DEFAULT), because every
conversation pays for its bytes. A model that needs one calls enable_toolsets; the server then offers its tools
to this session only and sends `notifications/tools/list_changed` (docs/TOOLSETS.md). The state lives in the
server (WrikeMCPServer, through deps.ToolsetSwitch): where the connection keeps no session, the answer says
which setting turns the toolset on instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp.tools.deps import toolset_switch
from wrike_mcp.tools.output import Model
from wrike_mcp.tools.registry import OFF_BY_DEFAULT, wrike_tool


class ToolsetItem(Model):
    name: str
    on: bool
    about: str
    tools: list[str] = Field(
        default_factory=list, description="an off toolset's tools: what turning it on adds"
    )


class ToolsetList(Model):
    items: list[ToolsetItem]
    turned_on: list[str] = Field(default_factory=list, description="toolsets this call turned on")
    note: str | None = None


@wrike_tool(scopes=[], title="List or turn on toolsets")
async def enable_toolsets(
    ctx: Context[Any],
    toolsets: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=40)]] | None,
        Field(max_length=10, description=f"e.g. {', '.join(sorted(OFF_BY_DEFAULT))}"),
    ] = None,
) -> ToolsetList:
    """Tools off by default: blueprints, attachments, dependencies, bulk task edits, intake (item types,
    request forms), app_activity (audit log). No arguments: each toolset's tools; names: turn them on here."""
    switch = toolset_switch(ctx)
    turned_on = await switch.turn_on(ctx, list(dict.fromkeys(toolsets))) if toolsets else []
    items = [
        ToolsetItem(name=view.name, on=view.on, about=view.summary, tools=[] if view.on else list(view.tools))
        for view in switch.toolset_views()
        if view.on or view.switchable
    ]
    if not items:
        raise ToolError("this server offers no toolsets to this user")
    blocked = switch.why_no_switch()
    note = None
    if turned_on:
        note = "your tool list changed: list the tools again if your client did not"
    elif blocked and any(item.on is False for item in items):
        note = blocked
    return ToolsetList(items=items, turned_on=turned_on, note=note)
