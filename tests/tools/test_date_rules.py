"""The date rules of update_task and bulk_update_tasks, checked in the sandbox's state after the write: a due
date moved before the start pulls the start along, a start moved past the due date pushes the due date, one
date on an undated task makes a one-day task, dates given the wrong way round are refused, and shift_days
moves both dates and leaves undated tasks alone. Expected dates are computed here from the task as seeded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from mcp import Client

from tests.tools.tool_helpers import call, call_error, own_task_client
from wrike_mcp.server import WrikeMCPServer


@pytest.fixture
async def client(server: WrikeMCPServer) -> AsyncIterator[Client]:
    async with own_task_client(server) as opened:
        yield opened


def planned(state: Any, *, skip: int = 0) -> Any:
    """A live Planned task spanning several days (ordered by id, so the same one every run)."""
    tasks = sorted(
        (
            t
            for t in state.tasks.values()
            if not t.deleted
            and t.dates.type == "Planned"
            and t.dates.start
            and t.dates.due
            and (t.dates.due.date() - t.dates.start.date()).days >= 2
        ),
        key=lambda t: t.id,
    )
    return tasks[skip]


def backlog(state: Any) -> Any:
    return min(
        (t for t in state.tasks.values() if not t.deleted and t.dates.type == "Backlog"), key=lambda t: t.id
    )


def days(task: Any) -> tuple[str, date | None, date | None]:
    dates = task.dates
    return (
        dates.type,
        dates.start.date() if dates.start else None,
        dates.due.date() if dates.due else None,
    )


# ---- update_task ----------------------------------------------------------------------------------------


async def test_due_moved_before_the_start_pulls_the_start_along(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    _, start, _ = days(task)
    assert start is not None
    new_due = start - timedelta(days=3)
    result = await call(client, "update_task", task=task.id, due_date=new_due.isoformat())
    assert days(task) == ("Planned", new_due, new_due)
    assert (result["start"], result["due"]) == (new_due.isoformat(), new_due.isoformat())


async def test_start_moved_past_the_due_date_pushes_the_due_date(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    _, _, due = days(task)
    assert due is not None
    new_start = due + timedelta(days=5)
    await call(client, "update_task", task=task.id, start_date=new_start.isoformat())
    assert days(task) == ("Planned", new_start, new_start)


async def test_one_date_inside_the_span_keeps_the_other(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    _, start, due = days(task)
    assert start is not None and due is not None
    await call(client, "update_task", task=task.id, due_date=(due + timedelta(days=2)).isoformat())
    assert days(task) == ("Planned", start, due + timedelta(days=2))
    await call(client, "update_task", task=task.id, start_date=(start + timedelta(days=1)).isoformat())
    assert days(task) == ("Planned", start + timedelta(days=1), due + timedelta(days=2))


async def test_both_dates_the_wrong_way_round_are_refused(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    before = days(task)
    message = await call_error(
        client, "update_task", task=task.id, start_date="2026-06-10", due_date="2026-06-01"
    )
    assert message.endswith("due_date 2026-06-01 is before start_date 2026-06-10: swap or fix them")
    assert days(task) == before


async def test_one_date_on_an_undated_task_makes_a_one_day_task(client: Client, sandbox_state: Any) -> None:
    task = backlog(sandbox_state)
    await call(client, "update_task", task=task.id, due_date="2026-06-05")
    assert days(task) == ("Planned", date(2026, 6, 5), date(2026, 6, 5))
    other = backlog(sandbox_state)  # the first is dated now
    await call(client, "update_task", task=other.id, start_date="2026-06-08")
    assert days(other) == ("Planned", date(2026, 6, 8), date(2026, 6, 8))


async def test_clear_dates_makes_a_backlog_task(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    await call(client, "update_task", task=task.id, clear_dates=True)
    assert days(task) == ("Backlog", None, None)


# ---- bulk_update_tasks ----------------------------------------------------------------------------------


async def apply(client: Client, **arguments: Any) -> dict[str, Any]:
    preview = await call(client, "bulk_update_tasks", **arguments)
    applied = await call(
        client, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
    )
    assert applied["applied"] is True
    return preview


def shown(start: date, due: date) -> str:
    return f"{start.isoformat()}..{due.isoformat()}" if start != due else due.isoformat()


async def test_bulk_due_date_pulls_each_start_along_only_where_needed(
    client: Client, sandbox_state: Any
) -> None:
    early, late, undated = planned(sandbox_state), planned(sandbox_state, skip=1), backlog(sandbox_state)
    # the new due date lies between the two starts: only the later-starting task has its start pulled
    late.dates.start = datetime.combine(date(2026, 6, 20), time(9))
    late.dates.due = datetime.combine(date(2026, 6, 25), time(17))
    early.dates.start = datetime.combine(date(2026, 6, 1), time(9))
    early.dates.due = datetime.combine(date(2026, 6, 5), time(17))
    new_due = date(2026, 6, 10)
    preview = await apply(client, tasks=[early.id, late.id, undated.id], due_date=new_due.isoformat())
    after = {row["id"]: row["after"] for row in preview["items"]}
    assert after == {
        early.id: shown(date(2026, 6, 1), new_due),
        late.id: shown(new_due, new_due),
        undated.id: shown(new_due, new_due),
    }
    assert days(early) == ("Planned", date(2026, 6, 1), new_due)
    assert days(late) == ("Planned", new_due, new_due)
    assert days(undated) == ("Planned", new_due, new_due)


async def test_bulk_start_date_pushes_each_due_date_only_where_needed(
    client: Client, sandbox_state: Any
) -> None:
    early, late = planned(sandbox_state), planned(sandbox_state, skip=1)
    early.dates.start = datetime.combine(date(2026, 6, 1), time(9))
    early.dates.due = datetime.combine(date(2026, 6, 5), time(17))
    late.dates.start = datetime.combine(date(2026, 6, 2), time(9))
    late.dates.due = datetime.combine(date(2026, 6, 25), time(17))
    new_start = date(2026, 6, 10)
    await apply(client, tasks=[early.id, late.id], start_date=new_start.isoformat())
    assert days(early) == ("Planned", new_start, new_start)
    assert days(late) == ("Planned", new_start, date(2026, 6, 25))


async def test_bulk_shift_moves_both_dates_and_leaves_undated_tasks(
    client: Client, sandbox_state: Any
) -> None:
    task, undated = planned(sandbox_state), backlog(sandbox_state)
    kind, start, due = days(task)
    assert start is not None and due is not None
    preview = await apply(client, tasks=[task.id, undated.id], shift_days=-4)
    outcome = {row["id"]: row.get("outcome") for row in preview["items"]}
    assert outcome[undated.id] == "unchanged" and outcome[task.id] is None
    assert days(task) == (kind, start - timedelta(days=4), due - timedelta(days=4))
    assert days(undated) == ("Backlog", None, None)


async def test_bulk_dates_the_wrong_way_round_are_refused(client: Client, sandbox_state: Any) -> None:
    task = planned(sandbox_state)
    before = days(task)
    message = await call_error(
        client, "bulk_update_tasks", tasks=[task.id], start_date="2026-06-10", due_date="2026-06-01"
    )
    assert message.endswith(": due_date is before start_date: swap them")
    assert days(task) == before
