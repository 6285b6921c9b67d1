"""Task dependencies (create, read, change, delete, and what is refused) and bulk task updates."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import READONLY, api_client, contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState


async def test_a_dependency_from_creation_to_deletion(api: httpx.AsyncClient, state: SandboxState) -> None:
    build, qa = task_id(state, "Book launch venue"), task_id(state, "Draft launch announcement")
    created = await api.post(
        f"/tasks/{qa}/dependencies",
        json={"predecessorId": build, "relationType": "FinishToStart", "lagTime": 960},
    )
    assert created.status_code == 200, created.text
    dependency = created.json()["data"][0]
    assert dependency == {
        "id": dependency["id"],
        "predecessorId": build,
        "successorId": qa,
        "relationType": "FinishToStart",
        "lagTime": 960,
    }
    for task in (build, qa):
        read = (await api.get(f"/tasks/{task}", params={})).json()["data"][0]
        assert dependency["id"] in read["dependencyIds"]
        listed = (await api.get(f"/tasks/{task}/dependencies")).json()["data"]
        assert dependency in listed
    changed = await api.put(
        f"/dependencies/{dependency['id']}", json={"relationType": "StartToStart", "lagTime": -480}
    )
    assert changed.json()["data"][0]["relationType"] == "StartToStart"
    assert changed.json()["data"][0]["lagTime"] == -480
    assert state.dependencies[dependency["id"]].relation_type == "StartToStart"
    deleted = await api.delete(f"/dependencies/{dependency['id']}")
    assert deleted.json()["data"][0]["id"] == dependency["id"]  # the digest: DELETE echoes the dependency
    assert dependency["id"] not in state.dependencies
    gone = await api.get(f"/dependencies/{dependency['id']}")
    assert gone.status_code == 404 and gone.json()["error"] == "resource_not_found"
    read = (await api.get(f"/tasks/{qa}")).json()["data"][0]
    assert dependency["id"] not in read["dependencyIds"]


async def test_a_successor_link_and_the_refusals(api: httpx.AsyncClient, state: SandboxState) -> None:
    first, second = task_id(state, "Finalize launch checklist"), task_id(state, "Approve press kit")
    made = await api.post(
        f"/tasks/{first}/dependencies", data={"successorId": second, "relationType": "FinishToFinish"}
    )
    assert made.status_code == 200, made.text
    assert (made.json()["data"][0]["predecessorId"], made.json()["data"][0]["successorId"]) == (first, second)
    count = len(state.dependencies)
    backlog = next(t.id for t in state.tasks.values() if t.dates.type == "Backlog" and not t.deleted)
    cases = [
        ({"predecessorId": first, "relationType": "FinishToStart"}, first, "itself"),
        ({"predecessorId": first, "relationType": "FinishToStart"}, second, "duplicates"),
        ({"successorId": first, "relationType": "FinishToStart"}, second, "circular"),
        ({"predecessorId": backlog, "relationType": "FinishToStart"}, second, "is Backlog"),
        (
            {"predecessorId": first, "successorId": second, "relationType": "FinishToStart"},
            second,
            "exactly one",
        ),
        ({"relationType": "FinishToStart"}, second, "exactly one"),
        ({"predecessorId": "IEAAB2CDKQZZZZZZ", "relationType": "FinishToStart"}, second, "unknown task"),
        ({"predecessorId": first, "relationType": "AfterwardsMaybe"}, second, "relationType"),
        ({"predecessorId": first, "relationType": "FinishToStart", "lagTime": "soon"}, second, "lagTime"),
    ]
    for body, task, why in cases:
        response = await api.post(f"/tasks/{task}/dependencies", json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["error"] in ("invalid_parameter", "parameter_required")
        assert why in response.json()["errorDescription"], (body, response.text)
    assert len(state.dependencies) == count
    existing = made.json()["data"][0]["id"]
    bad = await api.put(f"/dependencies/{existing}", json={"relationType": "Sideways"})
    assert bad.status_code == 400 and state.dependencies[existing].relation_type == "FinishToFinish"
    for method in ("PUT", "DELETE"):
        missing = await api.request(method, "/dependencies/IEAAB2CDIUZZZZZZ")
        assert missing.status_code == 404 and missing.json()["error"] == "resource_not_found"
    unknown_task = await api.post("/tasks/IEAAB2CDKQZZZZZZ/dependencies", json={"predecessorId": first})
    assert unknown_task.status_code == 404


async def test_dependency_writes_need_the_write_scope(app: Starlette, state: SandboxState) -> None:
    dependency = next(iter(state.dependencies))
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get(f"/dependencies/{dependency}")).status_code == 200
        for method in ("PUT", "DELETE"):
            denied = await readonly.request(method, f"/dependencies/{dependency}")
            assert denied.status_code == 403 and denied.json()["error"] == "not_allowed"


async def test_bulk_update_moves_assigns_and_sets_a_custom_status(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    """The 2026 digest's bulk parameters: add/remove parents and responsibles, customStatus, customFields."""
    titles = ("Finalize launch checklist", "Book launch venue", "Approve press kit")
    tasks = [task_id(state, t) for t in titles]
    q3, spring = (
        folder_id(state, "Marketing/Campaigns/Q3 Launch"),
        folder_id(state, "Marketing/Campaigns/Spring Campaign"),
    )
    ben, diego = contact_id(state, "Ben Carter"), contact_id(state, "Diego Alvarez")
    in_review = next(
        s.id for s in state.workflows[state.folders[q3].workflow_id].statuses if s.group == "Completed"
    )
    response = await api.put(
        f"/tasks/{','.join(tasks)}",
        json={
            "addParents": [spring],
            "removeParents": [q3],
            "addResponsibles": [ben],
            "removeResponsibles": [diego],
            "customStatus": in_review,
        },
    )
    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["data"]] == tasks
    for task in (state.tasks[t] for t in tasks):
        assert task.parent_ids == [spring] and task.responsible_ids == [ben]
        assert (task.status, task.custom_status_id) == ("Completed", in_review) and task.completed is not None


async def test_a_refused_bulk_update_changes_no_task(api: httpx.AsyncClient, state: SandboxState) -> None:
    tasks = [task_id(state, t) for t in ("Finalize launch checklist", "Book launch venue")]
    before = [
        (state.tasks[t].importance, list(state.tasks[t].responsible_ids), state.tasks[t].updated)
        for t in tasks
    ]
    for body in (
        {"importance": "Low"},  # not a bulk parameter in the digest: one PUT per task
        {"dates": {"due": "2031-01-01"}},
        {"status": "Completed"},
        {"addResponsibles": ["KUAZZZZZ"]},
        {"addParents": ["IEAAB2CDI4ZZZZZZ"]},
        {"customStatus": "IEAAB2CDJMZZZZZZ"},
    ):
        response = await api.put(f"/tasks/{','.join(tasks)}", json=body)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_parameter"), body
    after = [
        (state.tasks[t].importance, list(state.tasks[t].responsible_ids), state.tasks[t].updated)
        for t in tasks
    ]
    assert after == before
    missing = await api.put(f"/tasks/{tasks[0]},IEAAB2CDKQZZZZZZ", json={"addResponsibles": []})
    assert missing.status_code == 404
