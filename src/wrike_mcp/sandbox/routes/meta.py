"""Workflows, custom fields, legacy id conversion and the API version."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.api import READ, WORKFLOW_READ, Ctx, route, timestamp
from wrike_mcp.sandbox.entities import CustomField, Workflow
from wrike_mcp.sandbox.errors import parameter_required

ID_TYPES = (
    "ApiV2Account",
    "ApiV2User",
    "ApiV2Folder",
    "ApiV2Task",
    "ApiV2Comment",
    "ApiV2Attachment",
    "ApiV2Timelog",
    "ApiV2RequestForm",  # 2026 digest: the number of a form link's `formid=`
)


def render_workflow(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "standard": workflow.standard,
        "hidden": workflow.hidden,
        "description": workflow.description,
        "customStatuses": [
            {
                "id": s.id,
                "name": s.name,
                "standardName": s.standard_name,
                "color": s.color,
                "standard": s.standard,
                "group": s.group,
                "hidden": s.hidden,
            }
            for s in workflow.statuses
        ],
    }


def render_custom_field(field: CustomField) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": field.id,
        "accountId": ids.ACCOUNT_ID,
        "title": field.title,
        "type": field.type,
        "sharedIds": list(field.shared_ids),
        "settings": dict(field.settings),
        "description": field.description,
        "archived": field.archived,
    }
    if field.space_id is not None:
        body["spaceId"] = field.space_id
    if field.archived_on is not None:
        body["archivedBy"] = field.archived_by
        body["archivedOn"] = timestamp(field.archived_on)
    return body


@route(
    "GET", "/workflows", "workflows", WORKFLOW_READ, accepted=["fields"]
)  # dataUsageStatistics: not modelled
def list_workflows(ctx: Ctx) -> list[dict[str, Any]]:
    return [render_workflow(w) for w in ctx.state.workflows.values()]


CUSTOM_FIELD_TYPES = (
    "CalculatedDate",
    "CalculatedNumeric",
    "Checkbox",
    "Contacts",
    "Currency",
    "Date",
    "DropDown",
    "Duration",
    "LinkToDatabase",
    "Multiple",
    "Numeric",
    "Percentage",
    "Text",
)


@route(
    "GET",
    "/customfields",
    "customfields",
    READ,
    ["applicableEntityTypes", "types", "inheritanceTypes", "title", "fields"],
)
def list_custom_fields(ctx: Ctx) -> list[dict[str, Any]]:
    params = ctx.params
    params.fields(["dataUsageStatistics"])
    params.enum_list("applicableEntityTypes", ["User", "WorkItem"])
    params.enum_list("inheritanceTypes", ["All", "Tasks", "Projects", "Folders"])
    types = params.enum_list("types", CUSTOM_FIELD_TYPES)
    title = params.string("title")
    return [
        render_custom_field(f)
        for f in ctx.state.custom_fields.values()
        if (types is None or f.type in types) and (title is None or f.title == title)
    ]


@route("GET", "/customfields/{customfieldIds}", "customfields", READ, ["applicableEntityTypes", "fields"])
def get_custom_fields(ctx: Ctx) -> list[dict[str, Any]]:
    ctx.params.fields(["dataUsageStatistics"])
    fields = ctx.entities("customfieldIds", ctx.state.custom_fields, "Custom field")
    return [render_custom_field(field) for field in fields]


@route("GET", "/ids", "ids", READ, ["type", "ids"])
def convert_ids(ctx: Ctx) -> list[dict[str, Any]]:
    id_type = ctx.params.enum("type", ID_TYPES, required=True)
    legacy_ids = ctx.params.string_list("ids", comma=True, max_items=100)
    if not legacy_ids:
        raise parameter_required("ids")
    state = ctx.state
    known: dict[str, str] = {}
    if id_type == "ApiV2Account":
        known[str(ids.LEGACY_BASE["ApiV2Account"])] = ids.ACCOUNT_ID
    elif id_type == "ApiV2User":
        known = {str(c.legacy_id): c.id for c in state.contacts.values()}
    elif id_type == "ApiV2Folder":
        known = {str(f.legacy_id): f.id for f in state.folders.values()}
    elif id_type == "ApiV2Task":
        known = {str(t.legacy_id): t.id for t in state.tasks.values()}
    elif id_type == "ApiV2Comment":
        known = {str(c.legacy_id): c.id for c in state.comments.values()}
    elif id_type == "ApiV2Timelog":
        known = {str(t.legacy_id): t.id for t in state.timelogs.values()}
    elif id_type == "ApiV2RequestForm":
        known = state.form_legacy_ids()
    # Unknown legacy ids are left out of the answer rather than failing the whole conversion.
    return [{"id": known[legacy], "apiV2Id": legacy} for legacy in legacy_ids if legacy in known]


@route("GET", "/version", "version", None)
def get_version(ctx: Ctx) -> list[dict[str, Any]]:
    return [{"major": 4, "minor": 0}]


ROUTES = [list_workflows, list_custom_fields, get_custom_fields, convert_ids, get_version]
