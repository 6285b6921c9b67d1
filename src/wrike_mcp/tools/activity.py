"""What changed, part of the `projects` toolset: a digest of a place's or a person's recent work.

A few list requests answer it all: the tasks updated since the start (created, completed and other updates
are told apart by their dates), the tasks that fell overdue, the account's comments (Wrike lists at most 7
days per request, so one request per week, then kept to the place or person) and the time logged. Every
category is counted in full; its most recent items come with a cursor for the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
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
    PagePosition,
    check_range,
    day_start,
    offset_cursor,
    parse_user_day,
    query_key,
    read_offset_cursor,
    wrike_range,
    wrike_timestamp,
)
from wrike_mcp.tools.output import Model, Ref, names_of, plain, show_title
from wrike_mcp.tools.pages import scan_pages
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import homes
from wrike_mcp.tools.task_search import TaskQuery, task_request
from wrike_mcp.wrike.errors import AccessForbidden, NotAllowed
from wrike_mcp.wrike.models import Comment, Task, Timelog
from wrike_mcp.wrike.pagination import Page
from wrike_mcp.wrike.resolve import FolderTree
from wrike_mcp.wrike.rules import last_overdue_day

SUMMARY_ITEMS = 10  # items per category in a digest
CATEGORY_ITEMS = 30  # items per call when one category is paged
TASK_PAGE_SIZE = 1000
TASK_MAX_PAGES = 5  # tasks read per list at most: 5 000; beyond that the digest says it is incomplete
COMMENT_WINDOW = timedelta(days=7)  # Wrike's /comments answers at most 7 days per request
MAX_COMMENT_WINDOWS = 5  # so comments reach back 35 days at most
COMMENT_TEXT_LIMIT = 200

Category = Literal["created", "completed", "updated", "overdue", "comments", "time_logged"]
TASK_CATEGORIES = ("created", "completed", "updated")


class ChangeItem(Model):
    id: str
    title: str | None = Field(default=None, description="the task's title (for comments and time: its task)")
    task: str | None = Field(default=None, description="task id, for comments and time logged")
    who: Ref | None = Field(default=None, description="author, assignee or the person who logged time")
    when: str | None = None
    hours: float | None = None
    text: str | None = None


class Changes(Model):
    count: int
    items: list[ChangeItem]
    hours: float | None = None
    next_cursor: str | None = Field(default=None, description="pass back with this category as `category`")


class WhatChanged(Model):
    since: str
    until: str
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
        words=None, folder=scope.place_id, space=None, status=None, group=None, overdue=False,
        assignee=scope.person_id, author=None, importance=None, due=(None, None), updated=(None, None),
        subtasks=True, type=None, sort=None, order=None,
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
    """Comments made since the start, one request per 7 days (at most MAX_COMMENT_WINDOWS), newest first,
    kept to the person's or the place's; and the day they reach back to."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = max(day_start(scope.since), now - COMMENT_WINDOW * MAX_COMMENT_WINDOWS)
    found: list[Comment] = []
    window = start
    while window < now:
        end = min(window + COMMENT_WINDOW, now)
        params = {"createdDate": wrike_range(window, end)}
        found += await deps.client.get("/comments", params, model=Comment)
        window = end
    found = list({comment.id: comment for comment in found}.values())  # windows share their edges
    if scope.person_id:
        found = [c for c in found if c.author_id == scope.person_id]
    if scope.place_id:
        found = await comments_in_place(deps, scope, found)
    found.sort(key=lambda c: c.created_date or now, reverse=True)
    return found, start.date()


async def comments_in_place(deps: WrikeContext, scope: Scope, comments: list[Comment]) -> list[Comment]:
    """The comments on tasks and folders in the place; the tasks not read yet are read by id, 100 a request."""
    assert scope.place_id is not None
    unknown = [c.task_id for c in comments if c.task_id and c.task_id not in scope.known]
    if unknown:
        # a by-id read is Wrike's full model: parents included
        for task in await deps.client.get_many("/tasks/{ids}", list(dict.fromkeys(unknown)), model=Task):
            scope.known[task.id] = task
    kept = []
    for comment in comments:
        on = scope.known.get(comment.task_id or "")
        where = homes(on) if on else [comment.folder_id] if comment.folder_id else []
        if in_place(scope.tree, where, scope.place_id):
            kept.append(comment)
    return kept


