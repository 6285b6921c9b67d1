"""The `projects` toolset: find projects, create and update projects (get_folder shows one with task counts)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.custom_fields import CustomFieldsInput, check_custom_field_input
from wrike_mcp.tools.deps import WrikeContext, wrike
from wrike_mcp.tools.inputs import (
    FOLDER_PHRASE,
    INSTANT_PHRASE,
    MAX_DATE,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    PEOPLE_PHRASE,
    PERSON_PHRASE,
    PLACE_PHRASE,
    check_range,
    clean_title,
    page_slice,
    parse_day,
    parse_instant,
    query_key,
    read_offset_cursor,
    wrike_range,
)
from wrike_mcp.tools.output import Model, Ref, show_title
from wrike_mcp.tools.project_status import status_change, status_filter
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import ProjectInfo, fetch_folder, project_info
from wrike_mcp.tools.writes import NewDescription, NewParent, folder_changes, post_folder
from wrike_mcp.wrike.errors import BadReference, ReferenceNotFound
from wrike_mcp.wrike.models import Folder
from wrike_mcp.wrike.text import fold

MAX_PEOPLE = 20

ProjectRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REF,
        description=FOLDER_PHRASE,
    ),
]
DateArg = Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")]
StatusArg = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=128,
        description="its workflow's status (e.g. In Progress) or group (Completed…); without a workflow: "
        "Green, Yellow, Red, Completed, OnHold, Cancelled",
    ),
]
PeopleArg = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
    Field(max_length=MAX_PEOPLE, description=PEOPLE_PHRASE),
]


async def resolve_project(deps: WrikeContext, ref: str) -> str:
    """A project's id; a reference to a plain folder gets an error saying so rather than "not found"."""
    try:
        return await deps.resolver.folder_id(ref, project_only=True)
    except ReferenceNotFound:
        try:
            folder_id = await deps.resolver.folder_id(ref)
        except BadReference:
            folder_id = None
        if folder_id is None:
            raise
        path = await deps.resolver.folder_path(folder_id)
        raise ToolError(
            f"{path[:120]!r} is a folder, not a project: give a project (list_projects lists them)"
        ) from None


# ---- list_projects -----------------------------------------------------------------------------------------


class ProjectItem(Model):
    id: str
    title: str | None = None
    path: str | None = None
    status: str | None = Field(default=None, description="project status or custom status name")
    owners: list[Ref] = Field(default_factory=list)
    start_date: date | None = None
    end_date: date | None = None
    updated: datetime | None = None


class ProjectList(Model):
    items: list[ProjectItem]
    total: int = Field(
        description="projects matching the filters; Wrike does not page projects, so all were fetched and "
        "the pages are cut here"
    )
    next_cursor: str | None = Field(default=None, description="pass back to get the next page")


def project_dates(
    start: str | None, end: str | None, start_name: str, end_name: str
) -> tuple[date | None, date | None]:
    """Two date arguments of the projects toolset: strictly YYYY-MM-DD (no 'today'), as its schema says."""
    return parse_day(start, start_name), parse_day(end, end_name)


