"""Spaces. In the sandbox a space is a folder directly under the account root with space settings."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox.api import READ, WORKFLOW_READ, Ctx, route
from wrike_mcp.sandbox.entities import Folder
from wrike_mcp.sandbox.routes.common import title_contains
from wrike_mcp.sandbox.routes.meta import render_custom_field, render_workflow


def render_space(space: Folder, fields: set[str]) -> dict[str, Any]:
    info = space.space
    assert info is not None
    body: dict[str, Any] = {
        "id": space.id,
        "title": space.title,
        "avatarUrl": f"https://www.wrike.com/static/spaceicons2/v3/{space.legacy_id % 9}.png",
        "accessType": info.access_type,
        "archived": info.archived,
        "description": space.description,
        "defaultProjectWorkflowId": info.default_project_workflow_id,
        "defaultTaskWorkflowId": info.default_task_workflow_id or space.workflow_id,
        "suggestedProjectWorkflowIds": list(info.suggested_project_workflow_ids),
        "suggestedTaskWorkflowIds": list(info.suggested_task_workflow_ids),
    }
    if body["defaultProjectWorkflowId"] is None:  # a space still on classic project statuses
        del body["defaultProjectWorkflowId"]
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


# Work schedules are not modelled: workScheduleId is accepted and never emitted. The suggested workflow
# ids are always in a space (2026 sample), so asking for them changes nothing.
SPACE_FIELDS = ("members", "workScheduleId")
SPACE_BY_ID_FIELDS = (*SPACE_FIELDS, "suggestedProjectWorkflows", "suggestedTaskWorkflows")


ACCESS_TYPES = ("Locked", "Personal", "Private", "Public")


@route(
    "GET",
    "/spaces",
    "spaces",
    READ,
    ["withArchived", "userIsMember", "fields", "title", "accessTypes"],
    accepted=["withInvitations"],  # invitations are not modelled
)
def list_spaces(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(SPACE_FIELDS)
    with_archived = ctx.params.boolean("withArchived", False)
    member_only = ctx.params.boolean("userIsMember", False)
    title = ctx.params.string("title", non_empty=True)  # "accepts non-blank values only" (ver154)
    access_types = ctx.params.enum_list("accessTypes", ACCESS_TYPES, comma=True)
    found = []
    for folder in ctx.state.folders.values():
        if folder.space is None or folder.deleted:
            continue
        if title is not None and not title_contains(folder.title, title):
            continue
        if access_types and folder.space.access_type not in access_types:
            continue
        if folder.space.archived and not with_archived:
            continue
        if member_only and not _is_member(folder, ctx.user.id):
            continue
        found.append(render_space(folder, fields))
    return found


@route("GET", "/spaces/{spaceId}", "spaces", READ, ["fields"], accepted=["withInvitations"])
def get_space(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(SPACE_BY_ID_FIELDS)
    return [render_space(ctx.state.space(ctx.one_id("spaceId")), fields)]


@route("GET", "/spaces/{spaceId}/workflows", "workflows", WORKFLOW_READ, ["fields"])
def list_space_workflows(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.state.space(ctx.one_id("spaceId"))
    ctx.params.fields(["dataUsageStatistics"])
    # The sandbox has account-level workflows only, and every space may use them (assumption).
    return [render_workflow(w) for w in ctx.state.workflows.values()]


@route("GET", "/spaces/{spaceId}/customfields", "customfields", READ, ["applicableEntityTypes", "fields"])
def list_space_custom_fields(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    ctx.params.fields(["dataUsageStatistics"])
    ctx.params.string_list("applicableEntityTypes")
    # The space's own fields; account-level fields come from GET /customfields (assumption).
    return [render_custom_field(f) for f in ctx.state.custom_fields.values() if f.space_id == space.id]


ROUTES = [list_spaces, get_space, list_space_workflows, list_space_custom_fields]
