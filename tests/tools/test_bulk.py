"""bulk_update_tasks against the sandbox, in both protocol eras: a preview writes nothing, applying needs its
token and sends the fewest PUTs Wrike allows, and anything that changed since the preview (the tasks, the
selection, the change, the token itself) is refused before any write."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import answering, api_calls, call, call_error, refused_up_front, requests_log
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools import bulk

HEADERS = {"Authorization": "Bearer wrike-sandbox-token"}
WRITES = {"PUT", "POST", "DELETE"}


def folder_tasks(sandbox_state: Any, title: str) -> list[Any]:
    folder = next(f for f in sandbox_state.folders.values() if f.title == title and not f.deleted)
    return [t for t in sandbox_state.tasks.values() if folder.id in t.parent_ids and not t.deleted]


def contact(sandbox_state: Any, name: str) -> Any:
    return next(c for c in sandbox_state.contacts.values() if c.name == name)


async def writes(sandbox_http: httpx.AsyncClient, since: int = 0) -> list[dict[str, Any]]:
    return [
        entry
        for entry in (await requests_log(sandbox_http))[since:]
        if entry["method"] in WRITES and "/api/v4" in str(entry["path"])
    ]


async def log_size(sandbox_http: httpx.AsyncClient) -> int:
    return len(await requests_log(sandbox_http))


def put_ids(entry: dict[str, Any]) -> set[str]:
    return set(str(entry["path"]).removeprefix("/api/v4/tasks/").split(","))


# ---- preview, then apply --------------------------------------------------------------------------------


async def test_preview_writes_nothing_and_apply_sends_one_bulk_put(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    tasks = folder_tasks(sandbox_state, "Spring Campaign")
    hana = contact(sandbox_state, "Hana Sato")
    arguments = {"where": {"folder": "Spring Campaign"}, "add_assignees": ["Hana Sato"]}
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    assert not await writes(sandbox_http)
    assert preview["applied"] is False and preview["count"] == len(tasks)
    assert {row["id"] for row in preview["items"]} == {t.id for t in tasks}
    assert all("Hana Sato" in row["after"] for row in preview["items"])
    changing = {t.id for t in tasks if hana.id not in t.responsible_ids}
    assert changing and preview["note"] == f"{len(changing)} of {len(tasks)} tasks would change"
    assert all(hana.id not in t.responsible_ids for t in tasks if t.id in changing)

    before = await log_size(sandbox_http)
    applied = await call(
        mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
    )
    sent = await writes(sandbox_http, before)
    assert [entry["method"] for entry in sent] == ["PUT"]
    assert put_ids(sent[0]) == changing
    assert applied["applied"] is True and applied["updated"] == len(changing)
    assert {row["id"]: row["outcome"] for row in applied["items"]} == {
        t.id: "updated" if t.id in changing else "unchanged" for t in tasks
    }
    assert all(hana.id in t.responsible_ids for t in tasks)


async def test_importance_goes_task_by_task(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """Wrike's bulk PUT refuses importance: one PUT per task that changes, none for one already High."""
    tasks = folder_tasks(sandbox_state, "Backend")
    low = [t for t in tasks if t.importance != "High"][:3]
    high = next(t for t in tasks if t.importance == "High")
    arguments = {"tasks": [t.id for t in [*low, high]], "importance": "High"}
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    before = await log_size(sandbox_http)
    applied = await call(
        mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
    )
    sent = await writes(sandbox_http, before)
    assert sorted(str(entry["path"]) for entry in sent) == sorted(f"/api/v4/tasks/{t.id}" for t in low)
    assert [row["outcome"] for row in applied["items"]] == ["updated"] * 3 + ["unchanged"]
    assert all(t.importance == "High" for t in low)


