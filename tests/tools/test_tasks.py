"""The `tasks` toolset against the sandbox, in both protocol eras: search, details, create, update, delete
(with confirmation), comments and time logs — results, the sandbox's state after writes, and bad input
refused before any Wrike call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    BIG,
    SANDBOX_BASE_URL,
    answering,
    api_calls,
    call,
    call_error,
    error_text,
    refused_up_front,
    requests_log,
    state_folder,
    unconfirmed_answers,
    user_today,
)
from wrike_mcp.config import Settings
from wrike_mcp.sandbox import SandboxConfig
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

Q3 = "Marketing/Campaigns/Q3 Launch"


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    message = await call_error(client, tool, **arguments)
    assert len(message) < 200, message
    return message


def state_task(sandbox_state: Any, title: str) -> Any:
    found = [t for t in sandbox_state.tasks.values() if t.title == title and not t.deleted]
    assert len(found) == 1, f"{len(found)} tasks titled {title!r}"
    return found[0]


def person(sandbox_state: Any, name: str) -> Any:
    return next(c for c in sandbox_state.contacts.values() if c.name == name)


def status_of(sandbox_state: Any, task: Any) -> Any:
    return sandbox_state.custom_status(task.custom_status_id)


def names(refs: list[dict[str, Any]]) -> set[str]:
    return {ref["name"] for ref in refs}


# ---- declarations ---------------------------------------------------------------------------------------

READ_TOOLS = ("search_tasks", "get_task")
WRITE_TOOLS = ("create_task", "update_task", "add_comment")  # time logs: tests/tools/test_time.py


async def test_tools_are_declared_with_toolset_scopes_and_hints(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    for name in (*READ_TOOLS, *WRITE_TOOLS, "delete_task"):
        tool = tools[name]
        assert tool.title and tool.description and len(tool.description) > 60
        assert tool.meta is not None and tool.meta["wrike-mcp/toolset"] == "tasks"
        assert tool.annotations is not None and tool.annotations.open_world_hint is True
        for prop, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{prop} has no description"
    for name in READ_TOOLS:
        assert tools[name].annotations.read_only_hint is True  # type: ignore[union-attr]
        assert tools[name].meta["wrike-mcp/scopes"] == ["wsReadOnly"]  # type: ignore[index]
    for name in WRITE_TOOLS:
        assert tools[name].annotations.read_only_hint is False  # type: ignore[union-attr]
        assert tools[name].annotations.destructive_hint is False  # type: ignore[union-attr]
        assert tools[name].meta["wrike-mcp/scopes"] == ["wsReadWrite"]  # type: ignore[index]
    delete = tools["delete_task"]
    assert delete.annotations is not None and delete.annotations.destructive_hint is True
    assert "confirmation" not in delete.input_schema["properties"]  # filled by the resolver, not the model
    search = tools["search_tasks"].input_schema["properties"]
    assert search["limit"]["maximum"] == 200 and search["limit"]["default"] == 50


# ---- search_tasks ---------------------------------------------------------------------------------------


async def test_search_overdue_tasks_of_a_person_in_a_project(mcp: Client, sandbox_state: Any) -> None:
    full = await call(
        mcp, "search_tasks", folder="Q3 Launch", assignee="Diego Alvarez", overdue=True, detail="full"
    )
    items = full["items"]
    assert len(items) >= 3 and full["total"] == len(items)
    today = user_today(sandbox_state).isoformat()
    diego = person(sandbox_state, "Diego Alvarez")
    for item in items:
        assert item["status"] == "Active"
        assert item["due"] < today
        assert {"id": diego.id, "name": "Diego Alvarez"} in item["assignees"]
        assert item["permalink"].startswith("https://www.wrike.com/open.htm?id=")
        assert item["custom_status"]
    titles = {item["title"] for item in items}
    assert {"Finalize launch checklist", "Book launch venue", "Approve press kit"} <= titles
    first = next(item for item in items if item["title"] == "Approve press kit")
    q3 = state_folder(sandbox_state, Q3).id
    assert first["parents"] == [{"id": q3, "name": Q3}]
    assert first["importance"] == "High"
    assert "next_cursor" not in full

    # concise (the default): the same tasks; names, paths and status groups once for the list
    concise = await call(mcp, "search_tasks", folder="Q3 Launch", assignee="Diego Alvarez", overdue=True)
    assert [item["id"] for item in concise["items"]] == [item["id"] for item in items]
    assert concise["total"] == full["total"]
    assert concise["people"][diego.id] == "Diego Alvarez" and concise["folders"][q3] == Q3
    for brief, item in zip(concise["items"], items, strict=True):
        assert brief["status"] == item["custom_status"]
        assert concise["statuses"].get(brief["status"], brief["status"]) == "Active"
        assert brief["due"] == item["due"] and diego.id in brief["assignees"]
        assert "permalink" not in brief and "start" not in brief
        assert brief.get("importance", "Normal") == item["importance"]
    brief = next(item for item in concise["items"] if item["title"] == "Approve press kit")
    assert brief["parents"] == [q3] and brief["importance"] == "High"


async def test_my_overdue_tasks_include_my_overdue_subtasks(mcp: Client, sandbox_state: Any) -> None:
    """Subtasks are found by default; include_subtasks=false leaves them out."""
    me = sandbox_state.contacts[sandbox_state.access_tokens["wrike-sandbox-token"].user_id]
    today = user_today(sandbox_state)
    expected = {
        t.id
        for t in sandbox_state.tasks.values()
        if not t.deleted
        and t.status == "Active"
        and me.id in t.responsible_ids
        and t.dates.due is not None
        and t.dates.due.date() < today
    }
    subtasks = {i for i in expected if sandbox_state.tasks[i].super_task_ids}
    assert subtasks, "the seed has an overdue subtask of Ann's (issue 24: 5 found where 6 exist)"
    found = await call(mcp, "search_tasks", assignee="me", overdue=True, limit=200)
    assert {item["id"] for item in found["items"]} == expected and found["total"] == len(expected)
    assert subtasks <= {item["id"] for item in found["items"] if item.get("subtask_of")}
    top_level = await call(mcp, "search_tasks", assignee="me", overdue=True, include_subtasks=False)
    assert top_level["total"] == len(expected - subtasks)


async def test_title_words_are_matched_here_in_any_order_and_case(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    """Wrike's `title` filter is an exact match, so search_tasks never sends words as `title`."""
    found = await call(mcp, "search_tasks", text="announcement DRAFT")
    assert [item["title"] for item in found["items"]] == ["Draft launch announcement"]
    assert found["total"] == 1
    assert not any("title" in str(entry.get("query")) for entry in await requests_log(sandbox_http))
    everything = await call(mcp, "search_tasks", text="launch", limit=200, include_subtasks=True)
    assert len(everything["items"]) >= 3 and "next_cursor" not in everything
    pages: list[str] = []
    cursor: str | None = None
    while True:
        arguments: dict[str, Any] = {"text": "launch", "limit": 1, "include_subtasks": True}
        page = await call(mcp, "search_tasks", **arguments, **({"cursor": cursor} if cursor else {}))
        pages += [item["id"] for item in page["items"]]
        if "next_cursor" not in page:
            break
        cursor = page["next_cursor"]
    assert pages == [item["id"] for item in everything["items"]]  # no task lost or repeated across pages


