"""DELETE answers in both forms: the empty `data` a live account gave for a comment, and the `list<string>`
of the 2026 description (comments, time logs, spaces), which the sandbox gives with /_sandbox/deletes."""

from __future__ import annotations

import httpx
import pytest

from tests.wrike.wrike_helpers import MakeClient, api_requests
from wrike_mcp.wrike.client import WrikeClient, Written
from wrike_mcp.wrike.errors import ResourceNotFound


async def _comment_and_timelog(client: WrikeClient) -> tuple[str, str]:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]["id"]
    comment = (await client.post(f"/tasks/{task}/comments", {"text": "to delete"}))[0]["id"]
    timelog = (
        await client.post(
            f"/tasks/{task}/timelogs", {"hours": 1, "trackedDate": "2030-01-02", "comment": "to delete"}
        )
    )[0]["id"]
    return comment, timelog


@pytest.mark.parametrize("list_ids", [False, True])
async def test_a_delete_answering_ids_or_nothing_is_a_clean_answer(
    make_client: MakeClient, control: httpx.AsyncClient, list_ids: bool
) -> None:
    switched = await control.post("/_sandbox/deletes", json={"list_ids": list_ids})
    assert switched.json() == {"list_ids": list_ids}
    client = make_client()
    heard: list[Written] = []
    client.write_hooks.append(heard.append)
    comment, timelog = await _comment_and_timelog(client)
    for path, ident in ((f"/comments/{comment}", comment), (f"/timelogs/{timelog}", timelog)):
        answer = await client.delete(path)
        assert answer == ([{"id": ident}] if list_ids else [])
        assert heard[-1].method == "DELETE" and heard[-1].entities == answer  # a known outcome
        with pytest.raises(ResourceNotFound):
            await client.get(path)
        # Sent once and answered: not read as malformed and retried (a retried DELETE would be 404).
        assert len(await api_requests(control, "DELETE", f"/api/v4{path}")) == 1


async def test_the_wire_carries_the_ids(control: httpx.AsyncClient, make_client: MakeClient) -> None:
    await control.post("/_sandbox/deletes", json={"list_ids": True})
    comment, _ = await _comment_and_timelog(make_client())
    response = await control.delete(
        f"/api/v4/comments/{comment}", headers={"Authorization": "bearer wrike-sandbox-token"}
    )
    assert response.json() == {"kind": "comments", "data": [comment]}


async def test_the_switch_refuses_nonsense(control: httpx.AsyncClient) -> None:
    for body in ({"list_ids": "yes"}, {}, {"list_ids": True, "x": 1}):
        assert (await control.post("/_sandbox/deletes", json=body)).status_code == 400
    assert (await control.get("/_sandbox/deletes")).json() == {"list_ids": False}