def _in_range(value: date | None, start: date | None, end: date | None) -> bool:
    if start is None and end is None:
        return True
    if value is None:
        return False
    return (start is None or value >= start) and (end is None or value <= end)


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List projects")
async def list_projects(
    ctx: Context[Any],
    within: Annotated[str | None, Field(max_length=MAX_REF, description=PLACE_PHRASE)] = None,
    status: StatusArg = None,
    owner: Annotated[str | None, Field(max_length=200, description=PERSON_PHRASE)] = None,
    text: Annotated[str | None, Field(min_length=1, max_length=200, description="words in the title")] = None,
    start_from: DateArg = None,
    start_to: DateArg = None,
    end_from: DateArg = None,
    end_to: DateArg = None,
    updated_since: Annotated[
        str | None, Field(max_length=MAX_DATE, description=f"changed since: {INSTANT_PHRASE}")
    ] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="projects per page")] = 50,
    cursor: Annotated[str | None, Field(max_length=200, description="from next_cursor")] = None,
) -> ProjectList:
    """Find projects by place, status, owner, title words, start/end dates or last update; sorted by path."""
    deps = wrike(ctx)
    starts = project_dates(start_from, start_to, "start_from", "start_to")
    ends = project_dates(end_from, end_to, "end_from", "end_to")
    check_range(*starts, "start_from", "start_to")
    check_range(*ends, "end_from", "end_to")
    since = parse_instant(updated_since, "updated_since")
    wanted_words = fold(text).split() if text else []
    if text is not None and not wanted_words:
        raise ToolError("text is blank: give words the project title contains, or omit text")
    key = query_key(
        within=within, status=status, owner=owner, text=text, starts=starts, ends=ends, since=since
    )
    offset = read_offset_cursor(cursor, key)

    owner_id = await deps.resolver.person_id(owner) if owner is not None else None
    params: dict[str, Any] = {"project": True}
    if since is not None:
        params["updatedDate"] = wrike_range(since, None)
    path = "/folders"
    if within is not None:
        path = f"/folders/{await deps.resolver.folder_id(within)}/folders"
    projects = await deps.client.get(path, params, model=Folder)
    in_projects = [folder.project for folder in projects if folder.project is not None]
    wanted_status = await status_filter(deps, status, in_projects) if status else None

    matches: list[Folder] = []
    for folder in projects:
        project = folder.project
        if project is None or (folder.scope or "").startswith("Rb"):
            continue
        if wanted_status is not None and not wanted_status.matches(project):
            continue
        if owner_id is not None and owner_id not in project.owner_ids:
            continue
        title = fold(folder.title)
        if any(word not in title for word in wanted_words):
            continue
        if not _in_range(project.start_date, *starts) or not _in_range(project.end_date, *ends):
            continue
        if since is not None and folder.updated_date is not None and folder.updated_date < since:
            continue
        matches.append(folder)

    paths = {folder.id: await deps.resolver.folder_path(folder.id) for folder in matches}
    matches.sort(key=lambda f: (paths[f.id].casefold(), f.id))
    page, next_cursor = page_slice(matches, offset, limit, key)
    items = []
    for folder in page:
        info = await project_info(deps, folder)
        assert info is not None
        items.append(
            ProjectItem(
                id=folder.id,
                title=show_title(folder.title),
                path=paths[folder.id] if paths[folder.id] != folder.id else None,
                status=info.status,
                owners=info.owners,
                start_date=info.start_date,
                end_date=info.end_date,
                updated=folder.updated_date,
            )
        )
    return ProjectList(items=items, total=len(matches), next_cursor=next_cursor)


# ---- create_project ----------------------------------------------------------------------------------------


class ProjectSummary(Model):
    id: str
    title: str | None = None
    path: str | None = None
    permalink: str | None = None
    project: ProjectInfo | None = None
    changed: list[str] = Field(default_factory=list, description="what the call changed")


async def summary(deps: WrikeContext, folder: Folder, changed: list[str] | None = None) -> ProjectSummary:
    """The project as a write's answer shows it (no re-read; the resolver's tree has it from the write)."""
    path = await deps.resolver.folder_path(folder.id)
    info = await project_info(deps, folder)
    return ProjectSummary(
        id=folder.id,
        title=show_title(folder.title),
        path=path if path != folder.id else None,
        permalink=folder.permalink,
        project=info,
        changed=changed or [],
    )


@wrike_tool(
    scopes=[scopes.WS_READ_WRITE],
    title="Create a project",
    kind="write",
    idempotent=False,
)
async def create_project(
    ctx: Context[Any],
    parent: NewParent,
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="project title")],
    description: NewDescription = None,
    owners: PeopleArg = None,
    status: StatusArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    custom_fields: CustomFieldsInput = None,
) -> ProjectSummary:
    """Create a project in a space or folder with owners, status and dates; returns id, path, permalink."""
    deps = wrike(ctx)
    clean = clean_title(title, "project")
    start, end = project_dates(start_date, end_date, "start_date", "end_date")
    check_range(start, end, "start_date", "end_date")
    check_custom_field_input(custom_fields)
    parent_id = await deps.resolver.folder_id(parent)
    owner_ids = await deps.resolver.person_ids(owners)
    project: dict[str, Any] = {}
    if owner_ids:
        project["ownerIds"] = owner_ids
    if status is not None:
        project |= await status_change(deps, status, None, parent_id)
    if start is not None:
        project["startDate"] = start.isoformat()
    if end is not None:
        project["endDate"] = end.isoformat()
    created = await post_folder(deps, parent_id, clean, description, project, custom_fields)
    return await summary(deps, created)