async def test_search_by_title_words_status_and_sort(mcp: Client) -> None:
    found = await call(mcp, "search_tasks", text="LAUNCH announcement")
    assert [item["title"] for item in found["items"]] == ["Draft launch announcement"]

    in_review = await call(mcp, "search_tasks", status="In Review", limit=200)
    assert in_review["items"] and all(item["status"] == "In Review" for item in in_review["items"])
    assert "Weekly sync notes" in {item["title"] for item in in_review["items"]}

    by_due = await call(mcp, "search_tasks", folder=Q3, sort="due", type="Planned", limit=100)
    dues = [item["due"] for item in by_due["items"]]
    assert dues and dues == sorted(dues)
    newest = await call(mcp, "search_tasks", folder=Q3, sort="due", order="desc", type="Planned", limit=100)
    assert [item["due"] for item in newest["items"]] == sorted(dues, reverse=True)

    subtasks = await call(mcp, "search_tasks", folder=Q3, text="headline options", detail="full")
    assert subtasks["items"][0]["subtask_of"][0]["name"] == "Draft launch announcement"
    # an empty list is compacted away (DESIGN §5); total says there is nothing
    top_level = await call(mcp, "search_tasks", folder=Q3, text="headline options", include_subtasks=False)
    assert top_level == {"items": [], "total": 0}

    completed = await call(mcp, "search_tasks", status="completed", space="Engineering", limit=10)
    groups = completed.get("statuses", {})
    assert completed["items"] and all(
        groups.get(item["status"], item["status"]) == "Completed" for item in completed["items"]
    )
    mine = await call(mcp, "search_tasks", author="me", importance="High", limit=10)
    assert all(item["importance"] == "High" for item in mine["items"])


async def test_search_pages_with_an_opaque_cursor_and_reports_progress(mcp: Client) -> None:
    first = await call(mcp, "search_tasks", folder=Q3, limit=4)
    total = first["total"]
    assert total > 8 and len(first["items"]) == 4 and first["next_cursor"]
    seen = [item["id"] for item in first["items"]]
    reported: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reported.append((progress, total))

    # The continuation keeps Wrike's page size (4): asking for 9 more reads three Wrike pages.
    second = await mcp.call_tool(
        "search_tasks",
        {"folder": Q3, "limit": 9, "cursor": first["next_cursor"]},
        progress_callback=on_progress,
    )
    assert not second.is_error and second.structured_content is not None
    page = second.structured_content
    assert len(page["items"]) == 9 and page["next_cursor"]
    seen += [item["id"] for item in page["items"]]
    assert reported and reported[-1] == (9, 9)
    cursor = page["next_cursor"]
    while cursor:
        page = await call(mcp, "search_tasks", folder=Q3, limit=50, cursor=cursor)
        seen += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
    assert len(seen) == len(set(seen)) == total


async def test_search_refuses_bad_input_before_calling_wrike(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    assert "not a valid date" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", due_before="2026-02-30"
    )
    assert "before due_after" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", due_after="2026-05-01", due_before="2026-04-01"
    )
    assert "either folder or space" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", folder="Q3 Launch", space="Marketing"
    )
    assert "cursor is not valid" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", cursor="not-a-cursor"
    )
    assert "overdue means Active" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", overdue=True, status="Completed"
    )
    assert "overdue means Active tasks, but status is Completed or Deferred" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", overdue=True, status=["Completed", "Deferred"]
    )
    assert "status is empty" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", status=["Active", " "]
    )
    assert "assignee or unassigned" in await refused_up_front(
        mcp, sandbox_http, "search_tasks", assignee="me", unassigned=True
    )
    assert "at most 20" in await refused_up_front(mcp, sandbox_http, "search_tasks", status=["Active"] * 21)
    assert "text is empty" in await refused_up_front(mcp, sandbox_http, "search_tasks", text="  \u200b ")
    for arguments in (
        {"limit": "many"},
        {"limit": 201},
        {"limit": 0},
        {"text": BIG},
        {"folder": BIG},
        {"importance": "Urgent"},
        {"sort": "priority"},
        {"overdue": "sometimes"},
    ):
        await refused_up_front(mcp, sandbox_http, "search_tasks", **arguments)
    await check_search_cursor_of_another_search_is_refused(mcp)
    await check_search_reference_errors_name_the_candidates(mcp)


