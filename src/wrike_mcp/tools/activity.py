"""What changed, part of the `projects` toolset: a digest of a place's or a person's recent work.

A few list requests answer it all, read together: the tasks updated since the start (created, completed and
other updates are told apart by their dates), the tasks that fell overdue, the account's comments (Wrike lists
at most 7 days per request, so one request per week, then kept to the place or person) and the time logged.
Then, together again, the tasks those comments and time logs are on, and who completed or updated the tasks
shown: Wrike's tasks name their author and assignees but nobody who changed them, so that comes from the
audit log (admins only); without it the person named is the first assignee, labelled as such. Every category
is counted in full; its most recent items come with a cursor for the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, today, wrike
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    MAX_CURSOR,
    MAX_DATE,
    MAX_REF,
    PERSON_PHRASE,
    PLACE_PHRASE,
    Detail,
    PagePosition,
    check_range,
    day_start,
    detail_arg,
    offset_cursor,
    parse_user_day,
    query_key,
    read_offset_cursor,
    tracked_range,
    wrike_range,
    wrike_timestamp,
)
from wrike_mcp.tools.output import Model, names_of, plain, show_title, truncate
from wrike_mcp.tools.pages import audit_log_page, concurrently, scan_pages
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import homes, status_name
from wrike_mcp.tools.task_search import TaskQuery, task_request
from wrike_mcp.wrike.audit_log import (
    AUDIT_FILTER_MAX_IDS,
    AUDIT_PAGE_SIZE,
)
from wrike_mcp.wrike.errors import AccessForbidden, NotAllowed, WrikeError
from wrike_mcp.wrike.models import AuditLogEvent, Comment, Task, Timelog
from wrike_mcp.wrike.pagination import Page
from wrike_mcp.wrike.resolve import FolderTree
from wrike_mcp.wrike.rules import last_overdue_day
from wrike_mcp.wrike.text import one_line

SUMMARY_ITEMS = 10  # items per category in a digest
CATEGORY_ITEMS = 30  # items per call when one category is paged
TASK_PAGE_SIZE = 1000
TASK_MAX_PAGES = 5  # tasks read per list at most: 5 000; beyond that the digest says it is incomplete
COMMENT_WINDOW = timedelta(days=7)  # Wrike's /comments answers at most 7 days per request
MAX_COMMENT_WINDOWS = 5  # so comments reach back 35 days at most
COMMENT_TEXT_LIMIT = {"concise": 100, "full": 500}
# The audit-log operations that change a task (ver154 names); a completion is a TaskStatusChanged.
TASK_CHANGES = (
    "TaskStatusChanged", "TaskScheduleChanged", "TaskAssigned", "TaskUnassigned", "TaskParentAdded",
    "TaskParentRemoved", "TaskRestored", "TaskArchived", "TaskUnarchived", "TaskShared", "TaskUnshared",
)  # fmt: skip

Category = Literal["created", "completed", "updated", "overdue", "comments", "time_logged"]
TASK_CATEGORIES = ("created", "completed", "updated")


Role = Literal["actor", "author", "logged_by", "assignee"]


class Who(Model):
    id: str
    name: str | None = None
    role: Role = Field(
        description="actor: did it (from Wrike's audit log); author: created the task or wrote the comment; "
        "logged_by: logged the time; assignee: the task's first assignee (Wrike does not say who changed it)"
    )


class ChangeItem(Model):
    id: str
    title: str | None = Field(default=None, description="the task's title (for comments and time: its task)")
    task: str | None = Field(default=None, description="task id, for comments and time logged")
    who: Who | None = None
    when: str | None = Field(default=None, description="when it happened (UTC timestamp)")
    due: str | None = Field(default=None, description="overdue: the due date, YYYY-MM-DD")
    date: str | None = Field(default=None, description="time logged: the day worked, YYYY-MM-DD")
    hours: float | None = None
    text: str | None = None
    status: str | None = Field(default=None, description="full: the task's status now")


class Changes(Model):
    count: int
    items: list[ChangeItem]
    hours: float | None = None
    next_cursor: str | None = Field(default=None, description="pass back with this category as `category`")


class WhatChanged(Model):
    since: str = Field(description="YYYY-MM-DD, from its start (the user's Wrike time zone)")
    until: str = Field(description="YYYY-MM-DD, today: to now")
    created: Changes | None = None
    completed: Changes | None = None
    updated: Changes | None = Field(default=None, description="changed, but not created or completed")
    overdue: Changes | None = Field(default=None, description="due since `since`, still active")
    comments: Changes | None = None
    comments_unavailable: str | None = None
    comments_since: str | None = Field(default=None, description="when comments reach back less far")
    time_logged: Changes | None = None
    incomplete: bool | None = Field(default=None, description="too many tasks: counts cover the first 5000")


@dataclass
class Scope:
    """What the digest covers, references resolved."""

    place_id: str | None
    person_id: str | None
    since: date
    until: date
    tree: FolderTree
    known: dict[str, Task] = field(default_factory=dict)  # tasks read so far, by id


def in_place(tree: FolderTree, folder_ids: Sequence[str], place_id: str) -> bool:
    """Whether any of these folders lies in the place (is it, or below it through any parent)."""
    pending, seen = list(folder_ids), set()
    while pending:
        current = pending.pop()
        if current == place_id:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(tree.parents.get(current, []))
    return False


async def read_tasks(deps: WrikeContext, scope: Scope, **filters: Any) -> tuple[list[Task], bool]:
    """Tasks of the place or person with these search_tasks filters (subtasks too); True when capped."""
    query = TaskQuery(
        words=None, folder=scope.place_id, space=None, statuses=(), overdue=False, assignee=scope.person_id,
        unassigned=False, author=None, importance=None, due=(None, None), updated=(None, None), subtasks=True,
        type=None, sort=None, order=None,
    )  # fmt: skip
    path, params = await task_request(deps, dataclasses.replace(query, **filters))
    params = {**params, "fields": [*params["fields"], "authorIds"]}

    async def fetch(token: str | None) -> Page[Task]:
        return await deps.client.get_page(
            path, params, page_size=TASK_PAGE_SIZE, page_token=token, model=Task
        )

    scan = await scan_pages(
        fetch,
        PagePosition(None, 0, TASK_PAGE_SIZE),
        want=TASK_PAGE_SIZE * TASK_MAX_PAGES,
        max_pages=TASK_MAX_PAGES,
    )
    scope.known.update({task.id: task for task in scan.items})
    return scan.items, scan.next is not None


def split_updated(tasks: Sequence[Task], since: datetime) -> dict[str, list[Task]]:
    """Created, completed, and otherwise updated since `since`, each most recent first."""
    found: dict[str, list[Task]] = {name: [] for name in TASK_CATEGORIES}
    for task in tasks:
        if task.created_date and task.created_date >= since:
            found["created"].append(task)
        elif task.status == "Completed" and task.completed_date and task.completed_date >= since:
            found["completed"].append(task)
        else:
            found["updated"].append(task)
    found["created"].sort(key=lambda t: t.created_date or since, reverse=True)
    found["completed"].sort(key=lambda t: t.completed_date or since, reverse=True)
    found["updated"].sort(key=lambda t: t.updated_date or since, reverse=True)
    return found


async def read_comments(deps: WrikeContext, scope: Scope) -> tuple[list[Comment], date]:
    """Comments made since the start, one request per 7 days (at most MAX_COMMENT_WINDOWS, read together),
    newest first, kept to the person's; and the day they reach back to. The place is applied later
    (`comments_in_place`), once the tasks they are on are known."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = max(day_start(scope.since), now - COMMENT_WINDOW * MAX_COMMENT_WINDOWS)
    windows: list[tuple[datetime, datetime]] = []
    while start + COMMENT_WINDOW * len(windows) < now:
        begin = start + COMMENT_WINDOW * len(windows)
        windows.append((begin, min(begin + COMMENT_WINDOW, now)))

    def window(begin: datetime, end: datetime) -> Callable[[], Awaitable[list[Comment]]]:
        params = {"createdDate": wrike_range(begin, end)}
        return lambda: deps.client.get("/comments", params, model=Comment)

    found = [c for batch in await concurrently(*(window(*w) for w in windows)) for c in batch]
    found = list({comment.id: comment for comment in found}.values())  # windows share their edges
    if scope.person_id:
        found = [c for c in found if c.author_id == scope.person_id]
    found.sort(key=lambda c: c.created_date or now, reverse=True)
    return found, start.date()


