"""Blueprints: lists (account and space), launch_async, and the async job that creates the work."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import READONLY, api_client, folder_id, task_id
from wrike_mcp.sandbox import SandboxState


def _blueprint(state: SandboxState, title: str) -> str:
    return next(b.id for b in state.blueprints.values() if b.title == title)


async def _finish(api: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """Poll the job as a client would, and check it is still running before it completes."""
    statuses = []
    while True:
        job: dict[str, Any] = (await api.get(f"/async_job/{job_id}")).json()["data"][0]
        statuses.append(job["status"])
        if job["status"] in ("Completed", "Failed"):
            break
        assert len(statuses) < 10
    # The default: two reads before it ends, queued then in progress (the 2020 status enum's order).
    assert statuses == ["InQueue", "InProgress", job["status"]]
    return job


async def test_folder_blueprints_list_the_tree_with_space_ones_in_their_space(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    listed = (await api.get("/folder_blueprints")).json()
    assert listed["kind"] == "folderBlueprints"
    by_title = {b["title"]: b for b in listed["data"]}
    assert set(by_title) == {"Product launch", "Launch assets", "Campaign folder"}
    assert by_title["Product launch"]["childIds"] == [by_title["Launch assets"]["id"]]
    assert by_title["Product launch"]["scope"] == "BpFolder"
    assert "customFields" not in by_title["Product launch"]
    marketing = (await api.get(f"/spaces/{folder_id(state, 'Marketing')}/folder_blueprints")).json()["data"]
    assert [b["title"] for b in marketing] == ["Campaign folder"]
    engineering = (await api.get(f"/spaces/{folder_id(state, 'Engineering')}/folder_blueprints")).json()
    assert engineering["data"] == []


async def test_task_blueprints_filters_fields_and_paging(api: httpx.AsyncClient, state: SandboxState) -> None:
    listed = (await api.get("/task_blueprints")).json()["data"]
    titles = [b["title"] for b in listed]
    # Tasks inside a folder blueprint launch with it and are not task blueprints of their own.
    assert "Define launch scope" not in titles
    bug = next(b for b in listed if b["title"] == "Bug report")
    assert len(bug["childIds"]) == 3 and bug["scope"] == "BpTask"
    found = (await api.get("/task_blueprints", params={"title": "bug rep"})).json()["data"]
    assert [b["title"] for b in found] == ["Bug report"]
    by_permalink = await api.get("/task_blueprints", params={"permalink": bug["permalink"]})
    assert [b["id"] for b in by_permalink.json()["data"]] == [bug["id"]]
    engineering = folder_id(state, "Engineering")
    space = (await api.get(f"/spaces/{engineering}/task_blueprints")).json()["data"]
    assert {b["title"] for b in space} == {
        "Release checklist",
        "Freeze the release branch",
        "Run regression tests",
    }
    page = (await api.get("/task_blueprints", params={"pageSize": 3})).json()
    assert page["responseSize"] == len(listed) == 7
    paged = page["data"]
    while "nextPageToken" in page:
        page = (await api.get("/task_blueprints", params={"nextPageToken": page["nextPageToken"]})).json()
        paged += page["data"]
    assert [b["id"] for b in paged] == [b["id"] for b in listed]
    launch = (await api.get("/folder_blueprints", params={"fields": '["customFields"]'})).json()["data"][0]
    channel = next(f.id for f in state.custom_fields.values() if f.title == "Channel")
    assert launch["customFields"] == [{"id": channel, "value": "Web"}]
    matching = await api.get(
        "/folder_blueprints", params={"customFields": f'[{{"id":"{channel}","value":"Web"}}]'}
    )
    assert [b["title"] for b in matching.json()["data"]] == ["Product launch"]


async def test_launching_a_project_blueprint_creates_the_project_when_the_job_completes(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    monday = state.today + timedelta(days=7 - state.today.weekday())
    launched = await api.post(
        f"/folder_blueprints/{_blueprint(state, 'Product launch')}/launch_async",
        json={
            "parent": q3,
            "title": "Launch: Mobile 3.0",
            "titlePrefix": "M3 ",
            "rescheduleDate": monday.isoformat(),
        },
    )
    assert launched.status_code == 200, launched.text
    job = launched.json()["data"][0]
    assert launched.json()["kind"] == "asyncJob"
    assert job["status"] == "InQueue" and job["totalCount"] == 9 and job["type"] == "FolderBlueprintLaunch"
    assert "result" not in job
    assert not [f for f in state.folders.values() if f.title == "Launch: Mobile 3.0"]  # nothing yet
    done = await _finish(api, job["id"])
    assert done["progressPercent"] == 100 and done["processedCount"] == 9
    result = done["result"]
    project = (await api.get(f"/folders/{result['folderId']}")).json()["data"][0]
    assert project["title"] == "Launch: Mobile 3.0" and project["parentIds"] == [q3]
    assert project["project"]["startDate"] == monday.isoformat()
    assert project["project"]["endDate"] == (monday + timedelta(days=11)).isoformat()
    assert len(result["folderIds"]) == 2 and len(result["taskIds"]) == 7
    tasks = (await api.get(f"/tasks/{','.join(result['taskIds'])}")).json()["data"]
    by_title = {t["title"]: t for t in tasks}
    assert set(by_title) == {
        "M3 Kick-off meeting",
        "M3 Define launch scope",
        "M3 Prepare press release",
        "M3 Collect customer quotes",
        "M3 Launch day",
        "M3 Design launch visuals",
        "M3 Write product page copy",
    }
    scope = by_title["M3 Define launch scope"]
    assert scope["dates"]["start"] == f"{monday.isoformat()}T09:00:00"
    assert scope["dates"]["due"] == f"{(monday + timedelta(days=2)).isoformat()}T17:00:00"
    assert scope["status"] == "Active" and scope["importance"] == "High"
    chloe = next(c.id for c in state.contacts.values() if c.name == "Chloe Martin")
    assert scope["responsibleIds"] == [chloe]
    quotes = by_title["M3 Collect customer quotes"]
    assert quotes["superTaskIds"] == [by_title["M3 Prepare press release"]["id"]]
    assets = next(f for f in result["folderIds"] if f != result["folderId"])
    listed = (await api.get(f"/folders/{assets}/tasks")).json()["data"]
    assert {t["title"] for t in listed} == {"M3 Design launch visuals", "M3 Write product page copy"}
    # Reading the finished job again answers the same and creates nothing more.
    again = (await api.get(f"/async_job/{job['id']}")).json()["data"][0]
    assert again == done
    assert len([t for t in state.tasks.values() if t.title.startswith("M3 ")]) == 7


async def test_reschedule_end_mode_and_copy_options(api: httpx.AsyncClient, state: SandboxState) -> None:
    friday = date(2031, 3, 14)
    launched = await api.post(
        f"/task_blueprints/{_blueprint(state, 'Bug report')}/launch_async",
        json={
            "parentId": folder_id(state, "Engineering/Mobile App"),
            "title": "Crash on resume",
            "rescheduleDate": friday.isoformat(),
            "rescheduleMode": "End",
            "copyResponsibles": False,
            "copyDescriptions": False,
        },
    )
    done = await _finish(api, launched.json()["data"][0]["id"])
    root = state.tasks[done["result"]["taskId"]]
    assert root.title == "Crash on resume" and root.description == "" and root.responsible_ids == []
    subtasks = [state.tasks[t] for t in done["result"]["taskIds"] if t != root.id]
    assert {t.title for t in subtasks} == {"Reproduce the bug", "Fix the bug", "Verify the fix"}
    assert max(t.dates.due for t in [root, *subtasks] if t.dates.due).date() == friday
    assert all(t.super_task_ids == [root.id] for t in subtasks)


async def test_a_task_blueprint_launches_under_a_super_task(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    above = task_id(state, "Fix crash on login")
    launched = await api.post(
        f"/task_blueprints/{_blueprint(state, 'Release checklist')}/launch_async",
        data={"superTaskId": above, "title": "Hotfix release"},
    )
    done = await _finish(api, launched.json()["data"][0]["id"])
    root = (await api.get(f"/tasks/{done['result']['taskId']}")).json()["data"][0]
    assert root["superTaskIds"] == [above] and root["title"] == "Hotfix release"


async def test_the_control_plane_sets_polls_and_failures(
    app: Starlette, raw: httpx.AsyncClient, api: httpx.AsyncClient, state: SandboxState
) -> None:
    assert (await raw.post("/_sandbox/async_jobs", json={"polls": 0})).json() == {
        "polls": 0,
        "fail_next": None,
        "result_ids": True,
    }
    blueprint = _blueprint(state, "Bug report")
    parent = folder_id(state, "Engineering/Mobile App")
    job = await api.post(
        f"/task_blueprints/{blueprint}/launch_async", json={"parentId": parent, "title": "A"}
    )
    first = (await api.get(f"/async_job/{job.json()['data'][0]['id']}")).json()["data"][0]
    assert first["status"] == "Completed"
    await raw.post("/_sandbox/async_jobs", json={"fail_next": "Quota exceeded"})
    tasks_before = len(state.tasks)
    job = await api.post(
        f"/task_blueprints/{blueprint}/launch_async", json={"parentId": parent, "title": "B"}
    )
    failed = (await api.get(f"/async_job/{job.json()['data'][0]['id']}")).json()["data"][0]
    assert (
        failed["status"] == "Failed" and failed["errorMessage"] == "Quota exceeded" and "result" not in failed
    )
    assert len(state.tasks) == tasks_before
    assert (await raw.get("/_sandbox/async_jobs")).json()["fail_next"] is None  # used once
    refused = await raw.post("/_sandbox/async_jobs", json={"polls": -1})
    assert refused.status_code == 400
    await raw.post("/_sandbox/async_jobs", json={"result_ids": False})
    await raw.post("/_sandbox/reset")
    assert state.async_job_polls == 2 and state.async_job_result_ids


async def test_a_job_fails_when_its_parent_is_deleted_or_the_entry_limit_is_too_low(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    blueprint = _blueprint(state, "Product launch")
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    small = await api.post(
        f"/folder_blueprints/{blueprint}/launch_async", json={"parent": q3, "title": "X", "entryLimit": 5}
    )
    failed = await _finish(api, small.json()["data"][0]["id"])
    assert failed["status"] == "Failed" and "entryLimit 5" in failed["errorMessage"]
    launched = await api.post(
        f"/folder_blueprints/{blueprint}/launch_async", json={"parent": q3, "title": "Y"}
    )
    assert (await api.delete(f"/folders/{q3}")).status_code == 200
    gone = await _finish(api, launched.json()["data"][0]["id"])
    assert gone["status"] == "Failed" and q3 in gone["errorMessage"]
    assert not [f for f in state.folders.values() if f.title in ("X", "Y")]


async def test_bad_launches_are_refused_before_any_job(
    app: Starlette, api: httpx.AsyncClient, state: SandboxState
) -> None:
    folder_bp, task_bp = _blueprint(state, "Product launch"), _blueprint(state, "Bug report")
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        (
            "/folder_blueprints/IEAAB2CDI5ZZZZZZ/launch_async",
            {"parent": q3, "title": "T"},
            404,
            "resource_not_found",
        ),
        (
            f"/folder_blueprints/{task_bp}/launch_async",
            {"parent": q3, "title": "T"},
            404,
            "resource_not_found",
        ),
        (f"/folder_blueprints/{folder_bp}/launch_async", {"parent": q3}, 400, "parameter_required"),
        (f"/folder_blueprints/{folder_bp}/launch_async", {"title": "T"}, 400, "parameter_required"),
        (
            f"/folder_blueprints/{folder_bp}/launch_async",
            {"parent": "nope", "title": "T"},
            400,
            "invalid_parameter",
        ),
        (
            f"/folder_blueprints/{folder_bp}/launch_async",
            {"parent": q3, "title": "T", "rescheduleDate": "next monday"},
            400,
            "invalid_parameter",
        ),
        (
            f"/folder_blueprints/{folder_bp}/launch_async",
            {"parent": q3, "title": "T", "rescheduleMode": "Middle"},
            400,
            "invalid_parameter",
        ),
        (
            f"/folder_blueprints/{folder_bp}/launch_async",
            {"parent": q3, "title": "T", "entryLimit": 251},
            400,
            "invalid_parameter",
        ),
        (f"/task_blueprints/{task_bp}/launch_async", {"title": "T"}, 400, "parameter_required"),
        (
            f"/task_blueprints/{task_bp}/launch_async",
            {"title": "T", "parentId": q3, "superTaskId": task_id(state, "Fix crash on login")},
            400,
            "invalid_parameter",
        ),
        (
            f"/task_blueprints/{task_bp}/launch_async",
            {"title": "T", "superTaskId": "nope"},
            400,
            "invalid_parameter",
        ),
    ]
    for url, body, status, code in cases:
        response = await api.post(url, json=body)
        assert (response.status_code, response.json()["error"]) == (status, code), (url, body, response.text)
    assert state.async_jobs == {}
    missing = await api.get("/async_job/IEAAB2CDNAZZZZZZ")
    assert missing.status_code == 404 and missing.json()["error"] == "resource_not_found"
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get("/folder_blueprints")).status_code == 200
        denied = await readonly.post(
            f"/folder_blueprints/{folder_bp}/launch_async", json={"parent": q3, "title": "T"}
        )
        assert denied.status_code == 403 and denied.json()["error"] == "not_allowed"


async def test_a_job_set_up_without_result_ids_answers_an_empty_result_and_still_makes_the_work(
    api: httpx.AsyncClient, raw: httpx.AsyncClient, state: SandboxState
) -> None:
    switched = await raw.post("/_sandbox/async_jobs", json={"result_ids": False, "polls": 1})
    assert switched.json() == {"polls": 1, "fail_next": None, "result_ids": False}
    launched = await api.post(
        f"/task_blueprints/{_blueprint(state, 'Bug report')}/launch_async",
        json={"parentId": folder_id(state, "Engineering"), "title": "No keys"},
    )
    job = launched.json()["data"][0]
    assert job["status"] == "InQueue"
    first = (await api.get(f"/async_job/{job['id']}")).json()["data"][0]
    assert first["status"] == "InProgress"  # one read before the end: no queued read
    done = (await api.get(f"/async_job/{job['id']}")).json()["data"][0]
    assert done["status"] == "Completed" and done["result"] == {}
    assert [t for t in state.tasks.values() if t.title == "No keys"]
    bad = await raw.post("/_sandbox/async_jobs", json={"result_ids": "no"})
    assert bad.status_code == 400
