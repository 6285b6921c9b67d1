"""GET /audit_log as Wrike's 2026 description (ver154) has it: 157 operations, the objectType, objectIds and
users filters with their documented dependencies and limits, and the events the sandbox logs on writes."""

from __future__ import annotations

import ast
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.wrike.audit_log import AUDIT_OBJECT_TYPES, AUDIT_OPERATIONS

SANDBOX_SOURCES = Path(__file__).parents[2] / "src" / "wrike_mcp" / "sandbox"
REFERENCE_2020 = Path(__file__).parents[1] / "data" / "wrike-api-v4-reference-2020.json"


def since(state: SandboxState, days: int = 365) -> str:
    """An eventDate range covering the last `days` days, in Wrike's format."""
    start = state.now() - timedelta(days=days)
    return json.dumps({"start": start.strftime("%Y-%m-%dT%H:%M:%SZ")})


async def audit(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Matching events (one page of up to 1000); fails on anything but 200."""
    query = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
    response = await api.get("/audit_log", params=query)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def refused(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    query = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
    response = await api.get("/audit_log", params=query)
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == "invalid_parameter"
    return body


# ---- the operation list ---------------------------------------------------------------------------------


def test_the_list_is_wrikes_2026_list() -> None:
    assert len(AUDIT_OPERATIONS) == len(set(AUDIT_OPERATIONS)) == 157
    assert {"TaskCreated", "TaskRestored", "AttachDownloaded", "TimesheetCreated"} <= set(AUDIT_OPERATIONS)
    assert len(AUDIT_OBJECT_TYPES) == len(set(AUDIT_OBJECT_TYPES)) == 27
    assert {"Task", "Comment", "Oauth2Client", "Whiteboard", "WorkspaceSnapshot"} <= set(AUDIT_OBJECT_TYPES)


def test_the_list_keeps_every_2020_operation_and_object_type() -> None:
    models = {
        mid: body for entry in json.loads(REFERENCE_2020.read_text())["models"] for mid, body in entry.items()
    }
    audit_model = next(body for body in models.values() if body.get("name") == "Audit Log")
    enums = {
        param["name"]: {value.strip() for value in param["comment"].split("Enum:")[1].split(",")}
        for param in audit_model["params"]
        if "Enum:" in (param.get("comment") or "")
    }
    assert len(enums["operation"]) == 116 and enums["operation"] <= set(AUDIT_OPERATIONS)
    assert enums["objectType"] <= set(AUDIT_OBJECT_TYPES)


async def test_every_2026_operation_is_accepted(api: httpx.AsyncClient) -> None:
    everything = await audit(api)
    assert len(await audit(api, operations=list(AUDIT_OPERATIONS))) == len(everything)
    for name in ("TaskRestored", "AttachDownloaded", "TimesheetCreated", "WhiteboardRemoved"):
        assert await audit(api, operations=[name]) == []  # accepted, nothing of that kind in the seed


async def test_an_unknown_operation_matches_nothing(api: httpx.AsyncClient) -> None:
    # ver154 is silent on unknown names: the sandbox takes them as a filter matching nothing (assumption).
    assert await audit(api, operations=["TaskTeleported"]) == []
    mixed = await audit(api, operations=["TaskTeleported", "UserFailLogin"])
    assert len(mixed) == 4 and {event["operation"] for event in mixed} == {"UserFailLogin"}
    assert (await refused(api, operations='{"not": "a list"}'))["errorDescription"]


def test_the_sandbox_logs_only_documented_names(state: SandboxState) -> None:
    assert {event.operation for event in state.audit} <= set(AUDIT_OPERATIONS)
    assert {event.object_type for event in state.audit} <= set(AUDIT_OBJECT_TYPES)
    ann = state.contacts[contact_id(state, "Ann Lee")]
    with pytest.raises(ValueError, match="TaskTeleported"):
        state.record_audit("TaskTeleported", ann, "Task", "x", "IEAAAAAAAAAAAAAA")
    with pytest.raises(ValueError, match="Widget"):
        state.record_audit("TaskCreated", ann, "Widget", "x", "IEAAAAAAAAAAAAAA")


# ---- objectType, objectIds, users ------------------------------------------------------------------------


async def test_object_type_filters_and_needs_event_date_and_operations(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    operations = ["UserLoggedIn", "Oauth2AccessGranted", "TaskStatusChanged"]
    mixed = await audit(api, operations=operations, eventDate=since(state))
    assert {event["objectType"] for event in mixed} == {"User", "Oauth2Client", "Task"}
    only_tasks = await audit(api, operations=operations, eventDate=since(state), objectType="Task")
    assert only_tasks and {event["objectType"] for event in only_tasks} == {"Task"}
    assert len(only_tasks) == len([e for e in mixed if e["objectType"] == "Task"])
    for params in ({"objectType": "Task"}, {"objectType": "Task", "operations": operations}):
        body = await refused(api, **params)
        assert "objectType" in body["errorDescription"]
    assert "objectType" in (await refused(api, objectType="Task", eventDate=since(state)))["errorDescription"]
    assert (
        "objectType"
        in (await refused(api, objectType="Widget", operations=operations, eventDate=since(state)))[
            "errorDescription"
        ]
    )


async def test_object_ids_filter_needs_object_type_and_takes_ten(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    changed = await audit(api, operations=["TaskStatusChanged"], eventDate=since(state), objectType="Task")
    wanted = [event["objectId"] for event in changed[:2]]
    picked = await audit(
        api, operations=["TaskStatusChanged"], eventDate=since(state), objectType="Task", objectIds=wanted
    )
    assert sorted(event["objectId"] for event in picked) == sorted(wanted)
    assert "objectIds" in (await refused(api, objectIds=wanted))["errorDescription"]
    eleven = [f"IEAAAAAAKQAAAA{n:02d}" for n in range(11)]
    body = await refused(
        api, operations=["TaskStatusChanged"], eventDate=since(state), objectType="Task", objectIds=eleven
    )
    assert "objectIds" in body["errorDescription"]


async def test_users_filter(api: httpx.AsyncClient, state: SandboxState) -> None:
    diego, ben = contact_id(state, "Diego Alvarez"), contact_id(state, "Ben Carter")
    everything = await audit(api)
    picked = await audit(api, users=[diego, ben])
    assert picked and {event["userId"] for event in picked} == {diego, ben}
    assert len(picked) == len([e for e in everything if e["userId"] in (diego, ben)])
    assert "users" in (await refused(api, users=[diego] * 11))["errorDescription"]


async def test_next_page_token_keeps_the_new_filters(api: httpx.AsyncClient, state: SandboxState) -> None:
    ann = contact_id(state, "Ann Lee")
    expected = {e["id"] for e in await audit(api, users=[ann])}
    assert len(expected) > 3
    seen: list[str] = []
    query = {"users": json.dumps([ann]), "pageSize": "3"}
    while True:
        body = (await api.get("/audit_log", params=query)).json()
        seen.extend(event["id"] for event in body["data"])
        if "nextPageToken" not in body:
            break
        query = {"nextPageToken": body["nextPageToken"]}  # overrides any other parameters
    assert len(seen) == len(set(seen)) and set(seen) == expected


# ---- events logged on writes -----------------------------------------------------------------------------


async def latest(api: httpx.AsyncClient, operation: str) -> dict[str, Any]:
    events = await audit(api, operations=[operation])
    assert events, f"no {operation} event"
    return events[0]  # newest first


async def test_task_writes_are_logged_with_2026_names(api: httpx.AsyncClient, state: SandboxState) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    created = (await api.post(f"/folders/{q3}/tasks", json={"title": "Audit me"})).json()["data"][0]
    event = await latest(api, "TaskCreated")
    assert (event["objectType"], event["objectId"], event["objectName"]) == (
        "Task",
        created["id"],
        "Audit me",
    )
    assert event["userId"] == contact_id(state, "Ann Lee")

    await api.put(f"/tasks/{created['id']}", json={"status": "Completed"})
    event = await latest(api, "TaskStatusChanged")
    assert (event["objectId"], event["details"]) == (created["id"], {"status": "Completed"})

    assert (await api.delete(f"/tasks/{created['id']}")).status_code == 200
    assert (await latest(api, "TaskDeleted"))["objectId"] == created["id"]
    assert (await api.put(f"/tasks/{created['id']}", json={"restore": True})).status_code == 200
    event = await latest(api, "TaskRestored")
    assert (event["objectType"], event["objectId"]) == ("Task", created["id"])

    mine = await audit(
        api,
        operations=["TaskCreated", "TaskStatusChanged", "TaskDeleted", "TaskRestored"],
        eventDate=since(state, days=1),
        objectType="Task",
        objectIds=[created["id"]],
    )
    assert [e["operation"] for e in mine][::-1] == [
        "TaskCreated",
        "TaskStatusChanged",
        "TaskDeleted",
        "TaskRestored",
    ]


async def test_an_update_without_a_status_change_logs_no_status_event(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    task = task_id(state, "Draft launch announcement")
    before = len(await audit(api, operations=["TaskStatusChanged"]))
    await api.put(f"/tasks/{task}", json={"title": "Draft launch announcement v2"})
    assert len(await audit(api, operations=["TaskStatusChanged"])) == before


async def test_task_comments_are_logged(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    comment = (await api.post(f"/tasks/{task}/comments", json={"text": "first"})).json()["data"][0]
    event = await latest(api, "TaskCommentChanged")
    assert (event["objectType"], event["objectId"], event["details"]) == (
        "Comment",
        comment["id"],
        {"taskId": task},
    )
    await api.put(f"/comments/{comment['id']}", json={"text": "edited"})
    assert len(await audit(api, operations=["TaskCommentChanged"], users=[contact_id(state, "Ann Lee")])) >= 2
    assert (await api.delete(f"/comments/{comment['id']}")).status_code == 200
    event = await latest(api, "TaskCommentDeleted")
    assert (event["objectType"], event["objectId"]) == ("Comment", comment["id"])


# ---- the one list, shared without coupling the emulator to the client ------------------------------------


def test_the_sandbox_imports_only_itself_and_the_audit_vocabulary() -> None:
    allowed = ("wrike_mcp.sandbox", "wrike_mcp.wrike.audit_log")
    for source in SANDBOX_SOURCES.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wrike_mcp"):
                assert node.module.startswith(allowed), f"{source.name} imports {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith("wrike_mcp") or alias.name.startswith(allowed), (
                        source.name
                    )


async def test_the_control_plane_caps_the_page_size(
    api: httpx.AsyncClient, raw: httpx.AsyncClient, state: SandboxState
) -> None:
    """The 2026 description gives pageSize no range: the sandbox takes up to 1000, or what the control
    plane allows, refusing more with 400 invalid_parameter; a reset restores 1000."""
    assert (await api.get("/audit_log", params={"pageSize": 1000})).status_code == 200
    assert (await raw.post("/_sandbox/audit_log", json={"max_page_size": 100})).json() == {
        "max_page_size": 100
    }
    refused = await api.get("/audit_log", params={"pageSize": 101})
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_parameter")
    assert "pageSize" in refused.json()["errorDescription"]
    assert len((await api.get("/audit_log", params={"pageSize": 100})).json()["data"]) == min(
        100, len(state.audit)
    )
    for bad in ({"max_page_size": 0}, {"max_page_size": True}, {"size": 5}):
        assert (await raw.post("/_sandbox/audit_log", json=bad)).status_code == 400
    await raw.post("/_sandbox/reset")
    assert state.audit_max_page_size == 1000
