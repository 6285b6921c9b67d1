"""Groups. In the sandbox a group is a contact of type Group (as `GET /contacts` shows it too)."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.api import Ctx, route
from wrike_mcp.sandbox.entities import Contact
from wrike_mcp.sandbox.errors import not_found

# Accepted scopes of the groups method group in Wrike's 2020 reference.
GROUP_READ = frozenset({"amReadOnlyGroup", "amReadWriteGroup"})


def render_group(group: Contact, me: str, fields: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id,
        "accountId": ids.ACCOUNT_ID,
        "title": group.name,
        "memberIds": list(group.member_ids),
        "childIds": [],
        "parentIds": [],
        "avatarUrl": f"https://www.wrike.com/avatars/{group.id}.png",
        "myTeam": me in group.member_ids,
    }
    if "metadata" in fields:
        body["metadata"] = [{"key": k, "value": v} for k, v in group.metadata.items()]
    return body


# Group paging is not modelled: the sandbox's few groups always fit one page.
@route("GET", "/groups", "groups", GROUP_READ, ["metadata", "fields"], accepted=["pageSize", "pageToken"])
def list_groups(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(["metadata"])
    ctx.params.string("metadata")
    groups = [c for c in ctx.state.contacts.values() if c.type == "Group" and not c.deleted]
    return [render_group(g, ctx.user.id, fields) for g in groups]


@route("GET", "/groups/{groupId}", "groups", GROUP_READ, ["fields"])
def get_group(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(["metadata"])
    group = ctx.state.contacts.get(ctx.one_id("groupId"))
    if group is None or group.type != "Group":
        raise not_found("Group", ctx.one_id("groupId"))
    return [render_group(group, ctx.user.id, fields)]


ROUTES = [list_groups, get_group]
