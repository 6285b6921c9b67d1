"""search_tasks, one filter at a time: each test computes the expected tasks from the sandbox's seed data
with plain Python (never through wrike-mcp), checks the set is non-empty and smaller than what the filter
leaves out, and compares it with every page the tool returns, so a filter that is dropped, or a sort or
default that is flipped, fails here."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    call,
    call_error,
    error_text,
    own_task_client,
    requests_log,
    state_folder,
    user_today,
)
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools import tasks as tasks_module
from wrike_mcp.tools.inputs import PEOPLE_PHRASE
from wrike_mcp.tools.task_search import TaskFilters, people_field

Q3 = "Marketing/Campaigns/Q3 Launch"


@pytest.fixture
async def client(server: WrikeMCPServer) -> AsyncIterator[Client]:
    """One protocol era is enough here: the filters are the same in both (test_tasks.py runs both)."""
    async with own_task_client(server) as opened:
        yield opened


# ---- the expected tasks, from the sandbox's state -------------------------------------------------------


def live_tasks(state: Any, *, subtasks: bool = True) -> list[Any]:
    """What an account-wide search sees: tasks outside the Recycle Bin, subtasks too unless left out."""
    return [t for t in state.tasks.values() if not t.deleted and (subtasks or not t.super_task_ids)]


def homes(state: Any, task: Any) -> set[str]:
    """The folders holding a task: its own, or for a subtask those of the tasks above it."""
    found, pending = set(task.parent_ids), list(task.super_task_ids)
    while pending:
        above = state.tasks[pending.pop()]
        found |= set(above.parent_ids)
        pending += above.super_task_ids
    return found


def contact(state: Any, name: str) -> Any:
    return next(c for c in state.contacts.values() if c.name == name)


def me(state: Any) -> Any:
    return state.contacts[state.access_tokens["wrike-sandbox-token"].user_id]


def folder_and_below(state: Any, folder_id: str) -> set[str]:
    found = {folder_id}
    while True:
        more = {f.id for f in state.folders.values() if not f.deleted and found & set(f.parent_ids)} - found
        if not more:
            return found
        found |= more


def due_day(task: Any) -> date | None:
    return task.dates.due.date() if task.dates.due else None


def due_within(tasks: list[Any], first: date | None, last: date | None) -> set[str]:
    """Tasks due from `first` to `last`, both days included (None: open)."""
    found = set()
    for task in tasks:
        day = due_day(task)
        if day is not None and (first is None or day >= first) and (last is None or day <= last):
            found.add(task.id)
    return found


def proper_subset(expected: set[str], among: list[Any]) -> set[str]:
    """The expected ids, checked to be a non-empty part of `among` (so ignoring the filter shows)."""
    everything = {t.id for t in among}
    assert expected, "the seed data gives this filter nothing to find"
    assert expected < everything, "the filter would select everything: the test could not see it ignored"
    return expected


async def search_all(client: Client, **arguments: Any) -> list[dict[str, Any]]:
    """Every item of a search, page after page through next_cursor; each page's total must agree."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    totals: set[int] = set()
    while True:
        page = await call(client, "search_tasks", **arguments, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        if "total" in page:
            totals.add(page["total"])
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert len({item["id"] for item in items}) == len(items), "a task came twice across pages"
    if "text" not in arguments:
        assert totals == {len(items)}
    return items


async def found_ids(client: Client, **arguments: Any) -> set[str]:
    return {item["id"] for item in await search_all(client, limit=200, **arguments)}


# ---- each filter ----------------------------------------------------------------------------------------


async def test_author_filter(client: Client, sandbox_state: Any) -> None:
    ivan = contact(sandbox_state, "Ivan Petrov")
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if t.author_id == ivan.id}, tasks)
    assert await found_ids(client, author="Ivan Petrov") == expected


async def test_assignee_filter(client: Client, sandbox_state: Any) -> None:
    hana = contact(sandbox_state, "Hana Sato")
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if hana.id in t.responsible_ids}, tasks)
    assert await found_ids(client, assignee="hana.sato@northwind.example") == expected


async def test_importance_filter(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if t.importance == "Low"}, tasks)
    assert await found_ids(client, importance="Low") == expected


