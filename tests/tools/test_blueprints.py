"""list_blueprints and launch_blueprint against the sandbox, in both protocol eras: the launch's one POST, the
job followed with progress notifications, a job still running, a failed job, references refused up front."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.sandbox.sandbox_helpers import folder_id
from tests.tools.test_request_counts import warm
from tests.tools.tool_helpers import (
    api_calls,
    call,
    call_error,
    own_task_client,
    refused_up_front,
    requests_log,
)
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools import blueprints

Q3 = "Marketing/Campaigns/Q3 Launch"


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blueprints, "POLL_DELAYS", (0.01,))


def launch_posts(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in log if e["method"] == "POST" and str(e["path"]).endswith("/launch_async")]


def blueprint_id(state: SandboxState, title: str) -> str:
    return next(b.id for b in state.blueprints.values() if b.title == title)


async def test_list_blueprints_shows_roots_with_their_size_and_space(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    listed = await call(mcp, "list_blueprints")
    by_title = {item["title"]: item for item in listed["items"]}
    # Subfolder and subtask blueprints launch with their root: only the roots are listed.
    assert set(by_title) == {"Product launch", "Campaign folder", "Bug report", "Release checklist"}
    assert by_title["Product launch"] == {
        "id": blueprint_id(sandbox_state, "Product launch"),
        "title": "Product launch",
        "kind": "folder",
        "entries": 1,  # the subfolder "Launch assets": a folder blueprint's childIds name its folders
    }
    assert by_title["Bug report"]["kind"] == "task" and by_title["Bug report"]["entries"] == 3
    assert "space" not in by_title["Bug report"]
    marketing = folder_id(sandbox_state, "Marketing")
    assert by_title["Campaign folder"]["space"] == {"id": marketing, "name": "Marketing"}
    only = await call(mcp, "list_blueprints", kind="task", space="Engineering")
    assert [(i["title"], i["entries"], i["space"]["name"]) for i in only["items"]] == [
        ("Release checklist", 2, "Engineering")
    ]


async def test_a_blueprint_launched_into_a_folder_by_path_appears_with_its_tasks_rescheduled(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    monday = state.today + timedelta(days=7 - state.today.weekday())
    await call(mcp, "list_folders")  # the tree is cached: the launched project must join it
    before = len(await requests_log(sandbox_http))
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    arguments = {
        "blueprint": "PRODUCT LAUNCH",
        "parent": Q3,
        "title": "Launch: Mobile 3.0",
        "reschedule_date": monday.isoformat(),
    }
    result = await mcp.call_tool("launch_blueprint", arguments, progress_callback=progress)
    assert not result.is_error, result.content
    launched = result.structured_content
    assert launched is not None
    log = (await requests_log(sandbox_http))[before:]
    assert len(launch_posts(log)) == 1
    assert launch_posts(log)[0]["body"] == {
        "parent": folder_id(state, Q3),
        "title": "Launch: Mobile 3.0",
        "rescheduleDate": monday.isoformat(),
        "rescheduleMode": "Start",
    }
    project = next(f for f in state.folders.values() if f.title == "Launch: Mobile 3.0")
    assert project.parent_ids == [folder_id(state, Q3)]
    assert launched["status"] == "completed"
    assert launched["created"] == {
        "id": project.id,
        "title": "Launch: Mobile 3.0",
        "kind": "project",
        "path": f"{Q3}/Launch: Mobile 3.0",
        "permalink": project.permalink,
    }
    made = [state.tasks[ident] for ident in launched["task_ids"]]
    assert launched["task_count"] == 7 == len(made)
    scope = next(t for t in made if t.title == "Define launch scope")
    assert scope.dates.start is not None and scope.dates.start.date() == monday
    assert min(t.dates.start for t in made if t.dates.start).date() == monday
    # Two polls in progress, then completed: one notification per poll, rising to 100 %.
    assert [value for value, _, _ in seen] == sorted(value for value, _, _ in seen)
    assert len(seen) == 3 and seen[-1][:2] == (100.0, 100)
    # The new project is in the cached tree: list_folders shows it without reading the tree again.
    before = len(await api_calls(sandbox_http))
    tree = await call(mcp, "list_folders", parent=Q3)
    assert project.id in str(tree)
    assert len(await api_calls(sandbox_http)) == before


async def test_a_task_blueprint_launched_under_a_task_becomes_its_subtask(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    launched = await call(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Fix crash on login", title="Crash on resume"
    )
    root = sandbox_state.tasks[launched["created"]["id"]]
    above = next(t for t in sandbox_state.tasks.values() if t.title == "Fix crash on login")
    assert root.title == "Crash on resume" and root.super_task_ids == [above.id]
    assert launched["created"]["kind"] == "task" and launched["task_count"] == 4


async def test_a_job_still_running_at_the_limit_is_handed_back_and_checked_again(
    mcp: Client, sandbox_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sandbox_http.post("/_sandbox/async_jobs", json={"polls": 4})
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 0.015)  # one poll fits, not a second
    running = await call(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering/Mobile App", title="B"
    )
    assert running["status"] == "in_progress" and "created" not in running
    assert running["check_again"].startswith(f'check_blueprint_launch job="{running["job"]}"')
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 5.0)
    done = await call(mcp, "check_blueprint_launch", job=running["job"])
    assert done["status"] == "completed" and done["job"] == running["job"]
    assert done["created"]["title"] == "B"
    assert len(launch_posts(await requests_log(sandbox_http))) == 1


async def test_a_failed_job_is_a_tool_error_saying_nothing_was_created(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    await sandbox_http.post("/_sandbox/async_jobs", json={"fail_next": "Quota exceeded"})
    tasks = len(sandbox_state.tasks)
    message = await call_error(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="C"
    )
    assert "'Quota exceeded'" in message and "nothing was created" in message
    assert len(sandbox_state.tasks) == tasks
    assert len(launch_posts(await requests_log(sandbox_http))) == 1  # never launched again


async def test_bad_references_are_refused_before_any_write(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    unknown = await call_error(mcp, "launch_blueprint", blueprint="Nope", parent=Q3, title="X")
    assert unknown.endswith("blueprint 'Nope' not found; list_blueprints lists them")
    original = sandbox_state.blueprints[blueprint_id(sandbox_state, "Bug report")]
    twin = dataclasses.replace(original, id="IEAAB2CDKRZZZZZZ", legacy_id=original.legacy_id + 9000)
    sandbox_state.blueprints[twin.id] = twin
    ambiguous = await call_error(mcp, "launch_blueprint", blueprint="bug report", parent=Q3, title="X")
    assert "blueprint 'bug report' is ambiguous (2 matches)" in ambiguous
    no_parent = await call_error(
        mcp, "launch_blueprint", blueprint=twin.id, parent="No/Such/Folder", title="X"
    )
    assert "folder, project or task 'No/Such/Folder' not found" in no_parent
    assert launch_posts(await requests_log(sandbox_http)) == []
    for arguments in (
        {"blueprint": "Bug report", "parent": Q3},
        {"blueprint": "Bug report", "parent": Q3, "title": "  "},
        {"blueprint": "Bug report", "parent": Q3, "title": "X", "reschedule_mode": "End"},
        {"blueprint": "Bug report", "parent": Q3, "title": "X", "reschedule_date": "2026-02-30"},
    ):
        await refused_up_front(mcp, sandbox_http, "launch_blueprint", **arguments)
    for job in ("../contacts", "A/B", " "):
        await refused_up_front(mcp, sandbox_http, "check_blueprint_launch", job=job)


async def test_a_launch_whose_answer_is_lost_is_never_sent_again(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    path = f"/api/v4/task_blueprints/{blueprint_id(sandbox_state, 'Bug report')}/launch_async"
    fault = {"method": "POST", "path": path, "status": 500, "apply": True, "times": 5}
    assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code == 200
    message = await call_error(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="D"
    )
    assert "outcome unknown" in message
    assert len(launch_posts(await requests_log(sandbox_http))) == 1


async def test_a_poll_that_fails_once_is_read_again(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    await sandbox_http.post("/_sandbox/async_jobs", json={"polls": 0})
    job = "IEAAB2CDNAAAAAAB"  # the first job of a fresh sandbox
    fault = {"method": "GET", "path": f"/api/v4/async_job/{job}", "status": 503, "times": 1}
    assert (await sandbox_http.post("/_sandbox/faults", json=fault)).status_code == 200
    done = await call(mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="E")
    assert done["job"] == job and done["status"] == "completed" and done["created"]["title"] == "E"
    polls = [e for e in await requests_log(sandbox_http) if str(e["path"]).endswith(f"/async_job/{job}")]
    assert [e["status"] for e in polls] == [503, 200]


async def test_a_warm_list_reads_the_account_lists_then_each_space_s(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    await warm(mcp)
    await call(mcp, "list_blueprints")
    before = len(await api_calls(sandbox_http))
    await call(mcp, "list_blueprints")
    made = [path.removeprefix("/api/v4") for _, path in (await api_calls(sandbox_http))[before:]]
    spaces = sorted(f.id for f in sandbox_state.folders.values() if f.space is not None and not f.deleted)
    per_space = [f"/spaces/{s}/{kind}" for s in spaces for kind in ("folder_blueprints", "task_blueprints")]
    assert made == ["/folder_blueprints", "/task_blueprints", *per_space]


async def test_a_job_whose_result_names_nothing_is_found_under_its_parent_by_title(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    """Wrike documents no key of a job's `result`: with the sandbox answering an empty one, each kind of
    launch finds what it made with one request under the parent, and says nothing of tasks it cannot count."""
    state = sandbox_state
    await sandbox_http.post("/_sandbox/async_jobs", json={"result_ids": False})
    # A same-titled folder already under the parent: the launch's own (the newer) is the one named.
    older = await call(mcp, "create_folder", parent=Q3, title="Launch: Tablet")
    state.folders[older["id"]].created -= timedelta(days=1)
    before = len(await requests_log(sandbox_http))
    launched = await call(
        mcp, "launch_blueprint", blueprint="Product launch", parent=Q3, title="Launch: Tablet"
    )
    log = (await requests_log(sandbox_http))[before:]
    made = [f for f in state.folders.values() if f.title == "Launch: Tablet" and f.project is not None]
    assert len(made) == 1
    assert launched["status"] == "completed" and "task_count" not in launched and "task_ids" not in launched
    assert launched["created"] == {
        "id": made[0].id,
        "title": "Launch: Tablet",
        "kind": "project",
        "path": f"{Q3}/Launch: Tablet",
        "permalink": made[0].permalink,
    }
    lookups = [e for e in log if e["method"] == "GET" and str(e["path"]).endswith("/folders")]
    assert [(e["path"], e["query"].get("title")) for e in lookups][:1] == [
        (f"/api/v4/folders/{folder_id(state, Q3)}/folders", "Launch: Tablet")
    ]
    # A task blueprint into a folder, then under a task: the task it made, by the same single lookup.
    engineering = folder_id(state, "Engineering")
    into_folder = await call(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="Keyless bug"
    )
    root = next(t for t in state.tasks.values() if t.title == "Keyless bug")
    assert into_folder["created"]["id"] == root.id and root.parent_ids == [engineering]
    under_task = await call(
        mcp, "launch_blueprint", blueprint="Bug report", parent="Fix crash on login", title="Keyless sub"
    )
    sub = next(t for t in state.tasks.values() if t.title == "Keyless sub")
    assert under_task["created"] == {
        "id": sub.id,
        "title": "Keyless sub",
        "kind": "task",
        "path": "Engineering/Mobile App",  # a subtask's folder is its parent task's
        "permalink": sub.permalink,
    }
    above = next(t for t in state.tasks.values() if t.title == "Fix crash on login")
    assert sub.super_task_ids == [above.id] and above.parent_ids == [
        folder_id(state, "Engineering/Mobile App")
    ]
    searched = [e for e in await requests_log(sandbox_http) if e["path"] == "/api/v4/tasks"][-1]
    assert searched["query"].get("subTasks") == "true" and searched["query"].get("title") == "Keyless sub"


async def test_a_queued_job_followed_later_is_found_without_result_ids(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sandbox_http.post("/_sandbox/async_jobs", json={"polls": 4, "result_ids": False})
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 0.015)  # one poll fits: the job is still queued
    running = await call(mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="Q")
    assert running["status"] == "in_progress" and running.get("progress_percent", 0) == 0
    job = sandbox_state.async_jobs[running["job"]]
    assert job.status == "InQueue"
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 5.0)
    messages: list[str | None] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        messages.append(message)

    result = await mcp.call_tool(
        "check_blueprint_launch", {"job": running["job"]}, progress_callback=progress
    )
    done = result.structured_content
    assert done is not None
    made = next(t for t in sandbox_state.tasks.values() if t.title == "Q")
    assert done["status"] == "completed" and done["created"]["id"] == made.id
    assert [m.split(":")[0] for m in messages if m] == [
        "blueprint launch InProgress",  # the check's first read is not reported: then two more and the end
        "blueprint launch InProgress",
        "blueprint launch Completed",
    ]


async def test_a_job_another_server_started_says_what_it_cannot_tell(
    mcp: Client,
    sandbox_http: httpx.AsyncClient,
    sandbox_state: SandboxState,
    make_server: Callable[..., WrikeMCPServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without result keys and without the launch's parent and title (another server process launched it),
    the check answers completed with a note, not a guess, and reads nothing else."""
    await sandbox_http.post("/_sandbox/async_jobs", json={"polls": 4, "result_ids": False})
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 0.015)
    running = await call(mcp, "launch_blueprint", blueprint="Bug report", parent="Engineering", title="Far")
    monkeypatch.setattr(blueprints, "LAUNCH_TIME_LIMIT", 5.0)
    async with own_task_client(make_server(allow_delete=True)) as other:
        before = len(await requests_log(sandbox_http))
        done = await call(other, "check_blueprint_launch", job=running["job"])
    assert done["status"] == "completed" and "created" not in done and "task_count" not in done
    assert "look under the parent" in done["note"]
    assert [t for t in sandbox_state.tasks.values() if t.title == "Far"]  # the work was made all the same
    paths = {str(e["path"]) for e in (await requests_log(sandbox_http))[before:]}
    assert paths <= {f"/api/v4/async_job/{running['job']}"}
