"""The `time` toolset against the sandbox, in both protocol eras: time logs by folder or project with totals,
concise and full, categories by name, editing and deleting an entry (confirmed), and time_report's totals —
every expected figure computed from the sandbox's own time logs, never from the tools under test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    answering,
    api_calls,
    call,
    call_error,
    refused_up_front,
    requests_log,
    state_folder,
    unconfirmed_answers,
    user_today,
    warm_requests,
)
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools import time_entries

API_REVAMP = "Engineering/Platform/API Revamp"


# ---- the sandbox's own answers -----------------------------------------------------------------------------


def live(state: Any) -> list[Any]:
    return [t for t in state.timelogs.values() if not state.tasks[t.task_id].deleted]


def folders_below(state: Any, folder_id: str) -> set[str]:
    found = {folder_id}
    grew = True
    while grew:
        more = {f.id for f in state.folders.values() if not f.deleted and set(f.parent_ids) & found} - found
        found |= more
        grew = bool(more)
    return found


def tasks_in(state: Any, folder_id: str) -> set[str]:
    """Tasks in a folder or below it, with their subtasks at any depth."""
    places = folders_below(state, folder_id)
    found = {t.id for t in state.tasks.values() if not t.deleted and set(t.parent_ids) & places}
    grew = True
    while grew:
        more = {t.id for t in state.tasks.values() if not t.deleted and set(t.super_task_ids) & found} - found
        found |= more
        grew = bool(more)
    return found


def hours(entries: Iterable[Any]) -> float:
    return round(float(sum(t.hours for t in entries)), 2)


def by(entries: Iterable[Any], key: Callable[[Any], Any]) -> dict[Any, float]:
    grouped: dict[Any, list[Any]] = {}
    for entry in entries:
        grouped.setdefault(key(entry), []).append(entry)
    return {k: hours(v) for k, v in grouped.items()}


def category_id(state: Any, name: str) -> str:
    return str(next(c.id for c in state.timelog_categories.values() if c.name == name))


def project_of(state: Any, task: Any) -> str | None:
    """The nearest project above a task's first home folder (a subtask's home is its parent task's)."""
    while not task.parent_ids and task.super_task_ids:
        task = state.tasks[task.super_task_ids[0]]
    folder = state.folders.get(task.parent_ids[0]) if task.parent_ids else None
    start = folder
    while folder is not None:
        if folder.project is not None:
            return str(folder.id)
        folder = state.folders.get(folder.parent_ids[0]) if folder.parent_ids else None
    return start.id if start is not None else None


def size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


# ---- declarations ------------------------------------------------------------------------------------------


