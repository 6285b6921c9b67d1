"""Folders and projects: the folder tree, folder details, create, update, delete and restore."""

from __future__ import annotations

from typing import Any

from wrike_mcp.sandbox import ids
from wrike_mcp.sandbox.api import READ, WRITE, Ctx, route, timestamp
from wrike_mcp.sandbox.backend import FolderChanges, ProjectChanges
from wrike_mcp.sandbox.entities import Folder, Project
from wrike_mcp.sandbox.errors import invalid_parameter
from wrike_mcp.sandbox.params import parse_date, timestamp_range
from wrike_mcp.sandbox.routes.common import (
    CustomFieldFilter,
    brief,
    custom_field_updates,
    paged,
    people,
    render_custom_fields,
    resumed_params,
    title_contains,
)
from wrike_mcp.sandbox.routes.contacts import metadata_filter, metadata_matches, metadata_updates
from wrike_mcp.sandbox.state import SandboxState

LIST_FIELDS = (
    "metadata",
    "hasAttachments",
    "attachmentCount",
    "description",
    "briefDescription",
    "customFields",
    "customColumnIds",
    "superParentIds",
    "space",
    "contractType",
    "customItemTypeId",  # 2026 digest: emitted for a project created from a custom item type
    # 2026 digest; no finance here: accepted, never emitted.
    "finance",
)
GET_FIELDS = (
    "briefDescription",
    "customColumnIds",
    "attachmentCount",
    "contractType",
    "customItemTypeId",
    "finance",
    "accessRoles",
    "cascadingFields",
)
TREE_PARAMS = [
    "permalink",
    "descendants",
    "metadata",
    "customField",
    "updatedDate",
    "project",
    "contractTypes",
    "customStatuses",
    "fields",
    "title",
    "authors",
    "owners",
    "pageSize",
    "nextPageToken",
]
# Documented in 2026 and not modelled: project date filters, the newer custom field filter, custom item
# types, invitations and HTML stripping. Accepted without effect (docs/FIDELITY.md).
TREE_ACCEPTED = [
    "startDate",
    "endDate",
    "completedDate",
    "customFields",
    "customItemTypes",
    "plainTextCustomFields",
    "withInvitations",
]
# Any of these switches a tree query from folder-tree entries to the Folder model.
FILTER_PARAMS = (
    "permalink",
    "descendants",
    "metadata",
    "customField",
    "updatedDate",
    "project",
    "deleted",
    "contractTypes",
    "customStatuses",
    "fields",
    "title",
    "authors",
    "owners",
    "pageSize",  # paging: "Only 'folders' kind is supported"
    "nextPageToken",
)


def folder_scope(folder: Folder) -> str:
    if folder.id == ids.ROOT_FOLDER_ID:
        return "WsRoot"
    if folder.id == ids.RECYCLE_BIN_ID:
        return "RbRoot"
    return "RbFolder" if folder.deleted else "WsFolder"


def render_project(project: Project) -> dict[str, Any]:
    body: dict[str, Any] = {"ownerIds": list(project.owner_ids)}
    if project.status is not None:  # a project in a project workflow has only customStatusId (2026 sample)
        body["status"] = project.status
    if project.author_id:
        body["authorId"] = project.author_id
    if project.custom_status_id:
        body["customStatusId"] = project.custom_status_id
    if project.start_date:
        body["startDate"] = project.start_date
    if project.end_date:
        body["endDate"] = project.end_date
    if project.created_date:
        body["createdDate"] = timestamp(project.created_date)
    if project.completed_date:
        body["completedDate"] = timestamp(project.completed_date)
    return body


def render_tree_entry(state: SandboxState, folder: Folder) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": folder.id,
        "title": folder.title,
        "childIds": state.child_folder_ids(folder.id),
        "scope": folder_scope(folder),
    }
    if folder.color:
        body["color"] = folder.color
    if folder.project is not None:
        body["project"] = render_project(folder.project)
    if folder.space is not None:
        body["space"] = True
    return body


