"""list_approvals against the sandbox's seeded approvals, in both protocol eras."""

from __future__ import annotations

from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import api_calls, call, refused_up_front


def contact(state: Any, name: str) -> str:
    first, last = name.split()
    return str(next(c.id for c in state.contacts.values() if (c.first_name, c.last_name) == (first, last)))


async def test_approvals_pending_me_account_wide(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    me = contact(sandbox_state, "Ann Lee")
    listed = await call(mcp, "list_approvals", pending_approver="me")
    titles = [item["title"] for item in listed["items"]]
    assert sorted(titles) == ["Approve press kit", "Draft launch announcement", "Q3 Launch"]
    assert "next_cursor" not in listed
    by_title = {item["title"]: item for item in listed["items"]}
    press = by_title["Approve press kit"]
    assert press["status"] == "Pending" and press["type"] == "Regular"
    assert press["task"]["name"] == "Approve press kit"
    assert {"approver": {"id": me, "name": "Ann Lee"}, "status": "Pending"} in press["decisions"]
    assert [d["status"] for d in press["decisions"]] == ["Pending", "Approved"]
    assert by_title["Draft launch announcement"]["type"] == "FilesOnly"
    q3 = by_title["Q3 Launch"]
    assert q3["folder"]["name"] == "Marketing/Campaigns/Q3 Launch" and "task" not in q3
    seeded = next(a for a in sandbox_state.approvals.values() if a.title == "Q3 Launch")
    assert q3["due"] == seeded.due_date.isoformat()
    [query] = [e["query"] for e in await _approval_requests(sandbox_http)]
    assert query["pendingApprovers"] == f'["{me}"]' and "statuses" not in query


async def _approval_requests(sandbox_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await sandbox_http.get("/_sandbox/requests")
    body = response.json()
    entries = body["requests"] if isinstance(body, dict) else body
    return [e for e in entries if e["path"] == "/api/v4/approvals"]


async def test_approvals_by_status_with_the_rejection_comment(mcp: Client, sandbox_state: Any) -> None:
    rejected = await call(mcp, "list_approvals", status="Rejected")
    [item] = rejected["items"]
    seeded = next(a for a in sandbox_state.approvals.values() if a.status == "Rejected")
    assert item["id"] == seeded.id and item["task"]["name"] == "Fix crash on login"
    assert item["decisions"][0]["status"] == "Rejected"
    assert item["decisions"][0]["comment"] == seeded.decisions[0].comment


async def test_approvals_on_a_task_and_a_folder_filtered_here(mcp: Client) -> None:
    on_task = await call(mcp, "list_approvals", task="Approve press kit")
    assert [item["title"] for item in on_task["items"]] == ["Approve press kit"]
    cancelled = await call(mcp, "list_approvals", folder="Engineering/Mobile App", status="Cancelled")
    assert [item["status"] for item in cancelled["items"]] == ["Cancelled"]
    # The cancelled approval still lists Ann's decision as Pending, but nothing waits for her any more.
    waiting = await call(mcp, "list_approvals", folder="Engineering/Mobile App", pending_approver="me")
    assert waiting["items"] == []
    on_q3 = await call(mcp, "list_approvals", folder="Marketing/Campaigns/Q3 Launch", pending_approver="me")
    assert [item["title"] for item in on_q3["items"]] == ["Q3 Launch"]


async def test_account_wide_approvals_page_with_a_cursor(mcp: Client, sandbox_state: Any) -> None:
    seen: list[str] = []
    page = await call(mcp, "list_approvals", limit=2)
    pages = 1
    while True:
        seen += [item["id"] for item in page["items"]]
        if "next_cursor" not in page:
            break
        page = await call(mcp, "list_approvals", limit=2, cursor=page["next_cursor"])
        pages += 1
    assert sorted(seen) == sorted(sandbox_state.approvals) and pages == -(-len(seen) // 2)


async def test_list_approvals_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    both = await refused_up_front(
        mcp, sandbox_http, "list_approvals", task="Approve press kit", folder="Marketing"
    )
    assert "not both" in both
    first = await call(mcp, "list_approvals", limit=2)
    other = await refused_up_front(
        mcp, sandbox_http, "list_approvals", limit=2, status="Pending", cursor=first["next_cursor"]
    )
    assert "cursor belongs to a different query" in other
    assert "cursor is not valid" in await refused_up_front(
        mcp, sandbox_http, "list_approvals", cursor="junk!"
    )
    before = len(await api_calls(sandbox_http))
    result = await mcp.call_tool("list_approvals", {"pending_approver": "Nobody Here"})
    assert result.is_error and "not found" in result.content[0].text  # type: ignore[union-attr]
    assert not [c for c in (await api_calls(sandbox_http))[before:] if c[1].endswith("/approvals")]
