"""Everyday requests, played through the tools as a model would plan them from `tools/list` (issue 24's "Done
when"): each takes the planned tool calls, makes exactly the planned Wrike requests (the sandbox's request log,
ids shown as `{id}`), and gives what the sandbox's own state says it should, in both protocol eras.

The script is data: a `Request` row holds what the user asks, the tool calls planned for it (arguments may be
computed from the world: the user's today, the sandbox's ids), the Wrike requests those calls make on a warm
server, and a check of the results against the sandbox's state. Add a row for a new tool: plan it as a model
would from its description, then write down the requests it makes and why.

The server is the default one (`wrike-mcp serve` without flags, delete_task offered), so a row needing a
toolset off by default plans the enable_toolsets call too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from tests.tools.test_request_counts import WORDS, warm
from tests.tools.tool_helpers import api_calls, call, state_folder, user_today
from wrike_mcp.server import WrikeMCPServer

PATH_WORDS = WORDS | {"attachments", "approvals", "timelog_categories"}
Q3 = "Marketing/Campaigns/Q3 Launch"
TASK = "Draft launch announcement"
OTHER_TASK = "Verify budget figures"


@dataclass
class World:
    """What arguments and checks are computed from: the sandbox's state and the user's today."""

    state: Any
    today: date

    def task(self, title: str) -> Any:
        [found] = [t for t in self.state.tasks.values() if t.title == title and not t.deleted]
        return found

    def person(self, name: str) -> Any:
        return next(c for c in self.state.contacts.values() if c.name == name)

    @property
    def me(self) -> Any:
        return self.state.contacts[self.state.access_tokens["wrike-sandbox-token"].user_id]

    def tasks_in(self, path: str) -> list[Any]:
        """Tasks in a folder or project and below it, subtasks included (as Wrike's `descendants`)."""
        folder = state_folder(self.state, path)
        scope = {folder.id, *self.state.descendant_folder_ids(folder.id)}
        return [
            t
            for t in self.state.tasks.values()
            if not t.deleted and (set(t.parent_ids) | set(self.state.super_parent_ids(t))) & scope
        ]

    def overdue(self, task: Any) -> bool:
        return task.status == "Active" and task.dates.due is not None and task.dates.due.date() < self.today


Arguments = dict[str, Any] | Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    tool: str
    arguments: Arguments = field(default_factory=dict)

    def given(self, world: World) -> dict[str, Any]:
        return self.arguments(world) if callable(self.arguments) else dict(self.arguments)


@dataclass(frozen=True)
class Request:
    ask: str  # what the user says
    calls: list[Call]  # the planned tool calls, in order
    wrike: list[str]  # the Wrike requests they make on a warm server, in order ("GET /folders/{id}/tasks")
    check: Callable[[World, list[dict[str, Any]]], None]  # the results (one per call) against the sandbox
    eras: tuple[str, ...] = ("auto", "legacy")  # where the plan works as written (see the toolsets row)


# ---- checks: expected values come from the sandbox's state, never from the code under test --------------


def overdue_for_me(world: World, results: list[dict[str, Any]]) -> None:
    expected = {
        t.id
        for t in world.state.tasks.values()
        if not t.deleted and world.me.id in t.responsible_ids and world.overdue(t)
    }
    assert expected
    assert {item["id"] for item in results[0]["items"]} == expected


def overdue_for_diego_in_q3(world: World, results: list[dict[str, Any]]) -> None:
    diego = world.person("Diego Alvarez")
    expected = {t.id for t in world.tasks_in(Q3) if diego.id in t.responsible_ids and world.overdue(t)}
    assert expected
    assert {item["id"] for item in results[0]["items"]} == expected


def moved_and_assigned(world: World, results: list[dict[str, Any]]) -> None:
    task = world.task(TASK)
    assert world.state.custom_status(task.custom_status_id).name == "In Progress"
    assert world.person("Diego Alvarez").id in task.responsible_ids
    assert results[0]["id"] == task.id


def this_week_in_marketing(world: World, results: list[dict[str, Any]]) -> None:
    monday = world.today - timedelta(days=world.today.weekday())
    zone = ZoneInfo(world.me.timezone)

    def since_monday(moment: datetime | None) -> bool:
        return moment is not None and moment.astimezone(zone).date() >= monday

    tasks = world.tasks_in("Marketing")
    completed = {t.id for t in tasks if t.status == "Completed" and since_monday(t.completed)}
    created = {t.id for t in tasks if since_monday(t.created)}
    digest = results[0]
    assert digest["since"] == monday.isoformat()
    assert completed or created
    assert (digest.get("completed") or {"count": 0})["count"] == len(completed)
    assert (digest.get("created") or {"count": 0})["count"] == len(created - completed)


def logged_yesterday(world: World, results: list[dict[str, Any]]) -> None:
    task = world.task(TASK)
    logged = world.state.timelogs[results[0]["id"]]
    assert (logged.task_id, logged.user_id, logged.hours) == (task.id, world.me.id, 2)
    assert logged.tracked_date == world.today - timedelta(days=1)


def latest_on_task(world: World, results: list[dict[str, Any]]) -> None:
    task = world.task(TASK)
    comments = sorted(
        (c for c in world.state.comments.values() if c.task_id == task.id), key=lambda c: (c.created, c.id)
    )
    assert comments
    detail = results[0]
    assert detail["id"] == task.id and detail["comments_total"] == len(comments)
    assert {c["id"] for c in detail["comments"]} == {c.id for c in comments[-5:]}


def project_health(world: World, results: list[dict[str, Any]]) -> None:
    tasks = world.tasks_in(Q3)
    counts = results[0]["task_counts"]
    assert counts["counted_tasks"] == len(tasks) > 0
    assert counts["overdue"] == sum(1 for t in tasks if world.overdue(t))


def projects_in_marketing(world: World, results: list[dict[str, Any]]) -> None:
    marketing = state_folder(world.state, "Marketing")
    below = set(world.state.descendant_folder_ids(marketing.id))
    expected = {f.id for f in world.state.folders.values() if f.id in below and f.project and not f.deleted}
    assert {item["id"] for item in results[0]["items"]} == expected


def the_spaces(world: World, results: list[dict[str, Any]]) -> None:
    spaces = {f.title for f in world.state.folders.values() if f.space is not None and not f.deleted}
    assert {item["title"] for item in results[0]["items"]} == spaces
    assert all(item["kind"] == "space" and item.get("access_type") for item in results[0]["items"])


def created_banners(world: World, results: list[dict[str, Any]]) -> None:
    task = world.state.tasks[results[0]["id"]]
    assert task.title == "Order banners" and state_folder(world.state, Q3).id in task.parent_ids
    assert task.responsible_ids == [world.me.id]
    assert task.dates.due is not None and task.dates.due.date() == next_friday(world.today)


def commented(world: World, results: list[dict[str, Any]]) -> None:
    comment = world.state.comments[results[0]["id"]]
    assert comment.task_id == world.task(OTHER_TASK).id and "numbers checked" in comment.text
    assert comment.author_id == world.me.id


def found_chloe(world: World, results: list[dict[str, Any]]) -> None:
    chloe = world.person("Chloe Martin")
    assert results[0]["items"][0]["id"] == chloe.id
    assert results[0]["items"][0]["email"] == chloe.email


def time_on_task(world: World, results: list[dict[str, Any]]) -> None:
    task = world.task(OTHER_TASK)
    logs = [t for t in world.state.timelogs.values() if t.task_id == task.id]
    assert logs
    assert {item["id"] for item in results[0]["items"]} == {t.id for t in logs}
    assert results[0]["total_hours"] == pytest.approx(sum(t.hours for t in logs))


def completed(world: World, results: list[dict[str, Any]]) -> None:
    assert world.task(OTHER_TASK).status == "Completed"
    assert results[0]["status"] == "Completed"


def diegos_week(world: World, results: list[dict[str, Any]]) -> None:
    diego = world.person("Diego Alvarez")
    end = world.today + timedelta(days=6)
    expected = {
        t.id
        for t in world.state.tasks.values()
        if not t.deleted
        and diego.id in t.responsible_ids
        and t.status == "Active"
        and t.dates.due is not None
        and world.today <= t.dates.due.date() <= end
    }
    assert expected
    assert {item["id"] for item in results[0]["items"]} == expected


def deletions_in_the_audit_log(world: World, results: list[dict[str, Any]]) -> None:
    assert results[0]["turned_on"] == ["app_activity"]
    expected = sorted(e.object_name for e in world.state.audit if e.operation == "TaskDeleted")
    assert expected
    assert sorted(item["object"]["name"] for item in results[1]["items"]) == expected


def who_am_i(world: World, results: list[dict[str, Any]]) -> None:
    assert results[0]["user"] == {"id": world.me.id, "name": world.me.name}


def q3_attachments(world: World, results: list[dict[str, Any]]) -> None:
    q3 = state_folder(world.state, Q3)
    expected = {a.name for a in world.state.attachments.values() if a.folder_id == q3.id}
    assert expected
    assert {item["name"] for item in results[-1]["items"]} == expected


def approvals_waiting_on_me(world: World, results: list[dict[str, Any]]) -> None:
    expected = {
        a.id
        for a in world.state.approvals.values()
        if a.status == "Pending"
        and any(d.approver_id == world.me.id and d.status == "Pending" for d in a.decisions)
    }
    assert expected
    assert {item["id"] for item in results[0]["items"]} == expected


def shape(path: str) -> str:
    """`/api/v4/folders/IEAAB2CDI4AAAAAG/tasks` → `/folders/{id}/tasks`."""
    return "/" + "/".join(s if s in PATH_WORDS else "{id}" for s in path.split("/")[3:])


def next_friday(today: date) -> date:
    return today + timedelta(days=(4 - today.weekday()) % 7 or 7)


SCRIPT: list[Request] = [
    Request(
        "What's overdue for me?",
        [Call("search_tasks", {"assignee": "me", "overdue": True})],
        ["GET /tasks"],  # subtasks included; a concise answer names parent tasks by id
        overdue_for_me,
    ),
    Request(
        "What's overdue for Diego in Q3 Launch?",
        [Call("search_tasks", {"folder": Q3, "assignee": "Diego", "overdue": True})],
        ["GET /folders/{id}/tasks"],
        overdue_for_diego_in_q3,
    ),
    Request(
        f"Move '{TASK}' to In Progress and assign Diego",
        [Call("update_task", {"task": TASK, "status": "In Progress", "add_assignees": ["Diego Alvarez"]})],
        ["GET /tasks", "PUT /tasks/{id}"],  # the title search, then the one write
        moved_and_assigned,
    ),
    Request(
        "What changed in Marketing this week?",
        [
            Call(
                "whats_changed",
                lambda w: {
                    "place": "Marketing",
                    "since": (w.today - timedelta(days=w.today.weekday())).isoformat(),
                },
            )
        ],
        [
            "GET /folders/{id}/tasks",  # tasks updated since Monday (created, completed, updated)
            "GET /folders/{id}/tasks",  # active tasks that fell due since Monday
            "GET /comments",  # the account's comments of the week (one 7-day window)
            "GET /folders/{id}/timelogs",  # time logged in Marketing since Monday
            "GET /tasks/{id}",  # the commented tasks (to keep those in Marketing) and the tasks time was logged on
            "GET /audit_log",  # who completed or updated the tasks (the sandbox token is an admin's)
        ],
        this_week_in_marketing,
    ),
    Request(
        f"Log 2h on '{TASK}' yesterday",
        [Call("log_time", {"task": TASK, "hours": 2, "date": "yesterday"})],
        ["GET /tasks", "POST /tasks/{id}/timelogs", "GET /tasks/{id}"],
        logged_yesterday,
    ),
    Request(
        f"What's the latest on '{TASK}'?",
        [Call("get_task", {"task": TASK, "include_comments": 5})],
        ["GET /tasks", "GET /dependencies/{id}", "GET /tasks/{id}", "GET /tasks/{id}/comments"],
        latest_on_task,
    ),
    Request(
        "How is Q3 Launch going?",
        [Call("get_folder", {"folder": Q3})],
        ["GET /folders/{id}", "GET /folders/{id}/tasks"],  # the project, then its tasks counted in one page
        project_health,
    ),
    Request(
        "Which projects are in Marketing?",
        [Call("list_projects", {"within": "Marketing"})],
        ["GET /folders/{id}/folders"],
        projects_in_marketing,
    ),
    Request("What spaces do we have?", [Call("list_folders")], [], the_spaces),  # all cached by the warm-up
    Request(
        "Create 'Order banners' in Q3 Launch, due next Friday, for me",
        [
            Call(
                "create_task",
                lambda w: {
                    "folder": Q3,
                    "title": "Order banners",
                    "due_date": next_friday(w.today).isoformat(),
                    "assignees": ["me"],
                },
            )
        ],
        ["POST /folders/{id}/tasks"],
        created_banners,
    ),
    Request(
        f"Comment on '{OTHER_TASK}': numbers checked",
        [Call("add_comment", {"task": OTHER_TASK, "text": "numbers checked"})],
        ["GET /tasks", "POST /tasks/{id}/comments"],
        commented,
    ),
    Request("Who is Chloe?", [Call("find_people", {"query": "Chloe"})], [], found_chloe),
    Request(
        f"How much time is logged on '{OTHER_TASK}'?",
        [Call("list_timelogs", {"task": OTHER_TASK})],
        # the task by title, its time logs, its title for the totals, the category names (read once, then cached)
        ["GET /tasks", "GET /tasks/{id}/timelogs", "GET /tasks/{id}", "GET /timelog_categories"],
        time_on_task,
    ),
    Request(
        f"Mark '{OTHER_TASK}' complete",
        [Call("update_task", {"task": OTHER_TASK, "status": "Completed"})],
        ["GET /tasks", "PUT /tasks/{id}"],
        completed,
    ),
    Request(
        "What's due for Diego this week?",
        [
            Call(
                "search_tasks",
                lambda w: {
                    "assignee": "Diego Alvarez",
                    "status": "Active",
                    "due_after": w.today.isoformat(),
                    "due_before": (w.today + timedelta(days=6)).isoformat(),
                    "include_subtasks": True,
                },
            )
        ],
        ["GET /tasks"],
        diegos_week,
    ),
    Request(
        "Which tasks were deleted lately? (the audit log)",
        [
            Call("enable_toolsets", {"toolsets": ["app_activity"]}),
            Call("list_audit_log", {"operations": ["TaskDeleted"]}),
        ],
        ["GET /audit_log"],
        deletions_in_the_audit_log,
        # a 2026-07-28 in-memory connection keeps no session to turn the toolset on in: there the plan is one
        # call fewer on a server started with --toolsets default,app_activity (tests/tools/test_toolsets.py)
        eras=("legacy",),
    ),
    Request("Who am I in Wrike?", [Call("get_me")], ["GET /account"], who_am_i),
    Request(
        "What files are on Q3 Launch?",
        # attachments are off by default: the model turns them on first (no Wrike request)
        [Call("enable_toolsets", {"toolsets": ["attachments"]}), Call("list_attachments", {"folder": Q3})],
        ["GET /folders/{id}/attachments"],
        q3_attachments,
        eras=("legacy",),  # as the audit-log row: no session to turn a toolset on in over 2026-07-28 in memory
    ),
    Request(
        "Which approvals are waiting on me?",
        [Call("list_approvals", {"pending_approver": "me"})],
        ["GET /approvals", "GET /tasks/{id}"],
        approvals_waiting_on_me,
    ),
]


@pytest.fixture
def default_server(make_server: Callable[..., WrikeMCPServer]) -> WrikeMCPServer:
    return make_server(allow_delete=True, toolsets=None)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("request_", SCRIPT, ids=[row.ask for row in SCRIPT])
async def test_a_request_takes_the_planned_calls_and_wrike_requests(
    default_server: WrikeMCPServer,
    sandbox_state: Any,
    sandbox_http: httpx.AsyncClient,
    request_: Request,
    mode: str,
) -> None:
    if mode not in request_.eras:
        pytest.skip(f"planned for {', '.join(request_.eras)} only")
    world = World(sandbox_state, user_today(sandbox_state))
    async with Client(default_server, mode=mode) as client:
        await warm(client)
        before = len(await api_calls(sandbox_http))
        results = [await call(client, step.tool, **step.given(world)) for step in request_.calls]
        made = [f"{method} {shape(path)}" for method, path in (await api_calls(sandbox_http))[before:]]
    assert len(results) == len(request_.calls)
    # reads made together arrive in any order: the plan is the requests, not their order
    assert sorted(made) == sorted(request_.wrike), made
    request_.check(world, results)


def test_the_script_covers_a_day_of_requests() -> None:
    assert 12 <= len(SCRIPT) <= 20
    assert len({row.ask for row in SCRIPT}) == len(SCRIPT)
