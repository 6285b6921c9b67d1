"""whats_changed against the sandbox, in both protocol eras: the digest of a project matches the sandbox's
state, before and after a few writes; categories page with their cursors; the Team plan's missing comment list
is reported, not fatal."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.sandbox.sandbox_helpers import folder_id
from tests.tools.test_request_counts import requests_of, warm
from tests.tools.tool_helpers import call, call_error, refused_up_front, user_today
from wrike_mcp.sandbox import SandboxConfig, SandboxState
from wrike_mcp.sandbox.state import Task

Q3 = "Marketing/Campaigns/Q3 Launch"


class Expected:
    """The digest worked out from the sandbox's own state."""

    def __init__(self, state: SandboxState, place: str, since: date) -> None:
        self.state, self.since = state, since
        self.start = datetime.combine(since, time.min, tzinfo=UTC)
        self.folders = {folder_id(state, place), *state.descendant_folder_ids(folder_id(state, place))}

    def tasks(self) -> list[Task]:
        return [
            t
            for t in self.state.tasks.values()
            if not t.deleted
            and (self.folders & set(t.parent_ids) or self.folders & set(self.state.super_parent_ids(t)))
        ]

    def category(self, name: str) -> set[str]:
        today = user_today(self.state)
        found = set()
        for task in self.tasks():
            created = task.created >= self.start
            completed = (
                task.status == "Completed" and task.completed is not None and task.completed >= self.start
            )
            due = task.dates.due.date() if task.dates.due else None
            if (
                (name == "created" and created)
                or (name == "completed" and completed and not created)
                or (name == "updated" and task.updated >= self.start and not created and not completed)
                or (name == "overdue" and task.status == "Active" and due and self.since <= due < today)
            ):
                found.add(task.id)
        return found

    def comments(self) -> set[str]:
        tasks = {t.id for t in self.tasks()}
        return {
            c.id
            for c in self.state.comments.values()
            if c.created >= self.start and (c.task_id in tasks or c.folder_id in self.folders)
        }

    def timelogs(self) -> list[Any]:
        tasks = {t.id for t in self.tasks()}
        return [
            t
            for t in self.state.timelogs.values()
            if t.task_id in tasks and self.since <= t.tracked_date <= user_today(self.state)
        ]


def ids(changes: dict[str, Any]) -> list[str]:
    return [item["id"] for item in changes["items"]]


def check_against_state(digest: dict[str, Any], expected: Expected) -> None:
    for name in ("created", "completed", "updated", "overdue"):
        wanted = expected.category(name)
        assert digest[name]["count"] == len(wanted), name
        assert set(ids(digest[name])) <= wanted and len(ids(digest[name])) == min(10, len(wanted)), name
    comments = expected.comments()
    assert digest["comments"]["count"] == len(comments)
    assert set(ids(digest["comments"])) <= comments
    logged = expected.timelogs()
    assert digest["time_logged"]["count"] == len(logged)
    assert digest["time_logged"]["hours"] == round(sum(t.hours for t in logged), 2)


