"""The `tasks` toolset: search, read, create, update and delete tasks (comments and time logs, also in this
toolset, live in `comments.py` and `timelogs.py`).

Every reference a person would paste (id, permalink, path, title, `me`, email, full name, status name) goes
through the Resolver. Input that can be refused without asking Wrike (over-long text, impossible dates, empty
updates, bad cursors) is refused before any request. Text written by Wrike users only ever appears in data
fields (titles, descriptions, comments, custom field values), never in the messages this module writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import AcceptedElicitation, Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, ConfigDict, Field

from wrike_mcp import scopes
from wrike_mcp.tools.comments import CommentItem, comment_items, recent_comments
from wrike_mcp.tools.custom_fields import (
    CustomFieldOut,
    CustomFieldsInput,
    check_custom_field_input,
    encode_custom_fields,
    render_custom_fields,
)
from wrike_mcp.tools.deps import WrikeContext, can_elicit, today, wrike
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.tools.inputs import (
    MAX_CURSOR,
    MAX_DATE,
    MAX_REF,
    MAX_TEXT,
    MAX_TITLE,
    Name,
    PagePosition,
    TaskRef,
    check_range,
    check_status,
    clean_title,
    day_end,
    day_start,
    page_cursor,
    parse_day,
    parse_user_day,
    query_key,
    read_page_cursor,
    text_to_html,
    wrike_range,
    wrike_timestamp,
)
from wrike_mcp.tools.output import (
    DESCRIPTION_LIMIT,
    Model,
    Ref,
    names_of,
    people_refs,
    plain,
    show_title,
)
from wrike_mcp.tools.pages import Scan, scan_pages
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.wrike.errors import BadReference, InvalidParameter, ReferenceNotFound, WrikeError
from wrike_mcp.wrike.models import Dependency, Task, TaskDates
from wrike_mcp.wrike.pagination import Page
from wrike_mcp.wrike.rules import last_overdue_day, status_group, statuses_named
from wrike_mcp.wrike.text import fold, one_line, quoted

TOOLSET = "tasks"

# ---- input limits (refused before any Wrike call) -------------------------------------------------------

MAX_SEARCH_TEXT = 500
MAX_PEOPLE = 50

SEARCH_MAX_PAGES = 10  # pages one search_tasks call may read before it answers with a cursor
TEXT_SEARCH_PAGE = 500  # Wrike page size while matching title words locally (Wrike allows up to 1000)

LIST_FIELDS = ["responsibleIds", "parentIds", "superParentIds", "superTaskIds"]
# What get_task shows beyond Wrike's compact list model: a task found by title comes with all of it.
DETAIL_FIELDS = [
    *LIST_FIELDS,
    "description",
    "authorIds",
    "followerIds",
    "subTaskIds",
    "dependencyIds",
    "customFields",
]

Importance = Literal["High", "Normal", "Low"]


# ---- references in input --------------------------------------------------------------------------------


def people_field(what: str) -> Any:
    return Field(max_length=MAX_PEOPLE, description=what)


# ---- small helpers --------------------------------------------------------------------------------------


def day_of(value: str | None) -> str | None:
    """The date part of a Wrike task date (`2026-03-31T17:00:00` → `2026-03-31`)."""
    return value[:10] if value else None


def timestamp(value: datetime | None) -> str | None:
    """A Wrike time as Wrike writes it (`2026-03-31T17:00:00Z`)."""
    return wrike_timestamp(value) if value else None


def homes(task: Task) -> list[str]:
    """The folders and projects holding a task; a subtask's are inherited from its parent task."""
    return task.parent_ids or task.super_parent_ids


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


def in_recycle_bin(task: Task) -> bool | None:
    """True when Wrike reports the task in the Recycle Bin (scope RbTask); None (left out) otherwise."""
    return True if (task.scope or "").startswith("Rb") else None


async def status_name(deps: WrikeContext, custom_status_id: str | None) -> str | None:
    if not custom_status_id:
        return None
    found = await deps.resolver.status_by_id(custom_status_id)
    return show_title(found[0].name) if found else None