async def check_search_cursor_of_another_search_is_refused(mcp: Client) -> None:
    first = await call(mcp, "search_tasks", folder=Q3, limit=2)
    message = await refused(
        mcp, "search_tasks", folder="Spring Campaign", limit=2, cursor=first["next_cursor"]
    )
    assert "other filters" in message


async def check_search_reference_errors_name_the_candidates(mcp: Client) -> None:
    result = await mcp.call_tool("search_tasks", {"folder": "Planning"})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    first, *rest = text.splitlines()
    assert "ambiguous" in first and len(first) < 200
    assert any("Marketing/Planning" in line for line in rest) and any(
        "Engineering/Planning" in line for line in rest
    )

    assert "ambiguous" in await refused(mcp, "search_tasks", assignee="Sam")
    assert "not found" in await refused(mcp, "search_tasks", status="Nonsense status")
    assert "not found" in await refused(mcp, "search_tasks", folder="No such project anywhere")
    assert "not found" in await refused(mcp, "search_tasks", assignee="nobody@northwind.example")


# ---- get_task -------------------------------------------------------------------------------------------


async def test_get_task_full_detail(mcp: Client, sandbox_state: Any) -> None:
    detail = await call(mcp, "get_task", task="Draft launch announcement", include_comments=5)
    task = state_task(sandbox_state, "Draft launch announcement")
    assert detail["id"] == task.id
    assert detail["status"] == "Active" and detail["custom_status"]
    assert "<" not in detail["description"] and "Q3 launch" in detail["description"]
    assert "- Headline" in detail["description"]
    assert names(detail["assignees"]) == {"Chloe Martin", "Diego Alvarez"}
    assert detail["author"]["name"] and detail["followers"]
    assert detail["parents"] == [{"id": state_folder(sandbox_state, Q3).id, "name": Q3}]
    assert {sub["title"] for sub in detail["subtasks"]} == {
        "Collect product quotes",
        "Write headline options",
        "Legal review of announcement",
    }
    assert all(sub["status"] == "Active" for sub in detail["subtasks"])
    assert detail["permalink"] == task.permalink
    assert detail["start"] < detail["due"] and detail["type"] == "Planned"
    assert detail["created"].endswith("Z") and detail["updated"].endswith("Z")
    assert "description_truncated" not in detail
    comments = [c for c in sandbox_state.comments.values() if c.task_id == task.id]
    assert detail.get("comments_total", 0) == len(comments)
    assert len(detail.get("comments", [])) == min(5, len(comments))

    by_link = await call(mcp, "get_task", task=task.permalink)
    assert by_link["id"] == task.id
    assert "comments" not in by_link
    await check_get_task_cleans_untrusted_text(mcp)


async def test_get_task_renders_custom_fields_and_dependencies(mcp: Client, sandbox_state: Any) -> None:
    fields = {f.title: f for f in sandbox_state.custom_fields.values()}
    task = next(
        t
        for t in sandbox_state.tasks.values()
        if not t.deleted
        and fields["Reviewer"].id in t.custom_fields
        and fields["Billable"].id in t.custom_fields
    )
    detail = await call(mcp, "get_task", task=task.id)
    by_name = {f["name"]: f for f in detail["custom_fields"]}
    assert by_name["Budget"]["value"] == float(task.custom_fields[fields["Budget"].id])
    assert by_name["Budget"]["currency"] == "USD" and by_name["Budget"]["type"] == "Currency"
    assert by_name["Billable"]["value"] is (task.custom_fields[fields["Billable"].id] == "true")
    reviewer = sandbox_state.contacts[task.custom_fields[fields["Reviewer"].id]]
    assert by_name["Reviewer"]["value"] == [{"id": reviewer.id, "name": reviewer.name}]
    assert by_name["Launch Date"]["value"] == task.custom_fields[fields["Launch Date"].id]
    assert by_name["Channel"]["value"] == task.custom_fields[fields["Channel"].id]

    dependency = next(iter(sandbox_state.dependencies.values()))
    successor = await call(mcp, "get_task", task=dependency.successor_id)
    predecessor = sandbox_state.tasks[dependency.predecessor_id]
    assert {
        "relation": "predecessor",
        "type": dependency.relation_type,
        "task": {"id": predecessor.id, "name": predecessor.title},
    } in successor["dependencies"]
    before = await call(mcp, "get_task", task=dependency.predecessor_id)
    assert any(
        d["relation"] == "successor" and d["task"]["id"] == dependency.successor_id
        for d in before["dependencies"]
    )


async def check_get_task_cleans_untrusted_text(mcp: Client) -> None:
    hidden = await call(mcp, "get_task", task="Verify budget figures")
    assert hidden["description"] == "Check the budget figures before sign-off."
    injected = await call(mcp, "get_task", task="Customer feedback digest")
    assert "Ignore previous instructions" in injected["description"]  # returned as data, in its own field
    assert set(injected) >= {"id", "title", "description"}


