"""A typical call of every tool, on the sandbox's seed data (used by bench_server.py and, with MORE_CALLS for
the tools off by default and the writes that need something made first, by bench_round_trips.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Q3 = "Marketing/Campaigns/Q3 Launch"
TASK = "Draft launch announcement"

TYPICAL_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_me", {}),
    ("list_folders", {"parent": "Marketing", "depth": 2}),
    ("list_projects", {"within": "Marketing"}),
    ("get_folder", {"folder": Q3}),
    ("search_tasks", {"folder": Q3, "assignee": "Diego Alvarez", "overdue": True}),
    ("get_task", {"task": TASK, "include_comments": 5}),
    ("list_timelogs", {"task": TASK}),
    ("list_timelogs", {"folder": "Engineering/Platform/API Revamp"}),
    ("time_report", {"since": "2026-01-01", "until": "today", "group_by": ["project", "person"]}),
    ("find_people", {"query": "Chloe"}),
    ("list_workflows", {}),
    ("list_custom_fields", {}),
    ("list_app_activity", {}),
    ("list_audit_log", {"operations": ["Oauth2AccessGranted"], "limit": 20}),
    ("create_folder", {"parent": "Marketing/Planning", "title": "Bench folder"}),
    ("create_project", {"parent": "Marketing/Planning", "title": "Bench project", "owners": ["me"]}),
    ("update_project", {"project": "Bench project", "status": "In Progress"}),  # its project workflow
    (
        "create_task",
        {"folder": Q3, "title": "Bench task", "assignees": ["Diego Alvarez"], "due_date": "2030-01-04"},
    ),
    ("update_task", {"task": "Bench task", "status": "In Progress"}),
    ("add_comment", {"task": TASK, "text": "Benchmark comment"}),
    ("log_time", {"task": TASK, "hours": 1.5}),
    ("delete_task", {"task": "Bench task"}),
]

# ---- the tools TYPICAL_CALLS lacks, for bench_round_trips.py (every tool, all toolsets on) ----------------

# `call(tool, arguments)` runs a tool and returns its structured result; a Prepare makes what a call needs (a
# comment to delete, say) with untimed calls, so a write can be run more than once.
CallTool = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
Prepare = Callable[[CallTool], Awaitable[dict[str, Any]]]

BUG_ANSWERS = {
    "summary": "Bench: login fails",
    "Severity": "blocker",
    "Platforms": "iOS",
    "Customer impact": "Bench",
    "Incident owner": ["me"],
}


async def new_comment(call: CallTool) -> dict[str, Any]:
    return {"comment": (await call("add_comment", {"task": TASK, "text": "Bench comment"}))["id"]}


async def text_change(call: CallTool) -> dict[str, Any]:
    return {**await new_comment(call), "text": "Bench comment, edited"}


async def new_timelog(call: CallTool) -> dict[str, Any]:
    return {"timelog": (await call("log_time", {"task": TASK, "hours": 0.5}))["id"]}


async def changed_timelog(call: CallTool) -> dict[str, Any]:
    return {**await new_timelog(call), "hours": 0.75}


async def launched_job(call: CallTool) -> dict[str, Any]:
    launched = await call(
        "launch_blueprint", {"blueprint": "Bug report", "parent": "Engineering", "title": "Bj"}
    )
    return {"job": launched["job"]}


async def linked_tasks(call: CallTool) -> dict[str, Any]:
    first = await call("create_task", {"folder": Q3, "title": "Bench before", "due_date": "2030-01-04"})
    then = await call("create_task", {"folder": Q3, "title": "Bench after", "due_date": "2030-01-11"})
    return {"predecessor": first["id"], "successor": then["id"]}


async def dependency_to_remove(call: CallTool) -> dict[str, Any]:
    pair = await linked_tasks(call)
    await call("add_dependency", pair)
    return pair


async def task_to_delete(call: CallTool) -> dict[str, Any]:
    return {"task": (await call("create_task", {"folder": Q3, "title": "Bench doomed"}))["id"]}


MORE_CALLS: list[tuple[str, dict[str, Any] | Prepare]] = [
    ("enable_toolsets", {"toolsets": ["bulk"]}),
    ("update_folder", {"folder": "Marketing/Planning", "description": "Bench description"}),
    ("whats_changed", {"place": Q3}),
    ("my_work", {}),
    ("update_comment", text_change),
    ("delete_comment", new_comment),
    ("list_approvals", {"pending_approver": "me"}),
    ("update_timelog", changed_timelog),
    ("delete_timelog", new_timelog),
    ("list_blueprints", {}),
    ("launch_blueprint", {"blueprint": "Bug report", "parent": "Engineering", "title": "Bench bug"}),
    ("check_blueprint_launch", launched_job),
    ("list_attachments", {"task": TASK}),
    ("read_attachment", {"attachment": "IEAAB2CDIYAAAAAB"}),
    ("add_attachment", {"task": TASK, "name": "bench.md", "text": "# Bench"}),
    ("add_dependency", linked_tasks),
    ("remove_dependency", dependency_to_remove),
    ("bulk_update_tasks", {"where": {"folder": "Spring Campaign"}, "importance": "High"}),  # the preview
    ("list_item_types", {}),
    ("create_from_item_type", {"item_type": "bug", "parent": "Engineering/Platform", "title": "Bench crash"}),
    ("list_request_forms", {}),
    ("get_request_form", {"form": "Bug report"}),
    ("prefill_request_form", {"form": "Bug report", "answers": BUG_ANSWERS}),
    ("submit_request_form", {"form": "Bug report", "answers": BUG_ANSWERS}),
]
