"""list_projects, list_timelogs and list_audit_log, one filter at a time: each test computes the expected items
from the sandbox's seed data with plain Python (never through wrike-mcp), checks they are a non-empty part of
what the filter leaves out, and compares them with every page the tool returns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from mcp import Client

from tests.tools.test_search_filters import contact, proper_subset
from tests.tools.tool_helpers import call, own_task_client, state_folder
from wrike_mcp.server import WrikeMCPServer

# The project status groups of the classic statuses (Wrike's API reference).
CLASSIC_GROUPS = {
    "Green": "Active",
    "Yellow": "Active",
    "Red": "Active",
    "Completed": "Completed",
    "OnHold": "Deferred",
    "Cancelled": "Cancelled",
}


@pytest.fixture
async def client(server: WrikeMCPServer) -> AsyncIterator[Client]:
    async with own_task_client(server) as opened:
        yield opened


async def every_page(client: Client, tool: str, **arguments: Any) -> list[dict[str, Any]]:
    """Every item of a listing, page after page through next_cursor."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await call(client, tool, **arguments, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page.get("next_cursor")
        if cursor is None:
            return items


# ---- list_projects --------------------------------------------------------------------------------------


def projects(state: Any) -> list[Any]:
    return [f for f in state.folders.values() if f.project is not None and not f.deleted]


def path(state: Any, folder: Any) -> str:
    titles = []
    while folder is not None and folder.title != "Root":
        titles.append(folder.title)
        folder = state.folders.get(folder.parent_ids[0]) if folder.parent_ids else None
    return "/".join(reversed(titles))


def status_group(state: Any, folder: Any) -> str:
    project = folder.project
    if project.custom_status_id:
        return str(state.custom_status(project.custom_status_id).group)
    return CLASSIC_GROUPS[project.status]


async def project_ids(client: Client, **arguments: Any) -> set[str]:
    return {item["id"] for item in await every_page(client, "list_projects", limit=200, **arguments)}


async def test_projects_within_a_folder(client: Client, sandbox_state: Any) -> None:
    everything = projects(sandbox_state)
    engineering = path(sandbox_state, state_folder(sandbox_state, "Engineering"))
    expected = proper_subset(
        {f.id for f in everything if path(sandbox_state, f).startswith(engineering + "/")}, everything
    )
    assert await project_ids(client, within="Engineering") == expected


async def test_projects_by_classic_status_group_and_workflow_status(
    client: Client, sandbox_state: Any
) -> None:
    everything = projects(sandbox_state)
    red = proper_subset({f.id for f in everything if f.project.status == "Red"}, everything)
    assert await project_ids(client, status="Red") == red
    deferred = proper_subset(
        {f.id for f in everything if status_group(sandbox_state, f) == "Deferred"}, everything
    )
    # a group takes classic (OnHold) and workflow statuses (On Hold) alike
    assert any(f.project.custom_status_id for f in everything if f.id in deferred)
    assert await project_ids(client, status="Deferred") == deferred
    named = {
        f.id
        for f in everything
        if f.project.custom_status_id
        and sandbox_state.custom_status(f.project.custom_status_id).name == "In Progress"
    }
    assert await project_ids(client, status="in progress") == proper_subset(named, everything)


async def test_projects_by_owner(client: Client, sandbox_state: Any) -> None:
    everything = projects(sandbox_state)
    ann = contact(sandbox_state, "Ann Lee")
    expected = proper_subset({f.id for f in everything if ann.id in f.project.owner_ids}, everything)
    assert await project_ids(client, owner="Ann Lee") == expected


async def test_projects_by_title_words(client: Client, sandbox_state: Any) -> None:
    everything = projects(sandbox_state)
    expected = proper_subset({f.id for f in everything if "review" in f.title.casefold()}, everything)
    assert await project_ids(client, text="REVIEW") == expected