# ---- update_project ----------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Update a project", kind="write", idempotent=True)
async def update_project(
    ctx: Context[Any],
    project: ProjectRef,
    title: Annotated[str | None, Field(min_length=1, max_length=MAX_TITLE, description="new title")] = None,
    description: Annotated[
        str | None,
        Field(max_length=MAX_TEXT, description="replaces it; '' clears it"),
    ] = None,
    status: StatusArg = None,
    add_owners: PeopleArg = None,
    remove_owners: PeopleArg = None,
    start_date: DateArg = None,
    end_date: DateArg = None,
    clear_start_date: Annotated[bool, Field(description="remove the start date")] = False,
    clear_end_date: Annotated[bool, Field(description="remove the end date")] = False,
    custom_fields: CustomFieldsInput = None,
) -> ProjectSummary:
    """Change a project's title, description, status, owners (add/remove), dates (set/clear) or custom fields.

    Returns the project afterwards and what changed.
    """
    deps = wrike(ctx)
    new_title = clean_title(title, "project") if title is not None else None
    start, end = project_dates(start_date, end_date, "start_date", "end_date")
    if start is not None and clear_start_date:
        raise ToolError("start_date and clear_start_date contradict each other: give one of them")
    if end is not None and clear_end_date:
        raise ToolError("end_date and clear_end_date contradict each other: give one of them")
    check_range(start, end, "start_date", "end_date")
    check_custom_field_input(custom_fields)
    if all(
        value in (None, False, [], {})
        for value in (title, description, status, add_owners, remove_owners, start, end, custom_fields)
    ) and not (clear_start_date or clear_end_date):
        raise ToolError(
            "nothing to update: give at least one of title, description, status, add_owners, remove_owners, "
            "start_date, end_date, clear_start_date, clear_end_date, custom_fields"
        )
    project_id = await resolve_project(deps, project)
    current = await fetch_folder(deps, project_id)
    if current.project is None:
        raise ToolError(
            f"{show_title(current.title)!r} is a folder, not a project: it cannot be updated here"
        )
    existing = current.project
    effective_start = None if clear_start_date else (start or existing.start_date)
    effective_end = None if clear_end_date else (end or existing.end_date)
    check_range(effective_start, effective_end, "start date", "end date")

    adding = await deps.resolver.person_ids(add_owners)
    removing = await deps.resolver.person_ids(remove_owners)
    both = set(adding) & set(removing)
    if both:
        raise ToolError("the same person is in add_owners and remove_owners: keep them in one list only")

    changes: dict[str, Any] = {}
    changed: list[str] = []
    if status is not None:
        changes |= await status_change(deps, status, current, None)
        changed.append("status")
    if adding:
        changes["ownersAdd"] = adding
        changed.append("owners added")
    if removing:
        changes["ownersRemove"] = removing
        changed.append("owners removed")
    if start is not None or clear_start_date:
        changes["startDate"] = start.isoformat() if start else None
        changed.append("start date cleared" if clear_start_date else "start date")
    if end is not None or clear_end_date:
        changes["endDate"] = end.isoformat() if end else None
        changed.append("end date cleared" if clear_end_date else "end date")
    body, fields_changed = await folder_changes(
        deps, title=new_title, description=description, custom_fields=custom_fields
    )
    changed = fields_changed + changed
    if changes:
        body["project"] = changes
    updated = (await deps.client.put(f"/folders/{project_id}", body, model=Folder))[0]
    return await summary(deps, updated, changed)