def render_folder(state: SandboxState, folder: Folder, fields: set[str], *, by_id: bool) -> dict[str, Any]:
    """The Folder model. By id it carries description, custom fields and the like by default; in
    filtered list queries those come only through `fields`."""
    body: dict[str, Any] = {
        "id": folder.id,
        "accountId": ids.ACCOUNT_ID,
        "title": folder.title,
        "createdDate": timestamp(folder.created),
        "updatedDate": timestamp(folder.updated),
    }
    if by_id or "description" in fields:
        body["description"] = folder.description
    if "briefDescription" in fields:
        body["briefDescription"] = brief(folder.description)
    if folder.color:
        body["color"] = folder.color
    body["sharedIds"] = list(folder.shared_ids)
    body["parentIds"] = list(folder.parent_ids)
    body["childIds"] = state.child_folder_ids(folder.id)
    if by_id or "superParentIds" in fields:
        body["superParentIds"] = []
    body["scope"] = folder_scope(folder)
    if by_id or "hasAttachments" in fields or "attachmentCount" in fields:
        count = state.attachment_count(folder_id=folder.id)
        if by_id or "hasAttachments" in fields:
            body["hasAttachments"] = count > 0
        if "attachmentCount" in fields:
            body["attachmentCount"] = count
    body["permalink"] = folder.permalink
    body["workflowId"] = folder.workflow_id
    if by_id or "metadata" in fields:
        body["metadata"] = [{"key": k, "value": v} for k, v in folder.metadata.items()]
    if by_id or "customFields" in fields:
        body["customFields"] = render_custom_fields(folder.custom_fields)
    if "customColumnIds" in fields:
        body["customColumnIds"] = list(state.custom_fields)
    if folder.project is not None:
        body["project"] = render_project(folder.project)
    if "customItemTypeId" in fields and folder.custom_item_type_id is not None:
        body["customItemTypeId"] = folder.custom_item_type_id
    if "space" in fields:
        body["space"] = (
            folder.space is not None
        )  # listed in the 2020 `fields` enum, see the fidelity allow-list
    return body


def _query_folders(ctx: Ctx, below: str | None) -> list[dict[str, Any]]:
    route_key = f"folders:{below}"
    ctx.params, offset = resumed_params(ctx, route_key)
    state, params = ctx.state, ctx.params
    filtered = any(params.present(name) for name in FILTER_PARAMS)
    descendants = params.boolean("descendants", True)
    if below is None:
        candidates = [
            f for f in state.folders.values() if f.id not in (ids.ROOT_FOLDER_ID, ids.RECYCLE_BIN_ID)
        ]
        if not filtered:
            root, bin_ = state.folders[ids.ROOT_FOLDER_ID], state.folders[ids.RECYCLE_BIN_ID]
            ordered = [root, *(state.folders[i] for i in state.descendant_folder_ids(root.id))]
            ordered += [bin_, *(state.folders[i] for i in state.descendant_folder_ids(bin_.id))]
            return [render_tree_entry(state, f) for f in ordered]
        if not descendants:
            candidates = [state.folders[i] for i in state.child_folder_ids(ids.ROOT_FOLDER_ID)]
    else:
        chosen = state.descendant_folder_ids(below) if descendants else state.child_folder_ids(below)
        candidates = [state.folders[i] for i in chosen]
        if not filtered:
            return [render_tree_entry(state, f) for f in candidates]
    fields = params.fields(LIST_FIELDS)
    permalink = params.string("permalink")
    only_projects = params.boolean("project")
    deleted = params.boolean("deleted", False)
    updated = timestamp_range(params, "updatedDate")
    wanted_metadata = metadata_filter(ctx)
    custom_field = CustomFieldFilter(params, state)
    params.enum("contractTypes", ["Billable", "NonBillable"])
    custom_statuses = params.string_list("customStatuses")
    title = params.string("title", non_empty=True)  # "accepts non-blank values only" (ver154)
    # A folder's author and owners are its project's (plain folders have neither in the API), so these
    # "match of any" filters find projects only.
    authors = params.string_list("authors", comma=True)
    owners = params.string_list("owners", comma=True)
    found = []
    for folder in candidates:
        if folder.deleted != deleted and below is None:
            continue
        if permalink is not None and folder.permalink != permalink:
            continue
        if title is not None and not title_contains(folder.title, title):
            continue
        if only_projects is not None and (folder.project is not None) != only_projects:
            continue
        if updated is not None and not updated.contains(folder.updated):
            continue
        if authors and (folder.project is None or folder.project.author_id not in authors):
            continue
        if owners and (folder.project is None or not set(folder.project.owner_ids) & set(owners)):
            continue
        if custom_statuses is not None and (
            folder.project is None or folder.project.custom_status_id not in custom_statuses
        ):
            continue
        if not metadata_matches(folder.metadata, wanted_metadata) or not custom_field.matches(
            folder.custom_fields
        ):
            continue
        found.append(folder)
    page = paged(ctx, route_key, params, found, offset, limit_cap=max(len(found), 1))
    return [render_folder(state, folder, fields, by_id=False) for folder in page]


