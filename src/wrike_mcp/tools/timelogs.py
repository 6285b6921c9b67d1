"""Time logs, the `time` toolset: list time logged (by task, folder or project, person, category) with totals,
log time, edit and delete an entry. Hours grouped over a period are `time_report` (time_report.py); what both
share is in time_entries.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, ElicitationResult, Resolve
from pydantic import BaseModel, Field

from wrike_mcp import scopes
from wrike_mcp.tools.deps import WrikeContext, today, wrike
from wrike_mcp.tools.inputs import (
    DATE_PHRASE,
    MAX_CURSOR,
    MAX_DATE,
    TIMELOG_PHRASE,
    Detail,
    OptionalCategory,
    OptionalFolder,
    OptionalPerson,
    OptionalTask,
    TaskRef,
    check_range,
    detail_arg,
    page_slice,
    parse_user_day,
    query_key,
    read_offset_cursor,
)
from wrike_mcp.tools.output import Model, Ref, names_of, truncate
from wrike_mcp.tools.pages import concurrently
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import task_titles, titles_beside_a_write
from wrike_mcp.tools.time_entries import (
    category_filter,
    category_id,
    category_names,
    check_not_both,
    query_params,
    round_hours,
    time_scope,
    timelog_categories,
)
from wrike_mcp.tools.writes import confirmed_without_asking, not_confirmed, read_to_confirm, write_on_task
from wrike_mcp.wrike.errors import ResourceNotFound
from wrike_mcp.wrike.models import Timelog, TimelogCategory
from wrike_mcp.wrike.text import quoted, strip_invisible

MAX_TIMELOG_COMMENT = 2000
TIMELOG_COMMENT_LIMIT = 500
TOTALS_SHOWN = 25  # people and tasks in a list's totals, most hours first
MAX_TIMELOG_ID = 300


class TimelogItem(Model):
    id: str
    task: Ref | None = None
    task_id: str | None = None
    person: Ref | None = None
    person_id: str | None = None
    hours: float
    date: str | None = Field(default=None, description="the day the time is tracked for, YYYY-MM-DD")
    category: str | None = None
    billable: bool | None = Field(default=None, description="Wrike's billing type, where it gives one")
    comment: str | None = None
    truncated: bool | None = None


class HoursTotal(Model):
    id: str
    name: str | None = None
    hours: float
    entries: int


class TimelogList(Model):
    items: list[TimelogItem]
    total: int
    total_hours: float = Field(description="sum of hours over all matching entries (all pages)")
    by_person: list[HoursTotal] = Field(default_factory=list, description="first page only, most hours first")
    by_task: list[HoursTotal] = Field(default_factory=list, description="first page only, most hours first")
    totals_note: str | None = None
    next_cursor: str | None = None


def billable(entry: Timelog) -> bool | None:
    if entry.billing_type == "Billable":
        return True
    return False if entry.billing_type == "NonBillable" else None


async def timelog_items(
    deps: WrikeContext,
    timelogs: Sequence[Timelog],
    detail: Detail = "full",
    *,
    categories: dict[str, str] | None = None,
    titles: dict[str, str] | None = None,
) -> list[TimelogItem]:
    """Time logs → items. Full: names of tasks (one multi-id request unless `titles` has them) and people,
    billable, comments. Concise: ids only (a list's totals name them), no comments."""
    full = detail == "full"
    names = await names_of(deps, [t.user_id for t in timelogs if t.user_id]) if full else {}
    if full and titles is None:
        titles = await task_titles(deps, [t.task_id for t in timelogs if t.task_id])
    if categories is None and any(t.category_id for t in timelogs):
        categories = category_names(await timelog_categories(deps))
    items = []
    for entry in timelogs:
        text, cut = truncate(strip_invisible(entry.comment or "").strip(), TIMELOG_COMMENT_LIMIT)
        task = Ref(id=entry.task_id, name=(titles or {}).get(entry.task_id)) if entry.task_id else None
        person = Ref(id=entry.user_id, name=names.get(entry.user_id)) if entry.user_id else None
        items.append(
            TimelogItem(
                id=entry.id,
                task=task if full else None,
                task_id=None if full else entry.task_id,
                person=person if full else None,
                person_id=None if full else entry.user_id,
                hours=entry.hours,
                date=entry.tracked_date.isoformat() if entry.tracked_date else None,
                category=(categories or {}).get(entry.category_id, entry.category_id)
                if entry.category_id
                else None,
                billable=billable(entry) if full else None,
                comment=(text or None) if full else None,
                truncated=True if cut and full else None,
            )
        )
    return items


def summed(entries: Sequence[Timelog], key: str) -> list[tuple[str, float, int]]:
    """(id, hours, entries) per value of `key` (task_id or user_id), most hours first."""
    hours: dict[str, float] = {}
    counts: dict[str, int] = {}
    for entry in entries:
        ident = getattr(entry, key)
        if ident:
            hours[ident] = hours.get(ident, 0.0) + entry.hours
            counts[ident] = counts.get(ident, 0) + 1
    return sorted(((i, round_hours(h), counts[i]) for i, h in hours.items()), key=lambda t: (-t[1], t[0]))


def totals_note(people: int, tasks: int) -> str | None:
    cut = [f"{count - TOTALS_SHOWN} more {what}" for what, count in (("people", people), ("tasks", tasks))]
    shown = [text for text, count in zip(cut, (people, tasks), strict=True) if count > TOTALS_SHOWN]
    if not shown:
        return None
    return f"totals show the top {TOTALS_SHOWN} ({', '.join(shown)}): time_report groups them all"


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List time logs")
async def list_timelogs(
    ctx: Context[Any],
    task: OptionalTask = None,
    folder: OptionalFolder = None,
    person: OptionalPerson = None,
    category: OptionalCategory = None,
    tracked_after: Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)] = None,
    tracked_before: Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)] = None,
    detail: Annotated[Detail, detail_arg("names, billable, comments")] = "concise",
    limit: Annotated[int, Field(ge=1, le=500, description="entries per call")] = 100,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> TimelogList:
    """Time log entries, newest first, with hours per person and per task; a folder includes its subfolders.

    For hours grouped over a period, use time_report.
    """
    deps = wrike(ctx)
    check_not_both(task, folder)
    start = await parse_user_day(deps, tracked_after, "tracked_after")
    end = await parse_user_day(deps, tracked_before, "tracked_before")
    check_range(start, end, "tracked_after", "tracked_before")
    key = query_key(
        task=task, folder=folder, person=person, category=category, start=start, end=end, d=detail
    )
    offset = read_offset_cursor(cursor, key)
    person_id = await deps.resolver.person_id(person) if person is not None else None
    task_id = await deps.resolver.task_id(task) if task is not None else None
    folder_id = await deps.resolver.folder_id(folder) if folder is not None else None
    chosen = await category_filter(deps, category)
    scope = time_scope(task_id, folder_id, person_id)
    params = query_params(start, end, chosen)
    if folder_id is not None:
        params["descendants"] = True  # Wrike's default, said out loud: everything below the folder
    timelogs = [
        entry for entry in await deps.client.get(scope.path, params, model=Timelog) if scope.keep(entry)
    ]
    timelogs.sort(
        key=lambda t: (str(t.tracked_date or ""), t.created_date.timestamp() if t.created_date else 0),
        reverse=True,
    )
    chunk, next_cursor = page_slice(timelogs, offset, limit, key)
    people = summed(timelogs, "user_id") if offset == 0 else []
    tasks = summed(timelogs, "task_id") if offset == 0 else []
    # One read of titles for the totals and (full) the items; names come from the cached contacts
    wanted = [ident for ident, _, _ in tasks[:TOTALS_SHOWN]]
    if detail == "full":
        wanted += [t.task_id for t in chunk if t.task_id]

    async def read_titles() -> dict[str, str]:
        return await task_titles(deps, list(dict.fromkeys(wanted)))

    async def read_names() -> dict[str, str | None]:
        return await names_of(deps, [ident for ident, _, _ in people[:TOTALS_SHOWN]])

    async def read_categories() -> list[TimelogCategory]:
        return await timelog_categories(deps)  # cached by the resolver once read

    # at once: they do not depend on one another
    titles, names, every_category = await concurrently(read_titles, read_names, read_categories)
    categories = category_names(every_category)
    return TimelogList(
        items=await timelog_items(deps, chunk, detail, categories=categories, titles=titles),
        total=len(timelogs),
        total_hours=round_hours(sum(t.hours for t in timelogs)),
        by_person=[
            HoursTotal(id=i, name=names.get(i), hours=h, entries=n) for i, h, n in people[:TOTALS_SHOWN]
        ],
        by_task=[
            HoursTotal(id=i, name=titles.get(i), hours=h, entries=n) for i, h, n in tasks[:TOTALS_SHOWN]
        ],
        totals_note=totals_note(len(people), len(tasks)),
        next_cursor=next_cursor,
    )


