"""update_folder (rename, move, description, custom fields) and custom fields on create_folder,
create_project and update_project, in both protocol eras: the sandbox's state and request log after each
write, and bad input refused before any Wrike request."""

from __future__ import annotations

import json
from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import (
    BIG,
    api_calls,
    call,
    call_error,
    refused_up_front,
    requests_log,
    state_folder,
)


def field_ids(sandbox_state: Any) -> dict[str, str]:
    return {f.title: f.id for f in sandbox_state.custom_fields.values()}


def person_id(sandbox_state: Any, name: str) -> str:
    return str(next(c.id for c in sandbox_state.contacts.values() if c.name == name))


async def writes(sandbox_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return [e for e in await requests_log(sandbox_http) if e["method"] in ("POST", "PUT", "DELETE")]


# ---- update_folder -----------------------------------------------------------------------------------------


async def test_update_folder_renames_and_describes(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    folder = state_folder(sandbox_state, "Marketing/Campaigns/Holiday Promo")
    result = await call(
        mcp,
        "update_folder",
        folder="Marketing/Campaigns/Holiday Promo",
        title="  Winter   Promo ",
        description="Plan <b>early</b>\nsecond line",
    )
    assert folder.title == "Winter Promo"
    assert folder.description == "Plan &lt;b&gt;early&lt;/b&gt;<br>second line"
    assert result["path"] == "Marketing/Campaigns/Winter Promo"
    assert result["changed"] == ["title", "description"]
    assert result["parents"] == [
        {"id": state_folder(sandbox_state, "Marketing/Campaigns").id, "name": "Marketing/Campaigns"}
    ]
    sent = await writes(sandbox_http)
    assert [(e["method"], e["path"]) for e in sent] == [("PUT", f"/api/v4/folders/{folder.id}")]
    # The cached tree follows the write: the new path resolves at once, the old one no longer does.
    details = await call(mcp, "get_folder", folder="Marketing/Campaigns/Winter Promo")
    assert details["id"] == folder.id
    assert "not found" in await call_error(mcp, "get_folder", folder="Marketing/Campaigns/Holiday Promo")


async def test_update_folder_clears_the_description(mcp: Client, sandbox_state: Any) -> None:
    folder = state_folder(sandbox_state, "Marketing/Content")
    await call(mcp, "update_folder", folder=folder.id, description="something")
    assert folder.description == "something"
    result = await call(mcp, "update_folder", folder=folder.id, description="")
    assert folder.description == "" and result["changed"] == ["description"]


async def test_update_folder_moves_a_project_with_its_children(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    campaigns = state_folder(sandbox_state, "Marketing/Campaigns")
    planning = state_folder(sandbox_state, "Marketing/Planning")
    result = await call(mcp, "update_folder", folder=q3.permalink, move_to="Marketing/Planning")
    assert q3.parent_ids == [planning.id]
    assert result["path"] == "Marketing/Planning/Q3 Launch" and result["changed"] == ["moved"]
    assert result["parents"] == [{"id": planning.id, "name": "Marketing/Planning"}]
    (put,) = await writes(sandbox_http)
    assert put["body"]["addParents"] in ([planning.id], json.dumps([planning.id]))
    assert put["body"]["removeParents"] in ([campaigns.id], json.dumps([campaigns.id]))
    # What lay inside moved along: its subfolder's path follows.
    assets = await call(mcp, "get_folder", folder="Marketing/Planning/Q3 Launch/Launch Assets")
    assert assets["id"] == state_folder(sandbox_state, "Marketing/Planning/Q3 Launch/Launch Assets").id
    # Into a space works as well.
    moved = await call(mcp, "update_folder", folder=q3.id, move_to="Operations")
    assert q3.parent_ids == [state_folder(sandbox_state, "Operations").id]
    assert moved["path"] == "Operations/Q3 Launch"


async def test_update_folder_refuses_a_move_into_itself_or_below(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    campaigns = state_folder(sandbox_state, "Marketing/Campaigns")
    before = list(campaigns.parent_ids)
    for target in ("Marketing/Campaigns", "Marketing/Campaigns/Q3 Launch/Launch Assets"):
        message = await call_error(
            mcp, "update_folder", folder="Marketing/Campaigns", move_to=target, title="X"
        )
        assert "inside it" in message and "choose a parent outside it" in message, message
    assert campaigns.parent_ids == before and campaigns.title == "Campaigns"
    assert not await writes(sandbox_http)
    message = await call_error(mcp, "update_folder", folder="Marketing/Campaigns", move_to="Marketing")
    assert "already in 'Marketing'" in message
    assert not await writes(sandbox_http)


async def test_the_sandbox_refuses_a_move_below_itself_and_changes_nothing(
    sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    """Wrike refuses it too; a refused request leaves the folder as it was (title included)."""
    campaigns = state_folder(sandbox_state, "Marketing/Campaigns")
    below = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    response = await sandbox_http.put(
        f"/api/v4/folders/{campaigns.id}",
        json={"title": "Renamed", "addParents": [below.id]},
        headers={"Authorization": "Bearer wrike-sandbox-token"},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_parameter"
    assert campaigns.title == "Campaigns" and below.id not in campaigns.parent_ids


async def test_update_folder_refuses_bad_input_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    assert "nothing to change" in await refused_up_front(
        mcp, sandbox_http, "update_folder", folder="Marketing"
    )
    assert "title is empty" in await refused_up_front(
        mcp, sandbox_http, "update_folder", folder="Marketing/Content", title="  "
    )
    assert "too many or too long" in await refused_up_front(
        mcp, sandbox_http, "update_folder", folder="x", custom_fields={"Reviewer": ["me"] * 51}
    )
    for arguments in (
        {"folder": "x", "title": "t" * 501},
        {"folder": "x", "description": BIG},
        {"folder": "", "title": "ok"},
        {"folder": "x", "move_to": ""},
        {"folder": "x", "custom_fields": {"": 1}},
        {"title": "no folder"},
    ):
        await refused_up_front(mcp, sandbox_http, "update_folder", **arguments)


async def test_update_folder_refuses_a_space(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    message = await call_error(mcp, "update_folder", folder="Marketing", title="Sales")
    assert "is a space" in message
    assert not await writes(sandbox_http)


# ---- custom fields on folders and projects ------------------------------------------------------------------


async def test_update_folder_sets_and_clears_custom_fields(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    fields = field_ids(sandbox_state)
    folder = state_folder(sandbox_state, "Marketing/Content")
    result = await call(
        mcp,
        "update_folder",
        folder="Marketing/Content",
        custom_fields={"Budget": 1200, "channel": "web", "Reviewer": ["me"], "Billable": True},
    )
    assert result["changed"] == ["custom fields"]
    me = sandbox_state.access_tokens["wrike-sandbox-token"].user_id
    assert folder.custom_fields[fields["Budget"]] == "1200"
    assert folder.custom_fields[fields["Channel"]] == "Web"  # the option's own spelling
    assert folder.custom_fields[fields["Reviewer"]] == me
    assert folder.custom_fields[fields["Billable"]] == "true"
    shown = {f["name"]: f for f in (await call(mcp, "get_folder", folder=folder.id))["custom_fields"]}
    assert shown["Budget"]["value"] == "1200" and shown["Reviewer"]["people"][0]["id"] == me
    await call(mcp, "update_folder", folder=folder.id, custom_fields={"Budget": None})
    assert fields["Budget"] not in folder.custom_fields and fields["Channel"] in folder.custom_fields
    # A value the field's type refuses is refused before the write.
    before = len(await writes(sandbox_http))
    message = await call_error(mcp, "update_folder", folder=folder.id, custom_fields={"Channel": "Radio"})
    assert "has no option" in message and "Email" in message
    assert len(await writes(sandbox_http)) == before


async def test_create_folder_with_custom_fields(mcp: Client, sandbox_state: Any) -> None:
    fields = field_ids(sandbox_state)
    result = await call(
        mcp,
        "create_folder",
        parent="Operations",
        title="Vendors",
        custom_fields={"Launch Date": "2026-09-01", "Notes": "ask finance"},
    )
    created = sandbox_state.folders[result["id"]]
    assert created.custom_fields == {fields["Launch Date"]: "2026-09-01", fields["Notes"]: "ask finance"}


async def test_create_and_update_project_custom_fields(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    fields = field_ids(sandbox_state)
    created = await call(
        mcp,
        "create_project",
        parent="Marketing/Campaigns",
        title="Autumn Push",
        custom_fields={"Budget": 5000, "Reviewer": ["Diego Alvarez"]},
    )
    project = sandbox_state.folders[created["id"]]
    assert project.project is not None
    assert project.custom_fields == {
        fields["Budget"]: "5000",
        fields["Reviewer"]: person_id(sandbox_state, "Diego Alvarez"),
    }
    updated = await call(
        mcp,
        "update_project",
        project="Marketing/Campaigns/Autumn Push",
        custom_fields={"Budget": 7500.5, "Reviewer": None},
        status="In Progress",
    )
    assert project.custom_fields == {fields["Budget"]: "7500.5"}
    assert updated["changed"] == ["custom fields", "status"]
    (post, put) = await writes(sandbox_http)
    assert post["method"] == "POST" and put["method"] == "PUT"
    assert "customFields" in json.dumps(put["body"])
    assert "nothing to update" in await refused_up_front(
        mcp, sandbox_http, "update_project", project="Autumn Push", custom_fields={}
    )
    assert "checkbox" in await call_error(
        mcp, "update_project", project="Autumn Push", custom_fields={"Billable": "maybe"}
    )
    assert len(await api_calls(sandbox_http)) > 0


async def test_a_failed_folder_update_is_sent_once_and_reported_as_unknown(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    fault = {"method": "PUT", "path": "/api/v4/folders/*", "status": 503, "error": "server_error"}
    (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
    message = await call_error(mcp, "update_folder", folder="Marketing/Content", title="Stories")
    assert "outcome unknown" in message and "not retried" in message
    assert len([c for c in await api_calls(sandbox_http) if c[0] == "PUT"]) == 1