async def test_the_time_toolset_is_declared_with_scopes_and_hints(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    kinds = {
        "list_timelogs": ("read", "wsReadOnly"),
        "time_report": ("read", "wsReadOnly"),
        "log_time": ("write", "wsReadWrite"),
        "update_timelog": ("write", "wsReadWrite"),
        "delete_timelog": ("destructive", "wsReadWrite"),
    }
    for name, (kind, scope) in kinds.items():
        tool = tools[name]
        assert tool.meta == {"wrike-mcp/toolset": "time", "wrike-mcp/scopes": [scope]}
        hints = tool.annotations
        assert hints is not None and hints.open_world_hint is True
        assert hints.read_only_hint is (kind == "read") and hints.destructive_hint is (kind == "destructive")
        for prop, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{prop} has no description"
    assert "confirmation" not in tools["delete_timelog"].input_schema["properties"]
    assert tools["list_timelogs"].input_schema["properties"]["detail"]["default"] == "concise"


# ---- requests per call, warm caches ---------------------------------------------------------------------------

EVERYTHING = {"since": "2020-01-01", "until": "2030-12-31"}
WARM_REQUESTS = [
    ("list_timelogs", {"folder": API_REVAMP}, 2),  # the time logs, then the totals' task titles
    ("list_timelogs", {"folder": API_REVAMP, "detail": "full"}, 2),  # the same titles read names the items
    ("time_report", EVERYTHING, 1),  # one page; people are known contacts
    ("time_report", {**EVERYTHING, "place": API_REVAMP, "group_by": ["task", "category"]}, 2),  # + titles
]


@pytest.mark.parametrize(("tool", "arguments", "requests"), WARM_REQUESTS)
async def test_requests_per_call_on_a_warm_server(
    mcp: Client, sandbox_http: httpx.AsyncClient, tool: str, arguments: dict[str, Any], requests: int
) -> None:
    made = await warm_requests(mcp, sandbox_http, tool, **arguments)
    assert len(made) == requests, made


# ---- list_timelogs by folder or project --------------------------------------------------------------------


async def test_a_project_s_time_with_its_subfolders_and_totals(mcp: Client, sandbox_state: Any) -> None:
    project = state_folder(sandbox_state, API_REVAMP)
    inside = tasks_in(sandbox_state, project.id)
    expected = [t for t in live(sandbox_state) if t.task_id in inside]
    direct = [t for t in expected if project.id in sandbox_state.tasks[t.task_id].parent_ids]
    assert len(direct) < len(expected)  # subfolders (Backend, Frontend) count
    found = await call(mcp, "list_timelogs", folder=API_REVAMP, limit=500)
    assert {item["id"] for item in found["items"]} == {t.id for t in expected}
    assert found["total"] == len(expected) and found["total_hours"] == hours(expected)
    people = by(expected, lambda t: t.user_id)
    assert {p["id"]: p["hours"] for p in found["by_person"]} == people
    assert {p["name"] for p in found["by_person"]} == {sandbox_state.contacts[i].name for i in people}
    tasks = by(expected, lambda t: t.task_id)
    assert {t["id"]: t["hours"] for t in found["by_task"]} == tasks
    assert {t["name"] for t in found["by_task"]} == {sandbox_state.tasks[i].title for i in tasks}
    assert [p["hours"] for p in found["by_person"]] == sorted(people.values(), reverse=True)
    # concise: ids only, named in the totals; a category by name
    item = found["items"][0]
    entry = sandbox_state.timelogs[item["id"]]
    assert item["task_id"] == entry.task_id and item["person_id"] == entry.user_id and "task" not in item
    categories = {c.id: c.name for c in sandbox_state.timelog_categories.values()}
    for item in found["items"]:
        entry = sandbox_state.timelogs[item["id"]]
        assert item.get("category") == categories.get(entry.category_id)


async def test_a_folder_s_time_of_one_person_in_one_category(mcp: Client, sandbox_state: Any) -> None:
    marketing = state_folder(sandbox_state, "Marketing")
    inside = tasks_in(sandbox_state, marketing.id)
    design = category_id(sandbox_state, "Design")
    in_design = [t for t in live(sandbox_state) if t.task_id in inside and t.category_id == design]
    person = max({t.user_id for t in in_design}, key=lambda p: sum(t.user_id == p for t in in_design))
    expected = [t for t in in_design if t.user_id == person]
    assert 0 < len(expected) < len(in_design)
    found = await call(
        mcp,
        "list_timelogs",
        folder="Marketing",
        person=sandbox_state.contacts[person].email,
        category="design",
        limit=500,
    )
    assert {item["id"] for item in found["items"]} == {t.id for t in expected}
    assert found["total_hours"] == hours(expected)
    assert {item["category"] for item in found["items"]} == {"Design"}


async def test_full_names_everything_and_concise_is_much_smaller(mcp: Client, sandbox_state: Any) -> None:
    concise = await call(mcp, "list_timelogs", limit=50)
    full = await call(mcp, "list_timelogs", limit=50, detail="full")
    assert [i["id"] for i in concise["items"]] == [i["id"] for i in full["items"]]
    assert concise["total_hours"] == full["total_hours"] == hours(live(sandbox_state))
    for item in full["items"]:
        entry = sandbox_state.timelogs[item["id"]]
        assert item["task"] == {"id": entry.task_id, "name": sandbox_state.tasks[entry.task_id].title}
        assert item["person"] == {"id": entry.user_id, "name": sandbox_state.contacts[entry.user_id].name}
        assert item["billable"] is (entry.billing_type == "Billable")
    items_concise, items_full = size(concise["items"]), size(full["items"])
    assert items_concise <= 0.6 * items_full, (items_concise, items_full)


async def test_later_pages_leave_the_totals_out(mcp: Client, sandbox_state: Any) -> None:
    first = await call(mcp, "list_timelogs", folder=API_REVAMP, limit=5)
    assert first["by_person"] and first["next_cursor"]
    second = await call(mcp, "list_timelogs", folder=API_REVAMP, limit=5, cursor=first["next_cursor"])
    assert "by_person" not in second and second["total"] == first["total"]


async def test_category_names_that_do_not_pick_one_list_the_candidates(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    ambiguous = await call_error(mcp, "list_timelogs", category="support")
    assert "ambiguous" in ambiguous
    unknown = await call_error(mcp, "list_timelogs", category="Gardening")
    assert "not found" in unknown and "Development" in unknown and "Client support" in unknown
    # hidden categories filter old time, but take no new time
    assert "Travel" not in await call_error(
        mcp, "log_time", task="Draft launch announcement", hours=1, category="x"
    )
    assert "not found" in await call_error(
        mcp, "log_time", task="Draft launch announcement", hours=1, category="Travel"
    )
    # no time log was read or written for any of these
    assert not [path for _, path in await api_calls(sandbox_http) if "timelogs" in path]


async def test_hidden_category_still_filters(mcp: Client, sandbox_state: Any) -> None:
    travel = category_id(sandbox_state, "Travel")
    expected = [t for t in live(sandbox_state) if t.category_id == travel]
    found = await call(mcp, "list_timelogs", category="Travel", limit=500)
    assert expected and {i["id"] for i in found["items"]} == {t.id for t in expected}


# ---- log_time, update_timelog ------------------------------------------------------------------------------


async def test_log_time_in_a_category_then_edit_it(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = next(t for t in sandbox_state.tasks.values() if t.title == "Draft launch announcement")
    logged = await call(
        mcp, "log_time", task=task.id, hours=1.25, category="Client", comment="Call", date="yesterday"
    )
    entry = sandbox_state.timelogs[logged["id"]]
    assert entry.category_id == category_id(sandbox_state, "Client support")
    assert entry.tracked_date == user_today(sandbox_state) - timedelta(days=1) and entry.hours == 1.25
    assert logged["category"] == "Client support" and logged["task"]["name"] == "Draft launch announcement"
    posts = [e for e in await requests_log(sandbox_http) if e["method"] == "POST"]
    assert len(posts) == 1

    before = len(await requests_log(sandbox_http))
    changed = await call(mcp, "update_timelog", timelog=entry.id, hours=2, category="Meetings")
    assert (entry.hours, entry.category_id, entry.comment) == (
        2,
        category_id(sandbox_state, "Meetings"),
        "Call",
    )
    assert changed["hours"] == 2 and changed["category"] == "Meetings"
    puts = [e for e in (await requests_log(sandbox_http))[before:] if e["method"] == "PUT"]
    assert len(puts) == 1 and puts[0]["path"].endswith(f"/timelogs/{entry.id}")
    sent = json.dumps(puts[0])
    assert "trackedDate" not in sent and "comment" not in sent  # only what changes

    await call(mcp, "update_timelog", timelog=entry.id, date="2026-01-05", comment="Client call")
    assert (entry.tracked_date, entry.comment, entry.hours) == (date(2026, 1, 5), "Client call", 2)


async def test_bad_edits_are_refused_before_any_request(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    ident = "IEAAB2CDJRAAAAAB"
    assert "nothing to change" in await refused_up_front(mcp, sandbox_http, "update_timelog", timelog=ident)
    assert "comment is empty" in await refused_up_front(
        mcp, sandbox_http, "update_timelog", timelog=ident, comment=" \u200b "
    )
    assert "not a valid date" in await refused_up_front(
        mcp, sandbox_http, "update_timelog", timelog=ident, date="2026-02-30"
    )
    for hours_given in (0, 25, -1):
        await refused_up_front(mcp, sandbox_http, "update_timelog", timelog=ident, hours=hours_given)
    for bad in ("a,b", "x/y", ""):
        await refused_up_front(mcp, sandbox_http, "update_timelog", timelog=bad, hours=1)
    assert "not both" in await refused_up_front(
        mcp, sandbox_http, "list_timelogs", task="Draft launch announcement", folder="Marketing"
    )
    assert "before since" in await refused_up_front(
        mcp, sandbox_http, "time_report", since="2026-03-02", until="2026-03-01"
    )
    for arguments in (
        {"since": "2026-03-01", "until": "2026-03-31", "group_by": ["colour"]},
        {"since": "2026-03-01", "until": "2026-03-31", "group_by": []},
        {"since": "2026-03-01", "until": "2026-03-31", "group_by": ["person", "task", "week", "month"]},
        {"since": "March", "until": "2026-03-31"},
        {"since": "2026-03-01"},
    ):
        await refused_up_front(mcp, sandbox_http, "time_report", **arguments)


async def test_an_edit_whose_answer_is_lost_is_not_sent_again(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    entry = next(iter(live(sandbox_state)))
    fault = {
        "method": "PUT",
        "path": f"/api/v4/timelogs/{entry.id}",
        "status": 500,
        "apply": True,
        "times": 3,
    }
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    await call_error(mcp, "update_timelog", timelog=entry.id, hours=3)
    assert len([e for e in await requests_log(sandbox_http) if e["method"] == "PUT"]) == 1
    assert entry.hours == 3  # applied once


# ---- delete_timelog ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_timelog_asks_then_deletes(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    entry = max(live(sandbox_state), key=lambda t: t.hours)
    task = sandbox_state.tasks[entry.task_id]
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        result = await call(client, "delete_timelog", timelog=entry.id)
    assert len(asked) == 1 and task.title[:50] in asked[0] and entry.tracked_date.isoformat() in asked[0]
    assert result["deleted"] is True and result["outcome"] == "deleted"
    assert result["timelog"]["hours"] == entry.hours and result["timelog"]["task"]["id"] == task.id
    assert entry.id not in sandbox_state.timelogs
    deletes = [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]
    assert deletes == [("DELETE", f"/api/v4/timelogs/{entry.id}")]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_timelog_not_confirmed_deletes_nothing(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    entry = next(iter(live(sandbox_state)))
    for reason, result in await unconfirmed_answers(server, mode, "delete_timelog", timelog=entry.id):
        assert result == {"deleted": False, "id": entry.id, "outcome": f"not deleted: {reason}"}
    assert entry.id in sandbox_state.timelogs
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]


async def test_delete_timelog_without_elicitation_needs_allow_delete(
    make_server: Callable[..., WrikeMCPServer], sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    entry = next(iter(live(sandbox_state)))
    async with Client(make_server(allow_delete=False), mode="legacy") as client:
        assert "delete_timelog" not in {tool.name for tool in (await client.list_tools()).tools}
        message = await call_error(client, "delete_timelog", timelog=entry.id)
    assert "confirmation" in message and "--allow-delete" in message
    assert entry.id in sandbox_state.timelogs and not await api_calls(sandbox_http)
    async with Client(make_server(allow_delete=True), mode="legacy") as client:
        assert (await call(client, "delete_timelog", timelog=entry.id))["deleted"] is True
    assert entry.id not in sandbox_state.timelogs


async def test_delete_of_an_unknown_time_log_asks_nothing(server: WrikeMCPServer) -> None:
    asked, callback = answering("accept")
    async with Client(server, mode="legacy", elicitation_callback=callback) as client:
        assert "not found" in await call_error(client, "delete_timelog", timelog="IEAAB2CDJR777777")
    assert asked == []


# ---- time_report -------------------------------------------------------------------------------------------


def period(state: Any, days: int) -> tuple[date, date, list[Any]]:
    until = user_today(state)
    since = until - timedelta(days=days)
    return since, until, [t for t in live(state) if since <= t.tracked_date <= until]


async def test_report_by_person_totals_the_sandbox_s_time(mcp: Client, sandbox_state: Any) -> None:
    since, until, expected = period(sandbox_state, 30)
    report = await call(mcp, "time_report", since=since.isoformat(), until="today")
    assert report["complete"] is True and report["until"] == until.isoformat()
    assert report["entries"] == len(expected) and report["total_hours"] == hours(expected)
    assert report["billable_hours"] == hours(t for t in expected if t.billing_type == "Billable") > 0
    people = by(expected, lambda t: t.user_id)
    assert {r["person"]["id"]: r["hours"] for r in report["rows"]} == people
    assert all(r["person"]["name"] == sandbox_state.contacts[r["person"]["id"]].name for r in report["rows"])
    assert [r["hours"] for r in report["rows"]] == sorted(people.values(), reverse=True)


async def test_report_by_project_and_category_in_a_place(mcp: Client, sandbox_state: Any) -> None:
    since, until, in_period = period(sandbox_state, 120)
    engineering = state_folder(sandbox_state, "Engineering")
    inside = tasks_in(sandbox_state, engineering.id)
    expected = [t for t in in_period if t.task_id in inside]
    report = await call(
        mcp,
        "time_report",
        since=since.isoformat(),
        until=until.isoformat(),
        group_by=["project", "category"],
        place="Engineering",
    )
    assert report["total_hours"] == hours(expected) and report["entries"] == len(expected)
    names = {c.id: c.name for c in sandbox_state.timelog_categories.values()}
    wanted = by(
        expected,
        lambda t: (
            project_of(sandbox_state, sandbox_state.tasks[t.task_id]),
            names.get(t.category_id, "(no category)"),
        ),
    )
    assert {(r["project"]["id"], r["category"]) for r in report["rows"]} == set(wanted)
    assert {(r["project"]["id"], r["category"]): r["hours"] for r in report["rows"]} == wanted
    projects = by(expected, lambda t: project_of(sandbox_state, sandbox_state.tasks[t.task_id]))
    assert {r["project"]["id"]: r["hours"] for r in report["subtotals"]} == projects
    assert len(projects) > 2 and any(sandbox_state.folders[p].project for p in projects)
    assert all(
        r["project"]["name"] == sandbox_state.folders[r["project"]["id"]].title for r in report["subtotals"]
    )


async def test_report_by_week_and_billable_for_one_person(mcp: Client, sandbox_state: Any) -> None:
    since, until, in_period = period(sandbox_state, 60)
    me = sandbox_state.access_tokens["wrike-sandbox-token"].user_id
    expected = [t for t in in_period if t.user_id == me]
    report = await call(
        mcp,
        "time_report",
        since=since.isoformat(),
        until=until.isoformat(),
        group_by=["week", "billable"],
        person="me",
    )
    wanted = by(
        expected,
        lambda t: (
            (t.tracked_date - timedelta(days=t.tracked_date.weekday())).isoformat(),
            t.billing_type == "Billable",
        ),
    )
    assert {(r["week"], r["billable"]): r["hours"] for r in report["rows"]} == wanted
    assert report["total_hours"] == hours(expected) and len(wanted) > 4
    weeks = [r["week"] for r in report["rows"]]
    assert weeks == sorted(weeks)  # a period reads in time order


async def test_report_of_one_category_by_task(mcp: Client, sandbox_state: Any) -> None:
    since, until, in_period = period(sandbox_state, 120)
    meetings = category_id(sandbox_state, "Meetings")
    expected = [t for t in in_period if t.category_id == meetings]
    report = await call(
        mcp,
        "time_report",
        since=since.isoformat(),
        until=until.isoformat(),
        group_by=["task"],
        category="Meetings",
    )
    assert {r["task"]["id"]: r["hours"] for r in report["rows"]} == by(expected, lambda t: t.task_id)
    assert all(r["task"]["name"] == sandbox_state.tasks[r["task"]["id"]].title for r in report["rows"])


async def test_report_pages_under_the_hood_and_says_when_it_stopped(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    since, until, expected = period(sandbox_state, 120)
    monkeypatch.setattr(time_entries, "REPORT_PAGE_SIZE", 60)
    whole = await call(
        mcp, "time_report", since=since.isoformat(), until=until.isoformat(), group_by=["month"]
    )
    pages = [e for e in await requests_log(sandbox_http) if str(e["path"]).endswith("/api/v4/timelogs")]
    assert len(pages) == -(-len(expected) // 60) > 2
    assert whole["complete"] is True and whole["total_hours"] == hours(expected)
    assert {r["month"]: r["hours"] for r in whole["rows"]} == by(
        expected, lambda t: t.tracked_date.isoformat()[:7]
    )

    monkeypatch.setattr(time_entries, "REPORT_MAX_PAGES", 2)
    cut = await call(mcp, "time_report", since=since.isoformat(), until=until.isoformat(), group_by=["month"])
    assert cut["complete"] is False and cut["entries"] == 120 and "stopped after 2 pages" in cut["note"]
    assert cut["total_hours"] < whole["total_hours"]


async def test_tracked_days_are_sent_as_the_documented_timestamp_range(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    """The descriptions give trackedDate as a timestamp range (2020 semi-open interval, 2026 InstantRange):
    list_timelogs sends the first day from midnight and the last to 23:59:59, and both days are in."""
    everything = [t for t in sandbox_state.timelogs.values() if not sandbox_state.tasks[t.task_id].deleted]
    days = sorted({t.tracked_date for t in everything})
    low, high = days[len(days) // 4], days[len(days) // 2]
    expected = {t.id for t in everything if low <= t.tracked_date <= high}
    assert expected and expected != {t.id for t in everything}
    assert any(t.tracked_date in (low, high) for t in everything if t.id in expected)
    before = len(await requests_log(sandbox_http))
    found = await call(
        mcp, "list_timelogs", tracked_after=low.isoformat(), tracked_before=high.isoformat(), limit=500
    )
    assert {item["id"] for item in found["items"]} == expected
    [sent] = [e for e in (await requests_log(sandbox_http))[before:] if str(e["path"]).endswith("/timelogs")]
    assert json.loads(sent["query"]["trackedDate"]) == {
        "start": f"{low.isoformat()}T00:00:00Z",
        "end": f"{high.isoformat()}T23:59:59Z",
    }