def comments_in_place(scope: Scope, comments: list[Comment]) -> list[Comment]:
    """The comments on tasks and folders in the place (their tasks read already: `read_unknown_tasks`)."""
    if scope.place_id is None:
        return comments
    kept = []
    for comment in comments:
        on = scope.known.get(comment.task_id or "")
        where = homes(on) if on else [comment.folder_id] if comment.folder_id else []
        if in_place(scope.tree, where, scope.place_id):
            kept.append(comment)
    return kept


async def read_unknown_tasks(deps: WrikeContext, scope: Scope, task_ids: Sequence[str | None]) -> None:
    """Read the tasks not read yet by id, 100 a request (Wrike's full model: parents included)."""
    unknown = list(dict.fromkeys(ident for ident in task_ids if ident and ident not in scope.known))
    if unknown:
        for task in await deps.client.get_many("/tasks/{ids}", unknown, model=Task):
            scope.known[task.id] = task


async def read_timelogs(deps: WrikeContext, scope: Scope) -> list[Timelog]:
    """Time tracked from the start to today, newest first."""
    params = {"trackedDate": tracked_range(scope.since, scope.until), "plainText": True}
    if scope.place_id:
        found = await deps.client.get(f"/folders/{scope.place_id}/timelogs", params, model=Timelog)
        if scope.person_id:
            found = [t for t in found if t.user_id == scope.person_id]
    elif scope.person_id:
        found = await deps.client.get(f"/contacts/{scope.person_id}/timelogs", params, model=Timelog)
    else:
        found = await deps.client.get("/timelogs", params, model=Timelog)
    found.sort(
        key=lambda t: (t.tracked_date or scope.since, t.created_date or day_start(scope.since)), reverse=True
    )
    return found


