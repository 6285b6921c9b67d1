"""Time logs, part of the `tasks` toolset: list time logged (by task, person or account), log time."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

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
    TASK_PHRASE,
    TaskRef,
    check_range,
    page_slice,
    parse_user_day,
    query_key,
    read_offset_cursor,
    wrike_range,
)
from wrike_mcp.tools.output import Model, Ref, names_of, truncate
from wrike_mcp.tools.registry import wrike_tool
from wrike_mcp.tools.render import task_titles
from wrike_mcp.wrike.models import Timelog
from wrike_mcp.wrike.text import strip_invisible

MAX_TIMELOG_COMMENT = 2000
TIMELOG_COMMENT_LIMIT = 500


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


async def timelog_items(deps: WrikeContext, timelogs: Sequence[Timelog]) -> list[TimelogItem]:
    """Time logs → items, their tasks' titles read in one multi-id request."""
    names = await names_of(deps, [t.user_id for t in timelogs if t.user_id])
    titles = await task_titles(deps, [t.task_id for t in timelogs if t.task_id])
    items = []
    for entry in timelogs:
        text, cut = truncate(strip_invisible(entry.comment or "").strip(), TIMELOG_COMMENT_LIMIT)
        items.append(
            TimelogItem(
                id=entry.id,
                task=Ref(id=entry.task_id, name=titles.get(entry.task_id)) if entry.task_id else None,
                person=Ref(id=entry.user_id, name=names.get(entry.user_id)) if entry.user_id else None,
                hours=entry.hours,
                date=entry.tracked_date.isoformat() if entry.tracked_date else None,
                comment=text or None,
                truncated=True if cut else None,
            )
        )
    return items


@wrike_tool(scopes=[scopes.WS_READ_ONLY], title="List time logs")
async def list_timelogs(
    ctx: Context[Any],
    task: Annotated[
        str | None,
        Field(max_length=MAX_REF, description=f"only on this {TASK_PHRASE}"),
    ] = None,
    person: Annotated[
        str | None,
        Field(max_length=MAX_REF, description=f"only by this {PERSON_PHRASE}"),
    ] = None,
    tracked_after: Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)] = None,
    tracked_before: Annotated[str | None, Field(max_length=MAX_DATE, description=DATE_PHRASE)] = None,
    limit: Annotated[int, Field(ge=1, le=500, description="entries per call")] = 100,
    cursor: Annotated[str | None, Field(max_length=MAX_CURSOR, description="from next_cursor")] = None,
) -> TimelogList:
    """Time logged, newest first: task, person, hours, date, comment, and total hours.

    Without filters: the whole account.
    """
    deps = wrike(ctx)
    start = await parse_user_day(deps, tracked_after, "tracked_after")
    end = await parse_user_day(deps, tracked_before, "tracked_before")
    check_range(start, end, "tracked_after", "tracked_before")
    key = query_key(task=task, person=person, start=start, end=end)
    offset = read_offset_cursor(cursor, key)
    params: dict[str, Any] = {"plainText": True}
    if start or end:
        params["trackedDate"] = wrike_range(start, end)
    person_id = await deps.resolver.person_id(person) if person is not None else None
    if task is not None:
        task_id = await deps.resolver.task_id(task)
        timelogs = await deps.client.get(f"/tasks/{task_id}/timelogs", params, model=Timelog)
        if person_id:
            timelogs = [entry for entry in timelogs if entry.user_id == person_id]
    elif person_id is not None:
        timelogs = await deps.client.get(f"/contacts/{person_id}/timelogs", params, model=Timelog)
    else:
        timelogs = await deps.client.get("/timelogs", params, model=Timelog)
    timelogs.sort(
        key=lambda t: (str(t.tracked_date or ""), t.created_date.timestamp() if t.created_date else 0),
        reverse=True,
    )
    chunk, next_cursor = page_slice(timelogs, offset, limit, key)
    return TimelogList(
        items=await timelog_items(deps, chunk),
        total=len(timelogs),
        total_hours=round(sum(t.hours for t in timelogs), 2),
        next_cursor=next_cursor,
    )


# Wrike requires a time log comment; this one says where the entry came from when the user gave none.
DEFAULT_TIMELOG_COMMENT = "Logged via wrike-mcp"


@wrike_tool(scopes=[scopes.WS_READ_WRITE], title="Log time on a task", kind="write")
async def log_time(
    ctx: Context[Any],
    task: TaskRef,
    hours: Annotated[float, Field(gt=0, le=24, description="hours worked, e.g. 1.5")],
    date: Annotated[
        str | None, Field(max_length=MAX_DATE, description=f"day worked: {DATE_PHRASE}; default today")
    ] = None,
    comment: Annotated[
        str | None,
        Field(
            max_length=MAX_TIMELOG_COMMENT,
            description=f"what it was for (default: {DEFAULT_TIMELOG_COMMENT!r}; Wrike requires one)",
        ),
    ] = None,
) -> TimelogItem:
    """Log time worked on a task as the current user; returns the time log entry."""
    deps = wrike(ctx)
    if not math.isfinite(hours) or round(hours, 2) <= 0:
        raise ToolError("hours must be at least 0.01 and at most 24, e.g. 1.5")
    day = await parse_user_day(deps, date, "date") or await today(deps)
    task_id = await deps.resolver.task_id(task)
    body: dict[str, Any] = {
        "hours": round(hours, 2),
        "trackedDate": day.isoformat(),  # required: Wrike answers 400 without it (live)
        # required too, and whether Wrike takes an empty one is unknown: never send one
        "comment": strip_invisible(comment or "").strip() or DEFAULT_TIMELOG_COMMENT,
        "plainText": True,
    }
    created = await deps.client.post(f"/tasks/{task_id}/timelogs", body, model=Timelog)
    if not created:
        raise ToolError(
            "Wrike accepted the time log but returned nothing: check list_timelogs before retrying"
        )
    return (await timelog_items(deps, created))[0]