async def test_get_task_errors(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    result = await mcp.call_tool("get_task", {"task": "Weekly sync notes"})
    assert result.is_error
    lines = result.content[0].text.splitlines()  # type: ignore[union-attr]
    assert "ambiguous (2 matches)" in lines[0] and len(lines[0]) < 200
    assert len([line for line in lines[1:] if line.startswith("- ")]) == 2
    assert "not found" in await refused(mcp, "get_task", task="IEAAB2CDKQZZZZZZ")
    assert "not found" in await refused(mcp, "get_task", task="https://www.wrike.com/open.htm?id=1")
    assert "not found" in await refused(mcp, "get_task", task="https://example.com/open.htm?id=5")
    for arguments in ({"task": ""}, {"task": BIG}, {"task": 42}, {"task": "x", "include_comments": 51}):
        await refused_up_front(mcp, sandbox_http, "get_task", **arguments)


# ---- create_task ----------------------------------------------------------------------------------------


def next_friday(today: date | None = None) -> date:
    today = today or date.today()
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


async def test_create_task_with_names_status_fields_and_escaped_text(mcp: Client, sandbox_state: Any) -> None:
    due = next_friday()
    created = await call(
        mcp,
        "create_task",
        folder=Q3,
        title="Prepare  launch\u200b retro",
        description="Agenda:\n<b>wins</b> & misses",
        status="In Progress",
        importance="High",
        due_date=due.isoformat(),
        assignees=["Diego Alvarez", "me"],
        custom_fields={
            "Budget": 1200,
            "Billable": True,
            "Reviewer": ["Ben Carter", "chloe.martin@northwind.example"],
            "channel": "email",
            "Story Points": "5",
            "Launch Date": "2026-09-01",
        },
    )
    task = sandbox_state.tasks[created["id"]]
    assert created["title"] == task.title == "Prepare launch retro"
    assert created["custom_status"] == "In Progress" and created["status"] == "Active"
    assert created["due"] == due.isoformat() and created["importance"] == "High"
    assert names(created["assignees"]) == {"Diego Alvarez", "Ann Lee"}
    assert created["parents"][0]["name"] == Q3 and created["permalink"] == task.permalink
    assert task.description == "Agenda:<br>&lt;b&gt;wins&lt;/b&gt; &amp; misses"
    workflow = sandbox_state.workflows[state_folder(sandbox_state, Q3).workflow_id]
    assert status_of(sandbox_state, task).workflow_id == workflow.id
    assert status_of(sandbox_state, task).name == "In Progress"
    fields = {f.title: f.id for f in sandbox_state.custom_fields.values()}
    assert task.custom_fields[fields["Budget"]] == "1200"
    assert task.custom_fields[fields["Billable"]] == "true"
    assert task.custom_fields[fields["Channel"]] == "Email"
    assert task.custom_fields[fields["Story Points"]] == "5"
    assert task.custom_fields[fields["Launch Date"]] == "2026-09-01"
    reviewers = task.custom_fields[fields["Reviewer"]].split(",")
    assert reviewers == [person(sandbox_state, "Ben Carter").id, person(sandbox_state, "Chloe Martin").id]

    detail = await call(mcp, "get_task", task=created["id"])
    assert detail["description"] == "Agenda:\n<b>wins</b> & misses"


async def test_create_task_resolves_status_in_the_destination_workflow(
    mcp: Client, sandbox_state: Any
) -> None:
    created = await call(
        mcp,
        "create_task",
        folder="API Revamp",
        title="Rate-limit headers",
        status="In Progress",
        start_date="2026-06-01",
    )
    task = sandbox_state.tasks[created["id"]]
    assert sandbox_state.workflows[status_of(sandbox_state, task).workflow_id].name == "Software Development"
    assert created["start"] == created["due"] == "2026-06-01"
    # QA exists only in Software Development, not in Q3 Launch's workflow
    assert "not found" in await refused(mcp, "create_task", folder=Q3, title="x", status="QA")
    backlog = await call(
        mcp, "create_task", folder="Engineering/Platform/API Revamp", title="Later", status="Blocked"
    )
    assert backlog["status"] == "Deferred" and backlog["custom_status"] == "Blocked"
    assert "due" not in backlog
    await check_create_subtask_goes_where_its_parent_is(mcp, sandbox_state)


TEAM_PLAN = pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(plan="team")], indirect=True, ids=["team"]
)