async def read_timelogs(deps: WrikeContext, scope: Scope) -> list[Timelog]:
    """Time tracked from the start to today, newest first."""
    params = {"trackedDate": wrike_range(scope.since, scope.until), "plainText": True}
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


# ---- items ----------------------------------------------------------------------------------------------


def task_item(task: Task, category: str) -> tuple[ChangeItem, str | None]:
    """The item and the person it names (author for created, first assignee otherwise)."""
    moment = {"created": task.created_date, "completed": task.completed_date}.get(category, task.updated_date)
    due = task.dates.due[:10] if task.dates and task.dates.due else None
    people = task.author_ids if category == "created" else task.responsible_ids
    who = people[0] if people else None
    when = due if category == "overdue" else (wrike_timestamp(moment) if moment else None)
    return ChangeItem(id=task.id, title=show_title(task.title), when=when), who


async def to_items(deps: WrikeContext, scope: Scope, category: str, chunk: Sequence[Any]) -> list[ChangeItem]:
    """One category's items, people named with one contact lookup and comment/time tasks titled."""
    pairs: list[tuple[ChangeItem, str | None]] = []
    if category in (*TASK_CATEGORIES, "overdue"):
        pairs = [task_item(task, category) for task in chunk]
    elif category == "comments":
        for comment in chunk:
            text, _ = plain(comment.text, COMMENT_TEXT_LIMIT)
            when = wrike_timestamp(comment.created_date) if comment.created_date else None
            item = ChangeItem(id=comment.id, task=comment.task_id, when=when, text=text)
            pairs.append((item, comment.author_id))
    else:
        for entry in chunk:
            when = entry.tracked_date.isoformat() if entry.tracked_date else None
            pairs.append(
                (ChangeItem(id=entry.id, task=entry.task_id, when=when, hours=entry.hours), entry.user_id)
            )
    await add_task_titles(deps, scope, [item for item, _ in pairs])
    names = await names_of(deps, [who for _, who in pairs if who])
    for item, who in pairs:
        item.who = Ref(id=who, name=names.get(who)) if who else None
    return [item for item, _ in pairs]


async def add_task_titles(deps: WrikeContext, scope: Scope, items: Sequence[ChangeItem]) -> None:
    """Title the comment and time items by their tasks: read ones from memory, the others in one request."""
    missing = [item.task for item in items if item.task and item.task not in scope.known]
    if missing:
        for task in await deps.client.get_many("/tasks/{ids}", list(dict.fromkeys(missing)), model=Task):
            scope.known[task.id] = task
    for item in items:
        if item.task and item.task in scope.known:
            item.title = show_title(scope.known[item.task].title)


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
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from a next_cursor")] = None,
) -> WhatChanged:
    """Digest of activity since a date: tasks created, completed, updated, newly overdue; comments; time.

    Counts plus the most recent items of each. Without place or person: the whole account.
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
    lists: dict[str, list[Any]] = {}
    if set(wanted) & set(TASK_CATEGORIES):
        updated, capped = await read_tasks(deps, scope, updated=(start, None))
        lists |= split_updated(updated, day_start(start))
        answer.incomplete = capped or None
    if "overdue" in wanted:
        last = last_overdue_day(until)
        overdue, capped = (
            await read_tasks(deps, scope, group="Active", overdue=True, due=(start, last))
            if start <= last
            else ([], False)
        )
        lists["overdue"] = sorted(
            overdue, key=lambda t: (t.dates.due if t.dates else None) or "", reverse=True
        )
        answer.incomplete = answer.incomplete or capped or None
    if "comments" in wanted:
        try:
            lists["comments"], reach = await read_comments(deps, scope)
            answer.comments_since = reach.isoformat() if reach > start else None
        except (NotAllowed, AccessForbidden) as exc:
            answer.comments_unavailable = f"Wrike refused the comment list: {exc.description[:160]}"
    if "time_logged" in wanted:
        lists["time_logged"] = await read_timelogs(deps, scope)
    limit = CATEGORY_ITEMS if category else SUMMARY_ITEMS
    for name in wanted:
        if name not in lists:
            continue
        items, following = lists[name], offset + limit
        next_key = query_key(place=place, person=person, since=start, category=name)
        changes = Changes(
            count=len(items),
            items=await to_items(deps, scope, name, items[offset:following]),
            hours=round(sum(t.hours for t in items), 2) if name == "time_logged" else None,
            next_cursor=offset_cursor(following, next_key) if following < len(items) else None,
        )
        setattr(answer, name, changes)
    return answer
