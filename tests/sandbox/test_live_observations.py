"""One test per fact of `wrike-live-observations.md` (what real Wrike accounts were seen to do in 2026): the
sandbox must behave so. Each test quotes the observation it checks; docs/FIDELITY.md lists them.

Not here: attachments (the X-File-Name rule and the attachment fields) — the sandbox has no attachments yet
(issue 12); the comparison with Wrike's own MCP server, which is not a behaviour of Wrike's API."""

from __future__ import annotations

import re

import httpx

from tests.sandbox.sandbox_helpers import (
    CLIENT,
    REDIRECT,
    authorize,
    bearer,
    contact_id,
    exchange,
    folder_id,
    task_id,
)
from wrike_mcp.sandbox import SandboxState

# ---- Folders, projects, spaces, workflows -----------------------------------------------------------------


async def test_projects_are_folders_carrying_a_custom_status(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    """[live] Projects were read as folders carrying project.customStatusId."""
    projects = (await api.get("/folders", params={"project": "true"})).json()["data"]
    assert any(p["project"].get("customStatusId") for p in projects)


async def test_a_project_in_the_tree_has_no_status_field(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[sample] project: {authorId, ownerIds, customStatusId, createdDate}, no status."""
    spring = folder_id(state, "Marketing/Campaigns/Spring Campaign")
    entry = next(e for e in (await api.get("/folders")).json()["data"] if e["id"] == spring)
    assert {"authorId", "ownerIds", "customStatusId", "createdDate"} <= set(entry["project"])
    assert "status" not in entry["project"]


async def test_spaces_name_their_default_workflows(api: httpx.AsyncClient) -> None:
    """[sample] GET /spaces items carry defaultProjectWorkflowId and defaultTaskWorkflowId (ver154 adds the
    suggested lists and description)."""
    marketing = next(s for s in (await api.get("/spaces")).json()["data"] if s["title"] == "Marketing")
    assert {
        "defaultProjectWorkflowId",
        "defaultTaskWorkflowId",
        "suggestedProjectWorkflowIds",
        "suggestedTaskWorkflowIds",
        "description",
    } <= set(marketing)


async def test_tree_scopes(api: httpx.AsyncClient) -> None:
    """[sample] The folder tree's root entry has scope WsRoot; folders and projects WsFolder."""
    entries = (await api.get("/folders")).json()["data"]
    assert entries[0]["scope"] == "WsRoot"
    assert {e["scope"] for e in entries if "project" in e} == {"WsFolder"}


async def test_space_workflows_and_custom_fields_exist(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[sample] GET /spaces/{id}/workflows and GET /spaces/{id}/customfields exist."""
    space = folder_id(state, "Engineering")
    assert (await api.get(f"/spaces/{space}/workflows")).status_code == 200
    assert (await api.get(f"/spaces/{space}/customfields")).status_code == 200


async def test_custom_statuses_fields(api: httpx.AsyncClient) -> None:
    """[sample] A workflow's custom statuses carry id, name, color, group, hidden."""
    for workflow in (await api.get("/workflows")).json()["data"]:
        for status in workflow["customStatuses"]:
            assert {"id", "name", "color", "group", "hidden"} <= set(status)


# ---- Tasks -------------------------------------------------------------------------------------------------

ZONELESS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


async def test_task_dates_are_zoneless_with_duration(api: httpx.AsyncClient) -> None:
    """[sample] dates is {type, duration, start, due} with date-times without zone, duration in minutes."""
    tasks = (await api.get("/tasks", params={"type": "Planned"})).json()["data"]
    assert tasks
    for task in tasks:
        dates = task["dates"]
        assert {"type", "duration", "start", "due"} <= set(dates)
        assert ZONELESS.match(dates["start"]) and ZONELESS.match(dates["due"])
        assert isinstance(dates["duration"], int)


async def test_tasks_carry_custom_status_and_scope(api: httpx.AsyncClient) -> None:
    """[sample] Tasks carry customStatusId next to status, and scope WsTask."""
    for task in (await api.get("/tasks")).json()["data"]:
        assert task["customStatusId"] and task["status"] and task["scope"] == "WsTask"


async def test_bulk_task_update(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[sample] PUT /tasks/{id},{id},… updates several tasks at once."""
    first, second = task_id(state, "Draft launch announcement"), task_id(state, "Book launch venue")
    ben = contact_id(state, "Ben Carter")
    response = await api.put(f"/tasks/{first},{second}", json={"addResponsibles": [ben]})
    assert response.status_code == 200
    assert all(ben in state.tasks[t].responsible_ids for t in (first, second))


# ---- Contacts, groups, custom fields ------------------------------------------------------------------------


async def test_contact_profiles(api: httpx.AsyncClient) -> None:
    """[sample] A contact's profiles[] entries: accountId, email, role, external, admin, owner, active."""
    person = next(c for c in (await api.get("/contacts")).json()["data"] if c["type"] == "Person")
    assert {"accountId", "email", "role", "external", "admin", "owner", "active"} <= set(
        person["profiles"][0]
    )


async def test_groups(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[sample] GET /groups: id, accountId, title, memberIds, childIds, parentIds, myTeam."""
    groups = (await api.get("/groups")).json()["data"]
    team = next(g for g in groups if g["title"] == "Marketing Team")
    assert {"id", "accountId", "title", "memberIds", "childIds", "parentIds", "myTeam"} <= set(team)
    assert team["myTeam"] is True and contact_id(state, "Ann Lee") in team["memberIds"]


async def test_custom_field_shape(api: httpx.AsyncClient) -> None:
    """[sample] A custom field: id, accountId, title, type, spaceId, settings {values, options [{value,
    color}]} (ver154 adds archived, archivedBy, archivedOn)."""
    fields = {f["title"]: f for f in (await api.get("/customfields")).json()["data"]}
    sprint = fields["Sprint"]
    assert {"id", "accountId", "title", "type", "spaceId", "settings", "archived"} <= set(sprint)
    assert sprint["settings"]["values"] and set(sprint["settings"]["options"][0]) == {"value", "color"}
    assert {"archivedBy", "archivedOn"} <= set(fields["Old Priority"])


# ---- Ids -----------------------------------------------------------------------------------------------------

SHORT_ID = re.compile(r"^[A-Za-z0-9_-]{12}$")
CLASSIC_ID = re.compile(r"^[A-Z0-9]{16}$")


async def test_short_and_classic_ids_side_by_side(api: httpx.AsyncClient) -> None:
    """[sample] Since 2025 new tasks, folders and spaces get short mixed-case 12-character ids, next to
    classic 16-character upper-case ids; any real account has both kinds."""
    tasks = (await api.get("/tasks", params={"pageSize": "1000"})).json()["data"]
    assert any(SHORT_ID.match(t["id"]) for t in tasks) and any(CLASSIC_ID.match(t["id"]) for t in tasks)
    spaces = (await api.get("/spaces")).json()["data"]
    assert any(SHORT_ID.match(s["id"]) for s in spaces) and any(CLASSIC_ID.match(s["id"]) for s in spaces)
    created = await api.post(f"/folders/{spaces[0]['id']}/tasks", data={"title": "Made in 2026"})
    assert SHORT_ID.match(created.json()["data"][0]["id"])


# ---- Titles --------------------------------------------------------------------------------------------------


async def test_title_filter_is_a_contains_match(api: httpx.AsyncClient) -> None:
    """[ver154] The title filter of task and folder lists is a contains match."""
    tasks = (await api.get("/tasks", params={"title": "launch"})).json()["data"]
    assert len({t["title"] for t in tasks}) > 1 and all("launch" in t["title"].casefold() for t in tasks)
    folders = (await api.get("/folders", params={"title": "Launch"})).json()["data"]
    assert {"Q3 Launch", "Launch Assets"} <= {f["title"] for f in folders}


# ---- Deleting --------------------------------------------------------------------------------------------------


async def test_deleting_a_comment_answers_empty_data(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[live] DELETE /comments/{id} succeeds with an empty data list; a later read answers not found."""
    comment = next(iter(state.comments))
    deleted = await api.delete(f"/comments/{comment}")
    assert deleted.status_code == 200 and deleted.json()["data"] == []
    assert (await api.get(f"/comments/{comment}")).status_code == 404


async def test_deleting_a_folder_recycles_its_subtree(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[live] Deleting a folder moves it with its subtree to the Recycle Bin; its task is found there under
    the deleted folder."""
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch/Launch Assets")
    task = next(t for t in state.tasks.values() if folder in t.parent_ids and not t.deleted)
    assert (await api.delete(f"/folders/{folder}")).status_code == 200
    recycled = (await api.get(f"/folders/{folder}/tasks")).json()["data"]
    assert task.id in {t["id"] for t in recycled} and {t["scope"] for t in recycled} == {"RbTask"}


# ---- Errors and plans ----------------------------------------------------------------------------------------


async def test_plan_limits_answer_403_not_allowed(team: httpx.AsyncClient) -> None:
    """[live] What a plan does not include answers 403 not_allowed (account-wide GET /comments, POST
    /tasks/{id}/timelogs with complete inputs), while a comment created in the same run stays readable."""
    task = (await team.get("/tasks", params={"pageSize": "1"})).json()["data"][0]["id"]
    comments = await team.get("/comments")
    assert comments.status_code == 403 and comments.json()["error"] == "not_allowed"
    timelog = await team.post(
        f"/tasks/{task}/timelogs", data={"hours": "1", "trackedDate": "2026-08-06", "comment": "work"}
    )
    assert timelog.status_code == 403 and timelog.json()["error"] == "not_allowed"
    made = (await team.post(f"/tasks/{task}/comments", data={"text": "still readable"})).json()["data"][0]
    assert (await team.get(f"/comments/{made['id']}")).status_code == 200


async def test_team_plan_refuses_task_status_and_takes_custom_status(
    team: httpx.AsyncClient, state: SandboxState
) -> None:
    """[OpenAPI ver154] status on task create/update is not available on the Team plan; customStatus is."""
    task = (await team.get("/tasks", params={"pageSize": "1"})).json()["data"][0]
    refused = await team.put(f"/tasks/{task['id']}", data={"status": "Completed"})
    assert refused.status_code == 403 and refused.json()["error"] == "not_allowed"
    workflows = (await team.get("/workflows")).json()["data"]
    done = next(
        s["id"] for w in workflows if w["standard"] for s in w["customStatuses"] if s["group"] == "Completed"
    )
    assert (await team.put(f"/tasks/{task['id']}", data={"customStatus": done})).status_code == 200


async def test_timelog_needs_tracked_date_and_comment(api: httpx.AsyncClient, state: SandboxState) -> None:
    """[live] POST /tasks/{id}/timelogs without trackedDate answers 400 invalid_parameter; trackedDate and
    comment are both required."""
    task = task_id(state, "Draft launch announcement")
    no_date = await api.post(f"/tasks/{task}/timelogs", data={"hours": "1", "comment": "work"})
    assert no_date.status_code == 400 and no_date.json()["error"] == "invalid_parameter"
    no_comment = await api.post(f"/tasks/{task}/timelogs", data={"hours": "1", "trackedDate": "2026-08-06"})
    assert no_comment.status_code == 400 and "comment" in no_comment.json()["errorDescription"]


# ---- OAuth --------------------------------------------------------------------------------------------------


async def test_unregistered_redirect_uri_gets_400(raw: httpx.AsyncClient) -> None:
    """[live] The authorize endpoint answers HTTP 400 "Redirect uri is missing or invalid" for a redirect URI
    not registered for the app."""
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": "https://evil.example/cb",
    }
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 400 and "Redirect uri is missing or invalid" in response.text


async def test_plain_http_loopback_redirect_completes_the_flow(raw: httpx.AsyncClient) -> None:
    """[live] A plain-HTTP loopback redirect URI completed the whole flow."""
    assert REDIRECT.startswith("http://127.0.0.1:")
    tokens = (await exchange(raw, await authorize(raw))).json()
    assert (await raw.get("/api/v4/account", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_wrong_client_secret_answers_unauthorized_client(raw: httpx.AsyncClient) -> None:
    """[live] With a valid code but a client secret that does not match the app, the token endpoint answers
    unauthorized_client."""
    response = await exchange(raw, await authorize(raw), client_secret="not-the-secret")
    assert response.json()["error"] == "unauthorized_client"


async def test_refresh_answers_may_omit_scope_and_refresh_token(raw: httpx.AsyncClient) -> None:
    """Refresh responses may omit scope or refresh_token (RFC 6749 §5.1, §6): the sandbox can be told to."""
    tokens = (await exchange(raw, await authorize(raw))).json()
    await raw.post("/_sandbox/oauth", json={"refresh_omits": ["scope", "refresh_token"]})
    form = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refreshed = (await raw.post("/oauth2/token", data=form)).json()
    assert refreshed["access_token"] and "scope" not in refreshed and "refresh_token" not in refreshed