async def test_a_status_group_puts_once_per_resulting_custom_status(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """Completed means a different custom status in each workflow: one bulk PUT per custom status."""
    mixed = [
        *[t for t in folder_tasks(sandbox_state, "Backend") if t.status == "Active"][:3],
        *[t for t in folder_tasks(sandbox_state, "Spring Campaign") if t.status == "Active"][:3],
    ]
    workflows = {sandbox_state.task_workflow(t).id for t in mixed}
    assert len(workflows) == 2
    arguments = {"tasks": [t.id for t in mixed], "status": "Completed"}
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    before = await log_size(sandbox_http)
    applied = await call(
        mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
    )
    sent = await writes(sandbox_http, before)
    assert len(sent) == 2
    assert set().union(*(put_ids(entry) for entry in sent)) == {t.id for t in mixed}
    assert applied["updated"] == len(mixed) >= 4
    assert all(t.status == "Completed" for t in mixed)
    assert len({t.custom_status_id for t in mixed}) == 2


async def test_shift_days_moves_both_dates(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    dated = [t for t in folder_tasks(sandbox_state, "Frontend") if t.dates.type == "Planned"][:2]
    old = {t.id: (t.dates.start.date(), t.dates.due.date()) for t in dated}
    arguments = {"tasks": [t.id for t in dated], "shift_days": 7}
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    assert [row["after"] for row in preview["items"]] == [
        f"{start + timedelta(days=7)}..{due + timedelta(days=7)}" for start, due in old.values()
    ]
    before = await log_size(sandbox_http)
    await call(mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"])
    assert len(await writes(sandbox_http, before)) == 2  # Wrike's bulk PUT refuses dates: one PUT per task
    for task in dated:
        start, due = old[task.id]
        assert (task.dates.start.date(), task.dates.due.date()) == (
            start + timedelta(days=7),
            due + timedelta(days=7),
        )


# ---- refused before any write ---------------------------------------------------------------------------


async def test_a_task_changed_since_the_preview_is_refused(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    tasks = folder_tasks(sandbox_state, "Spring Campaign")[:4]
    arguments = {"tasks": [t.id for t in tasks], "importance": "Low"}
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    response = await sandbox_http.put(
        f"/api/v4/tasks/{tasks[2].id}", headers=HEADERS, data={"title": "Renamed"}
    )
    response.raise_for_status()
    before = await log_size(sandbox_http)
    message = await call_error(
        mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
    )
    assert message.endswith(
        "tasks changed since the preview: preview again (dry_run=true) and apply with the new preview_token"
    )
    assert not await writes(sandbox_http, before)


@pytest.mark.parametrize("tamper", ["mac", "payload", "garbage"])
async def test_a_forged_token_is_refused(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient, tamper: str
) -> None:
    tasks = folder_tasks(sandbox_state, "Spring Campaign")[:2]
    arguments = {"tasks": [t.id for t in tasks], "importance": "Low"}
    token = (await call(mcp, "bulk_update_tasks", **arguments))["preview_token"]
    body, mac = token.split(".")
    if tamper == "mac":
        forged = f"{body}.{mac[:-2]}{'A' if mac[-2] != 'A' else 'B'}{mac[-1]}"
    elif tamper == "payload":
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        payload["e"] += 3600  # a longer life, under the old signature
        raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        forged = f"{base64.urlsafe_b64encode(raw).decode().rstrip('=')}.{mac}"
    else:
        forged = "not-a-token"
    message = await refused_up_front(
        mcp, sandbox_http, "bulk_update_tasks", **arguments, dry_run=False, preview_token=forged
    )
    assert message.endswith(
        "preview_token is not valid (not from this server, or altered): preview again with dry_run=true"
    )
    assert not await writes(sandbox_http)


async def test_a_token_of_another_server_is_refused(
    make_server: Callable[..., WrikeMCPServer], sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    arguments = {"tasks": [t.id for t in folder_tasks(sandbox_state, "Backend")[:2]], "importance": "Low"}
    async with Client(make_server()) as first:
        token = (await call(first, "bulk_update_tasks", **arguments))["preview_token"]
    async with Client(make_server()) as second:
        message = await call_error(
            second, "bulk_update_tasks", **arguments, dry_run=False, preview_token=token
        )
    assert "preview_token is not valid" in message
    assert not await writes(sandbox_http)


async def test_an_expired_token_is_refused(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments = {"tasks": [t.id for t in folder_tasks(sandbox_state, "Backend")[:2]], "importance": "Low"}
    token = (await call(mcp, "bulk_update_tasks", **arguments))["preview_token"]
    monkeypatch.setattr(bulk, "clock", lambda: time.time() + bulk.PREVIEW_TTL + 1)
    message = await refused_up_front(
        mcp, sandbox_http, "bulk_update_tasks", **arguments, dry_run=False, preview_token=token
    )
    assert message.endswith("preview_token has expired (15 minutes): preview again with dry_run=true")
    assert not await writes(sandbox_http)


async def test_a_token_of_another_change_or_selection_is_refused(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    tasks = folder_tasks(sandbox_state, "Backend")[:3]
    two = {"tasks": [t.id for t in tasks[:2]]}
    token = (await call(mcp, "bulk_update_tasks", **two, importance="Low"))["preview_token"]
    other_change = await refused_up_front(
        mcp, sandbox_http, "bulk_update_tasks", **two, importance="High", dry_run=False, preview_token=token
    )
    assert other_change.endswith(
        "preview_token is for a different change: preview this change first (dry_run=true)"
    )
    message = await call_error(
        mcp,
        "bulk_update_tasks",
        tasks=[t.id for t in tasks],
        importance="Low",
        dry_run=False,
        preview_token=token,
    )
    assert message.endswith(
        "the selected tasks changed since the preview: preview again (dry_run=true) and apply with the new preview_token (now 3, preview 2)"
    )
    assert not await writes(sandbox_http)


async def test_more_than_100_tasks_are_refused(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    message = await call_error(mcp, "bulk_update_tasks", where={"include_subtasks": True}, importance="Low")
    total = int(message.split("the filters select ")[1].split(" tasks")[0])
    assert total > 300
    assert message.endswith(
        f"the filters select {total} tasks; a bulk update takes at most 100: narrow the filters (folder, status, "
        "assignee, dates) and nothing was changed"
    )
    assert [path for _, path in await api_calls(sandbox_http)] == [
        "/api/v4/tasks"
    ]  # one page of 101, no write
    too_many = await refused_up_front(
        mcp,
        sandbox_http,
        "bulk_update_tasks",
        tasks=[f"IEAAB2CDKQAAA{i:03d}" for i in range(101)],
        importance="Low",
    )
    assert "tasks" in too_many and "100" in too_many


async def test_an_empty_selection_changes_nothing(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    result = await call(mcp, "bulk_update_tasks", where={"text": "zzqx nonexistent words"}, importance="Low")
    assert result == {
        "applied": False,
        "change": "importance → Low",
        "count": 0,
        "note": "no task matches: nothing to change",
    }
    assert not await writes(sandbox_http)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"tasks": ["x"]}, "nothing to change: give one of status"),
        (
            {"tasks": ["x"], "importance": "Low", "status": "Completed"},
            "one kind of change per call, got status, importance",
        ),
        ({"importance": "Low"}, "select the tasks: give tasks (references) or where"),
        ({"tasks": ["x"], "where": {"folder": "Backend"}, "importance": "Low"}, "select the tasks"),
        ({"tasks": ["x"], "shift_days": 0}, "shift_days must be a non-zero number"),
        (
            {"tasks": ["x"], "shift_days": 2, "due_date": "2026-05-01"},
            "give shift_days or start_date/due_date",
        ),
        (
            {"tasks": ["x"], "start_date": "2026-05-02", "due_date": "2026-05-01"},
            "due_date is before start_date",
        ),
        (
            {"tasks": ["x"], "add_assignees": ["me"], "remove_assignees": ["me"]},
            "the same reference is both added",
        ),
        ({"tasks": ["x"], "importance": "Low", "dry_run": False}, "applying needs preview_token"),
        ({"tasks": ["x"], "importance": "Low", "preview_token": "a.b"}, "preview_token is for applying"),
        (
            {"where": {"folder": "Backend", "space": "Engineering"}, "importance": "Low"},
            "give either folder or space",
        ),
        ({"where": {"color": "red"}, "importance": "Low"}, "where.color"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient, arguments: dict[str, Any], message: str
) -> None:
    assert message in await refused_up_front(mcp, sandbox_http, "bulk_update_tasks", **arguments)


# ---- confirmation above 20 tasks ------------------------------------------------------------------------


Q3_ARGUMENTS = {"where": {"folder": "Q3 Launch"}, "add_assignees": ["Hana Sato"]}  # 26 tasks with subfolders


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize("action", ["accept", "decline"])
async def test_applying_to_more_than_20_tasks_asks_first(
    mode: str, action: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    hana = contact(sandbox_state, "Hana Sato")
    asked, callback = answering(action)
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        preview = await call(client, "bulk_update_tasks", **Q3_ARGUMENTS)
        assert preview["count"] > 20 and not asked  # a preview asks nothing
        result = await call(
            client, "bulk_update_tasks", **Q3_ARGUMENTS, dry_run=False, preview_token=preview["preview_token"]
        )
    assert asked == [f"Apply “add assignees 'Hana Sato'” to {preview['count']} Wrike tasks?"]
    selected = [sandbox_state.tasks[row["id"]] for row in preview["items"]]
    if action == "accept":
        assert result["applied"] is True and len(await writes(sandbox_http)) == 1
        assert all(hana.id in t.responsible_ids for t in selected)
    else:
        assert result == {
            "applied": False, "change": "add assignees 'Hana Sato'", "count": 0,
            "note": "nothing changed: the user did not confirm",
        }  # fmt: skip
        assert not await writes(sandbox_http)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_without_elicitation_the_token_is_the_confirmation(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    async with Client(server, mode=mode) as client:
        preview = await call(client, "bulk_update_tasks", **Q3_ARGUMENTS)
        result = await call(
            client, "bulk_update_tasks", **Q3_ARGUMENTS, dry_run=False, preview_token=preview["preview_token"]
        )
    assert result["applied"] is True and result["updated"] >= 20
    assert len(await writes(sandbox_http)) == 1


async def test_twenty_tasks_or_fewer_ask_nothing(server: WrikeMCPServer, sandbox_state: Any) -> None:
    asked, callback = answering("decline")
    arguments = {"where": {"folder": "Spring Campaign"}, "importance": "Low"}
    async with Client(server, elicitation_callback=callback) as client:
        preview = await call(client, "bulk_update_tasks", **arguments)
        result = await call(
            client, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"]
        )
    assert not asked and result["applied"] is True


async def test_requests_per_call_on_a_warm_server(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """References of any id shape (and a title) are read in one multi-id GET; a uniform change is one PUT."""
    others = [
        t for t in sandbox_state.tasks.values() if not t.deleted and t.title != "Draft launch announcement"
    ]
    tasks = others[:60]
    assert {len(t.id) for t in tasks} == {12, 16}  # both id shapes: neither costs an existence check
    refs = [*(t.id for t in tasks), "Draft launch announcement"]
    arguments = {"tasks": refs, "add_assignees": ["Hana Sato"]}
    await call(mcp, "bulk_update_tasks", **arguments)  # warms the contacts and the title
    before = len(await api_calls(sandbox_http))
    preview = await call(mcp, "bulk_update_tasks", **arguments)
    assert preview["count"] == 61
    assert len(await api_calls(sandbox_http)) - before == 1
    before = len(await api_calls(sandbox_http))
    await call(mcp, "bulk_update_tasks", **arguments, dry_run=False, preview_token=preview["preview_token"])
    assert [method for method, _ in (await api_calls(sandbox_http))[before:]] == ["GET", "PUT"]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_failed_put_stops_no_other_and_each_task_has_its_outcome(
    mode: str, server: WrikeMCPServer, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    first, refused_one, lost = [t for t in folder_tasks(sandbox_state, "Backend") if t.importance != "High"][
        :3
    ]
    arguments = {"tasks": [first.id, refused_one.id, lost.id], "importance": "High"}
    seen: list[tuple[float, float | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with Client(server, mode=mode) as client:
        preview = await call(client, "bulk_update_tasks", **arguments)
        for fault in (
            {"method": "PUT", "path": f"/api/v4/tasks/{refused_one.id}", "status": 403},
            {"method": "PUT", "path": f"/api/v4/tasks/{lost.id}", "status": 500, "apply": True},
        ):
            (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
        before = await log_size(sandbox_http)
        result = await client.call_tool(
            "bulk_update_tasks",
            {**arguments, "dry_run": False, "preview_token": preview["preview_token"]},
            progress_callback=on_progress,
        )
    applied = result.structured_content
    assert not result.is_error and applied is not None
    outcomes = {row["id"]: (row["outcome"], row.get("error", "")) for row in applied["items"]}
    assert outcomes[first.id] == ("updated", "")
    assert outcomes[refused_one.id][0] == "failed" and "403" in outcomes[refused_one.id][1]
    assert outcomes[lost.id][0] == "unknown" and outcomes[lost.id][1].startswith("outcome unknown: PUT")
    assert (applied["updated"], applied["failed"], applied["unknown"]) == (1, 1, 1)
    sent = await writes(sandbox_http, before)
    assert [str(entry["path"]) for entry in sent] == [
        f"/api/v4/tasks/{t.id}" for t in (first, refused_one, lost)
    ]
    assert (first.importance, lost.importance) == ("High", "High") and refused_one.importance != "High"
    assert seen == [(1, 3), (2, 3), (3, 3)]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_forged_token_is_refused_before_asking(
    mode: str, server: WrikeMCPServer, sandbox_http: httpx.AsyncClient
) -> None:
    asked, callback = answering("accept")
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        message = await call_error(
            client, "bulk_update_tasks", **Q3_ARGUMENTS, dry_run=False, preview_token="e30.AAAA"
        )
    assert message.endswith(
        "preview_token is not valid (not from this server, or altered): preview again with dry_run=true"
    )
    assert not asked and not await api_calls(sandbox_http)