async def task_titles(deps: WrikeContext, ids: Sequence[str]) -> dict[str, str]:
    """Task id → title, in one multi-id request (none for no ids)."""
    if not ids:
        return {}
    return {
        task.id: show_title(task.title)
        for task in await deps.client.get_many("/tasks/{ids}", ids, model=Task)
    }


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


async def task_items(deps: WrikeContext, tasks: Sequence[Task]) -> list[TaskItem]:
    """Tasks → compact items, names resolved with one contact lookup for the whole list."""
    names = await names_of(deps, [ident for task in tasks for ident in task.responsible_ids])
    titles = await task_titles(deps, [ident for task in tasks for ident in task.super_task_ids])
    items = []
    for task in tasks:
        dates = task.dates or TaskDates()
        items.append(
            TaskItem(
                id=task.id,
                title=show_title(task.title),
                status=task.status,
                custom_status=await status_name(deps, task.custom_status_id),
                importance=task.importance,
                start=day_of(dates.start),
                due=day_of(dates.due),
                assignees=await people_refs(deps, task.responsible_ids, names),
                parents=await folder_refs(deps, homes(task)),
                subtask_of=[Ref(id=ident, name=titles.get(ident)) for ident in task.super_task_ids],
                permalink=task.permalink,
                in_recycle_bin=in_recycle_bin(task),
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


# The filters of search_tasks, one definition each: bulk_update_tasks selects tasks by the same ones.
SearchText = Annotated[str | None, Field(max_length=MAX_SEARCH_TEXT, description="words in the title")]
FolderFilter = Annotated[str | None, Field(max_length=MAX_REF, description="folder or project")]
SpaceFilter = Annotated[str | None, Field(max_length=MAX_REF, description="space (instead of folder)")]
StatusFilter = Annotated[
    str | None,
    Field(max_length=200, description="status group or custom status name (in any workflow)"),
]
AssigneeFilter = Annotated[str | None, Field(max_length=MAX_REF, description="person")]
AuthorFilter = Annotated[str | None, Field(max_length=MAX_REF, description="creator (person)")]
ImportanceFilter = Annotated[Importance | None, Field(description="task importance")]
DayFilter = Annotated[str | None, Field(max_length=MAX_DATE, description="YYYY-MM-DD")]
OverdueFilter = Annotated[bool, Field(description="only Active tasks due before the user's today")]
InstantFilter = Annotated[str | None, Field(max_length=MAX_DATE, description="date or datetime")]
SubtasksFilter = Annotated[bool, Field(description="also subtasks, not only top-level tasks")]
TypeFilter = Annotated[
    Literal["Planned", "Milestone", "Backlog"] | None,
    Field(description="Planned (dated), Milestone or Backlog (undated)"),
]


class TaskFilters(BaseModel):
    # no docstring: it would be the schema's description, paid in every tools/list
    model_config = ConfigDict(extra="forbid")

    text: SearchText = None
    folder: FolderFilter = None
    space: SpaceFilter = None
    status: StatusFilter = None
    assignee: AssigneeFilter = None
    author: AuthorFilter = None
    importance: ImportanceFilter = None
    due_after: DayFilter = None
    due_before: DayFilter = None
    overdue: OverdueFilter = False
    updated_after: InstantFilter = None
    updated_before: InstantFilter = None
    include_subtasks: SubtasksFilter = False
    type: TypeFilter = None


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="Search tasks")
async def search_tasks(
    ctx: Context[Any],
    text: SearchText = None,
    folder: FolderFilter = None,
    space: SpaceFilter = None,
    status: StatusFilter = None,
    assignee: AssigneeFilter = None,
    author: AuthorFilter = None,
    importance: ImportanceFilter = None,
    due_after: DayFilter = None,
    due_before: DayFilter = None,
    overdue: OverdueFilter = False,
    updated_after: InstantFilter = None,
    updated_before: InstantFilter = None,
    include_subtasks: SubtasksFilter = False,
    type: TypeFilter = None,
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

    Items: id, title, status, importance, dates, assignees, parent folders, permalink.
    """
    deps = wrike(ctx)
    filters = TaskFilters(
        text=text, folder=folder, space=space, status=status, assignee=assignee, author=author,
        importance=importance, due_after=due_after, due_before=due_before, overdue=overdue,
        updated_after=updated_after, updated_before=updated_before, include_subtasks=include_subtasks,
        type=type,
    )  # fmt: skip
    query = await task_query(deps, filters, sort=sort, order=order)
    key = query_key(**vars(query))
    first_page = TEXT_SEARCH_PAGE if query.words else limit  # scanning for words reads bigger pages
    position = (
        read_page_cursor(cursor, key)[0] if cursor else PagePosition(token=None, skip=0, page_size=first_page)
    )
    path, params = await task_request(deps, query)
    return await scan_tasks(
        ctx, deps, path, params, query, position, limit, key, continued=cursor is not None
    )


async def task_query(
    deps: WrikeContext, filters: TaskFilters, *, sort: str | None = None, order: str | None = None
) -> TaskQuery:
    """The checked query of these filters: everything that can be refused without Wrike is refused here (the
    user's today is asked for only when needed)."""
    f = filters
    if f.folder is not None and f.space is not None:
        raise ToolError("give either folder or space, not both (a folder already lies in one space)")
    words = one_line(f.text) if f.text is not None else None
    if f.text is not None and not words:
        raise ToolError("text is empty: give words the title contains, or omit text")
    group = status_group(f.status) if f.status else None
    if f.overdue and group and group != "Active":
        raise ToolError(f"overdue means Active tasks, but status is {group}: drop one of the two")
    check_status(f.status)
    due_from = await parse_user_day(deps, f.due_after, "due_after")
    due_to = await parse_user_day(deps, f.due_before, "due_before")
    check_range(due_from, due_to, "due_after", "due_before")
    updated_from = await parse_user_day(deps, f.updated_after, "updated_after")
    updated_to = await parse_user_day(deps, f.updated_before, "updated_before")
    check_range(updated_from, updated_to, "updated_after", "updated_before")
    if f.overdue:
        last = last_overdue_day(await today(deps))
        due_to = min(due_to, last) if due_to else last
        check_range(due_from, due_to, "due_after", "due_before/overdue")
    return TaskQuery(
        words=words, folder=f.folder, space=f.space, status=f.status, group=group, overdue=f.overdue,
        assignee=f.assignee, author=f.author, importance=f.importance, due=(due_from, due_to),
        updated=(updated_from, updated_to), subtasks=f.include_subtasks, type=f.type, sort=sort, order=order,
    )  # fmt: skip


@dataclass(frozen=True)
class TaskQuery:
    """A checked search_tasks query, references still as given."""

    words: str | None
    folder: str | None
    space: str | None
    status: str | None
    group: str | None  # the status group `status` names, when it names one
    overdue: bool
    assignee: str | None
    author: str | None
    importance: str | None
    due: tuple[date | None, date | None]
    updated: tuple[date | None, date | None]
    subtasks: bool
    type: str | None
    sort: str | None
    order: str | None

    @property
    def wanted_words(self) -> list[str]:
        return fold(self.words).split() if self.words else []


async def task_request(deps: WrikeContext, query: TaskQuery) -> tuple[str, dict[str, Any]]:
    """The Wrike path and parameters of a search, references resolved to ids.

    Title words are not sent: Wrike's `title` filter matches one string contained in the title, in an
    undocumented case, so words in any order and any case are matched here, page by page.
    """
    params: dict[str, Any] = {"fields": LIST_FIELDS, "subTasks": query.subtasks}
    path = "/tasks"
    if query.folder is not None:
        path = f"/folders/{await deps.resolver.folder_id(query.folder)}/tasks"
        params["descendants"] = True
    elif query.space is not None:
        path = f"/spaces/{await deps.resolver.space_id(query.space)}/tasks"
        params["descendants"] = True
    if query.status is not None and query.group is None:
        matches = [
            (status.id, status.group or "Active")
            for _, status in statuses_named(query.status, await deps.resolver.task_workflows())
        ]
        if not matches:
            raise ReferenceNotFound(
                "status",
                query.status,
                "use Active, Completed, Deferred, Cancelled or a name from list_workflows",
            )
        if query.overdue and "Active" not in {group for _, group in matches}:
            raise ToolError(
                f"overdue means Active tasks, but status {quoted(query.status, 60)} is not an Active status"
            )
        params["customStatuses"] = [ident for ident, _ in matches]
    if query.group or query.overdue:
        params["status"] = query.group or "Active"
    if query.assignee is not None:
        params["responsibles"] = [await deps.resolver.person_id(query.assignee)]
    if query.author is not None:
        params["authors"] = [await deps.resolver.person_id(query.author)]
    if query.importance:
        params["importance"] = query.importance
    if query.due != (None, None):
        params["dueDate"] = wrike_range(*query.due)
    updated_from, updated_to = query.updated
    if updated_from or updated_to:
        params["updatedDate"] = wrike_range(
            day_start(updated_from) if updated_from else None, day_end(updated_to) if updated_to else None
        )
    if query.type:
        params["type"] = query.type
    if query.sort:
        params["sortField"] = SORT_FIELDS[query.sort]
        params["sortOrder"] = (query.order or ("asc" if query.sort in ("due", "title") else "desc")).title()
    elif query.order:
        params["sortField"] = "UpdatedDate"
        params["sortOrder"] = query.order.title()
    return path, params


async def scan_tasks(
    ctx: Context[Any],
    deps: WrikeContext,
    path: str,
    params: Mapping[str, Any],
    query: TaskQuery,
    position: PagePosition,
    limit: int,
    key: str,
    *,
    continued: bool,
) -> TaskList:
    """One answer of a search: pages from `position` until `limit` tasks match; a continuation keeps the
    page size it started with, so its skip count stays meaningful."""
    scan = await scan_task_pages(ctx, deps, path, params, query, position, limit)
    # Wrike's total counts the other filters only: with title words it is not the number of matches,
    # unless every task was looked at in this one answer.
    total = scan.total if not query.words else None
    if query.words and not continued and scan.next is None:
        total = len(scan.items)
    next_cursor = page_cursor(scan.next, key) if scan.next is not None else None
    return TaskList(items=await task_items(deps, scan.items), total=total, next_cursor=next_cursor)


async def scan_task_pages(
    ctx: Context[Any],
    deps: WrikeContext,
    path: str,
    params: Mapping[str, Any],
    query: TaskQuery,
    position: PagePosition,
    limit: int,
) -> Scan[Task]:
    """The tasks of a search from `position` until `limit` match (at most SEARCH_MAX_PAGES pages), with
    progress notifications while several pages are read."""
    wanted = query.wanted_words

    async def fetch(token: str | None) -> Page[Task]:
        try:
            return await deps.client.get_page(
                path, params, page_size=position.page_size, page_token=token, model=Task
            )
        except InvalidParameter as exc:
            if token and "nextPageToken" in exc.description:
                raise ToolError("the cursor has expired: repeat the search without cursor") from None
            raise

    async def progress(pages: int, found: int) -> None:
        await ctx.report_progress(found, total=limit, message=f"read {pages} pages of tasks")

    scan = await scan_pages(
        fetch,
        position,
        want=limit,
        max_pages=SEARCH_MAX_PAGES,
        keep=lambda task: all(word in fold(task.title) for word in wanted),
        on_page=progress,
    )
    if scan.pages > 1:
        await progress(scan.pages, len(scan.items))
    return scan


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


async def task_detail(deps: WrikeContext, task: Task, comments: int = 0) -> TaskDetail:
    """A task in full; `task` needs the fields of DETAIL_FIELDS (Wrike's full model has them all)."""
    dates = task.dates or TaskDates()
    description, cut = plain(task.description, DESCRIPTION_LIMIT)
    names = await names_of(deps, [*task.responsible_ids, *task.author_ids, *task.follower_ids])
    dependencies = (
        await deps.client.get_many("/dependencies/{ids}", task.dependency_ids, model=Dependency)
        if task.dependency_ids
        else []
    )
    relations = [dependency_relation(task.id, dependency) for dependency in dependencies]
    wanted = [*task.sub_task_ids, *task.super_task_ids, *(other for _, _, other in relations if other)]
    related = (
        {t.id: t for t in await deps.client.get_many("/tasks/{ids}", wanted, model=Task)} if wanted else {}
    )

    def ref(ident: str) -> Ref:
        found = related.get(ident)
        return Ref(id=ident, name=show_title(found.title) if found else None)

    subtasks = []
    for ident in task.sub_task_ids:
        sub = related.get(ident)
        subtasks.append(
            SubtaskItem(
                id=ident,
                title=show_title(sub.title) if sub else "",
                status=sub.status if sub else None,
                custom_status=await status_name(deps, sub.custom_status_id) if sub else None,
            )
        )
    comment_list: list[CommentItem] = []
    comments_total: int | None = None
    if comments:
        recent = await recent_comments(deps, task.id)
        comments_total = len(recent)
        comment_list = await comment_items(deps, recent[:comments])

    author = task.author_ids[0] if task.author_ids else None
    return TaskDetail(
        id=task.id,
        title=show_title(task.title),
        status=task.status,
        custom_status=await status_name(deps, task.custom_status_id),
        importance=task.importance,
        type=dates.type,
        start=day_of(dates.start),
        due=day_of(dates.due),
        duration_days=round(dates.duration / 480, 2) if dates.duration else None,
        description=description,
        description_truncated=cut,
        assignees=await people_refs(deps, task.responsible_ids, names),
        author=Ref(id=author, name=names.get(author)) if author else None,
        followers=await people_refs(deps, task.follower_ids, names),
        parents=await folder_refs(deps, homes(task)),
        subtask_of=[ref(ident) for ident in task.super_task_ids],
        subtasks=subtasks,
        dependencies=[
            DependencyItem(relation=relation, type=kind, task=ref(other))
            for relation, kind, other in relations
            if other
        ],
        custom_fields=await render_custom_fields(deps, task.custom_fields),
        permalink=task.permalink,
        created=timestamp(task.created_date),
        updated=timestamp(task.updated_date),
        completed=timestamp(task.completed_date),
        in_recycle_bin=in_recycle_bin(task),
        comments=comment_list,
        comments_total=comments_total,
    )


def dependency_relation(
    task_id: str, dependency: Dependency
) -> tuple[Literal["predecessor", "successor"], str | None, str | None]:
    """(what the other task is to this one, the relation type, the other task's id)."""
    if dependency.successor_id == task_id:
        return "predecessor", dependency.relation_type, dependency.predecessor_id
    return "successor", dependency.relation_type, dependency.successor_id


@wrike_tool(toolset=TOOLSET, scopes=[scopes.WS_READ_ONLY], title="Get task details")
async def get_task(
    ctx: Context[Any],
    task: TaskRef,
    include_comments: Annotated[int, Field(ge=0, le=50, description="also this many recent comments")] = 0,
) -> TaskDetail:
    """One task in full: description, status, dates, people, folders, subtasks, dependencies, custom
    fields, permalink; optionally recent comments.
    """
    deps = wrike(ctx)
    return await task_detail(deps, await deps.resolver.task(task, DETAIL_FIELDS), include_comments)


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


def moved_dates(current: TaskDates | None, start: date | None, due: date | None) -> dict[str, Any]:
    """The `dates` body setting a new start and/or due date, the other kept from `current`."""
    old = current or TaskDates()
    old_start = parse_day(day_of(old.start), "current start")
    old_due = parse_day(day_of(old.due), "current due")
    new_start, new_due = start or old_start, due or old_due
    if new_start and new_due and new_due < new_start:
        if start and not due:
            new_due = new_start  # moving the start past the old due date moves the due date along
        elif due and not start:
            new_start = new_due
    check_range(new_start, new_due, "start_date", "due_date")
    return task_dates(new_start, new_due)


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
    custom_fields: CustomFieldsInput = None,
) -> TaskItem:
    """Create a task in a folder or project, or as a subtask; returns it with id and permalink.

    Without dates it is a Backlog task; with only a due date it starts that day.
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

    if folder is not None:
        super_id = await deps.resolver.task_id(parent_task) if parent_task is not None else None
        folder_id = await deps.resolver.folder_id(folder)
    else:
        assert parent_task is not None
        parent = await deps.resolver.task(parent_task, ["superParentIds"])
        if not homes(parent):
            raise ToolError("the parent task lies in no folder: give folder as well")
        super_id, folder_id = parent.id, homes(parent)[0]
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
        body["responsibles"] = await deps.resolver.person_ids(assignees)
    if super_id:
        body["superTasks"] = [super_id]
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    created = await deps.client.post(f"/folders/{folder_id}/tasks", body, model=Task)
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
    add_followers: Annotated[list[Name] | None, people_field("new followers")] = None,
    add_parents: Annotated[
        list[Name] | None,
        Field(max_length=20, description="folders or projects to also place it in"),
    ] = None,
    remove_parents: Annotated[
        list[Name] | None,
        Field(max_length=20, description="folders or projects to take it out of (with add_parents: move)"),
    ] = None,
    custom_fields: CustomFieldsInput = None,
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
    current = await deps.resolver.task(task)  # its workflow and dates: Wrike's compact model has both
    workflow = (
        await deps.resolver.workflow_of_status(current.custom_status_id)
        if status is not None and current.custom_status_id
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
        body["dates"] = moved_dates(current.dates, start, due)
    if add_assignees:
        body["addResponsibles"] = await deps.resolver.person_ids(add_assignees)
    if remove_assignees:
        body["removeResponsibles"] = await deps.resolver.person_ids(remove_assignees)
    if add_followers:
        body["addFollowers"] = await deps.resolver.person_ids(add_followers)
    if add_parents:
        body["addParents"] = list(dict.fromkeys([await deps.resolver.folder_id(ref) for ref in add_parents]))
    if remove_parents:
        body["removeParents"] = list(
            dict.fromkeys([await deps.resolver.folder_id(ref) for ref in remove_parents])
        )
    if custom_fields:
        body["customFields"] = await encode_custom_fields(deps, custom_fields)
    updated = await deps.client.put(f"/tasks/{current.id}", body, model=Task)
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


async def task_to_delete(deps: WrikeContext, task_id: str) -> Task:
    """The task as it is now; ToolError when it is already in the Recycle Bin.

    What Wrike does with a DELETE of something in the Recycle Bin is not documented, so none is ever sent.
    """
    found = await deps.client.get_one(f"/tasks/{task_id}", model=Task)
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
        where = ", ".join(ref.name or ref.id for ref in await folder_refs(deps, found.parent_ids))
    except BadReference as exc:
        raise ToolError(exc.message) from None
    except WrikeError as exc:  # never ask about a task that cannot be read
        message = tool_error_message(exc, "delete_task", [scopes.WS_READ_WRITE])
        raise ToolError(message or "delete_task could not read the task; try again") from None
    title = show_title(found.title)[:120]
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
    await deps.client.delete(f"/tasks/{task_id}")
    # The title as read right before: a DELETE answer may not echo the entity (comments' do not).
    title = show_title(known.title)
    return DeleteResult(deleted=True, task=Ref(id=task_id, name=title), outcome="moved to the Recycle Bin")
