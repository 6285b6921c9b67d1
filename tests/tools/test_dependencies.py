"""add_dependency and remove_dependency (with confirmation) against the sandbox, in both protocol eras."""

from __future__ import annotations

from collections.abc import Callable
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
    unconfirmed_answers,
)
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools.dependencies import DAY_MINUTES


def task_id(state: Any, title: str) -> str:
    return str(next(t.id for t in state.tasks.values() if t.title == title and not t.deleted))


def links_between(state: Any, predecessor: str, successor: str) -> list[Any]:
    return [
        d
        for d in state.dependencies.values()
        if (d.predecessor_id, d.successor_id) == (predecessor, successor)
    ]


async def test_add_dependency_with_lag_and_the_default_relation(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    venue, press = task_id(sandbox_state, "Book launch venue"), task_id(sandbox_state, "Approve press kit")
    before = len(await requests_log(sandbox_http))
    added = await call(mcp, "add_dependency", predecessor="Book launch venue", successor=press, lag_days=2)
    [stored] = links_between(sandbox_state, venue, press)
    assert (stored.relation_type, stored.lag_time) == ("FinishToStart", 2 * DAY_MINUTES)
    assert added == {
        "id": stored.id,
        "predecessor": {"id": venue, "name": "Book launch venue"},
        "successor": {"id": press, "name": "Approve press kit"},
        "relation": "FinishToStart",
        "lag_days": 2,
    }
    made = (await requests_log(sandbox_http))[before:]
    # the title's lookup, the link, then both titles in one request
    assert [(e["method"], e["path"]) for e in made] == [
        ("GET", "/api/v4/tasks"),
        ("POST", f"/api/v4/tasks/{press}/dependencies"),
        ("GET", f"/api/v4/tasks/{venue},{press}"),
    ]
    [post] = [e for e in made if e["method"] == "POST"]
    assert post["path"] == f"/api/v4/tasks/{press}/dependencies"
    assert post["body"] == {
        "predecessorId": venue,
        "relationType": "FinishToStart",
        "lagTime": str(2 * DAY_MINUTES),
    }


async def test_add_dependency_with_lead_time_and_another_relation(mcp: Client, sandbox_state: Any) -> None:
    added = await call(
        mcp,
        "add_dependency",
        predecessor="Finalize launch checklist",
        successor="Approve press kit",
        relation="StartToStart",
        lag_days=-1,
    )
    [stored] = links_between(
        sandbox_state,
        task_id(sandbox_state, "Finalize launch checklist"),
        task_id(sandbox_state, "Approve press kit"),
    )
    assert (stored.relation_type, stored.lag_time) == ("StartToStart", -DAY_MINUTES)
    assert (added["relation"], added["lag_days"]) == ("StartToStart", -1)


async def test_add_dependency_bad_input_sends_no_write(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    count = len(sandbox_state.dependencies)
    same = "a task cannot depend on itself"
    press = task_id(sandbox_state, "Approve press kit")
    assert same in await refused_up_front(
        mcp, sandbox_http, "add_dependency", predecessor=press, successor=press
    )
    assert same in await refused_up_front(
        mcp, sandbox_http, "add_dependency", predecessor="Approve press kit", successor=" approve PRESS kit "
    )
    # Two references to one task (a title and its id) are found to be the same before any write.
    assert same in await call_error(mcp, "add_dependency", predecessor="Approve press kit", successor=press)
    assert "relation" in await refused_up_front(
        mcp,
        sandbox_http,
        "add_dependency",
        predecessor=press,
        successor="Book launch venue",
        relation="Before",
    )
    assert "lag_days" in await refused_up_front(
        mcp, sandbox_http, "add_dependency", predecessor=press, successor="Book launch venue", lag_days=5000
    )
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "POST"]
    # A cycle is Wrike's to refuse: its one POST is answered 400 and comes back as a clear error.
    cycle = await call_error(mcp, "add_dependency", predecessor="Draft launch announcement", successor=press)
    assert "would make a circular dependency" in cycle, cycle
    posts = [(e["path"], e["status"]) for e in await requests_log(sandbox_http) if e["method"] == "POST"]
    assert posts == [(f"/api/v4/tasks/{press}/dependencies", 400)]
    assert len(sandbox_state.dependencies) == count


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_remove_dependency_asks_first_and_removes_on_accept(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first, then = (
        task_id(sandbox_state, "Finalize launch checklist"),
        task_id(sandbox_state, "Book launch venue"),
    )
    [link] = links_between(sandbox_state, first, then)
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        result = await call(
            client,
            "remove_dependency",
            predecessor="Finalize launch checklist",
            successor="Book launch venue",
        )
    assert len(asked) == 1 and "Book launch venue" in asked[0] and "Finalize launch checklist" in asked[0]
    assert result == {
        "removed": True,
        "predecessor": {"id": first},
        "successor": {"id": then},
        "outcome": "the FinishToStart link is removed",
    }
    assert link.id not in sandbox_state.dependencies
    # Asking reads the successor's links and both titles (the 2026 era asks in a second round trip, which
    # reads them again); right before the DELETE the links are read afresh, as the answer may be old.
    made = await api_calls(sandbox_http)
    assert made[-2:] == [
        ("GET", f"/api/v4/tasks/{then}/dependencies"),
        ("DELETE", f"/api/v4/dependencies/{link.id}"),
    ]
    assert [c for c in made if c[0] != "GET"] == made[-1:]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_remove_dependency_not_confirmed_removes_nothing(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first, then = (
        task_id(sandbox_state, "Approve press kit"),
        task_id(sandbox_state, "Draft launch announcement"),
    )
    answers = await unconfirmed_answers(
        server,
        mode,
        "remove_dependency",
        predecessor="Approve press kit",
        successor="Draft launch announcement",
    )
    for reason, result in answers:
        assert result["removed"] is False and result["outcome"] == f"not removed: {reason}"
    assert len(links_between(sandbox_state, first, then)) == 1
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_remove_dependency_without_a_link_or_on_itself_asks_nothing(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    venue, press = task_id(sandbox_state, "Book launch venue"), task_id(sandbox_state, "Approve press kit")
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        missing = await call_error(client, "remove_dependency", predecessor=venue, successor=press)
        itself = await call_error(client, "remove_dependency", predecessor=press, successor=press)
    assert missing.endswith(
        f"task {press} does not depend on task {venue}: nothing was removed (get_task lists its dependencies)"
    )
    assert "cannot depend on itself" in itself
    assert asked == []
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_remove_dependency_without_elicitation(
    mode: str, make_server: Callable[..., WrikeMCPServer], sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first, then = (
        task_id(sandbox_state, "Approve press kit"),
        task_id(sandbox_state, "Draft launch announcement"),
    )
    async with Client(make_server(allow_delete=False), mode=mode) as client:
        assert "remove_dependency" not in {tool.name for tool in (await client.list_tools()).tools}
        message = await call_error(client, "remove_dependency", predecessor=first, successor=then)
    assert "confirmation" in message and "--allow-delete" in message and len(message) < 200
    assert not await api_calls(sandbox_http)
    async with Client(make_server(allow_delete=True), mode=mode) as client:
        result = await call(client, "remove_dependency", predecessor=first, successor=then)
    assert result["removed"] is True and not links_between(sandbox_state, first, then)


async def test_short_ids_and_permalinks_name_the_tasks(mcp: Client, sandbox_state: Any) -> None:
    finalize = next(t for t in sandbox_state.tasks.values() if t.title == "Finalize launch checklist")
    press = task_id(sandbox_state, "Approve press kit")
    assert finalize.id == "MAAAAAEFzrS_"  # a 2025-style short id
    added = await call(mcp, "add_dependency", predecessor=finalize.permalink, successor=press)
    assert added["predecessor"] == {"id": finalize.id, "name": "Finalize launch checklist"}
    assert len(links_between(sandbox_state, finalize.id, press)) == 1
    venue = task_id(sandbox_state, "Book launch venue")
    removed = await call(mcp, "remove_dependency", predecessor=finalize.id, successor=venue)
    assert removed["removed"] is True and not links_between(sandbox_state, finalize.id, venue)
