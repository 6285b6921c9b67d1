"""Sequential round trips to Wrike with warm caches (issue 20), in both protocol eras: get_task reads a task,
its dependencies and its comments together when it has the task's id, log_time writes and reads the task's
title together (add_dependency and delete_timelog likewise), delete_task reads a task given by id once, and
whats_changed stays within three. Every Wrike request is delayed the same, so the request log's
received/answered times show which requests waited for which. Results are checked against the sandbox's
state, and against the answer the slower path (the task found by a title search) gives."""

from __future__ import annotations

from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import call, requests_log, sequential_round_trips, user_today

TASK = "Draft launch announcement"  # has subtasks, a parent task, a dependency and comments
Q3 = "Marketing/Campaigns/Q3 Launch"


def seeded_task(sandbox_state: Any, title: str) -> Any:
    return next(t for t in sandbox_state.tasks.values() if t.title == title and not t.deleted)


async def delayed_call(
    mcp: Client, sandbox_http: httpx.AsyncClient, tool: str, **arguments: Any
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The tool's answer and the Wrike requests it made, every one of them delayed by 50 ms."""
    (await sandbox_http.delete("/_sandbox/requests")).raise_for_status()
    fault = {"path": "/api/v4/*", "times": 50, "delay_ms": 50}
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    try:
        result = await call(mcp, tool, **arguments)
    finally:
        (await sandbox_http.delete("/_sandbox/faults")).raise_for_status()
    log = [e for e in await requests_log(sandbox_http) if "/api/v4" in str(e["path"])]
    return result, log


async def test_get_task_with_dependencies_subtasks_and_comments_takes_two_round_trips(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = seeded_task(sandbox_state, TASK)
    dependencies = sandbox_state.dependency_ids(task.id)
    subtasks = [t.id for t in sandbox_state.tasks.values() if task.id in t.super_task_ids and not t.deleted]
    assert subtasks and dependencies
    searched = await call(mcp, "get_task", task=TASK, include_comments=5)  # cold: found by a title search

    for ref in (task.id, TASK):  # its id, and its title now remembered
        result, log = await delayed_call(mcp, sandbox_http, "get_task", task=ref, include_comments=5)
        assert result == searched
        assert sequential_round_trips(log) == 2, [(e["method"], e["path"]) for e in log]
        first = [e["path"] for e in log if e["received_ms"] < min(x["answered_ms"] for x in log)]
        assert sorted(first) == sorted(
            [
                f"/api/v4/tasks/{task.id}",
                f"/api/v4/tasks/{task.id}/dependencies",
                f"/api/v4/tasks/{task.id}/comments",
            ]
        )

    others = set()
    for ident in dependencies:
        dependency = sandbox_state.dependencies[ident]
        others |= {dependency.predecessor_id, dependency.successor_id} - {task.id}
    assert {d["task"]["id"] for d in searched["dependencies"]} == others
    assert sorted(s["id"] for s in searched["subtasks"]) == sorted(subtasks)
    newest = sorted(
        (c for c in sandbox_state.comments.values() if c.task_id == task.id),
        key=lambda c: c.created,
        reverse=True,
    )
    assert [c["id"] for c in searched["comments"]] == [c.id for c in newest[:5]]
    assert searched["comments_total"] == len(newest)


async def test_get_task_without_dependencies_takes_one_round_trip(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = seeded_task(sandbox_state, "Verify budget figures")
    assert not any(task.id in t.super_task_ids for t in sandbox_state.tasks.values())
    assert not task.super_task_ids and not sandbox_state.dependency_ids(task.id)
    await call(mcp, "get_task", task=task.id)
    result, log = await delayed_call(mcp, sandbox_http, "get_task", task=task.id, include_comments=3)
    assert result["id"] == task.id and result["title"] == task.title and "dependencies" not in result
    assert sequential_round_trips(log) == 1


async def test_log_time_takes_one_round_trip(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = seeded_task(sandbox_state, TASK)
    await call(mcp, "log_time", task=TASK, hours=0.25)  # warms me, the categories and the title
    for ref in (task.id, TASK):
        result, log = await delayed_call(mcp, sandbox_http, "log_time", task=ref, hours=1.5)
        entry = sandbox_state.timelogs[result["id"]]
        assert (entry.task_id, entry.hours, entry.tracked_date) == (task.id, 1.5, user_today(sandbox_state))
        assert result["task"] == {"id": task.id, "name": TASK}
        assert sorted((e["method"], e["path"]) for e in log) == [
            ("GET", f"/api/v4/tasks/{task.id}"),
            ("POST", f"/api/v4/tasks/{task.id}/timelogs"),
        ]
        assert sequential_round_trips(log) == 1


async def test_log_time_on_a_one_word_title_shaped_like_an_id(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """An id given is tried as an id; when Wrike says it names no task, it is the task's title."""
    created = await call(mcp, "create_task", folder=Q3, title="Standup")
    before = len(sandbox_state.timelogs)
    result, log = await delayed_call(mcp, sandbox_http, "log_time", task="Standup", hours=0.5)
    assert len(sandbox_state.timelogs) == before + 1
    assert sandbox_state.timelogs[result["id"]].task_id == created["id"]
    assert result["task"] == {"id": created["id"], "name": "Standup"}
    posts = [e for e in log if e["method"] == "POST"]
    assert [(e["path"], e["status"] < 400) for e in posts] == [
        ("/api/v4/tasks/Standup/timelogs", False),  # Wrike's own error: no such task
        (f"/api/v4/tasks/{created['id']}/timelogs", True),
    ]


async def test_whats_changed_for_a_project_takes_at_most_three_round_trips(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    await call(mcp, "whats_changed", place=Q3)
    result, log = await delayed_call(mcp, sandbox_http, "whats_changed", place=Q3)
    assert result
    assert sequential_round_trips(log) <= 3


async def test_add_dependency_resolves_both_tasks_together_and_names_them_beside_the_post(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first = await call(mcp, "create_task", folder=Q3, title="Round trip before", due_date="2030-01-04")
    then = await call(mcp, "create_task", folder=Q3, title="Round trip after", due_date="2030-01-11")
    result, log = await delayed_call(
        mcp, sandbox_http, "add_dependency", predecessor=first["id"], successor=then["id"]
    )
    (link,) = [d for d in sandbox_state.dependencies.values() if d.successor_id == then["id"]]
    assert link.predecessor_id == first["id"] and result["id"] == link.id
    assert result["predecessor"] == {"id": first["id"], "name": "Round trip before"}
    assert result["successor"] == {"id": then["id"], "name": "Round trip after"}
    assert [e["method"] for e in log].count("POST") == 1
    assert sequential_round_trips(log) <= 2


async def test_delete_task_by_a_new_format_id_reads_it_once_before_the_delete(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    made = await call(mcp, "create_task", folder=Q3, title="Round trip doomed")
    await call(mcp, "get_task", task=made["id"])
    result, log = await delayed_call(mcp, sandbox_http, "delete_task", task=made["id"])
    assert result["deleted"] is True and result["task"] == {"id": made["id"], "name": "Round trip doomed"}
    assert sandbox_state.tasks[made["id"]].deleted
    assert [(e["method"], e["path"]) for e in log] == [
        ("GET", f"/api/v4/tasks/{made['id']}"),
        ("DELETE", f"/api/v4/tasks/{made['id']}"),
    ]
    assert sequential_round_trips(log) == 2


async def test_delete_task_by_a_one_word_title_shaped_like_an_id(mcp: Client, sandbox_state: Any) -> None:
    made = await call(mcp, "create_task", folder=Q3, title="Retro")
    result = await call(mcp, "delete_task", task="Retro")
    assert result["deleted"] is True and result["task"]["id"] == made["id"]
    assert sandbox_state.tasks[made["id"]].deleted


async def test_delete_timelog_names_its_task_beside_the_delete(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = seeded_task(sandbox_state, TASK)
    logged = await call(mcp, "log_time", task=task.id, hours=0.5)
    result, log = await delayed_call(mcp, sandbox_http, "delete_timelog", timelog=logged["id"])
    assert result["deleted"] is True and result["timelog"]["task"] == {"id": task.id, "name": TASK}
    assert logged["id"] not in sandbox_state.timelogs
    assert sorted((e["method"], e["path"]) for e in log) == sorted(
        [
            ("GET", f"/api/v4/timelogs/{logged['id']}"),
            ("GET", f"/api/v4/tasks/{task.id}"),
            ("DELETE", f"/api/v4/timelogs/{logged['id']}"),
        ]
    )
    assert sequential_round_trips(log) == 2


async def test_add_comment_on_a_new_format_id_is_one_post(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    made = await call(mcp, "create_task", folder=Q3, title="Round trip commented")
    await call(mcp, "add_comment", task=made["id"], text="warm")  # the author's name: a known contact
    result, log = await delayed_call(mcp, sandbox_http, "add_comment", task=made["id"], text="Looks good")
    assert sandbox_state.comments[result["id"]].task_id == made["id"]
    assert [(e["method"], e["path"]) for e in log] == [("POST", f"/api/v4/tasks/{made['id']}/comments")]
    assert sequential_round_trips(log) == 1

    made = await call(mcp, "create_task", folder=Q3, title="Kickoff")  # a one-word title shaped like an id
    result = await call(mcp, "add_comment", task="Kickoff", text="Agenda attached")
    assert sandbox_state.comments[result["id"]].task_id == made["id"]
    assert sum(c.task_id == made["id"] for c in sandbox_state.comments.values()) == 1
