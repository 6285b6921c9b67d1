"""Task search shared by search_tasks, bulk_update_tasks and the activity tools: the filters, their checked
query, the Wrike request it makes and the page scan matching title words."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from wrike_mcp.tools.deps import WrikeContext, today
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    FOLDER_PHRASE,
    MAX_DATE,
    MAX_REF,
    PERSON_PHRASE,
    SPACE_PHRASE,
    Detail,
    PagePosition,
    TaskStatus,
    check_range,
    check_status,
    day_end,
    day_start,
    page_cursor,
    parse_user_day,
    wrike_range,
)
from wrike_mcp.tools.pages import Scan, scan_pages
from wrike_mcp.tools.render import LIST_FIELDS, TaskList, task_list
from wrike_mcp.wrike.errors import InvalidParameter, ReferenceNotFound
from wrike_mcp.wrike.models import Task
from wrike_mcp.wrike.pagination import Page
from wrike_mcp.wrike.rules import last_overdue_day, status_group, status_names, statuses_named
from wrike_mcp.wrike.text import fold, one_line, quoted

MAX_SEARCH_TEXT = 500
MAX_PEOPLE = 50

SEARCH_MAX_PAGES = 10  # pages one search_tasks call may read before it answers with a cursor
TEXT_SEARCH_PAGE = 500  # Wrike page size while matching title words locally (Wrike allows up to 1000)

Importance = Literal["High", "Normal", "Low"]


def people_field(what: str) -> Any:
    return Field(max_length=MAX_PEOPLE, description=what)


SORT_FIELDS = {
    "due": "DueDate",
    "updated": "UpdatedDate",
    "created": "CreatedDate",
    "importance": "Importance",
    "title": "Title",
}


# The filters of search_tasks, one definition each: bulk_update_tasks selects tasks by the same ones.
SearchText = Annotated[str | None, Field(max_length=MAX_SEARCH_TEXT, description="words in the title")]
FolderFilter = Annotated[str | None, Field(max_length=MAX_REF, description=FOLDER_PHRASE)]
SpaceFilter = Annotated[
    str | None, Field(max_length=MAX_REF, description=f"instead of folder; {SPACE_PHRASE}")
]
# A group or any custom status name: the enum shows the groups, the string takes a workflow's own names.
StatusName = TaskStatus
MAX_STATUSES = 20
# Shown as a list (one schema, not three alternatives); a single name is taken as a list of one.
StatusFilter = Annotated[
    list[StatusName] | None,
    BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
    Field(description="status groups or custom status names (any workflow): any of them"),
]
AssigneeFilter = Annotated[str | None, Field(max_length=MAX_REF, description=PERSON_PHRASE)]
UnassignedFilter = Annotated[bool, Field(description="only tasks without assignees")]
AuthorFilter = Annotated[str | None, Field(max_length=MAX_REF, description=f"creator; {PERSON_PHRASE}")]
ImportanceFilter = Annotated[Importance | None, Field(description="task importance")]
DayFilter = Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)]
OverdueFilter = Annotated[bool, Field(description="only Active tasks due before the user's today")]
InstantFilter = Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)]
SubtasksFilter = Annotated[bool, Field(description="false: top-level tasks only")]
TypeFilter = Annotated[
    Literal["Planned", "Milestone", "Backlog"] | None,
    Field(description="Planned (dated), Milestone or Backlog (undated)"),
]


def _names_and_types(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        prop.pop("description", None)


class TaskFilters(BaseModel):
    # no docstring: it would be the schema's description, paid in every tools/list. As a nested argument
    # (bulk_update_tasks' `where`) it shows names, types and enums only: search_tasks, always listed with it
    # (toolset `tasks`), describes each filter, and tools/list should not carry those descriptions twice.
    model_config = ConfigDict(extra="forbid", json_schema_extra=_names_and_types)

    text: SearchText = None
    folder: FolderFilter = None
    space: SpaceFilter = None
    status: StatusFilter = None
    assignee: AssigneeFilter = None
    unassigned: UnassignedFilter = False
    author: AuthorFilter = None
    importance: ImportanceFilter = None
    due_after: DayFilter = None
    due_before: DayFilter = None
    overdue: OverdueFilter = False
    updated_after: InstantFilter = None
    updated_before: InstantFilter = None
    include_subtasks: SubtasksFilter = True
    type: TypeFilter = None


def status_list(status: str | Sequence[str] | None) -> tuple[str, ...]:
    """The statuses a filter names, as given (one or a list), duplicates dropped; ToolError for a blank one."""
    given = [status] if isinstance(status, str) else list(status or [])
    if len(given) > MAX_STATUSES:
        raise ToolError(f"status lists {len(given)} statuses: give at most {MAX_STATUSES}")
    for name in given:
        check_status(name)
    return tuple(dict.fromkeys(name.strip() for name in given))


async def task_query(
    deps: WrikeContext, filters: TaskFilters, *, sort: str | None = None, order: str | None = None
) -> TaskQuery:
    """The checked query of these filters: everything that can be refused without Wrike is refused here (the
    user's today is asked for only when needed)."""
    f = filters
    if f.folder is not None and f.space is not None:
        raise ToolError("give either folder or space, not both (a folder already lies in one space)")
    if f.assignee is not None and f.unassigned:
        raise ToolError("give either assignee or unassigned=true, not both")
    words = one_line(f.text) if f.text is not None else None
    if f.text is not None and not words:
        raise ToolError("text is empty: give words the title contains, or omit text")
    statuses = status_list(f.status)
    groups = [group for name in statuses if (group := status_group(name))]
    if f.overdue and statuses and len(groups) == len(statuses) and "Active" not in groups:
        raise ToolError(
            f"overdue means Active tasks, but status is {' or '.join(groups)}: drop one of the two"
        )
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
        words=words, folder=f.folder, space=f.space, statuses=statuses, overdue=f.overdue,
        assignee=f.assignee, unassigned=f.unassigned, author=f.author, importance=f.importance,
        due=(due_from, due_to), updated=(updated_from, updated_to), subtasks=f.include_subtasks, type=f.type,
        sort=sort, order=order,
    )  # fmt: skip


