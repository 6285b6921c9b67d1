"""my_work in both protocol eras: every section computed independently from the sandbox's state (the user's
today in their Wrike time zone), the follow-up calls it offers, its sequential round trips with warm caches,
and bad input refused before any request."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    api_calls,
    call,
    refused_up_front,
    requests_log,
    sequential_round_trips,
    user_today,
)
from wrike_mcp.sandbox import SandboxConfig


def me_id(sandbox_state: Any) -> str:
    return str(sandbox_state.access_tokens["wrike-sandbox-token"].user_id)


def contact(sandbox_state: Any, name: str) -> Any:
    return next(c for c in sandbox_state.contacts.values() if f"{c.first_name} {c.last_name}" == name)


def due_of(task: Any) -> date | None:
    return task.dates.due.date() if task.dates and task.dates.due else None


def expected(sandbox_state: Any, person: str, days: int = 7) -> dict[str, Any]:
    """The sections as the sandbox's own data has them."""
    today = user_today(sandbox_state)
    live = [t for t in sandbox_state.tasks.values() if not t.deleted and person in t.responsible_ids]
    dues = {t.id: due_of(t) for t in live if t.status == "Active"}
    dated = {ident: due for ident, due in dues.items() if due is not None}
    sections: dict[str, set[str]] = {
        "overdue": {ident for ident, due in dated.items() if due < today},
        "due_today": {ident for ident, due in dated.items() if due == today},
        "due_soon": {ident for ident, due in dated.items() if today < due <= today + timedelta(days=days)},
        "no_due_date": {ident for ident, due in dues.items() if due is None},
        "approvals": {
            a.id
            for a in sandbox_state.approvals.values()
            if a.status == "Pending" and person in a.pending_approver_ids()
        },
    }
    zone = ZoneInfo(sandbox_state.contacts[me_id(sandbox_state)].timezone)
    since = datetime.combine(today - timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
    mine = {t.id for t in live}
    sections["new_comments"] = {
        c.task_id
        for c in sandbox_state.comments.values()
        if c.task_id in mine and c.author_id != person and c.created >= since
    }
    return sections


def shown(result: dict[str, Any], name: str) -> set[str]:
    return {item["id"] for item in result[name].get("items", [])}


async def prepare(mcp: Client, sandbox_state: Any) -> dict[str, Any]:
    """A task of mine due today, and a comment from Diego on a Completed task of mine (outside the Active
    page, so its title takes the second round trip)."""
    today = user_today(sandbox_state)
    created = await call(
        mcp, "create_task", folder="Marketing/Campaigns/Q3 Launch", title="Call the printer",
        assignees=["me"], due_date=today.isoformat(),
    )  # fmt: skip
    me = me_id(sandbox_state)
    done = next(
        t
        for t in sandbox_state.tasks.values()
        if me in t.responsible_ids and t.status == "Completed" and not t.deleted
    )
    sandbox_state.add_comment(contact(sandbox_state, "Diego Alvarez"), "Reopen?", task_id=done.id)
    return {"due_today": created["id"], "commented": done.id}


async def test_my_work_sections_match_the_sandbox(mcp: Client, sandbox_state: Any) -> None:
    made = await prepare(mcp, sandbox_state)
    me = me_id(sandbox_state)
    want = expected(sandbox_state, me)
    assert all(want.values()), want  # every section has something to show
    result = await call(mcp, "my_work", items_per_section=50)
    assert result["person"] == {"id": me, "name": "Ann Lee"}
    assert result["today"] == user_today(sandbox_state).isoformat()
    for name, ids in want.items():
        assert result[name]["count"] == len(ids), name
        assert shown(result, name) == ids, name
        assert "rest" not in result[name], name
    assert made["due_today"] in shown(result, "due_today")
    assert made["commented"] in shown(result, "new_comments")
    commented = next(i for i in result["new_comments"]["items"] if i["id"] == made["commented"])
    assert commented["last_by"]["name"] == "Diego Alvarez" and commented["comments"] >= 1
    overdue = result["overdue"]["items"]
    assert [i["due"] for i in overdue] == sorted(i["due"] for i in overdue)
    assert all(i["due"] < result["today"] and i["status"] for i in overdue)
    assert "complete" not in result


async def test_my_work_shows_the_first_items_and_how_to_list_the_rest(
    mcp: Client, sandbox_state: Any
) -> None:
    me = me_id(sandbox_state)
    want = expected(sandbox_state, me)
    result = await call(mcp, "my_work", items_per_section=1)
    today = user_today(sandbox_state)
    for name in ("overdue", "no_due_date"):
        assert len(want[name]) > 1
        assert result[name]["count"] == len(want[name]) and len(result[name]["items"]) == 1
    assert result["overdue"]["rest"] == {
        "tool": "search_tasks",
        "arguments": {"assignee": "me", "include_subtasks": True, "overdue": True, "sort": "due"},
    }
    assert result["no_due_date"]["rest"]["arguments"]["type"] == "Backlog"
    assert result["approvals"]["rest"] == {"tool": "list_approvals", "arguments": {"pending_approver": "me"}}
    # The arguments given really list the rest: search_tasks answers the same tasks.
    listed = await call(mcp, "search_tasks", **result["overdue"]["rest"]["arguments"], limit=200)
    assert {t["id"] for t in listed["items"]} == want["overdue"]
    listed = await call(mcp, "search_tasks", **result["no_due_date"]["rest"]["arguments"], limit=200)
    assert {t["id"] for t in listed["items"]} == want["no_due_date"]
    approvals = await call(mcp, "list_approvals", **result["approvals"]["rest"]["arguments"])
    assert {a["id"] for a in approvals["items"]} == want["approvals"]
    soon = await call(mcp, "my_work", days=30, items_per_section=50)
    assert shown(soon, "due_soon") == expected(sandbox_state, me, days=30)["due_soon"]
    assert today.isoformat() == soon["today"]


async def test_my_work_for_someone_else(mcp: Client, sandbox_state: Any) -> None:
    diego = contact(sandbox_state, "Diego Alvarez")
    want = expected(sandbox_state, diego.id)
    result = await call(mcp, "my_work", person="Diego Alvarez", items_per_section=50)
    assert result["person"]["id"] == diego.id
    for name, ids in want.items():
        assert shown(result, name) == ids, name
    assert want["overdue"] or want["no_due_date"] or want["due_soon"]


async def test_my_work_takes_two_sequential_round_trips_with_warm_caches(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    await prepare(mcp, sandbox_state)
    await call(mcp, "my_work")  # warms me, contacts and workflows
    (await sandbox_http.delete("/_sandbox/requests")).raise_for_status()
    fault = {"path": "/api/v4/*", "times": 50, "delay_ms": 150}
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    await call(mcp, "my_work")
    log = await requests_log(sandbox_http)
    calls = [(e["method"], e["path"]) for e in log]
    assert sorted(calls) == sorted(
        [
            ("GET", "/api/v4/tasks"),
            ("GET", "/api/v4/approvals"),
            ("GET", "/api/v4/comments"),
            ("GET", next(p for m, p in calls if p.startswith("/api/v4/tasks/"))),
        ]
    )
    assert sequential_round_trips(log) == 2


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(plan="team")], indirect=True)
async def test_my_work_on_a_plan_without_the_account_comment_list(mcp: Client, sandbox_state: Any) -> None:
    result = await call(mcp, "my_work")
    assert "not counted" in result["new_comments"]["note"] and "count" not in result["new_comments"]
    assert result["overdue"]["count"] == len(expected(sandbox_state, me_id(sandbox_state))["overdue"])


async def test_my_work_refuses_bad_input_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    for arguments in (
        {"days": 0},
        {"days": 61},
        {"items_per_section": 0},
        {"person": ""},
        {"person": "x" * 1001},
    ):
        await refused_up_front(mcp, sandbox_http, "my_work", **arguments)
    assert not await api_calls(sandbox_http)