# ---- who did it ---------------------------------------------------------------------------------------


def audit_log_offered(deps: WrikeContext) -> bool:
    """Whether the credentials may read the audit log (unknown scopes: try it)."""
    granted = deps.granted_scopes
    return granted is None or scopes.satisfies(granted, [scopes.AUDIT_LOG])


async def task_actors(deps: WrikeContext, scope: Scope, tasks: Sequence[Task]) -> dict[str, AuditLogEvent]:
    """Task id → the latest audit-log event that changed it since the start, 10 tasks a request, read
    together. Empty when the audit log is not for these credentials (it is for account admins only)."""
    ids = list(dict.fromkeys(task.id for task in tasks))
    if not ids or not audit_log_offered(deps):
        return {}

    def batch(chunk: list[str]) -> Callable[[], Awaitable[list[AuditLogEvent]]]:
        params = {
            "operations": list(TASK_CHANGES),
            "objectType": "Task",
            "objectIds": chunk,
            "eventDate": wrike_range(day_start(scope.since), None),
        }

        async def read() -> list[AuditLogEvent]:
            page = await audit_log_page(deps, params, AUDIT_PAGE_SIZE, None)
            return page.items

        return read

    try:
        pages = await concurrently(
            *(batch(ids[n : n + AUDIT_FILTER_MAX_IDS]) for n in range(0, len(ids), AUDIT_FILTER_MAX_IDS))
        )
    except WrikeError:
        return {}  # not an admin, or a plan without the audit log: the assignee is named instead
    latest: dict[str, AuditLogEvent] = {}
    for event in (event for page in pages for event in page):
        if event.object_id and event.user_id and event.event_date:
            held = latest.get(event.object_id)
            if held is None or (held.event_date and event.event_date > held.event_date):
                latest[event.object_id] = event
    return latest


