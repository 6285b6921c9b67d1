"""What the writing tools share (tools/writes.py), seen in the sandbox after the call: a write on a task id
goes straight to it, a one-word title shaped like an id still finds its task, a new folder's description is
escaped text, a delete asks only about what it could read and says why it could not, and a stored date
Wrike gives malformed is named as such."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.server.mcpserver.exceptions import ToolError

from tests.tools.tool_helpers import (
    answering,
    api_calls,
    call,
    call_error,
    own_task_client,
    state_folder,
)
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools.writes import moved_dates
from wrike_mcp.wrike.models import TaskDates

Q3 = "Marketing/Campaigns/Q3 Launch"


@pytest.fixture
async def client(server: WrikeMCPServer) -> AsyncIterator[Client]:
    async with own_task_client(server) as opened:
        yield opened


def a_task_in(state: Any, folder: Any) -> Any:
    return min(
        (t for t in state.tasks.values() if not t.deleted and folder.id in t.parent_ids), key=lambda t: t.id
    )


async def test_a_comment_on_a_task_id_is_one_post_to_that_task(
    client: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = a_task_in(sandbox_state, state_folder(sandbox_state, Q3))
    await call(client, "add_comment", task=task.id, text="warm")  # the author's name: a known contact
    before = len(await api_calls(sandbox_http))
    result = await call(client, "add_comment", task=task.id, text="Looks good")
    assert sandbox_state.comments[result["id"]].task_id == task.id
    assert (await api_calls(sandbox_http))[before:] == [("POST", f"/api/v4/tasks/{task.id}/comments")]


async def test_a_comment_on_a_task_title_is_posted_once_to_the_task_it_names(
    client: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    made = await call(client, "create_task", folder=Q3, title="Vendor shortlist review")
    before = len(await api_calls(sandbox_http))
    result = await call(client, "add_comment", task="Vendor shortlist review", text="Two left")
    assert sandbox_state.comments[result["id"]].task_id == made["id"]
    posts = [made_call for made_call in (await api_calls(sandbox_http))[before:] if made_call[0] == "POST"]
    assert posts == [("POST", f"/api/v4/tasks/{made['id']}/comments")]


async def test_a_one_word_title_shaped_like_an_id_finds_its_task(client: Client, sandbox_state: Any) -> None:
    made = await call(client, "create_task", folder=Q3, title="Kickoff")
    result = await call(client, "add_comment", task="Kickoff", text="Agenda attached")
    assert sandbox_state.comments[result["id"]].task_id == made["id"]
    assert sum(c.task_id == made["id"] for c in sandbox_state.comments.values()) == 1


async def test_a_new_folders_description_is_escaped_text_and_a_blank_one_is_none(
    client: Client, sandbox_state: Any
) -> None:
    made = await call(
        client, "create_folder", parent=Q3, title="Briefs", description="Tom & <b>Jerry</b>\nnext"
    )
    assert sandbox_state.folders[made["id"]].description == "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;<br>next"
    blank = await call(client, "create_folder", parent=Q3, title="Blank", description="  ")
    assert sandbox_state.folders[blank["id"]].description == ""


async def test_a_delete_whose_task_cannot_be_read_asks_nothing_and_says_why(
    server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = a_task_in(sandbox_state, state_folder(sandbox_state, Q3))
    rule = {
        "method": "GET",
        "path": f"/api/v4/tasks/{task.id}",
        "status": 403,
        "error": "access_forbidden",
        "description": "No access",
    }
    (await sandbox_http.post("/_sandbox/faults", json=rule)).raise_for_status()
    asked, callback = answering("accept")
    async with own_task_client(server, elicitation_callback=callback) as client:
        message = await call_error(client, "delete_task", task=task.id)
    # Wrike's refusal, and with the token's scopes unknown the scope the delete needs as a suspect
    assert "No access (Wrike 403 access_forbidden)" in message and "wsReadWrite" in message
    assert asked == [] and not task.deleted
    assert not [call for call in await api_calls(sandbox_http) if call[0] == "DELETE"]


def test_a_stored_date_wrike_gives_malformed_is_named() -> None:
    with pytest.raises(ToolError, match=r"^current start '2026-13-01' is not a valid date"):
        moved_dates(
            TaskDates(type="Planned", start="2026-13-01T09:00:00", due="2026-12-01T17:00:00"), None, None
        )
    with pytest.raises(ToolError, match=r"^current due '2026-12-41' is not a valid date"):
        moved_dates(
            TaskDates(type="Planned", start="2026-12-01T09:00:00", due="2026-12-41T17:00:00"), None, None
        )