async def test_status_group_filter(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if t.status == "Deferred"}, tasks)
    assert await found_ids(client, status="deferred") == expected


async def test_custom_status_filter_matches_the_name_in_every_workflow(
    client: Client, sandbox_state: Any
) -> None:
    named = {
        status.id
        for workflow in sandbox_state.workflows.values()
        if not workflow.hidden
        for status in workflow.statuses
        if status.name == "In Progress" and not status.hidden
    }
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if t.custom_status_id in named}, tasks)
    holding = {sandbox_state.tasks[i].custom_status_id for i in expected}
    assert len(holding) > 1, "the seed should use In Progress of more than one workflow"
    assert await found_ids(client, status="in progress") == expected


async def test_folder_filter_takes_the_folders_below(client: Client, sandbox_state: Any) -> None:
    folders = folder_and_below(sandbox_state, state_folder(sandbox_state, "Marketing/Campaigns").id)
    assert len(folders) > 2
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if folders & homes(sandbox_state, t)}, tasks)
    assert any(sandbox_state.tasks[i].super_task_ids for i in expected), "subtasks are found in folders too"
    assert await found_ids(client, folder="Marketing/Campaigns") == expected


async def test_space_filter(client: Client, sandbox_state: Any) -> None:
    folders = folder_and_below(sandbox_state, state_folder(sandbox_state, "Engineering").id)
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if folders & homes(sandbox_state, t)}, tasks)
    assert await found_ids(client, space="Engineering") == expected


async def test_title_words_in_any_order_and_case(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    words = ["quotes", "review"]
    expected = proper_subset(
        {t.id for t in tasks if all(word in t.title.casefold() for word in words)}, tasks
    )
    assert await found_ids(client, text="QUOTES review") == expected


async def test_subtasks_are_found_unless_left_out(client: Client, sandbox_state: Any) -> None:
    with_subtasks = live_tasks(sandbox_state)
    subtasks = {t.id for t in with_subtasks if t.super_task_ids}
    assert subtasks
    assert await found_ids(client) == {t.id for t in with_subtasks}
    top_level = await found_ids(client, include_subtasks=False)
    assert top_level == {t.id for t in with_subtasks} - subtasks


async def test_several_statuses_match_any_of_them(client: Client, sandbox_state: Any) -> None:
    in_progress = {
        status.id
        for workflow in sandbox_state.workflows.values()
        for status in workflow.statuses
        if status.name == "In Progress"
    }
    tasks = live_tasks(sandbox_state)
    groups = proper_subset({t.id for t in tasks if t.status in ("Deferred", "Cancelled")}, tasks)
    assert await found_ids(client, status=["Deferred", "cancelled"]) == groups
    mixed = proper_subset(
        {t.id for t in tasks if t.status == "Completed" or t.custom_status_id in in_progress}, tasks
    )
    assert {sandbox_state.tasks[i].status for i in mixed} == {"Completed", "Active"}
    assert await found_ids(client, status=["Completed", "In Progress"]) == mixed


async def test_unassigned_finds_the_tasks_nobody_is_assigned_to(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if not t.responsible_ids}, tasks)
    assert await found_ids(client, unassigned=True) == expected
    active = proper_subset({i for i in expected if sandbox_state.tasks[i].status == "Active"}, tasks)
    first = await call(client, "search_tasks", unassigned=True, status="Active", limit=5)
    assert len(first["items"]) == 5 and first["next_cursor"]
    # the first page of 500 tasks read covers the whole account: the count is exact at once
    assert first["total"] == len(active)
    assert {
        item["id"] for item in await search_all(client, unassigned=True, status="Active", limit=7)
    } == active


