"""A typical call of every tool, on the sandbox's seed data (used by bench_server.py)."""

from __future__ import annotations

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