# Wrike requires a time log comment; this one says where the entry came from when the user gave none.
DEFAULT_TIMELOG_COMMENT = "Logged via wrike-mcp"


def check_hours(hours: float | None) -> float | None:
    if hours is None:
        return None
    if not math.isfinite(hours) or round(hours, 2) <= 0:
        raise ToolError("hours must be at least 0.01 and at most 24, e.g. 1.5")
    return round(hours, 2)


Hours = Annotated[float, Field(gt=0, le=24, description="hours worked, e.g. 1.5")]


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Log time on a task", kind="write")
async def log_time(
    ctx: Context[Any],
    task: TaskRef,
    hours: Hours,
    date: Annotated[
        str | None, Field(max_length=MAX_DATE, description=f"day worked: {DATE_PHRASE} (default: today)")
    ] = None,
    comment: Annotated[
        str | None,
        Field(
            max_length=MAX_TIMELOG_COMMENT,
            description=f"what it was for (default: {DEFAULT_TIMELOG_COMMENT!r}; Wrike requires one)",
        ),
    ] = None,
    category: OptionalCategory = None,
) -> TimelogItem:
    """Log time worked on a task as the current user; returns the entry."""
    deps = wrike(ctx)
    rounded = check_hours(hours)
    day = await parse_user_day(deps, date, "date") or await today(deps)
    body: dict[str, Any] = {
        "hours": rounded,
        "trackedDate": day.isoformat(),  # required: Wrike answers 400 without it (live)
        # required too, and whether Wrike takes an empty one is unknown: never send one
        "comment": strip_invisible(comment or "").strip() or DEFAULT_TIMELOG_COMMENT,
        "plainText": True,
        "fields": ["billingType"],
    }
    chosen = await category_id(deps, category, for_new_time=True)
    if chosen is not None:
        body["categoryId"] = chosen

    async def post_and_title(task_id: str) -> list[Any]:
        # The answer names the task: its title is read with the write, not after it (one round trip).
        return await concurrently(
            lambda: deps.client.post(f"/tasks/{task_id}/timelogs", body, model=Timelog),
            lambda: titles_beside_a_write(deps, [task_id]),
        )

    _, (created, titles) = await write_on_task(deps, task, post_and_title)
    if not created:
        raise ToolError(
            "Wrike accepted the time log but returned nothing: check list_timelogs before retrying"
        )
    return (await timelog_items(deps, created, titles=titles))[0]