async def test_a_project_digest_matches_the_seed_and_follows_a_few_writes(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    since = user_today(sandbox_state) - timedelta(days=14)
    expected = Expected(sandbox_state, Q3, since)
    before = await call(mcp, "whats_changed", place=Q3, since=since.isoformat())
    assert before["since"] == since.isoformat() and before["until"] == user_today(sandbox_state).isoformat()
    check_against_state(before, expected)
    assert before["overdue"]["count"] >= 1 and before["comments"]["count"] >= 1  # the seed makes some

    created = await call(mcp, "create_task", title="Check the venue's Wi-Fi", folder=Q3)
    overdue_task = before["overdue"]["items"][0]
    await call(mcp, "update_task", task=overdue_task["id"], status="Completed")
    comment = await call(mcp, "add_comment", task=created["id"], text="Booked the technician")
    logged = await call(mcp, "log_time", task=created["id"], hours=1.5)

    after = await call(mcp, "whats_changed", place=Q3, since=since.isoformat())
    check_against_state(after, expected)
    assert after["created"]["count"] == before["created"]["count"] + 1
    new = after["created"]["items"][0]
    assert new["id"] == created["id"] and new["title"] == "Check the venue's Wi-Fi"
    assert new["who"]["name"] == "Ann Lee"
    assert after["completed"]["items"][0]["id"] == overdue_task["id"]
    assert overdue_task["id"] not in ids(after["overdue"])
    assert after["overdue"]["count"] == before["overdue"]["count"] - 1
    newest = after["comments"]["items"][0]
    assert newest["id"] == comment["id"] and newest["task"] == created["id"]
    assert newest["title"] == "Check the venue's Wi-Fi" and newest["text"] == "Booked the technician"
    assert after["time_logged"]["count"] == before["time_logged"]["count"] + 1
    assert after["time_logged"]["hours"] == round(before["time_logged"]["hours"] + 1.5, 2)
    assert logged["id"] in ids(after["time_logged"])


async def test_a_category_pages_with_its_cursor(mcp: Client, sandbox_state: SandboxState) -> None:
    since = (user_today(sandbox_state) - timedelta(days=30)).isoformat()
    digest = await call(mcp, "whats_changed", place="Marketing", since=since)
    updated = digest["updated"]
    assert updated["count"] > 10 and len(updated["items"]) == 10
    page = await call(
        mcp,
        "whats_changed",
        place="Marketing",
        since=since,
        category="updated",
        cursor=updated["next_cursor"],
    )
    assert set(page) == {"since", "until", "updated"}
    seen = ids(updated) + ids(page["updated"])
    assert len(seen) == len(set(seen)) == min(updated["count"], 40)
    other = await call_error(
        mcp,
        "whats_changed",
        place="Marketing",
        since=since,
        category="created",
        cursor=updated["next_cursor"],
    )
    assert "cursor belongs to a different query" in other


async def test_a_person_digest_keeps_to_their_work(mcp: Client, sandbox_state: SandboxState) -> None:
    digest = await call(mcp, "whats_changed", person="me")
    me = next(c for c in sandbox_state.contacts.values() if c.name == "Ann Lee")
    assert digest["since"] == (user_today(sandbox_state) - timedelta(days=7)).isoformat()
    for name in ("created", "completed", "updated", "overdue"):
        for item in digest[name]["items"]:
            assert me.id in sandbox_state.tasks[item["id"]].responsible_ids
    assert digest["comments"]["count"] >= 1
    assert all(item["who"]["id"] == me.id for item in digest["comments"]["items"])


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(plan="team")], indirect=True)
async def test_the_team_plan_reports_comments_as_unavailable(mcp: Client) -> None:
    digest = await call(mcp, "whats_changed", place=Q3)
    assert "comments" not in digest
    assert digest["comments_unavailable"] == (
        "Wrike refused the comment list: Account-wide comment lists are not available for the Team plan"
    )
    assert "created" in digest and "time_logged" in digest


async def test_bad_input_is_refused_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    await call(mcp, "get_me")  # `today` needs the user's time zone: cached from here on
    future = (user_today(sandbox_state) + timedelta(days=3)).isoformat()
    assert "is before since" in await refused_up_front(mcp, sandbox_http, "whats_changed", since=future)
    for arguments in (
        {"since": "2026-13-01"},
        {"cursor": "abc"},
        {"category": "updated", "cursor": "not-a-cursor"},
    ):
        await refused_up_front(mcp, sandbox_http, "whats_changed", **arguments)


async def test_a_warm_project_digest_makes_these_requests(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    await warm(mcp)
    await call(mcp, "whats_changed", place=Q3)
    made, _ = await requests_of(mcp, sandbox_http, "whats_changed", {"place": Q3})
    assert made == [
        "GET /folders/{id}/tasks",  # updated since: created, completed, updated
        "GET /folders/{id}/tasks",  # newly overdue
        "GET /comments",  # 7 days and today's hours: two 7-day windows
        "GET /comments",
        "GET /tasks/{id}",  # where the commented tasks not read yet lie
        "GET /folders/{id}/timelogs",
        "GET /tasks/{id}",  # the titles of the tasks time was logged on
    ]
    paged, _ = await requests_of(mcp, sandbox_http, "whats_changed", {"place": Q3, "category": "overdue"})
    assert paged == ["GET /folders/{id}/tasks"]