def task_person(task: Task, category: str, actors: dict[str, AuditLogEvent]) -> tuple[str | None, Role]:
    """Who to name for a task item: its author for created; who did it, from the audit log; else (and for
    overdue, where nobody did anything) its first assignee."""
    if category == "created":
        return (task.author_ids[0] if task.author_ids else None), "author"
    event = actors.get(task.id) if category in ("completed", "updated") else None
    if event is not None and event.user_id:
        return event.user_id, "actor"
    return (task.responsible_ids[0] if task.responsible_ids else None), "assignee"


# ---- items ----------------------------------------------------------------------------------------------


def task_item(task: Task, category: str) -> ChangeItem:
    moment = {"created": task.created_date, "completed": task.completed_date}.get(category, task.updated_date)
    if category == "overdue":
        due = task.dates.due[:10] if task.dates and task.dates.due else None
        return ChangeItem(id=task.id, title=show_title(task.title), due=due)
    return ChangeItem(
        id=task.id, title=show_title(task.title), when=wrike_timestamp(moment) if moment else None
    )


async def to_items(
    deps: WrikeContext,
    scope: Scope,
    category: str,
    chunk: Sequence[Any],
    actors: dict[str, AuditLogEvent],
    detail: Detail,
) -> list[ChangeItem]:
    """One category's items, people named with one contact lookup and comment/time tasks titled."""
    rows: list[tuple[ChangeItem, str | None, Role]] = []
    if category in (*TASK_CATEGORIES, "overdue"):
        for task in chunk:
            item = task_item(task, category)
            if detail == "full":
                item.status = await status_name(deps, task.custom_status_id) or task.status
            rows.append((item, *task_person(task, category, actors)))
    elif category == "comments":
        for comment in chunk:
            text, _ = plain(comment.text, COMMENT_TEXT_LIMIT[detail])
            when = wrike_timestamp(comment.created_date) if comment.created_date else None
            item = ChangeItem(id=comment.id, task=comment.task_id, when=when, text=text)
            rows.append((item, comment.author_id, "author"))
    else:
        for entry in chunk:
            day = entry.tracked_date.isoformat() if entry.tracked_date else None
            text = None
            if detail == "full" and entry.comment:
                text = truncate(one_line(entry.comment), COMMENT_TEXT_LIMIT[detail])[0] or None
            item = ChangeItem(id=entry.id, task=entry.task_id, date=day, hours=entry.hours, text=text)
            rows.append((item, entry.user_id, "logged_by"))
    for item, _, _ in rows:
        if item.task and item.task in scope.known:
            item.title = show_title(scope.known[item.task].title)
    names = await names_of(deps, [who for _, who, _ in rows if who])
    for item, who, role in rows:
        item.who = Who(id=who, name=names.get(who), role=role) if who else None
    return [item for item, _, _ in rows]


