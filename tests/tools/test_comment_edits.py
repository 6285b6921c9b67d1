"""update_comment and delete_comment in both protocol eras: Wrike's 5-minute edit window, the confirmation
delete_comment asks for (as delete_task does), the sandbox's state and request log after each write, and bad
input refused before any request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    BIG,
    answering,
    api_calls,
    call,
    call_error,
    refused_up_front,
    unconfirmed_answers,
)
from wrike_mcp.server import WrikeMCPServer


def state_task(sandbox_state: Any, title: str) -> Any:
    return next(t for t in sandbox_state.tasks.values() if t.title == title and not t.deleted)


def old_comment(sandbox_state: Any) -> Any:
    """A seeded comment on a live task, posted long ago."""
    return next(
        c
        for c in sandbox_state.comments.values()
        if c.task_id
        and not sandbox_state.tasks[c.task_id].deleted
        and sandbox_state.now() - c.created > timedelta(days=1)
    )


# ---- update_comment ------------------------------------------------------------------------------------------


async def test_update_comment_replaces_a_fresh_comment(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = state_task(sandbox_state, "Draft launch announcement")
    added = await call(mcp, "add_comment", task=task.id, text="Ship it Fridy")
    result = await call(mcp, "update_comment", comment=added["id"], text="Ship it <b>Friday</b>\nThanks")
    stored = sandbox_state.comments[added["id"]]
    assert stored.text == "Ship it &lt;b&gt;Friday&lt;/b&gt;<br>Thanks" and stored.task_id == task.id
    assert result["id"] == added["id"] and result["text"] == "Ship it <b>Friday</b>\nThanks"
    assert result["author"]["name"] == "Ann Lee"
    calls = await api_calls(sandbox_http)
    assert calls[-2:] == [
        ("GET", f"/api/v4/comments/{added['id']}"),
        ("PUT", f"/api/v4/comments/{added['id']}"),
    ]
    listed = await call(mcp, "get_task", task=task.id, include_comments=1)
    assert listed["comments"][0]["text"] == "Ship it <b>Friday</b>\nThanks"


async def test_update_comment_after_five_minutes_is_refused_before_the_write(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    comment = old_comment(sandbox_state)
    text = comment.text
    message = await call_error(mcp, "update_comment", comment=comment.id, text="new words")
    assert "first 5 minutes" in message and "add_comment" in message
    assert comment.text == text
    assert [c for c in await api_calls(sandbox_http) if c[0] != "GET"] == []


async def test_update_comment_when_wrike_refuses_the_window_says_what_to_do(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """The window may close between the read and the write (or clocks differ): Wrike's refusal steers."""
    added = await call(mcp, "add_comment", task="Draft launch announcement", text="first")
    (await sandbox_http.post("/_sandbox/clock", json={"advance": 600})).raise_for_status()
    message = await call_error(mcp, "update_comment", comment=added["id"], text="second")
    # The sandbox clock moved on, the tool's did not: the PUT is sent and Wrike refuses it.
    assert "add_comment" in message and "5 minutes" in message
    assert sandbox_state.comments[added["id"]].text == "first"


async def test_update_comment_refuses_bad_input_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    assert "text is empty" in await refused_up_front(
        mcp, sandbox_http, "update_comment", comment="IEAAB2CDIMAAAAAB", text=" \u200b "
    )
    for arguments in (
        {"comment": "IEAAB2CDIMAAAAAB", "text": ""},
        {"comment": "IEAAB2CDIMAAAAAB", "text": BIG},
        {"comment": "", "text": "x"},
        {"comment": "A,B", "text": "x"},
        {"comment": "../tasks/X", "text": "x"},
        {"text": "x"},
    ):
        await refused_up_front(mcp, sandbox_http, "update_comment", **arguments)


async def test_update_comment_of_unknown_id(mcp: Client) -> None:
    assert "not found" in await call_error(mcp, "update_comment", comment="IEAAB2CDIMZZZZZZ", text="x")


# ---- delete_comment ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_comment_asks_then_deletes(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    comment = old_comment(sandbox_state)
    task = sandbox_state.tasks[comment.task_id]
    author = sandbox_state.contacts[comment.author_id]
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        result = await call(client, "delete_comment", comment=comment.id)
        assert result == {"deleted": True, "comment": {"id": comment.id}, "outcome": "deleted"}
        assert len(asked) == 1
        assert f"{author.first_name} {author.last_name}" in asked[0] and task.title in asked[0]
        assert "cannot be restored" in asked[0]
        assert comment.id not in sandbox_state.comments
        assert ("DELETE", f"/api/v4/comments/{comment.id}") in await api_calls(sandbox_http)
        listed = await call(client, "get_task", task=task.id, include_comments=50)
        assert comment.id not in {c["id"] for c in listed.get("comments", [])}
        # Gone for good: a second delete finds nothing and asks nothing.
        assert "not found" in await call_error(client, "delete_comment", comment=comment.id)
    assert len(asked) == 1


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_comment_not_confirmed_deletes_nothing(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    comment = old_comment(sandbox_state)
    for reason, result in await unconfirmed_answers(server, mode, "delete_comment", comment=comment.id):
        assert result == {
            "deleted": False,
            "comment": {"id": comment.id},
            "outcome": f"not deleted: {reason}",
        }
    assert comment.id in sandbox_state.comments
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "DELETE"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_delete_comment_without_elicitation_needs_allow_delete(
    mode: str,
    make_server: Callable[..., WrikeMCPServer],
    sandbox_state: Any,
    sandbox_http: httpx.AsyncClient,
) -> None:
    comment = old_comment(sandbox_state)
    async with Client(make_server(allow_delete=False), mode=mode) as client:
        assert "delete_comment" not in {tool.name for tool in (await client.list_tools()).tools}
        message = await call_error(client, "delete_comment", comment=comment.id)
    assert "confirmation" in message and "--allow-delete" in message and len(message) < 200
    assert comment.id in sandbox_state.comments and not await api_calls(sandbox_http)

    async with Client(make_server(allow_delete=True), mode=mode) as client:
        result = await call(client, "delete_comment", comment=comment.id)
    assert result["deleted"] is True and comment.id not in sandbox_state.comments
    assert await api_calls(sandbox_http) == [("DELETE", f"/api/v4/comments/{comment.id}")]


async def test_delete_comment_refuses_bad_ids_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    for arguments in ({"comment": ""}, {"comment": "A,B"}, {"comment": "x y"}, {}):
        await refused_up_front(mcp, sandbox_http, "delete_comment", **arguments)


async def test_comment_tools_are_declared(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    for name, destructive in (("update_comment", False), ("delete_comment", True)):
        tool = tools[name]
        assert tool.annotations is not None and tool.annotations.read_only_hint is False
        assert tool.annotations.destructive_hint is destructive
        assert tool.meta is not None and tool.meta["wrike-mcp/toolset"] == "tasks"
        assert tool.meta["wrike-mcp/scopes"] == ["wsReadWrite"]
        assert "confirmation" not in tool.input_schema["properties"]


async def test_a_failed_comment_edit_is_sent_once_and_reported_as_unknown(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    added = await call(mcp, "add_comment", task="Draft launch announcement", text="first")
    fault = {"method": "PUT", "path": "/api/v4/comments/*", "status": 503, "error": "server_error"}
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    message = await call_error(mcp, "update_comment", comment=added["id"], text="second")
    assert "outcome unknown" in message and "not retried" in message
    assert [c for c in await api_calls(sandbox_http) if c[0] == "PUT"] == [
        ("PUT", f"/api/v4/comments/{added['id']}")
    ]
