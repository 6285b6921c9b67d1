"""Timelog categories and the category, billing and edit parts of time logs, over the sandbox's HTTP API.

Expected answers are computed from the sandbox's state, never from the routes under test."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import READONLY, api_client, contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.tokens import AccessToken


def category(state: SandboxState, name: str) -> str:
    return next(c.id for c in state.timelog_categories.values() if c.name == name)


async def test_categories_are_listed_in_order_with_hidden_ones(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    answer = (await api.get("/timelog_categories")).json()
    assert answer["kind"] == "timelogCategories"
    expected = sorted(state.timelog_categories.values(), key=lambda c: c.order)
    assert answer["data"] == [
        {"id": c.id, "name": c.name, "order": c.order, "hidden": c.hidden} for c in expected
    ]
    assert any(c["hidden"] for c in answer["data"]) and any(not c["hidden"] for c in answer["data"])
    assert (await api.get("/timelog_categories", params={"me": "true"})).status_code == 400  # no parameters


async def test_category_scopes(app: Starlette) -> None:
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get("/timelog_categories")).status_code == 200


async def test_seeded_time_logs_spread_over_categories(state: SandboxState) -> None:
    used = {t.category_id for t in state.timelogs.values()}
    assert set(state.timelog_categories) <= used and None in used  # every category, and entries without one
    people = {t.user_id for t in state.timelogs.values()}
    assert len(people) > 5
    assert {t.billing_type for t in state.timelogs.values()} == {"Billable", "NonBillable"}
    assert all(t.billing_type == state.tasks[t.task_id].billing_type for t in state.timelogs.values())


async def test_filters_by_category_and_billing(api: httpx.AsyncClient, state: SandboxState) -> None:
    design = category(state, "Design")
    meetings = category(state, "Meetings")
    live = [t for t in state.timelogs.values() if not state.tasks[t.task_id].deleted]
    by_route = (await api.get(f"/timelog_categories/{design}/timelogs")).json()["data"]
    assert {t["id"] for t in by_route} == {t.id for t in live if t.category_id == design} != set()
    assert all(t["categoryId"] == design for t in by_route)
    both = (await api.get("/timelogs", params={"timelogCategories": f'["{design}","{meetings}"]'})).json()[
        "data"
    ]
    assert {t["id"] for t in both} == {t.id for t in live if t.category_id in (design, meetings)}
    billable = await api.get(
        "/timelogs", params={"billingTypes": '["Billable"]', "fields": '["billingType"]'}
    )
    rows = billable.json()["data"]
    assert {t["id"] for t in rows} == {t.id for t in live if t.billing_type == "Billable"} != set()
    assert {t["billingType"] for t in rows} == {"Billable"}
    # billingType only when asked for
    assert "billingType" not in (await api.get("/timelogs", params={"limit": "1"})).json()["data"][0]
    unknown = await api.get("/timelog_categories/IEAAB2CDJS777777/timelogs")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "resource_not_found")
    folder = folder_id(state, "Marketing")
    in_folder = (
        await api.get(f"/folders/{folder}/timelogs", params={"timelogCategories": f'["{design}"]'})
    ).json()["data"]
    assert in_folder and all(t["categoryId"] == design for t in in_folder)


async def test_create_update_with_category(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    state.tasks[task].billing_type = "Billable"
    design, meetings = category(state, "Design"), category(state, "Meetings")
    created = await api.post(
        f"/tasks/{task}/timelogs",
        data={
            "hours": "2",
            "trackedDate": "2030-03-04",
            "comment": "Mockups",
            "categoryId": design,
            "fields": '["billingType"]',
        },
    )
    entry = created.json()["data"][0]
    assert (entry["categoryId"], entry["billingType"]) == (design, "Billable")
    stored = state.timelogs[entry["id"]]
    assert (stored.category_id, stored.billing_type) == (design, "Billable")
    moved = await api.put(
        f"/timelogs/{entry['id']}",
        json={"categoryId": meetings, "trackedDate": "2030-03-05", "comment": "Review"},
    )
    assert moved.json()["data"][0]["categoryId"] == meetings
    assert (stored.category_id, stored.tracked_date.isoformat(), stored.comment, stored.hours) == (
        meetings,
        "2030-03-05",
        "Review",
        2,
    )
    for bad in ({"categoryId": "IEAAB2CDJS777777"}, {"comment": "  "}, {"hours": "25"}):
        refused = await api.put(f"/timelogs/{entry['id']}", json=bad)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_parameter"), bad
    assert stored.category_id == meetings and stored.comment == "Review"
    unknown = await api.post(
        f"/tasks/{task}/timelogs",
        data={"hours": "1", "trackedDate": "2030-03-04", "comment": "x", "categoryId": "IEAAB2CDJS777777"},
    )
    assert unknown.status_code == 400 and "categoryId" in unknown.json()["errorDescription"]


async def test_only_the_author_or_an_admin_changes_a_time_log(app: Starlette, state: SandboxState) -> None:
    ben = contact_id(state, "Ben Carter")
    others = next(t for t in state.timelogs.values() if t.user_id != ben)
    token = "ben-token"
    state.access_tokens[token] = AccessToken(
        value=token, user_id=ben, scopes=frozenset({"wsReadWrite"}), expires_at=None
    )
    async with api_client(app, token) as client:
        refused = await client.put(f"/timelogs/{others.id}", json={"hours": 1})
        assert (refused.status_code, refused.json()["error"]) == (403, "access_forbidden")
        assert (await client.delete(f"/timelogs/{others.id}")).status_code == 403
    assert others.id in state.timelogs
