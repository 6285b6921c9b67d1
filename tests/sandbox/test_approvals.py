"""Approvals: the account list with its filters and paging, a task's and a folder's, by ids."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import READONLY, api_client, contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState


async def _titles(api: httpx.AsyncClient, **params: str) -> list[str]:
    response = await api.get("/approvals", params=params)
    assert response.status_code == 200, response.text
    return [a["title"] for a in response.json()["data"]]


async def test_approvals_pending_me_and_the_other_filters(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    ann, ben = contact_id(state, "Ann Lee"), contact_id(state, "Ben Carter")
    everything = await _titles(api)
    assert len(everything) == 6
    pending_me = await _titles(api, pendingApprovers=json.dumps([ann]))
    assert pending_me == ["Approve press kit", "Draft launch announcement", "Q3 Launch"]
    # A cancelled approval still lists Ann as an approver, but nothing waits for her there.
    assert "Mobile App" in await _titles(api, approvers=json.dumps([ann]))
    assert await _titles(api, statuses=json.dumps(["Approved", "Rejected"])) == [
        "Regression test release build",
        "Fix crash on login",
    ]
    assert await _titles(api, statuses="Cancelled") == ["Mobile App"]
    assert await _titles(api, type="FilesOnly") == ["Draft launch announcement"]
    assert await _titles(api, approvers=ben) == ["Regression test release build"]
    overdue = {"end": (state.today - timedelta(days=1)).isoformat()}
    assert await _titles(api, dueDate=json.dumps(overdue), statuses="Pending") == ["Q3 Launch"]
    exact = {"equal": (state.today + timedelta(days=2)).isoformat()}
    assert await _titles(api, dueDate=json.dumps(exact)) == ["Approve press kit"]
    recent = {"start": (state.now() - timedelta(days=2, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert await _titles(api, updatedDate=json.dumps(recent)) == [
        "Approve press kit",
        "Regression test release build",
        "Fix crash on login",
    ]
    assert await _titles(api, limit="2") == everything[:2]


async def test_an_approval_s_fields(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Approve press kit")
    listed = (await api.get(f"/tasks/{task}/approvals")).json()
    assert listed["kind"] == "approvals"
    (approval,) = listed["data"]
    assert approval["taskId"] == task and "folderId" not in approval
    assert approval["status"] == "Pending" and approval["finished"] is False and "finisherId" not in approval
    assert approval["dueDate"] == (state.today + timedelta(days=2)).isoformat()
    assert approval["authorId"] == contact_id(state, "Diego Alvarez")
    ann, chloe = contact_id(state, "Ann Lee"), contact_id(state, "Chloe Martin")
    assert approval["decisions"][0] == {"approverId": ann, "status": "Pending"}
    decided = approval["decisions"][1]
    assert (decided["approverId"], decided["status"], decided["comment"]) == (chloe, "Approved", "Looks good")
    assert "updatedDate" in decided
    rejected = (await api.get(f"/tasks/{task_id(state, 'Fix crash on login')}/approvals")).json()["data"][0]
    assert rejected["status"] == "Rejected" and rejected["finished"] is True and rejected["finisherId"] == ann
    announcement = (await api.get(f"/tasks/{task_id(state, 'Draft launch announcement')}/approvals")).json()
    brief = next(a.id for a in state.attachments.values() if a.name == "launch-brief.md")
    assert announcement["data"][0]["attachmentIds"] == [brief]
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    on_folder = (await api.get(f"/folders/{q3}/approvals")).json()["data"]
    assert [(a["folderId"], a["status"]) for a in on_folder] == [(q3, "Pending")]
    both = (await api.get(f"/approvals/{on_folder[0]['id']},{approval['id']}")).json()["data"]
    assert [a["id"] for a in both] == [on_folder[0]["id"], approval["id"]]


async def test_paging_follows_the_token(api: httpx.AsyncClient) -> None:
    every = (await api.get("/approvals")).json()["data"]
    page = (await api.get("/approvals", params={"pageSize": 4})).json()
    assert page["responseSize"] == 6 and len(page["data"]) == 4
    rest = (
        await api.get("/approvals", params={"nextPageToken": page["nextPageToken"], "pageSize": 1})
    ).json()
    assert [a["id"] for a in page["data"] + rest["data"]] == [a["id"] for a in every]
    assert "nextPageToken" not in rest


async def test_errors_and_scopes(app: Starlette, api: httpx.AsyncClient, state: SandboxState) -> None:
    for url in (
        "/approvals/IEAAB2CDNUZZZZZZ",
        "/tasks/IEAAB2CDKQZZZZZZ/approvals",
        "/folders/IEAAB2CDI4ZZZZZZ/approvals",
    ):
        response = await api.get(url)
        assert (response.status_code, response.json()["error"]) == (404, "resource_not_found"), url
    for params in (
        {"statuses": "Done"},
        {"type": "Quick"},
        {"dueDate": '{"start":"tomorrow"}'},
        {"updatedDate": '{"start":"2020-01-01"}'},
        {"pageSize": "0"},
        {"nextPageToken": "forged"},
        {"title": "x"},
    ):
        response = await api.get("/approvals", params=params)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_parameter"), params
    refused = await api.get(
        f"/tasks/{task_id(state, 'Approve press kit')}/approvals", params={"statuses": "Pending"}
    )
    assert refused.status_code == 400  # the task and folder variants take no filters
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get("/approvals")).status_code == 200