# ---- whats_changed --------------------------------------------------------------------------------------


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="What changed")
async def whats_changed(
    ctx: Context[Any],
    place: Annotated[str | None, Field(max_length=MAX_REF, description=PLACE_PHRASE)] = None,
    person: Annotated[
        str | None, Field(max_length=MAX_REF, description=f"their tasks, comments, time; {PERSON_PHRASE}")
    ] = None,
    since: Annotated[
        str | None, Field(max_length=MAX_DATE, description=f"{DATE_PHRASE}; default 7 days ago")
    ] = None,
    category: Annotated[Category | None, Field(description="page only this category")] = None,
    detail: Annotated[Detail, detail_arg("task statuses, longer comments")] = "concise",
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from a next_cursor")] = None,
) -> WhatChanged:
    """Digest of activity from a date to now: tasks created, completed, updated, newly overdue; comments;
    time. Counts plus the latest items, with who did each. Without place or person: the whole account.
    """
    deps = wrike(ctx)
    if cursor is not None and category is None:
        raise ToolError("a cursor pages one category: give the category whose next_cursor it is")
    until = await today(deps)
    start = await parse_user_day(deps, since, "since") or until - timedelta(days=7)
    check_range(start, until, "since", "today")
    key = query_key(place=place, person=person, since=start, category=category)
    offset = read_offset_cursor(cursor, key)
    scope = Scope(
        place_id=await deps.resolver.folder_id(place) if place is not None else None,
        person_id=await deps.resolver.person_id(person) if person is not None else None,
        since=start,
        until=until,
        tree=await deps.resolver.folder_tree(),
    )
    answer = WhatChanged(since=start.isoformat(), until=until.isoformat())
    wanted = [category] if category else list(get_args(Category))
    limit = CATEGORY_ITEMS if category else SUMMARY_ITEMS
    lists = await read_lists(deps, scope, wanted, answer)
    # Then, together: the tasks the comments and time logs are on, and who changed the tasks shown.
    comments = lists.get("comments", [])
    on_tasks = [c.task_id for c in (comments if scope.place_id else comments[offset : offset + limit])]
    on_tasks += [t.task_id for t in lists.get("time_logged", [])[offset : offset + limit]]
    changed = [
        task
        for name in ("completed", "updated")
        if name in wanted
        for task in lists.get(name, [])[offset : offset + limit]
    ]
    _, actors = await concurrently(
        lambda: read_unknown_tasks(deps, scope, on_tasks), lambda: task_actors(deps, scope, changed)
    )
    if "comments" in lists:
        lists["comments"] = comments_in_place(scope, comments)
    for name in wanted:
        if name not in lists:
            continue
        items, following = lists[name], offset + limit
        next_key = query_key(place=place, person=person, since=start, category=name)
        changes = Changes(
            count=len(items),
            items=await to_items(deps, scope, name, items[offset:following], actors, detail),
            hours=round(sum(t.hours for t in items), 2) if name == "time_logged" else None,
            next_cursor=offset_cursor(following, next_key) if following < len(items) else None,
        )
        setattr(answer, name, changes)
    return answer


async def read_lists(
    deps: WrikeContext, scope: Scope, wanted: Sequence[str], answer: WhatChanged
) -> dict[str, list[Any]]:
    """The lists the categories come from, read together; the answer's notes on them set."""
    lists: dict[str, list[Any]] = {}
    capped: list[bool] = []

    async def updated() -> None:
        found, cut = await read_tasks(deps, scope, updated=(scope.since, None))
        lists.update(split_updated(found, day_start(scope.since)))
        capped.append(cut)

    async def overdue() -> None:
        last = last_overdue_day(scope.until)
        if scope.since > last:
            lists["overdue"] = []
            return
        found, cut = await read_tasks(
            deps, scope, statuses=("Active",), overdue=True, due=(scope.since, last)
        )
        lists["overdue"] = sorted(found, key=lambda t: (t.dates.due if t.dates else None) or "", reverse=True)
        capped.append(cut)

    async def comments() -> None:
        try:
            lists["comments"], reach = await read_comments(deps, scope)
            answer.comments_since = reach.isoformat() if reach > scope.since else None
        except (NotAllowed, AccessForbidden) as exc:
            answer.comments_unavailable = f"Wrike refused the comment list: {exc.description[:160]}"

    async def time_logged() -> None:
        lists["time_logged"] = await read_timelogs(deps, scope)

    reads: list[Callable[[], Awaitable[None]]] = []
    if set(wanted) & set(TASK_CATEGORIES):
        reads.append(updated)
    reads += [
        read
        for name, read in (("overdue", overdue), ("comments", comments), ("time_logged", time_logged))
        if name in wanted
    ]
    await concurrently(*reads)
    answer.incomplete = any(capped) or None
    return lists
