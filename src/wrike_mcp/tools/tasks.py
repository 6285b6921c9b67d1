"""The `tasks` toolset: search, read, create, update and delete tasks; comments; time logs.

Every reference a person would paste (id, permalink, path, title, `me`, email, full name, status name) goes
through the Resolver. Input that can be refused without asking Wrike (over-long text, impossible dates, empty
updates, bad cursors) is refused before any request. Text written by Wrike users only ever appears in data
fields (titles, descriptions, comments, custom field values), never in the messages this module writes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, can_elicit, wrike
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.tools.inputs import (
    MAX_DATE,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    PagePosition,
    check_range,
    check_status,
    clean_title,
    day_end,
    day_start,
    page_cursor,
    page_slice,
    parse_day,
    person_ids,
    query_key,
    read_offset_cursor,
    read_page_cursor,
    status_group,
    statuses_named,
    text_to_html,
    today,
    wrike_range,
)
from wrike_mcp.tools.output import (
    COMMENT_LIMIT,
    DESCRIPTION_LIMIT,
    Model,
    Ref,
    names_of,
    one_line,
    people_refs,
    plain,
    show_title,
    truncate,
)
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.wrike.errors import BadReference, InvalidParameter, ReferenceNotFound, WrikeError
from wrike_mcp.wrike.models import CustomField
from wrike_mcp.wrike.text import quoted, strip_invisible

TOOLSET = "tasks"

# ---- input limits (refused before any Wrike call) -------------------------------------------------------

MAX_SEARCH_TEXT = 500
MAX_PEOPLE = 50
MAX_CUSTOM_FIELDS = 50
MAX_FIELD_VALUE = 2000  # Wrike stores custom field values as text of at most 2000 characters
MAX_CURSOR = 2000
MAX_TIMELOG_COMMENT = 2000

SEARCH_MAX_PAGES = 10  # pages one search_tasks call may read before it answers with a cursor
TEXT_SEARCH_PAGE = 500  # Wrike page size while matching title words locally (Wrike allows up to 1000)
FIELD_TEXT_LIMIT = 500  # custom field text shown in output
TIMELOG_COMMENT_LIMIT = 500

LIST_FIELDS = ["responsibleIds", "parentIds", "superParentIds", "superTaskIds"]

Importance = Literal["High", "Normal", "Low"]


# ---- references in input --------------------------------------------------------------------------------

TaskRef = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REF,
        description="id, permalink or exact title",
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=MAX_REF)]
FieldValue = Annotated[str, Field(max_length=MAX_FIELD_VALUE)] | float | bool | list[Name] | None
CUSTOM_FIELDS_HELP = (
    'by field name or id, e.g. {"Budget": 1200, "Launch": "2026-05-01", "Reviewer": ["me"], "Billable": true}; '
    "null clears (list_custom_fields)"
)


def people_field(what: str) -> Any:
    return Field(max_length=MAX_PEOPLE, description=what)


# ---- small helpers --------------------------------------------------------------------------------------


def day_of(value: Any) -> str | None:
    """The date part of a Wrike task date (`2026-03-31T17:00:00` → `2026-03-31`)."""
    return str(value)[:10] if value else None


async def folder_refs(deps: WrikeContext, ids: Iterable[str]) -> list[Ref]:
    """Folders and projects named by their paths (`Space/Folder/Project`)."""
    tree = await deps.resolver.folder_tree()
    refs = []
    for ident in dict.fromkeys(ids):
        if ident in tree.root_ids:
            continue
        name = "/".join(show_title(t) for t in tree.path(ident)) if ident in tree.nodes else None
        refs.append(Ref(id=ident, name=name))
    return refs


def in_recycle_bin(item: Mapping[str, Any]) -> bool:
    """Whether Wrike reports the task or folder in the Recycle Bin (scope RbTask, RbFolder)."""
    return str(item.get("scope") or "").startswith("Rb")


async def status_name(deps: WrikeContext, custom_status_id: Any) -> str | None:
    if not custom_status_id:
        return None
    found = await deps.resolver.status_by_id(str(custom_status_id))
    return show_title(found[0].name) if found else None


# ---- output models --------------------------------------------------------------------------------------


class TaskItem(Model):
    id: str
    title: str = ""
    status: str | None = Field(
        default=None, description="status group: Active, Completed, Deferred, Cancelled"
    )
    custom_status: str | None = Field(default=None, description="the workflow status name, e.g. In Progress")
    importance: str | None = None
    start: str | None = Field(default=None, description="YYYY-MM-DD")
    due: str | None = Field(default=None, description="YYYY-MM-DD")
    assignees: list[Ref] = Field(default_factory=list)
    parents: list[Ref] = Field(default_factory=list, description="folders/projects holding it, named by path")
    subtask_of: list[Ref] = Field(default_factory=list, description="parent tasks, for a subtask")
    permalink: str | None = None
    in_recycle_bin: bool | None = None


class TaskList(Model):
    items: list[TaskItem]
    total: int | None = Field(
        default=None,
        description="number of matching tasks; absent when unknown (title words matched over several pages)",
    )
    next_cursor: str | None = Field(default=None, description="more results exist: pass it back as `cursor`")


async def task_items(deps: WrikeContext, raw: Sequence[Mapping[str, Any]]) -> list[TaskItem]:
    """Wrike task JSON → compact items, names resolved with one contact lookup for the whole list."""
    names = await names_of(deps, [ident for task in raw for ident in task.get("responsibleIds") or []])
    titles: dict[str, str] = {}
    super_ids = [ident for task in raw for ident in task.get("superTaskIds") or []]
    if super_ids:
        titles = {
            str(t["id"]): show_title(t.get("title"))
            for t in await deps.client.get_many("/tasks/{ids}", super_ids)
        }
    items = []
    for task in raw:
        parents = list(task.get("parentIds") or []) or list(task.get("superParentIds") or [])
        dates = task.get("dates") or {}
        items.append(
            TaskItem(
                id=str(task["id"]),
                title=show_title(task.get("title")),
                status=task.get("status"),
                custom_status=await status_name(deps, task.get("customStatusId")),
                importance=task.get("importance"),
                start=day_of(dates.get("start")),
                due=day_of(dates.get("due")),
                assignees=await people_refs(deps, task.get("responsibleIds") or [], names),
                parents=await folder_refs(deps, parents),
                subtask_of=[
                    Ref(id=ident, name=titles.get(ident)) for ident in task.get("superTaskIds") or []
                ],
                permalink=task.get("permalink"),
                in_recycle_bin=True if in_recycle_bin(task) else None,
            )
        )
    return items


# ---- search_tasks ---------------------------------------------------------------------------------------

SORT_FIELDS = {
    "due": "DueDate",
    "updated": "UpdatedDate",
    "created": "CreatedDate",
    "importance": "Importance",
    "title": "Title",
}


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="Search tasks")
async def search_tasks(
    ctx: Context[Any],
    text: Annotated[
        str | None,
        Field(max_length=MAX_SEARCH_TEXT, description="words in the title"),
    ] = None,
    folder: Annotated[
        str | None,
        Field(
            max_length=MAX_REF,
            description="folder or project",
        ),
    ] = None,
    space: Annotated[str | None, Field(max_length=MAX_REF, description="space (instead of folder)")] = None,
    status: Annotated[
        str | None,
        Field(
            max_length=200,
            description="status group or custom status name (in any workflow)",
        ),
    ] = None,
    assignee: Annotated[
        str | None,
        Field(max_length=MAX_REF, description="person"),
    ] = None,
    author: Annotated[
        str | None,
        Field(max_length=MAX_REF, description="creator (person)"),
    ] = None,
    importance: Annotated[Importance | None, Field(description="task importance")] = None,
    due_after: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_before: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    overdue: Annotated[
        bool,
        Field(description="only Active tasks due before today"),
    ] = False,
    updated_after: Annotated[
        str | None,
        Field(max_length=MAX_DATE, description="date or datetime"),
    ] = None,
    updated_before: Annotated[
        str | None,
        Field(max_length=MAX_DATE, description="date or datetime"),
    ] = None,
    include_subtasks: Annotated[bool, Field(description="also subtasks, not only top-level tasks")] = False,
    type: Annotated[
        Literal["Planned", "Milestone", "Backlog"] | None,
        Field(description="Planned (dated), Milestone or Backlog (undated)"),
    ] = None,
    sort: Annotated[
        Literal["due", "updated", "created", "importance", "title"] | None,
        Field(description="default: recently updated first"),
    ] = None,
    order: Annotated[
        Literal["asc", "desc"] | None,
        Field(description="default: asc for due and title, else desc"),
    ] = None,
    limit: Annotated[int, Field(ge=1, le=200, description="tasks per call")] = 50,
    cursor: Annotated[
        str | None,
        Field(max_length=MAX_CURSOR, description="from next_cursor"),
    ] = None,
) -> TaskList:
    """Find tasks by title words, folder or space, status, people, importance, dates and type.

    Use it for "what is overdue in Q3 Launch for Diego", "my tasks due this week", or to find a task's id.
    Items: id, title, status, importance, dates, assignees, parent folders, permalink.
    """
    deps = wrike(ctx)
    # ---- everything that can be refused without Wrike
    if folder is not None and space is not None:
        raise ToolError("give either folder or space, not both (a folder already lies in one space)")
    due_from = parse_day(due_after, "due_after")
    due_to = parse_day(due_before, "due_before")
    if overdue:
        yesterday = today() - timedelta(days=1)
        due_to = min(due_to, yesterday) if due_to else yesterday
    check_range(due_from, due_to, "due_after", "due_before" if not overdue else "due_before/overdue")
    updated_from = parse_day(updated_after, "updated_after")
    updated_to = parse_day(updated_before, "updated_before")
    check_range(updated_from, updated_to, "updated_after", "updated_before")
    words = one_line(text) if text is not None else None
    if text is not None and not words:
        raise ToolError("text is empty: give words the title contains, or omit text")
    group = status_group(status) if status else None
    if overdue and group and group != "Active":
        raise ToolError(f"overdue means Active tasks, but status is {group}: drop one of the two")
    check_status(status)
    key = query_key(
        text=words, folder=folder, space=space, status=status, assignee=assignee, author=author,
        importance=importance, due=(due_from, due_to), updated=(updated_from, updated_to),
        subtasks=include_subtasks, type=type, sort=sort, order=order,
    )  # fmt: skip
    first_page = TEXT_SEARCH_PAGE if words else limit  # scanning for words reads bigger pages
    position = (
        read_page_cursor(cursor, key)[0] if cursor else PagePosition(token=None, skip=0, page_size=first_page)
    )

    # ---- references → ids
    params: dict[str, Any] = {"fields": LIST_FIELDS, "subTasks": include_subtasks}
    # Wrike's `title` filter matches one string contained in the title, in an undocumented case; words in
    # any order and any case are matched here, page by page, and Wrike's total (which counts the other
    # filters only) is not reported.
    wanted = [word.casefold() for word in words.split()] if words else []
    path = "/tasks"
    if folder is not None:
        path = f"/folders/{await deps.resolver.folder_id(folder)}/tasks"
        params["descendants"] = True
    elif space is not None:
        path = f"/spaces/{await deps.resolver.space_id(space)}/tasks"
        params["descendants"] = True
    if status is not None and group is None:
        matches = statuses_named(status, await deps.resolver.task_workflows(), include_hidden=False)
        if not matches:
            raise ReferenceNotFound(
                "status", status, "use Active, Completed, Deferred, Cancelled or a name from list_workflows"
            )
        groups = {g for _, g in matches}
        if overdue and "Active" not in groups:
            raise ToolError(
                f"overdue means Active tasks, but status {quoted(status, 60)} is not an Active status"
            )
        params["customStatuses"] = [ident for ident, _ in matches]
    if group or overdue:
        params["status"] = group or "Active"
    if assignee is not None:
        params["responsibles"] = [await deps.resolver.person_id(assignee)]
    if author is not None:
        params["authors"] = [await deps.resolver.person_id(author)]
    if importance:
        params["importance"] = importance
    if due_from or due_to:
        params["dueDate"] = wrike_range(due_from, due_to)
    if updated_from or updated_to:
        params["updatedDate"] = wrike_range(
            day_start(updated_from) if updated_from else None, day_end(updated_to) if updated_to else None
        )
    if type:
        params["type"] = type
    if sort:
        params["sortField"] = SORT_FIELDS[sort]
        params["sortOrder"] = (order or ("asc" if sort in ("due", "title") else "desc")).title()
    elif order:
        params["sortField"] = "UpdatedDate"
        params["sortOrder"] = order.title()

    # ---- pages: a continuation keeps the page size it started with, so its skip count stays meaningful
    token, skip, page_size = position.token, position.skip, position.page_size
    found: list[dict[str, Any]] = []
    total: int | None = None
    next_cursor: str | None = None
    pages = 0
    while True:
        try:
            page = await deps.client.get_page(path, params, page_size=page_size, page_token=token)
        except InvalidParameter as exc:
            if token and "nextPageToken" in exc.description:
                raise ToolError("the cursor has expired: repeat the search without cursor") from None
            raise
        pages += 1
        if page.response_size is not None and not wanted:
            total = page.response_size
        used = skip
        for item in page.items[skip:]:
            if len(found) >= limit:
                break
            used += 1
            title = str(item.get("title") or "").casefold()
            if all(word in title for word in wanted):
                found.append(item)
        if len(found) >= limit:
            if used < len(page.items):
                next_cursor = page_cursor(PagePosition(token, used, page_size), key)
            elif not page.is_last:
                next_cursor = page_cursor(PagePosition(page.next_page_token, 0, page_size), key)
            break
        if page.is_last:
            break
        token, skip = page.next_page_token, 0
        if pages >= SEARCH_MAX_PAGES:
            # bounded work per call: say where to go on instead of cutting the list silently
            next_cursor = page_cursor(PagePosition(token, 0, page_size), key)
            break
        await ctx.report_progress(len(found), total=limit, message=f"read {pages} pages of tasks")
    if pages > 1:
        await ctx.report_progress(len(found), total=limit, message=f"read {pages} pages of tasks")
    if wanted and cursor is None and next_cursor is None:
        total = len(found)  # every task was looked at in this one answer
    return TaskList(items=await task_items(deps, found), total=total, next_cursor=next_cursor)


# ---- get_task -------------------------------------------------------------------------------------------


class SubtaskItem(Model):
    id: str
    title: str = ""
    status: str | None = None
    custom_status: str | None = None


class DependencyItem(Model):
    relation: Literal["predecessor", "successor"] = Field(
        description="predecessor: `task` must happen first; successor: `task` waits for this one"
    )
    type: str | None = Field(
        default=None, description="FinishToStart, StartToStart, FinishToFinish, StartToFinish"
    )
    task: Ref


class CustomFieldOut(Model):
    id: str
    name: str | None = None
    type: str | None = None
    value: bool | float | str | list[Ref] | None = Field(
        default=None,
        description="by type: Checkbox → bool, numbers → number, Contacts → people, Date → YYYY-MM-DD",
    )
    currency: str | None = None
    truncated: bool | None = None


class CommentItem(Model):
    id: str
    author: Ref | None = None
    created: str | None = None
    text: str | None = None
    truncated: bool | None = None


class TaskDetail(Model):
    id: str
    title: str = ""
    status: str | None = None
    custom_status: str | None = None
    importance: str | None = None
    type: str | None = Field(default=None, description="Planned, Milestone or Backlog")
    start: str | None = None
    due: str | None = None
    duration_days: float | None = None
    description: str | None = Field(
        default=None, description=f"plain text, cut at {DESCRIPTION_LIMIT} characters"
    )
    description_truncated: bool | None = None
    assignees: list[Ref] = Field(default_factory=list)
    author: Ref | None = None
    followers: list[Ref] = Field(default_factory=list)
    parents: list[Ref] = Field(default_factory=list, description="folders/projects holding it, named by path")
    subtask_of: list[Ref] = Field(default_factory=list)
    subtasks: list[SubtaskItem] = Field(default_factory=list)
    dependencies: list[DependencyItem] = Field(default_factory=list)
    custom_fields: list[CustomFieldOut] = Field(default_factory=list)
    permalink: str | None = None
    created: str | None = None
    updated: str | None = None
    completed: str | None = None
    in_recycle_bin: bool | None = None
    comments: list[CommentItem] = Field(default_factory=list, description="most recent first")
    comments_total: int | None = None


def _number(text: str) -> float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


async def render_custom_fields(
    deps: WrikeContext, values: Sequence[Mapping[str, Any]]
) -> list[CustomFieldOut]:
    fields = {f.id: f for f in await deps.resolver.custom_fields()}
    contact_ids = []
    for entry in values:
        meta = fields.get(str(entry.get("id")))
        if meta is not None and meta.type == "Contacts" and entry.get("value"):
            contact_ids += [p.strip() for p in str(entry["value"]).split(",") if p.strip()]
    names = await names_of(deps, contact_ids) if contact_ids else {}
    out = []
    for entry in values:
        ident = str(entry.get("id"))
        raw = entry.get("value")
        meta = fields.get(ident)
        kind = meta.type if meta else None
        value: bool | float | str | list[Ref] | None
        cut: bool | None = None
        if raw is None or raw == "":
            continue
        text = str(raw)
        if kind == "Checkbox":
            value = text.strip().casefold() == "true"
        elif kind in ("Numeric", "Currency", "Percentage", "Duration"):
            value = _number(text)
        elif kind == "Contacts":
            value = [Ref(id=p.strip(), name=names.get(p.strip())) for p in text.split(",") if p.strip()]
        elif kind == "Date":
            value = text[:10]
        else:
            shown, flag = truncate(strip_invisible(text), FIELD_TEXT_LIMIT)
            value, cut = shown, (True if flag else None)
        currency = None
        if kind == "Currency" and meta is not None and meta.settings:
            currency = meta.settings.currency
        out.append(
            CustomFieldOut(
                id=ident,
                name=show_title(meta.title) if meta else None,
                type=kind,
                value=value,
                currency=currency,
                truncated=cut,
            )
        )
    return out


async def recent_comments(deps: WrikeContext, task_id: str) -> list[dict[str, Any]]:
    comments = await deps.client.get(f"/tasks/{task_id}/comments")
    return sorted(comments, key=lambda c: str(c.get("createdDate") or ""), reverse=True)


async def comment_items(deps: WrikeContext, raw: Sequence[Mapping[str, Any]]) -> list[CommentItem]:
    names = await names_of(deps, [str(c["authorId"]) for c in raw if c.get("authorId")])
    items = []
    for comment in raw:
        text, cut = plain(comment.get("text"), COMMENT_LIMIT)
        author = str(comment["authorId"]) if comment.get("authorId") else None
        items.append(
            CommentItem(
                id=str(comment["id"]),
                author=Ref(id=author, name=names.get(author)) if author else None,
                created=comment.get("createdDate"),
                text=text,
                truncated=cut,
            )
        )
    return items


async def task_detail(deps: WrikeContext, task: Mapping[str, Any], comments: int = 0) -> TaskDetail:
    task_id = str(task["id"])
    dates = task.get("dates") or {}
    description, cut = plain(task.get("description"), DESCRIPTION_LIMIT)
    people_ids = [
        *(task.get("responsibleIds") or []),
        *(task.get("authorIds") or []),
        *(task.get("followerIds") or []),
    ]
    names = await names_of(deps, people_ids)

    related: dict[str, dict[str, Any]] = {}
    sub_ids = list(task.get("subTaskIds") or [])
    super_ids = list(task.get("superTaskIds") or [])
    dependencies = (
        await deps.client.get_many("/dependencies/{ids}", list(task.get("dependencyIds") or []))
        if task.get("dependencyIds")
        else []
    )
    other_ids = [
        str(d.get("predecessorId") if d.get("successorId") == task_id else d.get("successorId"))
        for d in dependencies
    ]
    wanted = [
        ident for ident in dict.fromkeys([*sub_ids, *super_ids, *other_ids]) if ident and ident != "None"
    ]
    if wanted:
        related = {str(t["id"]): t for t in await deps.client.get_many("/tasks/{ids}", wanted)}

    def ref(ident: str) -> Ref:
        found = related.get(ident)
        return Ref(id=ident, name=show_title(found.get("title")) if found else None)

    subtasks = []
    for ident in sub_ids:
        sub = related.get(ident, {})
        subtasks.append(
            SubtaskItem(
                id=ident,
                title=show_title(sub.get("title")) if sub else "",
                status=sub.get("status"),
                custom_status=await status_name(deps, sub.get("customStatusId")),
            )
        )
    dependency_items = []
    for dependency, other in zip(dependencies, other_ids, strict=True):
        relation: Literal["predecessor", "successor"] = (
            "predecessor" if dependency.get("successorId") == task_id else "successor"
        )
        dependency_items.append(
            DependencyItem(relation=relation, type=dependency.get("relationType"), task=ref(other))
        )

    comment_list: list[CommentItem] = []
    comments_total: int | None = None
    if comments:
        raw_comments = await recent_comments(deps, task_id)
        comments_total = len(raw_comments)
        comment_list = await comment_items(deps, raw_comments[:comments])

    authors = list(task.get("authorIds") or [])
    duration = dates.get("duration")
    parents = list(task.get("parentIds") or []) or list(task.get("superParentIds") or [])
    return TaskDetail(
        id=task_id,
        title=show_title(task.get("title")),
        status=task.get("status"),
        custom_status=await status_name(deps, task.get("customStatusId")),
        importance=task.get("importance"),
        type=dates.get("type"),
        start=day_of(dates.get("start")),
        due=day_of(dates.get("due")),
        duration_days=round(duration / 480, 2) if isinstance(duration, int | float) and duration else None,
        description=description,
        description_truncated=cut,
        assignees=await people_refs(deps, task.get("responsibleIds") or [], names),
        author=Ref(id=authors[0], name=names.get(authors[0])) if authors else None,
        followers=await people_refs(deps, task.get("followerIds") or [], names),
        parents=await folder_refs(deps, parents),
        subtask_of=[ref(ident) for ident in super_ids],
        subtasks=subtasks,
        dependencies=dependency_items,
        custom_fields=await render_custom_fields(deps, task.get("customFields") or []),
        permalink=task.get("permalink"),
        created=task.get("createdDate"),
        updated=task.get("updatedDate"),
        completed=task.get("completedDate"),
        in_recycle_bin=True if in_recycle_bin(task) else None,
        comments=comment_list,
        comments_total=comments_total,
    )


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="Get task details")
async def get_task(
    ctx: Context[Any],
    task: TaskRef,
    include_comments: Annotated[int, Field(ge=0, le=50, description="also this many recent comments")] = 0,
) -> TaskDetail:
    """One task in full: description, status, importance, dates, people, parent folders, subtasks,
    dependencies, custom fields, permalink, times; optionally recent comments.
    """
    deps = wrike(ctx)
    task_id = await deps.resolver.task_id(task)
    raw = await deps.client.get_one(f"/tasks/{task_id}")
    return await task_detail(deps, raw, include_comments)


# ---- custom field input ---------------------------------------------------------------------------------


def _is_number_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


async def encode_custom_fields(
    deps: WrikeContext, values: Mapping[str, str | float | bool | list[str] | None]
) -> list[dict[str, Any]]:
    """Custom field values by name → Wrike's `[{id, value}]`, each checked against the field's type."""
    out: list[dict[str, Any]] = []
    fields = {f.id: f for f in await deps.resolver.custom_fields()}
    for name, value in values.items():
        field_id = await deps.resolver.custom_field_id(name)
        meta: CustomField | None = fields.get(field_id)
        kind = meta.type if meta else None
        label = quoted(name, 40)
        if value is None or value == "" or value == []:
            out.append({"id": field_id, "value": None})
            continue
        if kind == "Checkbox":
            if isinstance(value, str) and value.strip().casefold() in (
                "true",
                "yes",
                "1",
                "false",
                "no",
                "0",
            ):
                value = value.strip().casefold() in ("true", "yes", "1")
            if not isinstance(value, bool):
                raise ToolError(f"custom field {label} is a checkbox: give true or false")
            encoded = "true" if value else "false"
        elif kind in ("Numeric", "Currency", "Percentage", "Duration"):
            if isinstance(value, bool | list) or not _is_number_text(str(value)):
                raise ToolError(f"custom field {label} is {kind}: give a number, e.g. 1200")
            number = float(value)
            encoded = str(int(number)) if number.is_integer() else repr(number)
        elif kind == "Date":
            if not isinstance(value, str):
                raise ToolError(f"custom field {label} is a date: give YYYY-MM-DD")
            parsed = parse_day(value, f"custom field {label}")
            assert parsed is not None
            encoded = parsed.isoformat()
        elif kind == "Contacts":
            refs = value if isinstance(value, list) else [p for p in str(value).split(",")]
            if any(not isinstance(r, str) or not r.strip() for r in refs) or isinstance(value, bool):
                raise ToolError(f"custom field {label} takes people: a list of names, emails or 'me'")
            encoded = ",".join(await person_ids(deps, [r.strip() for r in refs]))
        else:
            if isinstance(value, list):
                if kind != "Multiple":
                    raise ToolError(f"custom field {label} takes one text value, not a list")
                encoded = ",".join(strip_invisible(str(v)).strip() for v in value)
            elif isinstance(value, bool):
                encoded = "true" if value else "false"
            elif isinstance(value, float):
                encoded = str(int(value)) if value.is_integer() else repr(value)
            else:
                encoded = strip_invisible(value).strip()
            if kind == "DropDown" and meta is not None:
                options = meta.settings.values if meta.settings else []
                exact = [o for o in options if o.casefold() == encoded.casefold()]
                if exact:
                    encoded = exact[0]
                elif options and meta.settings and meta.settings.allow_other_values is False:
                    listed = ", ".join(show_title(o) for o in options[:15])
                    raise ToolError(
                        f"custom field {label} has no option {quoted(encoded, 40)}; options: {listed}"[:400]
                    )
        if len(encoded) > MAX_FIELD_VALUE:
            raise ToolError(f"custom field {label} value is too long: at most {MAX_FIELD_VALUE} characters")
        out.append({"id": field_id, "value": encoded})
    return out


def check_custom_field_input(values: Mapping[str, Any] | None) -> None:
    for name, value in (values or {}).items():
        if not name.strip():
            raise ToolError("a custom field name is empty: use the field's name or id (list_custom_fields)")
        if isinstance(value, list) and (len(value) > MAX_PEOPLE or any(len(str(v)) > MAX_REF for v in value)):
            raise ToolError(f"custom field {quoted(name, 40)} has too many or too long values")
        if isinstance(value, float) and not math.isfinite(value):
            raise ToolError(f"custom field {quoted(name, 40)} must be a finite number")


def task_dates(start: date | None, due: date | None) -> dict[str, Any]:
    if start and due:
        return {"type": "Planned", "start": start.isoformat(), "due": due.isoformat()}
    if due:
        return {"type": "Planned", "start": due.isoformat(), "due": due.isoformat()}
    assert start is not None
    return {"type": "Planned", "start": start.isoformat(), "due": start.isoformat()}


async def task_fields(
    deps: WrikeContext,
    *,
    title: str | None,
    description: str | None,
    status: str | None,
    importance: str | None,
    folder_id: str | None = None,
    workflow_id: str | None = None,
) -> dict[str, Any]:
    """The part of a task body create_task and update_task share: title, description (plain text → HTML;
    "" clears it), status (a group or a custom status name, sent as the matching custom status of the
    workflow `workflow_id`, or of a new task in the folder `folder_id`) and importance; absent values are
    left out."""
    body: dict[str, Any] = {}
    if title is not None:
        body["title"] = title
    if description is not None:
        body["description"] = text_to_html(description)
    if status is not None:
        # always customStatus, never Wrike's `status`: the Team plan refuses that one (403 not_allowed)
        body["customStatus"], _group = await deps.resolver.custom_status(
            status, workflow_id=workflow_id, folder_id=folder_id
        )
    if importance:
        body["importance"] = importance
    return body


# ---- create_task ----------------------------------------------------------------------------------------


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_WRITE], title="Create a task", kind="write")
async def create_task(
    ctx: Context[Any],
    title: Annotated[str, Field(min_length=1, max_length=MAX_TITLE, description="task title")],
    folder: Annotated[
        str | None,
        Field(
            max_length=MAX_REF,
            description="folder or project (optional for a subtask: then its parent's)",
        ),
    ] = None,
    description: Annotated[str | None, Field(max_length=MAX_TEXT, description="plain text")] = None,
    status: Annotated[
        str | None,
        Field(
            max_length=200,
            description="default: the workflow's first Active status",
        ),
    ] = None,
    importance: Annotated[Importance | None, Field(description="default: Normal")] = None,
    start_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    assignees: Annotated[list[Name] | None, people_field("people")] = None,
    parent_task: Annotated[
        str | None,
        Field(max_length=MAX_REF, description="make it a subtask of this task"),
    ] = None,
    custom_fields: Annotated[
        dict[Annotated[str, Field(max_length=200)], FieldValue] | None,
        Field(max_length=MAX_CUSTOM_FIELDS, description=CUSTOM_FIELDS_HELP),
    ] = None,
) -> TaskItem:
    """Create a task in a folder or project, or as a subtask; returns it with id and permalink.

    Status names resolve in the destination's workflow. Without dates it is a Backlog task; with only a due
    date it starts that day.
    """
    deps = wrike(ctx)
    name = clean_title(title, "task")
    start = parse_day(start_date, "start_date")
    due = parse_day(due_date, "due_date")
    check_range(start, due, "start_date", "due_date")
    if folder is None and parent_task is None:
        raise ToolError("say where the task goes: give folder (a folder or project) or parent_task")
    check_status(status)
    check_custom_field_input(custom_fields)

    super_id = await deps.resolver.task_id(parent_task) if parent_task is not None else None
    if folder is not None:
        folder_id = await deps.resolver.folder_id(folder)
    else:
        assert super_id is not None
        parent = await deps.client.get_one(f"/tasks/{super_id}")
        homes = list(parent.get("parentIds") or []) or list(parent.get("superParentIds") or [])
        if not homes:
            raise ToolError("the parent task lies in no folder: give folder as well")
        folder_id = str(homes[0])
    body = await task_fields(
        deps,
        title=name,
        description=description if description is not None and description.strip() else None,
        status=status,
        importance=importance,
        folder_id=folder_id,
    )
    if start or due:
        body["dates"] = task_dates(start, due)
    if assignees:
        body["responsibles"] = await person_ids(deps, assignees)
    if super_id:
        body["superTasks"] = [super_id]
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    created = await deps.client.post(f"/folders/{folder_id}/tasks", body)
    if not created:
        raise ToolError(
            "Wrike accepted the task but returned nothing: look it up with search_tasks before retrying"
        )
    return (await task_items(deps, created))[0]


# ---- update_task ----------------------------------------------------------------------------------------


@wrike_tool(
    toolset=TOOLSET, scopes=[scopes.WS_READ_WRITE], title="Update a task", kind="write", idempotent=True
)
async def update_task(
    ctx: Context[Any],
    task: TaskRef,
    title: Annotated[str | None, Field(max_length=MAX_TITLE, description="new title")] = None,
    description: Annotated[
        str | None,
        Field(max_length=MAX_TEXT, description="replaces the old one"),
    ] = None,
    status: Annotated[
        str | None,
        Field(
            max_length=200,
            description="status group or custom status name of its workflow",
        ),
    ] = None,
    importance: Annotated[Importance | None, Field(description="new importance")] = None,
    start_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    due_date: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    clear_dates: Annotated[bool, Field(description="remove both dates (makes it Backlog)")] = False,
    add_assignees: Annotated[list[Name] | None, people_field("people to assign")] = None,
    remove_assignees: Annotated[list[Name] | None, people_field("people to unassign")] = None,
    add_followers: Annotated[list[Name] | None, people_field("people to add as followers")] = None,
    add_parents: Annotated[
        list[Name] | None,
        Field(max_length=20, description="folders or projects to also place it in"),
    ] = None,
    remove_parents: Annotated[
        list[Name] | None,
        Field(max_length=20, description="folders or projects to take it out of (with add_parents: move)"),
    ] = None,
    custom_fields: Annotated[
        dict[Annotated[str, Field(max_length=200)], FieldValue] | None,
        Field(max_length=MAX_CUSTOM_FIELDS, description=CUSTOM_FIELDS_HELP),
    ] = None,
    restore: Annotated[bool, Field(description="restore it from the Recycle Bin")] = False,
) -> TaskItem:
    """Change a task's title, description, status, importance, dates, people, folders or custom fields.

    Also restores a deleted task, which is found only by id or permalink.
    """
    deps = wrike(ctx)
    if clear_dates and (start_date or due_date):
        raise ToolError("give new dates or clear_dates, not both")
    new_title = clean_title(title, "task") if title is not None else None
    start = parse_day(start_date, "start_date")
    due = parse_day(due_date, "due_date")
    check_status(status)
    check_custom_field_input(custom_fields)
    changes = [
        title, description, status, importance, start, due, clear_dates or None, add_assignees,
        remove_assignees, add_followers, add_parents, remove_parents, custom_fields, restore or None,
    ]  # fmt: skip
    if all(change is None or change == [] or change == {} for change in changes):
        raise ToolError(
            "nothing to change: give at least one of title, description, status, importance, dates, "
            "assignees, followers, parents, custom_fields or restore"
        )
    task_id = await deps.resolver.task_id(task)
    current = await deps.client.get_one(f"/tasks/{task_id}")
    workflow = (
        await deps.resolver.workflow_of_status(str(current["customStatusId"]))
        if status is not None and current.get("customStatusId")
        else None
    )
    body: dict[str, Any] = {"restore": True} if restore else {}
    body |= await task_fields(
        deps,
        title=new_title,
        description=description,
        status=status,
        importance=importance,
        workflow_id=workflow.id if workflow else None,
    )
    if clear_dates:
        body["dates"] = {"type": "Backlog"}
    elif start or due:
        old = current.get("dates") or {}
        old_start = parse_day(day_of(old.get("start")), "current start") if old.get("start") else None
        old_due = parse_day(day_of(old.get("due")), "current due") if old.get("due") else None
        new_start, new_due = start or old_start, due or old_due
        if new_start and new_due and new_due < new_start:
            if start and not due:
                new_due = new_start  # moving the start past the old due date moves the due date along
            elif due and not start:
                new_start = new_due
        check_range(new_start, new_due, "start_date", "due_date")
        body["dates"] = task_dates(new_start, new_due)
    if add_assignees:
        body["addResponsibles"] = await person_ids(deps, add_assignees)
    if remove_assignees:
        body["removeResponsibles"] = await person_ids(deps, remove_assignees)
    if add_followers:
        body["addFollowers"] = await person_ids(deps, add_followers)
    if add_parents:
        body["addParents"] = list(dict.fromkeys([await deps.resolver.folder_id(ref) for ref in add_parents]))
    if remove_parents:
        body["removeParents"] = list(
            dict.fromkeys([await deps.resolver.folder_id(ref) for ref in remove_parents])
        )
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    updated = await deps.client.put(f"/tasks/{task_id}", body)
    if not updated:
        raise ToolError("Wrike accepted the update but returned nothing: check the task with get_task")
    return (await task_items(deps, updated))[0]


# ---- delete_task ----------------------------------------------------------------------------------------


class DeleteConfirmation(BaseModel):
    confirm: bool = Field(
        title="Move to Recycle Bin", description="Yes: move the task to Wrike's Recycle Bin"
    )


class DeleteResult(Model):
    deleted: bool = Field(description="true: the task is now in the Recycle Bin")
    task: Ref
    outcome: str = Field(description="what happened, in the server's words")


async def task_to_delete(deps: WrikeContext, task_id: str) -> dict[str, Any]:
    """The task as it is now; ToolError when it is already in the Recycle Bin.

    What Wrike does with a DELETE of something in the Recycle Bin is not documented, so none is ever sent.
    """
    found = await deps.client.get_one(f"/tasks/{task_id}")
    if in_recycle_bin(found):
        raise ToolError(
            f"task {task_id} is already in the Recycle Bin: nothing was deleted; update_task with restore=true "
            "brings it back"
        )
    return found


async def confirm_delete(task: str, ctx: Context) -> Elicit[DeleteConfirmation] | DeleteConfirmation:
    """Ask the user before deleting; without elicitation, go on only when the server has --allow-delete."""
    deps = wrike(ctx)
    if not can_elicit(ctx.client_capabilities):
        if deps.settings.allow_delete:
            return DeleteConfirmation(confirm=True)
        raise ToolError(
            "delete_task needs the user's confirmation, but this client cannot ask (no elicitation support); "
            "delete it in Wrike, or run the server with --allow-delete"
        )
    try:
        task_id = await deps.resolver.task_id(task)
        found = await task_to_delete(deps, task_id)
        where = ", ".join(ref.name or ref.id for ref in await folder_refs(deps, found.get("parentIds") or []))
    except BadReference as exc:
        raise ToolError(exc.message) from None
    except WrikeError as exc:  # never ask about a task that cannot be read
        message = tool_error_message(exc, "delete_task", [scopes.WS_READ_WRITE])
        raise ToolError(message or "delete_task could not read the task; try again") from None
    title = show_title(found.get("title"))[:120]
    where = where[:160]
    return Elicit(
        f"Move the Wrike task “{title}” ({task_id}{' in ' + where if where else ''}) to the Recycle Bin?",
        DeleteConfirmation,
    )


@wrike_tool(
    toolset=TOOLSET, scopes=[scopes.WS_READ_WRITE], title="Delete a task", kind="destructive", idempotent=True
)
async def delete_task(
    ctx: Context[Any],
    task: TaskRef,
    confirmation: Annotated[ElicitationResult[DeleteConfirmation], Resolve(confirm_delete)],
) -> DeleteResult:
    """Move a task to the Recycle Bin after the user confirms; update_task restore=true brings it back.

    Prefer the task's id, so the right task goes.
    """
    deps = wrike(ctx)
    task_id = await deps.resolver.task_id(task)
    if not isinstance(confirmation, AcceptedElicitation):
        return DeleteResult(
            deleted=False,
            task=Ref(id=task_id),
            outcome="not deleted: the user declined"
            if confirmation.action == "decline"
            else "not deleted: the user cancelled the confirmation",
        )
    if not confirmation.data.confirm:
        return DeleteResult(
            deleted=False, task=Ref(id=task_id), outcome="not deleted: the user did not confirm"
        )
    # Read again right before the DELETE: the confirmation may be old, and a client without elicitation
    # gets here without any read.
    known = await task_to_delete(deps, task_id)
    removed = await deps.client.delete(f"/tasks/{task_id}")
    # The title from what was known before: a DELETE answer may not echo the entity (comments' do not).
    title = show_title((removed[0] if removed else known).get("title"))
    return DeleteResult(deleted=True, task=Ref(id=task_id, name=title), outcome="moved to the Recycle Bin")


# ---- comments -------------------------------------------------------------------------------------------


class CommentList(Model):
    task: Ref
    items: list[CommentItem]
    total: int
    next_cursor: str | None = None


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="List task comments")
async def list_comments(
    ctx: Context[Any],
    task: TaskRef,
    limit: Annotated[int, Field(ge=1, le=100, description="comments per call")] = 20,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> CommentList:
    """A task's comments, newest first: author, time and plain text."""
    deps = wrike(ctx)
    key = query_key(task=task.strip())
    offset = read_offset_cursor(cursor, key)
    task_id = await deps.resolver.task_id(task)
    raw = await recent_comments(deps, task_id)
    chunk, next_cursor = page_slice(raw, offset, limit, key)
    return CommentList(
        task=Ref(id=task_id), items=await comment_items(deps, chunk), total=len(raw), next_cursor=next_cursor
    )


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_WRITE], title="Comment on a task", kind="write")
async def add_comment(
    ctx: Context[Any],
    task: TaskRef,
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="plain text")],
) -> CommentItem:
    """Add a plain-text comment to a task (line breaks kept) and return it."""
    deps = wrike(ctx)
    if not strip_invisible(text).strip():
        raise ToolError("the comment text is empty: give some text")
    task_id = await deps.resolver.task_id(task)
    created = await deps.client.post(f"/tasks/{task_id}/comments", {"text": text_to_html(text)})
    if not created:
        raise ToolError(
            "Wrike accepted the comment but returned nothing: check list_comments before retrying"
        )
    return (await comment_items(deps, created))[0]