TimelogId = Annotated[str, Field(min_length=1, max_length=MAX_TIMELOG_ID, description=TIMELOG_PHRASE)]


def not_found(timelog_id: str) -> ToolError:
    return ToolError(f"time log {quoted(timelog_id)} not found: list_timelogs gives the ids")


async def read_timelog(deps: WrikeContext, timelog_id: str) -> Timelog:
    try:
        found = await deps.client.get_many(
            "/timelogs/{ids}", [timelog_id], {"plainText": True, "fields": ["billingType"]}, model=Timelog
        )
    except ResourceNotFound:
        raise not_found(timelog_id) from None
    if not found:
        raise not_found(timelog_id)
    return found[0]


def clean_id(value: str) -> str:
    ident = value.strip()
    if not ident or "," in ident or "/" in ident:
        raise ToolError("timelog is one time log id from list_timelogs, e.g. IEAAB2CDJRAAAAAB")
    return ident


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Edit a time log", kind="write", idempotent=True)
async def update_timelog(
    ctx: Context[Any],
    timelog: TimelogId,
    hours: Annotated[float | None, Field(gt=0, le=24, description="e.g. 1.5")] = None,
    date: Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)] = None,
    comment: Annotated[
        str | None, Field(max_length=MAX_TIMELOG_COMMENT, description="what it was for")
    ] = None,
    category: OptionalCategory = None,
) -> TimelogItem:
    """Change a time log's hours, day, comment or category; only what is given changes."""
    deps = wrike(ctx)
    ident = clean_id(timelog)
    body: dict[str, Any] = {}
    rounded = check_hours(hours)
    if rounded is not None:
        body["hours"] = rounded
    day = await parse_user_day(deps, date, "date")
    if day is not None:
        body["trackedDate"] = day.isoformat()
    if comment is not None:
        text = strip_invisible(comment).strip()
        if not text:
            raise ToolError("comment is empty: Wrike requires one; give the new text or leave comment out")
        body["comment"] = text
    if not body and category is None:
        raise ToolError("nothing to change: give hours, date, comment or category")
    chosen = await category_id(deps, category, for_new_time=True)
    if chosen is not None:
        body["categoryId"] = chosen
    body.update({"plainText": True, "fields": ["billingType"]})
    try:
        changed = await deps.client.put(f"/timelogs/{ident}", body, model=Timelog)
    except ResourceNotFound:  # answered, so nothing was changed
        raise not_found(ident) from None
    if not changed:
        raise ToolError("Wrike accepted the change but returned nothing: check list_timelogs before retrying")
    return (await timelog_items(deps, changed))[0]