@route("GET", "/folders", "folderTree", READ, [*TREE_PARAMS, "deleted"], accepted=TREE_ACCEPTED)
def list_folders(ctx: Ctx) -> list[dict[str, Any]]:
    return _switch_kind(ctx, _query_folders(ctx, None))


@route("GET", "/folders/{folderId}/folders", "folderTree", READ, TREE_PARAMS, accepted=TREE_ACCEPTED)
def list_subfolders(ctx: Ctx) -> list[dict[str, Any]]:
    folder = ctx.state.folder(ctx.one_id("folderId"))
    return _switch_kind(ctx, _query_folders(ctx, folder.id))


@route(
    "GET", "/spaces/{spaceId}/folders", "folderTree", READ, [*TREE_PARAMS, "deleted"], accepted=TREE_ACCEPTED
)
def list_space_folders(ctx: Ctx) -> list[dict[str, Any]]:
    space = ctx.state.space(ctx.one_id("spaceId"))
    return _switch_kind(ctx, _query_folders(ctx, space.id))


def _switch_kind(ctx: Ctx, data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tree entries travel as kind `folderTree`; the Folder model as kind `folders`."""
    if any(ctx.params.present(name) for name in FILTER_PARAMS):
        ctx.extra["kind"] = "folders"
    return data


@route(
    "GET",
    "/folders/{folderIds}",
    "folders",
    READ,
    ["fields"],
    accepted=["plainTextCustomFields", "withInvitations"],
)
def get_folders(ctx: Ctx) -> list[dict[str, Any]]:
    fields = ctx.params.fields(GET_FIELDS)
    folders = [ctx.state.folder(folder_id) for folder_id in ctx.ids("folderIds")]
    return [render_folder(ctx.state, f, fields, by_id=True) for f in folders]


def _known_people(ctx: Ctx, values: Any, name: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise invalid_parameter(name, "must be an array of contact ids")
    for contact_id in values:
        contact = ctx.state.contacts.get(contact_id)
        if contact is None or contact.deleted or contact.type != "Person":
            raise invalid_parameter(name, f"contains unknown or deactivated user '{contact_id}'")
    return list(values)


CREATE_PARAMS = [
    "title",
    "description",
    "shareds",
    "metadata",
    "customFields",
    "customColumns",
    "project",
    "fields",
]


def _project_dates(raw: dict[str, Any]) -> dict[str, str | None]:
    """The `startDate`/`endDate` a request's project sends, as ISO dates (None clears one)."""
    dates: dict[str, str | None] = {}
    for key, attribute in (("startDate", "start_date"), ("endDate", "end_date")):
        if key in raw:
            value = raw[key]
            dates[attribute] = None if value is None else parse_date(value, f"project.{key}").isoformat()
    return dates


@route(
    "POST",
    "/folders/{folderId}/folders",
    "folders",
    WRITE,
    CREATE_PARAMS,
    # Not modelled: custom item types, access roles, invitations, HTML stripping.
    accepted=["customItemTypeId", "plainTextCustomFields", "userAccessRoles", "withInvitations"],
)
def create_folder(ctx: Ctx) -> list[dict[str, Any]]:
    state = ctx.state
    parent = state.writable_parent(ctx.one_id("folderId"), "folderId")
    title = ctx.params.string("title", required=True, non_empty=True)
    fields = FolderChanges(title=title, add_shareds=people(ctx, "shareds") or [])
    fields.custom_fields = custom_field_updates(ctx)
    project_raw = ctx.params.obj("project")
    fields.description = ctx.params.string("description")
    fields.metadata = metadata_updates(ctx.params.obj_list("metadata"))
    if project_raw is not None:
        for key in project_raw:
            if key not in ("ownerIds", "status", "customStatusId", "startDate", "endDate", "contractType"):
                raise invalid_parameter(f"project.{key}", "is not supported when creating a project")
        fields.project = ProjectChanges(
            owners_add=_known_people(ctx, project_raw.get("ownerIds"), "project.ownerIds"),
            status=project_raw.get("status"),
            custom_status_id=project_raw.get("customStatusId"),
            dates=_project_dates(project_raw),
        )
    ctx.params.fields(["contractType"])
    folder = state.create_folder(ctx.user, parent, fields)
    return [render_folder(state, folder, set(), by_id=True)]


UPDATE_PARAMS = [
    "title",
    "description",
    "addParents",
    "removeParents",
    "addShareds",
    "removeShareds",
    "metadata",
    "restore",
    "customFields",
    "customColumns",
    "project",
    "fields",
]


@route(
    "PUT",
    "/folders/{folderId}",
    "folders",
    WRITE,
    UPDATE_PARAMS,
    # Not modelled: access roles, custom columns, custom item types, invitations, HTML stripping.
    accepted=[
        "addAccessRoles",
        "clearCustomColumns",
        "convertToCustomItemType",
        "plainTextCustomFields",
        "removeAccessRoles",
        "withInvitations",
    ],
)
def update_folder(ctx: Ctx) -> list[dict[str, Any]]:
    state, params = ctx.state, ctx.params
    folder = state.modifiable_folder(ctx.one_id("folderId"))
    changes = FolderChanges(
        restore=params.boolean("restore", False) is True,
        title=params.string("title", non_empty=True),
        description=params.string("description"),
        add_parents=params.string_list("addParents") or [],
        remove_parents=params.string_list("removeParents") or [],
    )
    for name, values in (("addParents", changes.add_parents), ("removeParents", changes.remove_parents)):
        for parent_id in values:
            if parent_id == ids.RECYCLE_BIN_ID:
                raise invalid_parameter(name, "cannot contain the Recycle Bin")
            if parent_id != ids.ROOT_FOLDER_ID:
                state.writable_parent(parent_id, name)
    changes.add_shareds = people(ctx, "addShareds") or []
    changes.remove_shareds = people(ctx, "removeShareds") or []
    changes.metadata = metadata_updates(params.obj_list("metadata"))
    changes.custom_fields = custom_field_updates(ctx)
    params.string_list("customColumns")
    if params.present("project"):
        _project_changes(ctx, changes)
    params.fields(["contractType"])
    state.update_folder(folder, ctx.user, changes)
    return [render_folder(state, folder, set(), by_id=True)]


def _project_changes(ctx: Ctx, changes: FolderChanges) -> None:
    if ctx.params.is_null("project"):
        changes.drop_project = True
        return
    raw = ctx.params.obj("project") or {}
    for key in raw:
        if key not in (
            "ownersAdd",
            "ownersRemove",
            "status",
            "customStatusId",
            "startDate",
            "endDate",
            "contractType",
        ):
            raise invalid_parameter(f"project.{key}", "is not supported when updating a project")
    changes.project = ProjectChanges(
        owners_add=_known_people(ctx, raw.get("ownersAdd"), "project.ownersAdd"),
        owners_remove=_known_people(ctx, raw.get("ownersRemove"), "project.ownersRemove"),
        status=raw.get("status"),
        custom_status_id=raw.get("customStatusId"),
        dates=_project_dates(raw),
    )


@route("DELETE", "/folders/{folderId}", "folders", WRITE)
def delete_folder(ctx: Ctx) -> list[dict[str, Any]]:
    state = ctx.state
    folder = state.folder(ctx.one_id("folderId"))
    state.delete_folder(folder)
    return [render_folder(state, folder, set(), by_id=True)]


ROUTES = [
    list_folders,
    list_subfolders,
    list_space_folders,
    get_folders,
    create_folder,
    update_folder,
    delete_folder,
]