# ---- time logs ------------------------------------------------------------------------------------------


class TimelogItem(Model):
    id: str
    task: Ref | None = None
    person: Ref | None = None
    hours: float
    date: str | None = Field(default=None, description="the day the time is tracked for, YYYY-MM-DD")
    comment: str | None = None
    truncated: bool | None = None


class TimelogList(Model):
    items: list[TimelogItem]
    total: int
    total_hours: float = Field(description="sum of hours over all matching entries (all pages)")
    next_cursor: str | None = None


async def timelog_items(deps: WrikeContext, raw: Sequence[Mapping[str, Any]]) -> list[TimelogItem]:
    names = await names_of(deps, [str(t["userId"]) for t in raw if t.get("userId")])
    task_ids = [str(t["taskId"]) for t in raw if t.get("taskId")]
    titles = (
        {
            str(t["id"]): show_title(t.get("title"))
            for t in await deps.client.get_many("/tasks/{ids}", task_ids)
        }
        if task_ids
        else {}
    )
    items = []
    for entry in raw:
        text, cut = truncate(strip_invisible(str(entry.get("comment") or "")).strip(), TIMELOG_COMMENT_LIMIT)
        task_id = str(entry["taskId"]) if entry.get("taskId") else None
        user = str(entry["userId"]) if entry.get("userId") else None
        items.append(
            TimelogItem(
                id=str(entry["id"]),
                task=Ref(id=task_id, name=titles.get(task_id)) if task_id else None,
                person=Ref(id=user, name=names.get(user)) if user else None,
                hours=float(entry.get("hours") or 0),
                date=day_of(entry.get("trackedDate")),
                comment=text or None,
                truncated=True if cut else None,
            )
        )
    return items


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="List time logs")
async def list_timelogs(
    ctx: Context[Any],
    task: Annotated[
        str | None,
        Field(max_length=MAX_REF, description="only on this task"),
    ] = None,
    person: Annotated[
        str | None,
        Field(max_length=MAX_REF, description="only by this person"),
    ] = None,
    tracked_after: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    tracked_before: Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")] = None,
    limit: Annotated[int, Field(ge=1, le=500, description="entries per call")] = 100,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> TimelogList:
    """Time logged, newest first: task, person, hours, date, comment, and total hours.

    Without filters: the whole account.
    """
    deps = wrike(ctx)
    start = parse_day(tracked_after, "tracked_after")
    end = parse_day(tracked_before, "tracked_before")
    check_range(start, end, "tracked_after", "tracked_before")
    key = query_key(task=task, person=person, start=start, end=end)
    offset = read_offset_cursor(cursor, key)
    params: dict[str, Any] = {"plainText": True}
    if start or end:
        params["trackedDate"] = wrike_range(start, end)
    person_id = await deps.resolver.person_id(person) if person is not None else None
    if task is not None:
        raw = await deps.client.get(f"/tasks/{await deps.resolver.task_id(task)}/timelogs", params)
        if person_id:
            raw = [entry for entry in raw if entry.get("userId") == person_id]
    elif person_id is not None:
        raw = await deps.client.get(f"/contacts/{person_id}/timelogs", params)
    else:
        raw = await deps.client.get("/timelogs", params)
    raw.sort(key=lambda t: (str(t.get("trackedDate") or ""), str(t.get("createdDate") or "")), reverse=True)
    chunk, next_cursor = page_slice(raw, offset, limit, key)
    return TimelogList(
        items=await timelog_items(deps, chunk),
        total=len(raw),
        total_hours=round(sum(float(t.get("hours") or 0) for t in raw), 2),
        next_cursor=next_cursor,
    )


# Wrike requires a time log comment; this one says where the entry came from when the user gave none.
DEFAULT_TIMELOG_COMMENT = "Logged via wrike-mcp"


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_WRITE], title="Log time on a task", kind="write")
async def log_time(
    ctx: Context[Any],
    task: TaskRef,
    hours: Annotated[float, Field(gt=0, le=24, description="hours worked, e.g. 1.5")],
    date: Annotated[str | None, Field(max_length=MAX_DATE, description="day worked (default: today)")] = None,
    comment: Annotated[
        str | None,
        Field(
            max_length=MAX_TIMELOG_COMMENT,
            description=f"what the time was spent on (default: {DEFAULT_TIMELOG_COMMENT!r})",
        ),
    ] = None,
) -> TimelogItem:
    """Log time worked on a task as the current user; returns the time log entry.

    Wrike requires a comment on every time log: without one, the entry says "Logged via wrike-mcp".
    """
    deps = wrike(ctx)
    day = parse_day(date, "date") or today()
    if not math.isfinite(hours) or round(hours, 2) <= 0:
        raise ToolError("hours must be at least 0.01 and at most 24, e.g. 1.5")
    task_id = await deps.resolver.task_id(task)
    body: dict[str, Any] = {
        "hours": round(hours, 2),
        "trackedDate": day.isoformat(),  # required: Wrike answers 400 without it (live)
        # required too, and whether Wrike takes an empty one is unknown: never send one
        "comment": strip_invisible(comment or "").strip() or DEFAULT_TIMELOG_COMMENT,
        "plainText": True,
    }
    created = await deps.client.post(f"/tasks/{task_id}/timelogs", body)
    if not created:
        raise ToolError(
            "Wrike accepted the time log but returned nothing: check list_timelogs before retrying"
        )
    return (await timelog_items(deps, created))[0]
