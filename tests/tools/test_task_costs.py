"""What the tasks toolset costs Wrike and whose day it counts in: requests per call on a warm server, read
from the sandbox's request log, and "today" as the user's Wrike time zone has it, not the server's."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import api_calls, call, warm_requests

TASK = "Draft launch announcement"  # has subtasks, a parent task, a dependency, comments and time logs
PLAIN_TASK = "Verify budget figures"  # no subtasks, parent task or dependencies

# ---- requests per call, warm caches ---------------------------------------------------------------------

# A call ran once before (contacts, workflows, custom fields, the folder tree, `me` and the task's title are
# known); then each call costs exactly this many Wrike requests.
WARM_REQUESTS = [
    # the task and its dependencies together, then its subtasks, parent task and the dependency's other task
    # in one multi-id request (two round trips)
    ("get_task", {"task": TASK}, 3),
    # the task's id known, its dependencies are read with it, before it says whether it has any: a request
    # more than needed for a task without, never a round trip more (issue 20)
    ("get_task", {"task": "Schedule insurance"}, 3),  # the task and its (no) dependencies, then its subtasks
    ("get_task", {"task": PLAIN_TASK}, 2),  # the task and its (no) dependencies: nothing related to name
    # the task, its (no) dependencies and its comments together (their authors are known contacts)
    ("get_task", {"task": PLAIN_TASK, "include_comments": 5}, 3),
    ("list_timelogs", {"task": TASK}, 2),  # the time logs, then the titles of their tasks (it and a subtask)
    ("log_time", {"task": TASK, "hours": 0.5}, 2),  # the POST and, beside it, the title of its task
    ("list_attachments", {"task": TASK}, 1),  # the attachments; their authors are known contacts
    ("list_attachments", {"folder": "Marketing/Campaigns/Q3 Launch", "with_links": True}, 1),
    ("read_attachment", {"attachment": "IEAAB2CDIYAAAAAB"}, 2),  # its metadata, then its bytes
    ("add_attachment", {"task": TASK, "name": "notes.md", "text": "# Notes"}, 1),  # the upload
    ("list_approvals", {"pending_approver": "me"}, 2),  # one page, then its tasks' titles (folders are known)
    ("list_approvals", {"task": "Approve press kit"}, 2),  # the task's approvals, then its title
]


@pytest.mark.parametrize(("tool", "arguments", "requests"), WARM_REQUESTS)
async def test_requests_per_call_on_a_warm_server(
    mcp: Client, sandbox_http: httpx.AsyncClient, tool: str, arguments: dict[str, Any], requests: int
) -> None:
    made = await warm_requests(mcp, sandbox_http, tool, **arguments)
    assert len(made) == requests, made


async def test_a_task_write_forgets_which_task_a_title_names(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    """A title remembered from one call may name another task after a rename: the next call searches again."""
    first = await call(mcp, "get_task", task=PLAIN_TASK, include_comments=1)
    await call(mcp, "update_task", task=first["id"], title="Book the launch venue")
    before = len(await api_calls(sandbox_http))
    renamed = await call(mcp, "get_task", task="Book the launch venue", include_comments=1)
    assert renamed["id"] == first["id"]
    made = (await api_calls(sandbox_http))[before:]
    assert [path for _, path in made] == [
        "/api/v4/tasks",  # the title search
        f"/api/v4/tasks/{first['id']}/comments",
    ]


# ---- the user's today -----------------------------------------------------------------------------------

# 25 hours apart: at any moment, today in Kiritimati is one or two days after today in Pago Pago.
KIRITIMATI, PAGO_PAGO = "Pacific/Kiritimati", "Pacific/Pago_Pago"


@pytest.fixture
def server_clock_zone(request: pytest.FixtureRequest) -> Iterator[None]:
    """The server process runs in the zone given as the parameter (its local date is not the user's)."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()


def set_my_zone(sandbox_state: Any, zone: str) -> None:
    me = sandbox_state.access_tokens["wrike-sandbox-token"].user_id
    sandbox_state.contacts[me].timezone = zone


@pytest.mark.parametrize(
    ("zone", "server_clock_zone"),
    [(KIRITIMATI, PAGO_PAGO), (PAGO_PAGO, KIRITIMATI)],
    indirect=["server_clock_zone"],
)
@pytest.mark.usefixtures("server_clock_zone")
async def test_overdue_and_relative_dates_count_in_the_users_time_zone(
    mcp: Client, sandbox_state: Any, zone: str
) -> None:
    set_my_zone(sandbox_state, zone)
    pago_pago_today = datetime.now(ZoneInfo(PAGO_PAGO)).date()
    assert date.today() != datetime.now(ZoneInfo(zone)).date()  # the server's own day is another one
    project = await call(mcp, "create_project", parent="Marketing/Planning", title="Time zone probe")
    for title, due in (
        ("Due today in Pago Pago", pago_pago_today),
        ("Due before", pago_pago_today - timedelta(1)),
    ):
        await call(mcp, "create_task", folder=project["id"], title=title, due_date=due.isoformat())

    overdue = await call(mcp, "search_tasks", folder=project["id"], overdue=True)
    counts = (await call(mcp, "get_folder", folder=project["id"]))["task_counts"]
    logged = await call(mcp, "log_time", task="Due before", hours=1, date="yesterday")
    logged_today = await call(mcp, "log_time", task="Due before", hours=1)

    users_today = datetime.now(ZoneInfo(zone)).date()
    if zone == KIRITIMATI:  # a day or two after Pago Pago's: both tasks are past due
        assert {item["title"] for item in overdue["items"]} == {"Due today in Pago Pago", "Due before"}
        assert counts["overdue"] == 2
    else:  # the user's today is Pago Pago's: a task due today is not overdue yet
        assert [item["title"] for item in overdue["items"]] == ["Due before"]
        assert counts["overdue"] == 1
    assert logged["date"] == (users_today - timedelta(days=1)).isoformat()
    assert logged_today["date"] == users_today.isoformat()


@pytest.mark.parametrize("zone", [KIRITIMATI, PAGO_PAGO])
async def test_prompts_date_their_steps_by_the_users_day(mcp: Client, sandbox_state: Any, zone: str) -> None:
    set_my_zone(sandbox_state, zone)
    result = await mcp.get_prompt("project_status_report", {"project": "API Revamp"})
    text = str(result.messages[0].content.text)  # type: ignore[union-attr]
    users_today = datetime.now(ZoneInfo(zone)).date().isoformat()
    assert f"overdue=true (as of {users_today}, my Wrike time zone)" in text


async def test_a_zone_wrike_names_that_this_machine_does_not_know_counts_as_utc(
    mcp: Client, sandbox_state: Any
) -> None:
    set_my_zone(sandbox_state, "Mars/Olympus_Mons")
    logged = await call(mcp, "log_time", task=PLAIN_TASK, hours=1)
    assert logged["date"] == datetime.now(ZoneInfo("UTC")).date().isoformat()
