"""Spaces. In the sandbox a space is a folder directly under the account root with space settings."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox.api import READ, Ctx, route
from wrike_mcp.sandbox.routes.common import title_contains
from wrike_mcp.sandbox.state import Folder


def render_space(space: Folder, fields: set[str]) -> dict[str, Any]:
    info = space.space
    assert info is not None
    body: dict[str, Any] = {
        "id": space.id,
        "title": space.title,
        "avatarUrl": f"https://www.wrike.com/static/spaceicons2/v3/{space.legacy_id % 9}.png",
        "accessType": info.access_type,
        "archived": info.archived,
    }
    if "members" in fields:
        body["members"] = [
            {"id": contact_id, "accessRoleId": role_id, "isManager": manager}
            for contact_id, role_id, manager in info.members
        ]
    if info.access_type == "Public" and info.guest_role_id:
        body["guestRoleId"] = info.guest_role_id
    return body


def _is_member(space: Folder, contact_id: str) -> bool:
    return space.space is not None and any(member[0] == contact_id for member in space.space.members)


@route("GET", "/spaces", "spaces", READ, ["withArchived", "userIsMember", "fields", "title"])
def list_spaces(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(["members"])
    with_archived = ctx.params.boolean("withArchived", False)
    member_only = ctx.params.boolean("userIsMember", False)
    title = ctx.params.string("title", non_empty=True)  # "accepts non-blank values only" (ver154)
    found = []
    for folder in ctx.state.folders.values():
        if folder.space is None or folder.deleted:
            continue
        if title is not None and not title_contains(folder.title, title):
            continue
        if folder.space.archived and not with_archived:
            continue
        if member_only and not _is_member(folder, ctx.user.id):
            continue
        found.append(render_space(folder, fields))
    return found


@route("GET", "/spaces/{spaceId}", "spaces", READ, ["fields"])
def get_space(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(["members"])
    return [render_space(ctx.state.space(ctx.one_id("spaceId")), fields)]


ROUTES = [list_spaces, get_space]