@dataclass(frozen=True)
class TaskQuery:
    """A checked search_tasks query, references still as given."""

    words: str | None
    folder: str | None
    space: str | None
    statuses: tuple[str, ...]  # status groups and custom status names, any of them
    overdue: bool
    assignee: str | None
    unassigned: bool
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

    @property
    def filters_locally(self) -> bool:
        """Whether tasks are matched here, page by page (Wrike has no filter for title words in any order or
        for tasks without assignees), so Wrike's count is not the number of matches."""
        return bool(self.words) or self.unassigned

    def matcher(self) -> Callable[[Task], bool]:
        """The local match (title words, no assignee), its words folded once for all the pages."""
        wanted, unassigned = self.wanted_words, self.unassigned
        return lambda task: (
            all(word in fold(task.title) for word in wanted) and not (unassigned and task.responsible_ids)
        )


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
    await add_status_filter(deps, query, params)
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


async def add_status_filter(deps: WrikeContext, query: TaskQuery, params: dict[str, Any]) -> None:
    """Wrike's `status` for status groups alone; otherwise `customStatuses`, a group standing for every custom
    status of that group in the task workflows (Wrike combines the two filters with "and", not "or")."""
    groups = [group for name in query.statuses if (group := status_group(name))]
    if query.overdue:
        groups = [group for group in groups if group == "Active"]
    customs = [name for name in query.statuses if not status_group(name)]
    if not customs:
        if groups:
            params["status"] = groups[0] if len(groups) == 1 else groups
        elif query.overdue:
            params["status"] = "Active"
        return
    workflows = await deps.resolver.task_workflows()
    chosen: list[str] = []
    for name in customs:
        matches = [(status.id, status.group or "Active") for _, status in statuses_named(name, workflows)]
        if not matches:
            raise ReferenceNotFound("status", name, status_names(workflows))
        chosen += [ident for ident, group in matches if group == "Active" or not query.overdue]
    chosen += [
        status.id
        for workflow in workflows
        for status in workflow.custom_statuses
        if (status.group or "Active") in groups
    ]
    if query.overdue and not chosen:
        shown = " or ".join(quoted(name, 60) for name in customs)
        raise ToolError(f"overdue means Active tasks, but status {shown} is not an Active status")
    params["customStatuses"] = list(dict.fromkeys(chosen))
    if query.overdue:
        params["status"] = "Active"


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
    given: int = 0,
    detail: Detail = "concise",
) -> TaskList:
    """One answer of a search: pages from `position` until `limit` tasks match; a continuation keeps the
    page size it started with, so its skip count stays meaningful. `given`: matches earlier answers gave."""
    scan = await scan_task_pages(ctx, deps, path, params, query, position, limit)
    # Wrike's total counts its own filters only: with matching done here (title words, unassigned) the count
    # is the matches given so far, exact once the list was read to its end.
    seen = given + len(scan.items) + scan.tail
    total, at_least = scan.total, None
    if query.filters_locally or total is None:
        total = seen if scan.next is None or scan.tail_ends else None
        at_least = seen if total is None else None
    next_cursor = page_cursor(scan.next, key, m=given + len(scan.items)) if scan.next is not None else None
    answer = await task_list(deps, scan.items, detail)
    answer.total, answer.total_at_least, answer.next_cursor = total, at_least, next_cursor
    return answer


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
        keep=query.matcher(),
        on_page=progress,
    )
    if scan.pages > 1:
        await progress(scan.pages, len(scan.items))
    return scan
