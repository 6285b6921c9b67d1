"""Each rule written once (issue 21): a name, a status, "overdue" and the caches mean the same in every tool
that uses them. Each test puts the same question to the tools that used to answer it differently."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from mcp import Client
from mcp.types import PromptReference

from tests.tools.tool_helpers import api_calls, call
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.resolve import Resolver

ZERO_WIDTH = "\u200b"


async def test_a_name_with_a_zero_width_character_is_the_same_name_everywhere(
    mcp: Client, wrike_client: WrikeClient, sandbox_state: Any
) -> None:
    chloe = next(c for c in sandbox_state.contacts.values() if c.name == "Chloe Martin")
    pasted = f"Ch{ZERO_WIDTH}loe Martin"  # as copied from a web page

    found = await call(mcp, "find_people", query=pasted)
    assert found["items"][0]["id"] == chloe.id
    completed = await mcp.complete(
        PromptReference(name="triage_tasks"), {"name": "person", "value": f"Ch{ZERO_WIDTH}lo"}
    )
    assert "Chloe Martin" in completed.completion.values
    # person_id used to keep the invisible character and refuse the name the two above accept
    assert await Resolver(wrike_client).person_id(pasted) == chloe.id
    by_name = await call(mcp, "search_tasks", assignee=pasted, limit=100)
    by_id = await call(mcp, "search_tasks", assignee=chloe.id, limit=100)
    assert by_name["items"] and by_name["items"] == by_id["items"]


async def test_a_hidden_status_is_found_by_search_as_by_update(mcp: Client, sandbox_state: Any) -> None:
    qa = next(
        s
        for w in sandbox_state.workflows.values()
        if not w.for_projects
        for s in w.statuses
        if s.name == "QA"
    )
    qa.hidden = True  # taken off the workflow's choices; tasks may still hold it
    task = next(
        t
        for t in sandbox_state.tasks.values()
        if not t.deleted and sandbox_state.custom_status(t.custom_status_id).workflow_id == qa.workflow_id
    )

    await call(mcp, "update_task", task=task.id, status="QA")
    assert sandbox_state.tasks[task.id].custom_status_id == qa.id
    # search_tasks used to refuse the name of a hidden status that update_task accepts
    by_name = await call(mcp, "search_tasks", status="qa", limit=200)
    by_id = await call(mcp, "search_tasks", status=qa.id, limit=200)
    assert task.id in {item["id"] for item in by_name["items"]}
    assert by_name["items"] == by_id["items"]


async def test_overdue_starts_at_the_users_today_in_search_project_counts_and_digest(mcp: Client) -> None:
    me = (await call(mcp, "find_people", query="me"))["items"][0]
    today = datetime.now(ZoneInfo(me["timezone"])).date()
    project = await call(mcp, "create_project", parent="Marketing", title="Overdue boundary")
    due = {
        "due yesterday": (today - timedelta(days=1)).isoformat(),  # overdue
        "due today": today.isoformat(),  # not yet
    }
    made = {
        title: (await call(mcp, "create_task", folder=project["id"], title=title, due_date=day))["id"]
        for title, day in due.items()
    }

    searched = await call(mcp, "search_tasks", folder=project["id"], overdue=True, include_subtasks=True)
    assert [item["id"] for item in searched["items"]] == [made["due yesterday"]]
    counted = await call(mcp, "get_folder", folder=project["id"])
    assert counted["task_counts"]["overdue"] == 1
    digest = await call(mcp, "whats_changed", place=project["id"], category="overdue")
    assert [item["id"] for item in digest["overdue"]["items"]] == [made["due yesterday"]]


async def test_a_write_through_a_tool_reaches_the_resolvers_cache_by_itself(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    await call(mcp, "get_folder", folder="Marketing/Planning")  # the folder tree is cached now
    created = await call(mcp, "create_folder", parent="Marketing/Planning", title="Offsite")
    made_project = await call(mcp, "create_project", parent="Marketing/Planning", title="Retreat")
    before = len(await api_calls(sandbox_http))

    found = await call(mcp, "get_folder", folder="Marketing/Planning/Offsite")
    assert found["id"] == created["id"]
    project = await call(mcp, "get_folder", folder="Marketing/Planning/Retreat")
    assert project["id"] == made_project["id"]
    after = (await api_calls(sandbox_http))[before:]
    assert ("GET", "/api/v4/folders") not in after  # no tool told the resolver: its write hook did


async def test_a_renamed_task_is_found_by_its_new_title_through_the_write_hook(mcp: Client) -> None:
    task = await call(mcp, "create_task", folder="Marketing/Planning", title="Draft agenda")
    assert (await call(mcp, "get_task", task="Draft agenda"))["id"] == task["id"]  # the title is remembered
    await call(mcp, "update_task", task=task["id"], title="Final agenda")
    other = await call(mcp, "create_task", folder="Marketing/Planning", title="Draft agenda")
    assert (await call(mcp, "get_task", task="Draft agenda"))["id"] == other["id"]


def test_the_users_today_is_the_only_today_the_tools_use() -> None:
    """Every date a tool computes ("today", overdue, a default `since`) counts from deps.today, the date in
    the user's Wrike time zone: no tool asks the machine for its date. Clock readings in UTC (a comment
    window's end, a link's expiry) are instants, not dates, and stay."""
    import re
    from pathlib import Path

    import wrike_mcp.tools

    tools = Path(wrike_mcp.tools.__file__).parent
    found = []
    for path in sorted(tools.glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if re.search(r"\bdate\.today\(|\butcnow\(|\btime\.time\(", code) or (
                "datetime.now(" in code and "datetime.now(UTC)" not in code and path.name != "deps.py"
            ):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == []
