"""Folder and task blueprints, their launch (`launch_async`) and the async jobs that report on it.

Scopes: the 2020 reference has no blueprint methods; the sandbox gives the lists the workspace read scopes
and the launches the write ones, as for `POST /copy_folder_async` [assumption]."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox import blueprints
from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route
from wrike_mcp.sandbox.entities import AsyncJob, Blueprint
from wrike_mcp.sandbox.params import Params, parse_date
from wrike_mcp.sandbox.routes.common import (
    custom_fields_match,
    paged,
    render_custom_fields,
    resumed_params,
    title_contains,
)
from wrike_mcp.sandbox.state import SandboxState

SCOPES = {"folder": "BpFolder", "task": "BpTask"}  # [assumption] after WsFolder/WsTask, RbFolder/RbTask
MAX_CUSTOM_FIELD_FILTERS = 25


def render_blueprint(state: SandboxState, blueprint: Blueprint, fields: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": blueprint.id,
        "title": blueprint.title,
        "childIds": [b.id for b in state.blueprint_children(blueprint.id, blueprint.kind)],
        "scope": SCOPES[blueprint.kind],
        "permalink": blueprint.permalink,
    }
    if "customFields" in fields:
        body["customFields"] = render_custom_fields(blueprint.custom_fields)
    return body


def render_job(job: AsyncJob) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": job.id,
        "status": job.status,
        "progressPercent": job.processed_count * 100 // job.total_count if job.total_count else 100,
        "totalCount": job.total_count,
        "processedCount": job.processed_count,
        "type": job.type,
    }
    if job.result is not None:
        body["result"] = job.result
    if job.error_message is not None and job.status == "Failed":
        body["errorMessage"] = job.error_message
    return body


def _root(state: SandboxState, blueprint: Blueprint) -> Blueprint:
    while blueprint.parent_id is not None:
        blueprint = state.blueprints[blueprint.parent_id]
    return blueprint


def _listed(state: SandboxState, kind: str, space_id: str | None) -> list[Blueprint]:
    """Every blueprint of this kind in the account or a space. Task blueprints inside a folder blueprint are
    part of that blueprint and launch with it, so they are not listed as task blueprints [assumption]."""
    found = []
    for blueprint in state.blueprints.values():
        root = _root(state, blueprint)
        if blueprint.kind != kind or root.kind != kind:
            continue
        if space_id is None or root.space_id == space_id:
            found.append(blueprint)
    return found


def _filtered(ctx: Ctx, params: Params, found: list[Blueprint]) -> list[Blueprint]:
    permalink = params.string("permalink")
    if permalink is not None:
        found = [b for b in found if b.permalink == permalink]
    title = params.string("title")
    if title is not None:
        found = [b for b in found if title_contains(b.title, title)]
    matches = custom_fields_match(params, ctx.state, MAX_CUSTOM_FIELD_FILTERS)
    if matches is not None:
        found = [b for b in found if matches(b.custom_fields)]
    return found


@route(
    "GET", "/folder_blueprints", "folderBlueprints", READ, ["permalink", "title", "customFields", "fields"]
)
def list_folder_blueprints(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(["customFields"])
    found = _filtered(ctx, ctx.params, _listed(ctx.state, "folder", None))
    return [render_blueprint(ctx.state, b, fields) for b in found]


@route("GET", "/spaces/{spaceId}/folder_blueprints", "folderBlueprints", READ, ["permalink", "fields"])
def list_space_folder_blueprints(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    fields = ctx.params.fields(["customFields"])
    found = _filtered(ctx, ctx.params, _listed(ctx.state, "folder", space.id))
    return [render_blueprint(ctx.state, b, fields) for b in found]


def _task_blueprints(ctx: Ctx, route_key: str, space_id: str | None) -> list[dict[str, Any]]:
    params, offset = resumed_params(ctx, route_key)
    fields = params.fields(["customFields"])
    found = _filtered(ctx, params, _listed(ctx.state, "task", space_id))
    return [render_blueprint(ctx.state, b, fields) for b in paged(ctx, route_key, params, found, offset)]


@route(
    "GET",
    "/task_blueprints",
    "taskBlueprints",
    READ,
    ["permalink", "title", "limit", "pageSize", "nextPageToken", "customFields", "fields"],
)
def list_task_blueprints(ctx: Ctx) -> list[dict[str, Any]]:
    return _task_blueprints(ctx, "task_blueprints", None)


@route(
    "GET",
    "/spaces/{spaceId}/task_blueprints",
    "taskBlueprints",
    READ,
    ["permalink", "limit", "pageSize", "nextPageToken", "fields"],
)
def list_space_task_blueprints(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    return _task_blueprints(ctx, f"task_blueprints:{space.id}", space.id)


LAUNCH_PARAMS = [
    "title",
    "titlePrefix",
    "copyDescriptions",
    "notifyResponsibles",
    "copyResponsibles",
    "copyCustomFields",
    "copyAttachments",
    "rescheduleDate",
    "rescheduleMode",
    "entryLimit",
]


def _options(params: Params) -> blueprints.LaunchOptions:
    title = params.string("title", required=True, non_empty=True)
    assert title is not None
    reschedule = params.string("rescheduleDate")
    # The digest: rescheduleMode is "used only if reschedule date is specified", so alone it is ignored.
    mode = params.enum("rescheduleMode", ["Start", "End"]) or "Start"
    params.boolean("notifyResponsibles")  # the sandbox sends no notifications
    params.boolean("copyAttachments")  # the seed's blueprints carry no attachments: nothing to copy
    return blueprints.LaunchOptions(
        title=title,
        title_prefix=params.string("titlePrefix") or "",
        copy_descriptions=bool(params.boolean("copyDescriptions", True)),
        copy_responsibles=bool(params.boolean("copyResponsibles", True)),
        copy_custom_fields=bool(params.boolean("copyCustomFields", True)),
        reschedule_date=parse_date(reschedule, "rescheduleDate") if reschedule is not None else None,
        reschedule_mode=mode,
        entry_limit=params.integer("entryLimit", minimum=1, maximum=250) or 250,
    )


@route(
    "POST",
    "/folder_blueprints/{folderBlueprintId}/launch_async",
    "asyncJob",
    WRITE,
    ["parent", *LAUNCH_PARAMS],
)
def launch_folder_blueprint(ctx: Ctx) -> list[dict[str, Any]]:
    state = ctx.state
    blueprint = state.blueprint(ctx.one_id("folderBlueprintId"), "folder")
    parent_id = ctx.params.string("parent", required=True, non_empty=True)
    assert parent_id is not None
    parent = state.writable_parent(parent_id, "parent")
    options = _options(ctx.params)
    return [render_job(blueprints.launch_folder(state, blueprint, parent, ctx.user, options))]


@route(
    "POST",
    "/task_blueprints/{taskBlueprintId}/launch_async",
    "asyncJob",
    WRITE,
    ["parentId", "superTaskId", *LAUNCH_PARAMS],
)
def launch_task_blueprint(ctx: Ctx) -> list[dict[str, Any]]:
    state, params = ctx.state, ctx.params
    blueprint = state.blueprint(ctx.one_id("taskBlueprintId"), "task")
    parent_id = params.string("parentId", non_empty=True)
    super_task_id = params.string("superTaskId", non_empty=True)
    parent, super_task = state.placement(parent_id, super_task_id)
    options = _options(params)
    return [render_job(blueprints.launch_task(state, blueprint, parent, super_task, ctx.user, options))]


@route("GET", "/async_job/{asyncJobId}", "asyncJob", READ)
def get_async_job(ctx: Ctx) -> list[dict[str, Any]]:
    return [render_job(ctx.state.poll_job(ctx.one_id("asyncJobId")))]


ROUTES = [
    list_folder_blueprints,
    list_space_folder_blueprints,
    list_task_blueprints,
    list_space_task_blueprints,
    launch_folder_blueprint,
    launch_task_blueprint,
    get_async_job,
]