@TEAM_PLAN
async def test_status_groups_work_on_a_team_plan_without_ever_sending_status(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    """Wrike's Team plan refuses `status` on task writes (the sandbox answers 403 not_allowed): a status
    group becomes the matching custom status of the task's own workflow."""
    fix = next(  # an Active task following the Software Development workflow
        t
        for t in sandbox_state.tasks.values()
        if t.status == "Active" and not t.deleted and status_of(sandbox_state, t).name == "Backlog"
    )
    done = await call(mcp, "update_task", task=fix.id, status="Completed")
    assert (done["status"], done["custom_status"]) == ("Completed", "Done")
    reopened = await call(mcp, "update_task", task=fix.id, status="active")
    assert (reopened["status"], reopened["custom_status"]) == ("Active", "Backlog")
    blocked = await call(mcp, "create_task", folder="API Revamp", title="Wait for vendor", status="Deferred")
    assert (blocked["status"], blocked["custom_status"]) == ("Deferred", "Blocked")
    dropped = await call(mcp, "create_task", folder=Q3, title="Skip the teaser", status="Cancelled")
    assert (dropped["status"], dropped["custom_status"]) == ("Cancelled", "Cancelled")
    named = await call(mcp, "update_task", task=dropped["id"], status="On Hold")  # names work as before
    assert (named["status"], named["custom_status"]) == ("Deferred", "On Hold")

    writes = [e for e in await requests_log(sandbox_http) if e["method"] in ("POST", "PUT")]
    assert len(writes) == 5 and all(e["status"] == 200 for e in writes)
    for entry in await requests_log(sandbox_http):
        assert "status" not in (entry.get("body") or {}) and "status" not in entry["query"], entry


@TEAM_PLAN
async def test_plan_limited_time_log_leads_with_wrikes_description(mcp: Client, sandbox_state: Any) -> None:
    task = state_task(sandbox_state, "Draft launch announcement")
    message = await refused(mcp, "log_time", task=task.id, hours=1, comment="Venue calls")
    message = message.removeprefix("Error executing tool log_time: ")
    assert message.startswith("Time tracking is not available for the Team plan (Wrike 403 not_allowed)")
    assert "check the account's Wrike plan and licence, and your permissions in Wrike" in message
    assert "scope" not in message  # a plan limit, not a missing scope
    assert not any(
        t.task_id == task.id and t.comment == "Venue calls" for t in sandbox_state.timelogs.values()
    )


async def check_create_subtask_goes_where_its_parent_is(mcp: Client, sandbox_state: Any) -> None:
    parent = state_task(sandbox_state, "Draft launch announcement")
    created = await call(mcp, "create_task", title="Pick a photo", parent_task="Draft launch announcement")
    task = sandbox_state.tasks[created["id"]]
    assert task.super_task_ids == [parent.id]
    assert created["subtask_of"] == [{"id": parent.id, "name": "Draft launch announcement"}]


async def test_create_task_refuses_bad_input(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    count = len(sandbox_state.tasks)
    for arguments in (
        {"folder": Q3, "title": ""},
        {"folder": Q3, "title": "x" * 501},
        {"folder": Q3, "title": "ok", "description": BIG},
        {"folder": Q3, "title": "ok", "importance": "Urgent"},
        {"folder": Q3, "title": "ok", "assignees": "Diego Alvarez"},
        {"folder": Q3, "title": 7},
    ):
        await refused_up_front(mcp, sandbox_http, "create_task", **arguments)
    assert "title is empty" in await refused_up_front(
        mcp, sandbox_http, "create_task", folder=Q3, title=" \u200b "
    )
    assert "not a valid date" in await refused_up_front(
        mcp, sandbox_http, "create_task", folder=Q3, title="ok", due_date="2026-13-01"
    )
    assert "out of Wrike's range" in await refused_up_front(
        mcp, sandbox_http, "create_task", folder=Q3, title="ok", due_date="2100-01-01"
    )
    assert "before start_date" in await refused_up_front(
        mcp,
        sandbox_http,
        "create_task",
        folder=Q3,
        title="ok",
        start_date="2026-05-02",
        due_date="2026-05-01",
    )
    assert "give folder" in await refused_up_front(mcp, sandbox_http, "create_task", title="ok")
    assert "ambiguous" in await refused(mcp, "create_task", folder=Q3, title="ok", assignees=["Sam"])
    assert "not found" in await refused(mcp, "create_task", folder="Nowhere/Nothing", title="ok")
    assert "checkbox" in await refused(
        mcp, "create_task", folder=Q3, title="ok", custom_fields={"Billable": "maybe"}
    )
    assert "give a number" in await refused(
        mcp, "create_task", folder=Q3, title="ok", custom_fields={"Budget": "lots"}
    )
    assert "not found" in await refused(
        mcp, "create_task", folder=Q3, title="ok", custom_fields={"Colour": "red"}
    )
    assert "not a valid date" in await refused(
        mcp, "create_task", folder=Q3, title="ok", custom_fields={"Launch Date": "2026-02-30"}
    )
    assert len(sandbox_state.tasks) == count


# ---- update_task ----------------------------------------------------------------------------------------


async def test_update_task_changes_only_what_is_given(mcp: Client, sandbox_state: Any) -> None:
    task = state_task(sandbox_state, "Fix crash on login")
    sam = person(sandbox_state, "Sam Taylor")
    emma = person(sandbox_state, "Emma Rossi")
    fields = {f.title: f.id for f in sandbox_state.custom_fields.values()}
    task.custom_fields[fields["Notes"]] = "to be cleared"
    updated = await call(
        mcp,
        "update_task",
        task=task.id,
        title="Fix crash on login (iOS)",
        status="In Review",
        importance="Low",
        due_date="2026-07-10",
        start_date="2026-07-06",
        add_assignees=["emma.rossi@northwind.example"],
        remove_assignees=["Sam Taylor"],
        add_followers=["Hana Sato"],
        custom_fields={"Notes": None, "Story Points": 8},
    )
    assert updated["title"] == task.title == "Fix crash on login (iOS)"
    assert updated["custom_status"] == "In Review" and status_of(sandbox_state, task).name == "In Review"
    assert sandbox_state.workflows[status_of(sandbox_state, task).workflow_id].name == "Software Development"
    assert task.importance == "Low" and (updated["start"], updated["due"]) == ("2026-07-06", "2026-07-10")
    assert task.responsible_ids == [emma.id] and sam.id not in task.responsible_ids
    assert person(sandbox_state, "Hana Sato").id in task.follower_ids
    assert fields["Notes"] not in task.custom_fields and task.custom_fields[fields["Story Points"]] == "8"

    later = await call(mcp, "update_task", task=task.id, due_date="2026-07-20")
    assert (later["start"], later["due"]) == ("2026-07-06", "2026-07-20")
    cleared = await call(mcp, "update_task", task=task.id, clear_dates=True)
    assert "due" not in cleared and task.dates.type == "Backlog"
    done = await call(mcp, "update_task", task=task.id, status="Completed")
    assert done["status"] == "Completed" and status_of(sandbox_state, task).name == "Done"
    await check_update_task_moves_between_projects(mcp, sandbox_state)


async def check_update_task_moves_between_projects(mcp: Client, sandbox_state: Any) -> None:
    task = state_task(sandbox_state, "Verify budget figures")
    spring = state_folder(sandbox_state, "Marketing/Campaigns/Spring Campaign")
    moved = await call(mcp, "update_task", task=task.id, add_parents=["Spring Campaign"], remove_parents=[Q3])
    assert task.parent_ids == [spring.id]
    assert moved["parents"] == [{"id": spring.id, "name": "Marketing/Campaigns/Spring Campaign"}]


async def test_update_task_refuses_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    assert "nothing to change" in await refused_up_front(
        mcp, sandbox_http, "update_task", task="Approve press kit"
    )
    assert "not both" in await refused_up_front(
        mcp, sandbox_http, "update_task", task="x", due_date="2026-01-01", clear_dates=True
    )
    assert "not a valid date" in await refused_up_front(
        mcp, sandbox_http, "update_task", task="x", start_date="2026-04-31"
    )
    assert "title is empty" in await refused_up_front(mcp, sandbox_http, "update_task", task="x", title="   ")
    for arguments in (
        {"task": "x", "title": "t" * 501},
        {"task": "x", "description": BIG},
        {"task": "x", "add_assignees": ["a"] * 51},
        {"task": "x", "restore": "please"},
    ):
        await refused_up_front(mcp, sandbox_http, "update_task", **arguments)
    assert "not found" in await refused(mcp, "update_task", task="Approve press kit", status="Nonsense")
    assert "ambiguous" in await refused(mcp, "update_task", task="Weekly sync notes", importance="Low")


# ---- delete_task (confirmation) -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_task_asks_first_and_deletes_on_accept(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = state_task(sandbox_state, "Book launch venue")
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        result = await call(client, "delete_task", task="Book launch venue")
    assert len(asked) == 1 and "Book launch venue" in asked[0] and "Recycle Bin" in asked[0]
    assert result == {
        "deleted": True,
        "task": {"id": task.id, "name": "Book launch venue"},
        "outcome": "moved to the Recycle Bin",
    }
    assert task.deleted
    response = await sandbox_http.get(
        "/api/v4/folders/IEAAB2CDI7777776/tasks", headers={"Authorization": "Bearer wrike-sandbox-token"}
    )
    assert task.id in {t["id"] for t in response.json()["data"]}

    async with Client(server, mode=mode) as client:
        restored = await call(client, "update_task", task=task.id, restore=True)
    assert not task.deleted and "in_recycle_bin" not in restored


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("elicitation", [True, False])
async def test_delete_task_refuses_a_task_already_in_the_recycle_bin(
    mode: str, elicitation: bool, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """Wrike does not document a DELETE of something in the Recycle Bin: none is sent, nobody is asked."""
    task = next(t for t in sandbox_state.tasks.values() if t.deleted)
    asked, callback = answering("accept")
    options: dict[str, Any] = {"elicitation_callback": callback} if elicitation else {}
    async with Client(server, mode=mode, **options) as client:
        for ref in (task.id, task.permalink):
            message = await call_error(client, "delete_task", task=ref)
            assert f"task {task.id} is already in the Recycle Bin" in message and "restore=true" in message
    assert not asked
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]
    assert task.deleted


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_task_not_confirmed_deletes_nothing(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = state_task(sandbox_state, "Approve press kit")
    for reason, result in await unconfirmed_answers(server, mode, "delete_task", task=task.id):
        assert result == {"deleted": False, "task": {"id": task.id}, "outcome": f"not deleted: {reason}"}
    assert not task.deleted
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_task_without_elicitation(
    mode: str,
    make_server: Callable[..., WrikeMCPServer],
    sandbox_state: Any,
    sandbox_http: httpx.AsyncClient,
) -> None:
    task = state_task(sandbox_state, "Approve press kit")
    async with Client(make_server(allow_delete=False), mode=mode) as client:
        assert "delete_task" not in {tool.name for tool in (await client.list_tools()).tools}
        message = await call_error(client, "delete_task", task=task.id)
    assert "confirmation" in message and "--allow-delete" in message and len(message) < 200
    assert not task.deleted and not await api_calls(sandbox_http)

    async with Client(make_server(allow_delete=True), mode=mode) as client:
        result = await call(client, "delete_task", task=task.id)
    assert result["deleted"] is True and task.deleted


async def test_delete_task_of_unknown_task_asks_nothing(server: WrikeMCPServer) -> None:
    asked, callback = answering("accept")
    async with Client(server, mode="legacy", elicitation_callback=callback) as client:
        assert "not found" in await call_error(client, "delete_task", task="No such task title")
        assert "ambiguous" in await call_error(client, "delete_task", task="Weekly sync notes")
    assert asked == []


# ---- comments -------------------------------------------------------------------------------------------


async def test_comments_list_and_add(mcp: Client, sandbox_state: Any) -> None:
    task = state_task(sandbox_state, "Draft launch announcement")
    added = await call(
        mcp, "add_comment", task=task.permalink, text="Ship it <script>alert(1)</script>\nThanks"
    )
    stored = sandbox_state.comments[added["id"]]
    assert stored.task_id == task.id and "<script>" not in stored.text
    assert added["text"] == "Ship it <script>alert(1)</script>\nThanks"
    assert added["author"]["name"] == "Ann Lee"

    total = len([c for c in sandbox_state.comments.values() if c.task_id == task.id])
    first = await call(mcp, "get_task", task="Draft launch announcement", include_comments=1)
    assert first["comments_total"] == total and first["comments"][0]["id"] == added["id"]
    assert first["id"] == task.id
    seen = [first["comments"][0]["id"]]
    cursor = first.get("comments_next_cursor")
    while cursor:
        page = await call(
            mcp, "get_task", task="Draft launch announcement", include_comments=1, comments_cursor=cursor
        )
        seen += [c["id"] for c in page["comments"]]
        cursor = page.get("comments_next_cursor")
    assert len(seen) == len(set(seen)) == total
    # a cursor alone pages on by 20
    rest = await call(
        mcp, "get_task", task="Draft launch announcement", comments_cursor=first["comments_next_cursor"]
    )
    assert [c["id"] for c in rest["comments"]] == seen[1:21]


async def test_comments_and_timelogs_refuse_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    for arguments in ({"task": "x", "text": ""}, {"task": "x", "text": BIG}, {"task": "x"}):
        await refused_up_front(mcp, sandbox_http, "add_comment", **arguments)
    assert "text is empty" in await refused_up_front(
        mcp, sandbox_http, "add_comment", task="x", text=" \u200b\n"
    )
    assert "cursor" in await refused_up_front(mcp, sandbox_http, "get_task", task="x", comments_cursor="%%%")
    assert "ambiguous" in await refused(mcp, "add_comment", task="Weekly sync notes", text="hi")
    await check_timelogs_refuse_bad_input(mcp, sandbox_http)


# ---- time logs ------------------------------------------------------------------------------------------


async def test_log_time_and_list_timelogs(mcp: Client, sandbox_state: Any) -> None:
    task = state_task(sandbox_state, "Draft launch announcement")
    logged = await call(mcp, "log_time", task=task.id, hours=1.5, comment="Wrote the\u200b first draft")
    entry = sandbox_state.timelogs[logged["id"]]
    assert (
        entry.hours == 1.5
        and entry.tracked_date == user_today(sandbox_state)
        and entry.comment == "Wrote the first draft"
    )
    assert logged["task"] == {"id": task.id, "name": "Draft launch announcement"}
    assert logged["person"]["name"] == "Ann Lee" and logged["date"] == user_today(sandbox_state).isoformat()

    earlier = await call(mcp, "log_time", task=task.id, hours=2, date="2026-01-05")
    assert sandbox_state.timelogs[earlier["id"]].tracked_date == date(2026, 1, 5)
    # Wrike requires a comment (the sandbox refuses a blank one): without one, a neutral default goes
    assert sandbox_state.timelogs[earlier["id"]].comment == "Logged via wrike-mcp"
    blank = await call(mcp, "log_time", task=task.id, hours=0.5, comment=" \u200b ")
    assert sandbox_state.timelogs[blank["id"]].comment == "Logged via wrike-mcp"

    on_task = await call(mcp, "list_timelogs", task="Draft launch announcement")
    ids = [item["id"] for item in on_task["items"]]
    assert logged["id"] in ids and earlier["id"] in ids
    assert on_task["total_hours"] >= 3.5 and on_task["total"] == len(ids)

    mine = await call(
        mcp, "list_timelogs", person="me", tracked_after="2026-01-05", tracked_before="2026-01-05"
    )
    assert [item["id"] for item in mine["items"]] == [earlier["id"]] and mine["total_hours"] == 2

    everyone = await call(mcp, "list_timelogs", limit=5)
    assert len(everyone["items"]) == 5 and everyone["next_cursor"] and everyone["total"] > 5
    following = await call(mcp, "list_timelogs", limit=5, cursor=everyone["next_cursor"])
    assert not {i["id"] for i in following["items"]} & {i["id"] for i in everyone["items"]}


async def check_timelogs_refuse_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    for arguments in (
        {"task": "x", "hours": 0},
        {"task": "x", "hours": 24.5},
        {"task": "x", "hours": -1},
        {"task": "x", "hours": "two"},
        {"task": "x", "hours": 1, "comment": BIG},
    ):
        await refused_up_front(mcp, sandbox_http, "log_time", **arguments)
    assert "not a valid date" in await refused_up_front(
        mcp, sandbox_http, "log_time", task="x", hours=1, date="2026-02-29"
    )
    assert "before tracked_after" in await refused_up_front(
        mcp, sandbox_http, "list_timelogs", tracked_after="2026-03-02", tracked_before="2026-03-01"
    )
    assert "ambiguous" in await refused(mcp, "list_timelogs", person="Sam")


# ---- the whole story, by names only ---------------------------------------------------------------------


async def test_scenario_by_names_only(mcp: Client, sandbox_state: Any) -> None:
    overdue = await call(mcp, "search_tasks", folder="Q3 Launch", assignee="Diego Alvarez", overdue=True)
    assert len(overdue["items"]) >= 3

    friday = next_friday()
    created = await call(
        mcp,
        "create_task",
        folder="Q3 Launch",
        title="Catch up on overdue launch work",
        description=f"Overdue: {', '.join(item['title'] for item in overdue['items'])}",
        assignees=["Diego Alvarez"],
        due_date=friday.isoformat(),
    )
    moved = await call(mcp, "update_task", task=created["id"], status="In Progress")
    assert moved["custom_status"] == "In Progress"
    comment = await call(mcp, "add_comment", task=created["id"], text="Diego, can you take these by Friday?")

    detail = await call(mcp, "get_task", task=created["permalink"], include_comments=3)
    assert detail["id"] == created["id"] and detail["title"] == "Catch up on overdue launch work"
    assert detail["due"] == friday.isoformat() and detail["custom_status"] == "In Progress"
    assert names(detail["assignees"]) == {"Diego Alvarez"}
    assert detail["parents"][0]["name"] == Q3
    assert detail["comments"][0]["id"] == comment["id"]
    assert detail["comments"][0]["text"] == "Diego, can you take these by Friday?"
    task = sandbox_state.tasks[created["id"]]
    workflow = sandbox_state.workflows[state_folder(sandbox_state, Q3).workflow_id]
    assert status_of(sandbox_state, task).workflow_id == workflow.id


# ---- Wrike refusing or failing -----------------------------------------------------------------------------


async def test_read_only_token_gets_a_scope_error_on_writes(sandbox_app: Any, sandbox_state: Any) -> None:
    count = len(sandbox_state.tasks)
    async with WrikeClient(
        StaticTokenSource("wrike-sandbox-readonly"),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
    ) as wrike_client:
        settings = Settings(base_url=SANDBOX_BASE_URL)
        server = create_server(settings, StaticContext(WrikeContext(settings, wrike_client, mode="sandbox")))
        async with Client(server, mode="legacy") as client:
            assert (await call(client, "search_tasks", folder=Q3, limit=1))["items"]
            message = await call_error(client, "create_task", folder=Q3, title="Nope")
    assert "wsReadWrite" in message  # the wording (and its length) is the registry's 403 mapping
    assert len(sandbox_state.tasks) == count


async def test_failed_write_is_reported_and_never_retried(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    count = len(sandbox_state.tasks)
    fault = {
        "method": "POST",
        "path": "/api/v4/folders/*/tasks",
        "times": 1,
        "status": 500,
        "error": "server_error",
    }
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    message = await call_error(mcp, "create_task", folder=Q3, title="Only once")
    assert "outcome unknown" in message and len(message) < 300, message
    posts = [c for c in await api_calls(sandbox_http) if c[0] == "POST"]
    assert len(posts) == 1 and len(sandbox_state.tasks) == count


async def test_expired_cursor_and_long_hints(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first = await call(mcp, "search_tasks", folder=Q3, limit=2)
    sandbox_state.page_tokens.clear()  # Wrike forgets page tokens after a while
    assert "cursor has expired" in await refused(
        mcp, "search_tasks", folder=Q3, limit=2, cursor=first["next_cursor"]
    )
    message = await refused(mcp, "update_task", task="Fix crash on login", status="Nonsense")
    assert message.startswith("Error executing tool update_task: status 'Nonsense' not found")
    assert "at least 0.01" in await refused_up_front(mcp, sandbox_http, "log_time", task="x", hours=0.001)


async def test_a_count_made_here_says_at_least_until_it_is_exact(
    mcp: Client, sandbox_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tasks nobody is assigned to are matched here, page by page (Wrike has no such filter): while pages are
    left, the answer says how many match at least; the answer that reads the last page gives the total."""
    import wrike_mcp.tools.tasks as tasks_module

    monkeypatch.setattr(tasks_module, "TEXT_SEARCH_PAGE", 40)  # several pages of the seed's tasks
    expected = {t.id for t in sandbox_state.tasks.values() if not t.deleted and not t.responsible_ids}
    assert len(expected) > 10
    seen: list[str] = []
    counts: list[tuple[str, int]] = []
    cursor: str | None = None
    while True:
        page = await call(
            mcp, "search_tasks", unassigned=True, limit=5, **({"cursor": cursor} if cursor else {})
        )
        seen += [item["id"] for item in page["items"]]
        [(kind, count)] = [(k, page[k]) for k in ("total", "total_at_least") if k in page]
        counts.append((kind, count))
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert set(seen) == expected and len(seen) == len(expected)
    assert counts[0][0] == "total_at_least" and len(seen[:5]) <= counts[0][1] < len(expected)
    assert all(count <= len(expected) for _, count in counts)
    assert counts[-1] == ("total", len(expected))


async def test_concise_is_at_least_40_percent_smaller_for_the_same_50_tasks(
    mcp: Client, sandbox_state: Any
) -> None:
    """Issue 24: the default answer drops what a model can ask for later (permalinks, start dates) and gives
    names and paths once for the list, keeping every id; for 50 tasks it is at least 40 % smaller."""
    concise = await mcp.call_tool("search_tasks", {"limit": 50})
    full = await mcp.call_tool("search_tasks", {"limit": 50, "detail": "full"})
    assert concise.structured_content is not None and full.structured_content is not None
    brief, whole = concise.structured_content, full.structured_content
    assert [i["id"] for i in brief["items"]] == [i["id"] for i in whole["items"]]
    assert len(brief["items"]) == 50 and brief["total"] == whole["total"]
    concise_bytes = len(error_text(concise).encode())
    full_bytes = len(error_text(full).encode())
    assert concise_bytes <= 0.6 * full_bytes, f"concise {concise_bytes} bytes, full {full_bytes}"
    # nothing the model needs is lost: every assignee and folder of the full answer is named once
    for item, short in zip(whole["items"], brief["items"], strict=True):
        assert [ref["id"] for ref in item.get("assignees", [])] == short.get("assignees", [])
        assert all(brief["people"][ref["id"]] == ref["name"] for ref in item.get("assignees", []))
        assert all(brief["folders"][ref["id"]] == ref["name"] for ref in item.get("parents", []))
        task = sandbox_state.tasks[item["id"]]
        assert short.get("due") == (task.dates.due.date().isoformat() if task.dates.due else None)


async def test_overdue_with_several_statuses_keeps_the_active_ones(mcp: Client, sandbox_state: Any) -> None:
    today = user_today(sandbox_state)
    in_progress = {
        status.id
        for workflow in sandbox_state.workflows.values()
        for status in workflow.statuses
        if status.name == "In Progress"
    }
    expected = {
        t.id
        for t in sandbox_state.tasks.values()
        if not t.deleted
        and t.custom_status_id in in_progress
        and t.dates.due is not None
        and t.dates.due.date() < today
    }
    assert expected
    found = await call(mcp, "search_tasks", overdue=True, status=["Completed", "In Progress"], limit=200)
    assert {item["id"] for item in found["items"]} == expected and found["total"] == len(expected)
    message = await call_error(mcp, "search_tasks", overdue=True, status=["Completed", "Done"])
    assert "not an Active status" in message