def within(value: str | None, low: date | None, high: date | None) -> bool:
    """Whether a project date (YYYY-MM-DD) lies from `low` to `high`, both days included (None: open)."""
    if value is None:
        return False
    day = date.fromisoformat(value)
    return (low is None or day >= low) and (high is None or day <= high)


async def test_projects_by_start_and_end_dates(client: Client, sandbox_state: Any) -> None:
    everything = projects(sandbox_state)
    starts = sorted(date.fromisoformat(f.project.start_date) for f in everything if f.project.start_date)
    ends = sorted(date.fromisoformat(f.project.end_date) for f in everything if f.project.end_date)
    low, high = starts[2], starts[-3]  # both days are in the range
    expected = {f.id for f in everything if within(f.project.start_date, low, high)}
    found = await project_ids(client, start_from=low.isoformat(), start_to=high.isoformat())
    assert found == proper_subset(expected, everything)
    cut = ends[len(ends) // 2]
    ending = {f.id for f in everything if within(f.project.end_date, None, cut)}
    assert await project_ids(client, end_to=cut.isoformat()) == proper_subset(ending, everything)
    later = {f.id for f in everything if within(f.project.end_date, cut, None)}
    assert await project_ids(client, end_from=cut.isoformat()) == proper_subset(later, everything)


async def test_projects_updated_since(client: Client, sandbox_state: Any) -> None:
    everything = projects(sandbox_state)
    moments = sorted(f.updated for f in everything)
    since = moments[len(moments) // 2]
    expected = proper_subset({f.id for f in everything if f.updated >= since}, everything)
    assert await project_ids(client, updated_since=since.strftime("%Y-%m-%dT%H:%M:%SZ")) == expected


async def test_projects_page_in_path_order(client: Client, sandbox_state: Any) -> None:
    expected = [
        f.id for f in sorted(projects(sandbox_state), key=lambda f: (path(sandbox_state, f).casefold(), f.id))
    ]
    first = await call(client, "list_projects", limit=4)
    assert [item["id"] for item in first["items"]] == expected[:4] and first["total"] == len(expected)
    assert [item["id"] for item in await every_page(client, "list_projects", limit=4)] == expected


# ---- list_timelogs --------------------------------------------------------------------------------------


def timelogs(state: Any) -> list[Any]:
    return [t for t in state.timelogs.values() if not state.tasks[t.task_id].deleted]


def assert_newest_first(state: Any, items: list[dict[str, Any]], expected: list[Any]) -> None:
    """The expected entries, by day tracked then time logged, newest first (entries logged in the same
    second may come in any order)."""
    assert len(items) == len(expected) and {item["id"] for item in items} == {t.id for t in expected}
    keys = [(state.timelogs[item["id"]].tracked_date, state.timelogs[item["id"]].created) for item in items]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) > 1


async def test_timelogs_of_a_person_newest_first_across_pages(client: Client, sandbox_state: Any) -> None:
    everything = timelogs(sandbox_state)
    chloe = contact(sandbox_state, "Chloe Martin")
    mine = [t for t in everything if t.user_id == chloe.id]
    proper_subset({t.id for t in mine}, everything)
    found = await every_page(client, "list_timelogs", person="Chloe Martin", limit=5)
    assert_newest_first(sandbox_state, found, mine)
    first = await call(client, "list_timelogs", person="Chloe Martin", limit=5)
    assert first["total"] == len(mine)
    assert first["total_hours"] == round(sum(t.hours for t in mine), 2)


async def test_timelogs_of_a_task(client: Client, sandbox_state: Any) -> None:
    everything = timelogs(sandbox_state)
    logged_by: dict[str, set[str]] = {}
    for entry in everything:
        logged_by.setdefault(entry.task_id, set()).add(entry.user_id)
    parents = {parent for t in sandbox_state.tasks.values() for parent in t.super_task_ids}
    # time of several people, on a task without subtasks (a task's time logs include its subtasks')
    task_id = min(ident for ident, people in logged_by.items() if len(people) > 1 and ident not in parents)
    expected = [t for t in everything if t.task_id == task_id]
    proper_subset({t.id for t in expected}, everything)
    found = await every_page(client, "list_timelogs", task=task_id)
    assert_newest_first(sandbox_state, found, expected)
    # with a person as well: both filters hold
    person = sandbox_state.contacts[expected[0].user_id]
    both = [t for t in expected if t.user_id == person.id]
    found = await every_page(client, "list_timelogs", task=task_id, person=person.email)
    assert {item["id"] for item in found} == proper_subset({t.id for t in both}, expected)


async def test_timelogs_tracked_between_two_days(client: Client, sandbox_state: Any) -> None:
    everything = timelogs(sandbox_state)
    days = sorted({t.tracked_date for t in everything})
    low, high = days[len(days) // 4], days[len(days) // 2]
    expected = [t for t in everything if low <= t.tracked_date <= high]
    proper_subset({t.id for t in expected}, everything)
    assert any(t.tracked_date in (low, high) for t in expected)
    found = await every_page(
        client, "list_timelogs", tracked_after=low.isoformat(), tracked_before=high.isoformat(), limit=500
    )
    assert_newest_first(sandbox_state, found, expected)


# ---- list_audit_log -------------------------------------------------------------------------------------


def audit_newest_first(state: Any, keep: Any) -> list[str]:
    """Matching events, newest first; events of one second in reverse order of logging (Wrike's order as
    the sandbox documents it)."""
    rows = [(event.event_date, n, event) for n, event in enumerate(state.audit) if keep(event)]
    return [event.id for _, _, event in sorted(rows, key=lambda row: row[:2], reverse=True)]


async def audit_ids(client: Client, **arguments: Any) -> list[str]:
    return [item["id"] for item in await every_page(client, "list_audit_log", **arguments)]


async def test_audit_log_by_operation_across_pages(client: Client, sandbox_state: Any) -> None:
    expected = audit_newest_first(sandbox_state, lambda e: e.operation in ("UserLoggedIn", "UserFailLogin"))
    proper_subset(set(expected), sandbox_state.audit)
    assert await audit_ids(client, operations=["UserLoggedIn", "UserFailLogin"], limit=7) == expected


async def test_audit_log_by_user(client: Client, sandbox_state: Any) -> None:
    ben = contact(sandbox_state, "Ben Carter")
    expected = audit_newest_first(sandbox_state, lambda e: e.user_id == ben.id)
    proper_subset(set(expected), sandbox_state.audit)
    assert await audit_ids(client, users=["Ben Carter"]) == expected


async def test_audit_log_of_one_object(client: Client, sandbox_state: Any) -> None:
    event = next(e for e in sandbox_state.audit if e.object_type == "Task")
    operations = sorted({e.operation for e in sandbox_state.audit if e.object_type == "Task"})
    expected = audit_newest_first(
        sandbox_state, lambda e: e.object_type == "Task" and e.object_id == event.object_id
    )
    proper_subset(set(expected), [e for e in sandbox_state.audit if e.object_type == "Task"])
    found = await audit_ids(
        client, object_type="Task", object_ids=[event.object_id], operations=operations, since="2000-01-01"
    )
    assert found == expected


async def test_audit_log_between_two_days(client: Client, sandbox_state: Any) -> None:
    days = sorted({e.event_date.date() for e in sandbox_state.audit})
    low, high = days[len(days) // 4], days[len(days) // 2]
    start = datetime.combine(low, time.min, tzinfo=UTC)
    end = datetime.combine(high, time(23, 59, 59), tzinfo=UTC)
    expected = audit_newest_first(sandbox_state, lambda e: start <= e.event_date <= end)
    proper_subset(set(expected), sandbox_state.audit)
    assert await audit_ids(client, since=low.isoformat(), until=high.isoformat(), limit=5) == expected