async def test_type_filter(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    expected = proper_subset({t.id for t in tasks if t.dates.type == "Milestone"}, tasks)
    assert await found_ids(client, type="Milestone") == expected


async def test_due_range_is_inclusive_on_both_days(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    dues = sorted({d for t in tasks if (d := due_day(t))})
    first, last = dues[len(dues) // 3], dues[len(dues) // 2]
    expected = proper_subset(due_within(tasks, first, last), tasks)
    # tasks due on either end day are in: the range is whole days
    assert {t.id for t in tasks if due_day(t) in (first, last)} <= expected
    found = await found_ids(client, due_after=first.isoformat(), due_before=last.isoformat())
    assert found == expected
    after = await found_ids(client, due_after=last.isoformat())
    assert after == proper_subset(due_within(tasks, last, None), tasks)
    before = await found_ids(client, due_before=first.isoformat())
    assert before == proper_subset(due_within(tasks, None, first), tasks)


async def test_updated_range_covers_whole_utc_days(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    days = sorted({t.updated.date() for t in tasks})
    first, last = days[len(days) // 3], days[len(days) // 2]
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last, time(23, 59, 59), tzinfo=UTC)
    expected = proper_subset({t.id for t in tasks if start <= t.updated <= end}, tasks)
    found = await found_ids(client, updated_after=first.isoformat(), updated_before=last.isoformat())
    assert found == expected
    last_start = datetime.combine(last, time.min, tzinfo=UTC)
    since = await found_ids(client, updated_after=last.isoformat())
    assert since == proper_subset({t.id for t in tasks if t.updated >= last_start}, tasks)
    until = await found_ids(client, updated_before=first.isoformat())
    first_end = datetime.combine(first, time(23, 59, 59), tzinfo=UTC)
    assert until == proper_subset({t.id for t in tasks if t.updated <= first_end}, tasks)


def far_zone(now: datetime) -> str:
    """A time zone whose date differs from UTC's right now: a search counting "today" in UTC instead of
    the user's zone then finds other tasks (Kiritimati is UTC+14 all year, Pago Pago UTC-11)."""
    return "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"


async def test_overdue_counts_from_the_users_today_in_their_wrike_time_zone(
    client: Client, sandbox_state: Any
) -> None:
    zone = far_zone(datetime.now(UTC))
    me(sandbox_state).timezone = zone
    user_today = datetime.now(ZoneInfo(zone)).date()
    assert user_today != datetime.now(UTC).date()
    active = sorted((t for t in live_tasks(sandbox_state) if t.status == "Active"), key=lambda t: t.id)
    due_yesterday, due_today = active[0], active[1]
    for task, day in ((due_yesterday, user_today - timedelta(days=1)), (due_today, user_today)):
        task.dates.type = "Planned"
        task.dates.start = datetime.combine(day, time(9))
        task.dates.due = datetime.combine(day, time(17))
    tasks = live_tasks(sandbox_state)
    expected = proper_subset(
        due_within([t for t in tasks if t.status == "Active"], None, user_today - timedelta(days=1)), tasks
    )
    found = await found_ids(client, overdue=True)
    assert due_yesterday.id in found and due_today.id not in found
    assert found == expected
    # with a due range, overdue narrows its end to the user's yesterday
    week_ago = user_today - timedelta(days=7)
    narrowed = await found_ids(client, overdue=True, due_after=week_ago.isoformat())
    assert narrowed == expected & due_within(tasks, week_ago, None)
    # and a due_before earlier than the user's yesterday stays the end
    until_week_ago = await found_ids(client, overdue=True, due_before=week_ago.isoformat())
    assert until_week_ago == proper_subset(expected & due_within(tasks, None, week_ago), tasks)


def holding_status(state: Any, tasks: list[Any], name: str) -> set[str]:
    """The tasks whose custom status, in any workflow, has this name."""
    named = {s.id for workflow in state.workflows.values() for s in workflow.statuses if s.name == name}
    return {t.id for t in tasks if t.custom_status_id in named}


async def test_several_custom_statuses_match_any_of_them(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    in_review, qa = (
        holding_status(sandbox_state, tasks, "In Review"),
        holding_status(sandbox_state, tasks, "QA"),
    )
    assert in_review and qa
    expected = proper_subset(in_review | qa, tasks)
    assert await found_ids(client, status=["In Review", "QA"]) == expected


async def test_an_unknown_status_is_refused_naming_it_and_the_known_ones(client: Client) -> None:
    result = await client.call_tool("search_tasks", {"status": ["QA", "Nonexistent"]})
    assert result.is_error
    text = error_text(result)
    assert "status 'Nonexistent' not found" in text
    assert "statuses: " in text and "In Review" in text and "Won't Fix" in text


async def test_overdue_with_only_statuses_that_are_not_active_is_refused_naming_them(client: Client) -> None:
    message = await call_error(client, "search_tasks", overdue=True, status=["Done", "Won't Fix"])
    assert "overdue" in message and """'Done' or "Won't Fix\"""" in message


async def test_overdue_with_statuses_keeps_only_their_active_ones(client: Client, sandbox_state: Any) -> None:
    """Overdue means Active: a group given with it keeps its Active part (all of it, custom statuses
    included), a custom status keeps its own tasks, another group is dropped."""
    yesterday = user_today(sandbox_state) - timedelta(days=1)
    tasks = live_tasks(sandbox_state)
    overdue = due_within([t for t in tasks if t.status == "Active"], None, yesterday)
    in_progress = {
        status.id
        for workflow in sandbox_state.workflows.values()
        for status in workflow.statuses
        if status.name == "In Progress"
    }
    expected = proper_subset(overdue, tasks)
    only_in_progress = {i for i in overdue if sandbox_state.tasks[i].custom_status_id in in_progress}
    assert only_in_progress and only_in_progress < expected
    assert await found_ids(client, overdue=True, status=["Active", "In Progress"]) == expected
    assert await found_ids(client, overdue=True, status=["Completed", "In Progress"]) == only_in_progress


async def test_overdue_with_the_active_group_is_overdue(client: Client, sandbox_state: Any) -> None:
    yesterday = user_today(sandbox_state) - timedelta(days=1)
    tasks = live_tasks(sandbox_state)
    expected = proper_subset(due_within([t for t in tasks if t.status == "Active"], None, yesterday), tasks)
    assert await found_ids(client, overdue=True, status="Active") == expected


async def test_relative_days_count_from_the_users_today(client: Client, sandbox_state: Any) -> None:
    today = user_today(sandbox_state)
    tasks = live_tasks(sandbox_state)
    until_yesterday = proper_subset(due_within(tasks, None, today - timedelta(days=1)), tasks)
    assert await found_ids(client, due_before="yesterday") == until_yesterday
    from_tomorrow = proper_subset(due_within(tasks, today + timedelta(days=1), None), tasks)
    assert await found_ids(client, due_after="Tomorrow") == from_tomorrow


@pytest.mark.parametrize("name", ["due_after", "due_before", "updated_after", "updated_before"])
async def test_a_day_that_is_no_date_is_refused_naming_its_argument(client: Client, name: str) -> None:
    message = await call_error(client, "search_tasks", **{name: "2026-02-30"})
    assert f"{name} '2026-02-30' is not a valid date" in message


async def test_relative_days_bound_the_update_range_too(client: Client, sandbox_state: Any) -> None:
    today = user_today(sandbox_state)
    yesterday = today - timedelta(days=1)
    tasks = live_tasks(sandbox_state)
    # The seed spreads updates at random up to the moment it runs, so whether any falls after yesterday depends
    # on the hour: one task updated at noon today gives "since yesterday" a member and "until yesterday" a miss.
    tasks[0].updated = datetime.combine(today, time(12), tzinfo=UTC)
    start, end = (
        datetime.combine(yesterday, time.min, tzinfo=UTC),
        datetime.combine(yesterday, time.max, tzinfo=UTC),
    )
    since = proper_subset({t.id for t in tasks if t.updated >= start}, tasks)
    assert await found_ids(client, updated_after="yesterday") == since
    until = proper_subset({t.id for t in tasks if t.updated <= end}, tasks)
    assert await found_ids(client, updated_before="Yesterday") == until


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        (
            {"due_after": "2026-06-10", "due_before": "2026-06-01"},
            "due_before 2026-06-01 is before due_after 2026-06-10",
        ),
        (
            {"updated_after": "2026-06-10", "updated_before": "2026-06-01"},
            "updated_before 2026-06-01 is before updated_after 2026-06-10",
        ),
        ({"due_after": "2099-01-01", "overdue": True}, "is before due_after 2099-01-01"),
    ],
)
async def test_a_range_the_wrong_way_round_is_refused_naming_both_ends(
    client: Client, arguments: dict[str, Any], refusal: str
) -> None:
    message = await call_error(client, "search_tasks", **arguments)
    assert refusal in message
    if arguments.get("overdue"):  # the end overdue sets is named as such
        assert re.search(r"\bdue_before/overdue \d{4}-\d{2}-\d{2} is before", message), message


# ---- sorting, paging ------------------------------------------------------------------------------------

IMPORTANCE_RANK = {"High": 0, "Normal": 1, "Low": 2}  # Wrike sorts importance High → Low ascending
SORT_KEYS: dict[str, Callable[[Any], Any]] = {
    "due": lambda t: t.dates.due,
    "updated": lambda t: t.updated,
    "created": lambda t: t.created,
    "importance": lambda t: IMPORTANCE_RANK[t.importance],
    "title": lambda t: t.title.casefold(),
}


def assert_sorted(state: Any, items: list[dict[str, Any]], sort: str, *, descending: bool) -> None:
    key = SORT_KEYS[sort]
    values = [key(state.tasks[item["id"]]) for item in items]
    present = [value for value in values if value is not None]
    assert values == present + [None] * (len(values) - len(present)), "tasks without the value come last"
    assert len(set(present)) > 2
    assert present == sorted(present, reverse=descending), f"{sort} not {'desc' if descending else 'asc'}"


async def test_default_order_is_recently_updated_first_across_pages(
    client: Client, sandbox_state: Any
) -> None:
    tasks = live_tasks(sandbox_state)
    expected = [t.id for t in sorted(tasks, key=lambda t: t.updated, reverse=True)]
    assert len({t.updated for t in tasks}) == len(tasks)  # no ties: the order is one list
    first = await call(client, "search_tasks", limit=7)
    assert [item["id"] for item in first["items"]] == expected[:7]
    assert first["total"] == len(expected) and first["next_cursor"]
    assert [item["id"] for item in await search_all(client, limit=60)] == expected


@pytest.mark.parametrize("sort", list(SORT_KEYS))
async def test_each_sort_field_and_its_default_order(client: Client, sandbox_state: Any, sort: str) -> None:
    expected = {t.id for t in live_tasks(sandbox_state)}
    default_descending = sort not in ("due", "title")  # the schema: asc for due and title, else desc
    items = await search_all(client, sort=sort, limit=200)
    assert {item["id"] for item in items} == expected
    assert_sorted(sandbox_state, items, sort, descending=default_descending)
    for order, descending in (("asc", False), ("desc", True)):
        ordered = await search_all(client, sort=sort, order=order, limit=200)
        assert {item["id"] for item in ordered} == expected
        assert_sorted(sandbox_state, ordered, sort, descending=descending)


async def test_order_without_sort_orders_by_last_update(client: Client, sandbox_state: Any) -> None:
    oldest_first = [t.id for t in sorted(live_tasks(sandbox_state), key=lambda t: t.updated)]
    items = await search_all(client, order="asc", limit=200)
    assert [item["id"] for item in items] == oldest_first
    items = await search_all(client, order="desc", limit=200)
    assert [item["id"] for item in items] == oldest_first[::-1]


async def task_queries(
    client: Client, sandbox_http: httpx.AsyncClient, **arguments: Any
) -> list[dict[str, str]]:
    """The query of each task list request one search_tasks call sends to Wrike."""
    before = len(await requests_log(sandbox_http))
    await call(client, "search_tasks", **arguments)
    return [e["query"] for e in (await requests_log(sandbox_http))[before:] if e["path"] == "/api/v4/tasks"]


async def test_the_order_and_status_groups_are_asked_of_wrike_in_its_documented_form(
    client: Client, sandbox_http: httpx.AsyncClient
) -> None:
    """An order without a sort names its field (the order does not rest on Wrike's default field), and
    Wrike's `status` takes one group as a plain value, several as a JSON list."""
    (query,) = await task_queries(client, sandbox_http, order="asc", status="Completed")
    assert (query["sortField"], query["sortOrder"], query["status"]) == ("UpdatedDate", "Asc", "Completed")
    (query,) = await task_queries(client, sandbox_http, status=["Completed", "Deferred"])
    assert query["status"] == '["Completed","Deferred"]'


async def test_limit_and_cursor_with_a_filter_keep_the_filter(client: Client, sandbox_state: Any) -> None:
    tasks = live_tasks(sandbox_state)
    wanted = [t for t in tasks if t.importance == "High"]
    expected = [t.id for t in sorted(wanted, key=lambda t: t.created)]
    proper_subset(set(expected), tasks)
    items = await search_all(client, importance="High", sort="created", order="asc", limit=9)
    assert [item["id"] for item in items] == expected
    assert len(expected) > 9 * 2  # three pages at least


async def test_bulk_updates_select_by_the_same_filters_described_once(client: Client) -> None:
    """bulk_update_tasks' `where` takes search_tasks' filters: names, types and enums shown, the
    descriptions left to search_tasks (listed with it), so tools/list does not carry them twice."""
    tools = {tool.name: tool.input_schema for tool in (await client.list_tools()).tools}
    where = tools["bulk_update_tasks"]["properties"]["where"]["properties"]
    search = tools["search_tasks"]["properties"]
    assert set(where) == {"text", "folder", "space", "status", "assignee", "unassigned", "author"} | {
        "importance",
        "due_after",
        "due_before",
        "overdue",
        "updated_after",
        "updated_before",
    } | {"include_subtasks", "type"}
    assert set(where) < set(search)
    assert all("description" in search[name] for name in where)
    assert [name for name in where if "description" in where[name]] == []
    assert where["importance"]["enum"] == ["High", "Normal", "Low"]


def test_the_where_filters_schema_built_again_has_no_descriptions() -> None:
    """Built here, not taken from the tool schemas cached when the tools were registered."""
    built = TaskFilters.model_json_schema()["properties"]
    assert {"text", "assignee", "author", "overdue", "type"} <= set(built)
    assert [name for name in built if "description" in built[name]] == []
    assert built["type"]["anyOf"][0]["enum"] == ["Planned", "Milestone", "Backlog"]


async def test_at_most_twenty_statuses_are_taken(client: Client, sandbox_state: Any) -> None:
    """The limit counts the names given: twenty (here one name twenty times) pass, twenty-one do not."""
    tasks = live_tasks(sandbox_state)
    active = proper_subset({t.id for t in tasks if t.status == "Active"}, tasks)
    assert await found_ids(client, status=["Active"] * 20) == active
    message = await call_error(client, "search_tasks", status=["Active"] * 21)
    assert "21 statuses" in message and "at most 20" in message


def test_a_list_of_people_says_what_each_is_and_takes_at_most_fifty() -> None:
    """The schema of bulk_update_tasks' and create_task's people lists (built once, when tools register)."""
    field = people_field(PEOPLE_PHRASE)
    assert field.description == PEOPLE_PHRASE
    assert [getattr(rule, "max_length", None) for rule in field.metadata] == [50]


async def test_a_search_reading_several_pages_reports_progress_and_one_page_does_not(
    client: Client, sandbox_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_module, "TEXT_SEARCH_PAGE", 60)  # matching here reads pages of 60
    tasks = live_tasks(sandbox_state)
    unassigned = proper_subset({t.id for t in tasks if not t.responsible_ids}, tasks)
    pages = -(-len(tasks) // 60)
    assert 2 < pages <= 10
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = await client.call_tool(
        "search_tasks", {"unassigned": True, "limit": 200}, progress_callback=on_progress
    )
    assert {item["id"] for item in (result.structured_content or {})["items"]} == unassigned
    assert [message for _, _, message in seen] == [f"read {n} pages of tasks" for n in range(1, pages + 1)]
    assert {total for _, total, _ in seen} == {200}
    assert seen[-1][0] == len(unassigned)
    seen.clear()
    monkeypatch.setattr(tasks_module, "TEXT_SEARCH_PAGE", len(tasks) - 1)  # two pages
    await client.call_tool("search_tasks", {"unassigned": True, "limit": 200}, progress_callback=on_progress)
    assert [message for _, _, message in seen] == ["read 1 pages of tasks", "read 2 pages of tasks"]
    seen.clear()
    await client.call_tool("search_tasks", {"importance": "High"}, progress_callback=on_progress)
    assert seen == []


async def test_a_parameter_wrike_refuses_on_the_first_page_is_not_called_an_expired_cursor(
    client: Client, sandbox_http: httpx.AsyncClient
) -> None:
    fault = {
        "method": "GET",
        "path": "/api/v4/tasks",
        "status": 400,
        "error": "invalid_parameter",
        "description": "nextPageToken and something else",
    }
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    message = await call_error(client, "search_tasks", importance="High")
    assert "Wrike rejected the request" in message and "cursor" not in message