class DeleteConfirmation(BaseModel):
    confirm: bool = Field(title="Delete time log", description="Yes: delete this time log entry")


class DeleteTimelogResult(Model):
    deleted: bool
    timelog: TimelogItem | None = Field(default=None, description="the entry as it was")
    id: str
    outcome: str = Field(description="what happened, in the server's words")


def describe(item: TimelogItem) -> str:
    task = (item.task.name if item.task else None) or item.task_id or "a task"
    person = (item.person.name if item.person else None) or "someone"
    return f"{item.hours:g} h on “{task[:100]}” by {person[:60]} on {item.date}"


async def confirm_delete(timelog: str, ctx: Context) -> Elicit[DeleteConfirmation] | DeleteConfirmation:
    """Ask the user before deleting; without elicitation, go on only when the server has --allow-delete."""
    if confirmed_without_asking(ctx, "delete_timelog"):
        return DeleteConfirmation(confirm=True)
    deps = wrike(ctx)
    ident = clean_id(timelog)

    async def read() -> TimelogItem:
        return (await timelog_items(deps, [await read_timelog(deps, ident)]))[0]

    item = await read_to_confirm("delete_timelog", "time log", read)
    return Elicit(f"Delete the Wrike time log {ident}: {describe(item)}?", DeleteConfirmation)


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Delete a time log", kind="destructive", idempotent=True)
async def delete_timelog(
    ctx: Context[Any],
    timelog: TimelogId,
    confirmation: Annotated[ElicitationResult[DeleteConfirmation], Resolve(confirm_delete)],
) -> DeleteTimelogResult:
    """Delete a time log entry after the user confirms; to correct one, use update_timelog."""
    deps = wrike(ctx)
    ident = clean_id(timelog)
    if (outcome := not_confirmed(confirmation, "not deleted")) is not None:
        return DeleteTimelogResult(deleted=False, id=ident, outcome=outcome)
    # Read right before the DELETE: the confirmation may be old, and without elicitation nothing was read.
    # The answer's task title is read beside the DELETE, not before it.
    entry = await read_timelog(deps, ident)
    _, titles = await concurrently(
        lambda: deps.client.delete(f"/timelogs/{ident}"),
        lambda: titles_beside_a_write(deps, [entry.task_id] if entry.task_id else []),
    )
    known = (await timelog_items(deps, [entry], titles=titles))[0]
    return DeleteTimelogResult(deleted=True, timelog=known, id=ident, outcome="deleted")
