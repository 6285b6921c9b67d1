"""Every tool that takes a task, folder, project or space takes a 2025-style short id and its permalink.

The tools are enumerated from the server itself: a new tool with a reference parameter is covered by the
parameter's name, and a new parameter name nobody classified fails `test_every_parameter_is_classified`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call, requests_log

SHORT = re.compile(r"^[A-Za-z0-9_-]{12}$")

# Parameter name -> which seeded entity (all with short ids) it refers to.
REFERENCE_PARAMS = {
    "task": "task",
    "tasks": "task",  # a list of references (bulk_update_tasks)
    "parent_task": "task",
    "folder": "folder",
    "parent": "folder",
    "add_parents": "folder",
    "remove_parents": "project",  # the short task below lives in this project
    "project": "project",
    "within": "space",
    "space": "space",
    "place": "folder",
    "move_to": "folder",
}
# Parameters that take no task, folder, project or space (people keep classic contact ids).
OTHER_PARAMS = {
    "add_assignees", "add_followers", "add_owners", "app", "assignee", "assignees", "author",
    "clear_dates", "clear_end_date", "clear_start_date", "comment", "cursor", "custom_fields", "date",
    "depth", "description", "due_after", "due_before", "due_date", "end_date", "end_from", "end_to",
    "hours", "importance", "include_archived", "include_comments", "include_deactivated",
    "include_groups", "include_hidden", "include_subtasks", "layout", "limit", "operations", "order",
    "overdue", "owner", "owners", "person", "projects_only", "query", "remove_assignees",
    "remove_owners", "restore", "since", "sort", "start_date", "start_from", "start_to", "status",
    "text", "title", "tracked_after", "tracked_before", "type", "until", "updated_after",
    "updated_before", "updated_since", "user", "users", "object_type", "object_ids",
    "with_links", "attachment", "name", "base64", "pending_approver", "relation", "lag_days",
    "kind", "blueprint", "reschedule_date", "reschedule_mode", "job", "category",
    "where", "shift_days", "dry_run", "preview_token", "detail", "unassigned", "task_counts", "comments_cursor",
    "toolsets", "days", "items_per_section", "group_by", "timelog", "item_type", "form", "answers",
}  # fmt: skip
# Tasks, but only as a pair two Planned tasks can be linked by (the short-id task above is a Backlog task):
# their short ids and permalinks are proven in test_dependencies.py.
TASK_PAIR_PARAMS = {"predecessor", "successor"}
# What else a tool needs to make the call meaningful.
EXTRA_ARGUMENTS: dict[str, dict[str, Any]] = {
    "add_comment": {"text": "noted"},
    "log_time": {"hours": 1, "comment": "work"},
    "create_folder": {"title": "New folder"},
    "create_project": {"title": "New project"},
    "create_task": {"title": "New task"},
    "update_task": {"importance": "Low"},
    "update_project": {"description": "changed"},
    "update_folder": {"description": "changed"},
    "add_attachment": {"name": "notes.md", "text": "noted"},
    "launch_blueprint": {"blueprint": "Bug report", "title": "Launched"},
    "bulk_update_tasks": {"importance": "Low"},
    "time_report": {"since": "2020-01-01", "until": "2030-12-31"},
    "create_from_item_type": {"item_type": "Purchase request", "title": "Bought"},
}
LIST_PARAMS = {"tasks"}


def _short_entities(state: Any) -> dict[str, Any]:
    def folder(title: str) -> Any:
        return next(f for f in state.folders.values() if f.title == title and not f.deleted)

    project = folder("Office Move")
    task = next(t for t in state.tasks.values() if project.id in t.parent_ids and not t.deleted)
    found = {"task": task, "folder": folder("Hiring"), "project": project, "space": folder("Operations")}
    assert all(SHORT.match(entity.id) for entity in found.values()), found
    return found


def _arguments(tool: str, param: str, ref: str, entity_ids: dict[str, str]) -> dict[str, Any]:
    arguments = dict(EXTRA_ARGUMENTS.get(tool, {}))
    if param in ("add_parents", "remove_parents"):
        if tool == "bulk_update_tasks":  # one kind of change per call: the parents are the change
            arguments = {"tasks": [entity_ids["task"]]}
        else:
            arguments["task"] = entity_ids["task"]
        if param == "remove_parents":
            arguments["add_parents"] = ["Marketing/Campaigns"]  # a move, so the task keeps a folder
        arguments[param] = [ref]
    elif param == "move_to":  # the project (a sibling, by id: ids outlive resets) moves into the folder
        arguments |= {"folder": entity_ids["project"], param: ref}
    else:
        arguments[param] = [ref] if param in LIST_PARAMS else ref
    return arguments


async def _reference_calls(client: Client) -> list[tuple[str, str]]:
    tools = (await client.list_tools()).tools
    calls = [
        (tool.name, param)
        for tool in tools
        for param in (tool.input_schema.get("properties") or {})
        if param in REFERENCE_PARAMS
    ]
    assert len(calls) >= 15, calls  # every reference parameter of today's tools, and any new one
    return calls


async def test_every_parameter_is_classified(mcp: Client) -> None:
    for tool in (await mcp.list_tools()).tools:
        for param in tool.input_schema.get("properties") or {}:
            assert param in REFERENCE_PARAMS or param in OTHER_PARAMS or param in TASK_PAIR_PARAMS, (
                f"{tool.name}.{param}: does it take a task, folder, project or space? classify it here"
            )


async def test_short_ids_and_their_permalinks_work_in_every_tool(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    for tool, param in await _reference_calls(mcp):
        for form in ("id", "permalink"):
            sandbox_state.reset()  # each call starts from the seed (delete_task, update_task change it)
            entities = _short_entities(sandbox_state)
            entity = entities[REFERENCE_PARAMS[param]]
            ref = entity.id if form == "id" else entity.permalink
            arguments = _arguments(tool, param, ref, {k: v.id for k, v in entities.items()})
            result = await call(mcp, tool, **arguments)
            if "preview_token" in result:  # bulk_update_tasks previews first: apply, so the reference is sent
                token = result["preview_token"]
                result = await call(mcp, tool, **arguments, dry_run=False, preview_token=token)
            # The reference reached Wrike as the entity's id (a permalink is converted through /ids first).
            sent = json.dumps(await requests_log(sandbox_http)) + json.dumps(result)
            assert entity.id in sent, f"{tool}({param}={ref!r}) never used {entity.id}"


@pytest.mark.parametrize("uri", ["wrike://task/{task}", "wrike://folder/{folder}", "wrike://folder/{space}"])
async def test_resources_read_short_ids(mcp: Client, sandbox_state: Any, uri: str) -> None:
    entities = {kind: entity.id for kind, entity in _short_entities(sandbox_state).items()}
    kind = uri.rpartition("{")[2].rstrip("}")
    result = await mcp.read_resource(uri.format(**entities))
    text = " ".join(getattr(block, "text", "") for block in result.contents)
    assert entities[kind] in text


# A new-format id as Wrike has issued them since mid-2025: up to 256 characters of letters, digits and -_:.=
LONG_ID = ("w:task.Z9-_" * 24)[:255] + "="


async def test_every_reference_parameter_takes_a_long_new_format_id(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """No reference parameter refuses the longest id Wrike may issue: it reaches Wrike (or the resolver's
    lookup) and comes back as not found, never as a malformed argument."""
    assert len(LONG_ID) == 256
    calls = await _reference_calls(mcp)
    calls += [(tool, param) for tool in ("add_dependency", "remove_dependency") for param in TASK_PAIR_PARAMS]
    for tool, param in calls:
        sandbox_state.reset()
        entities = {k: v.id for k, v in _short_entities(sandbox_state).items()}
        if param in TASK_PAIR_PARAMS:
            other = "successor" if param == "predecessor" else "predecessor"
            arguments: dict[str, Any] = {param: LONG_ID, other: entities["task"]}
        else:
            arguments = _arguments(tool, param, LONG_ID, entities)
        result = await mcp.call_tool(tool, arguments)
        text = " ".join(getattr(block, "text", "") for block in result.content)
        if not result.is_error and "preview_token" in (result.structured_content or {}):
            continue  # bulk_update_tasks: an unknown task in the list is reported per task when applied
        assert result.is_error, f"{tool}({param}=long id) succeeded: {text[:200]}"
        assert "invalid argument" not in text and "malformed" not in text.lower(), (
            f"{tool}.{param}: {text[:300]}"
        )
        assert any(
            word in text.lower() for word in ("not found", "no task", "no folder", "found no", "cannot find")
        ), f"{tool}.{param}: {text[:300]}"
