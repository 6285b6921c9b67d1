"""Contacts, account, spaces, folders and projects, workflows, custom fields, ids, comments, timelogs."""

from __future__ import annotations

import json

import httpx

from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState


async def test_contacts(api: httpx.AsyncClient, state: SandboxState) -> None:
    everyone = (await api.get("/contacts")).json()["data"]
    names = {f"{c['firstName']} {c['lastName']}".strip() for c in everyone}
    assert {"Ann Lee", "Sam Taylor", "Sam Turner", "Old Contractor", "Marketing Team"} <= names
    group = next(c for c in everyone if c["type"] == "Group")
    assert group["memberIds"] and "profiles" in group
    assert [c for c in everyone if c.get("me")] == [next(c for c in everyone if c["firstName"] == "Ann")]
    active = (await api.get("/contacts", params={"deleted": "false"})).json()["data"]
    assert "Old Contractor" not in {f"{c['firstName']} {c['lastName']}" for c in active}
    two = [contact_id(state, "Ben Carter"), contact_id(state, "Chloe Martin")]
    got = (await api.get(f"/contacts/{','.join(two)}", params={"fields": '["metadata"]'})).json()["data"]
    assert [c["id"] for c in got] == two and all("metadata" in c for c in got)


async def test_contact_metadata_update(api: httpx.AsyncClient) -> None:
    updated = await api.put("/contacts/KUAAAAAB", json={"metadata": [{"key": "team", "value": "ops"}]})
    assert updated.json()["data"][0]["metadata"] == [{"key": "team", "value": "ops"}]
    found = await api.get("/contacts", params={"metadata": '{"key": "team", "value": "ops"}'})
    assert [c["id"] for c in found.json()["data"]] == ["KUAAAAAB"]


async def test_account_fields(api: httpx.AsyncClient) -> None:
    plain = (await api.get("/account")).json()["data"][0]
    assert "subscription" not in plain and plain["rootFolderId"] and plain["recycleBinId"]
    full = (await api.get("/account", params={"fields": '["subscription","customFields","metadata"]'})).json()
    account = full["data"][0]
    assert account["subscription"]["type"] == "Enterprise"
    assert {f["title"] for f in account["customFields"]} >= {"Budget", "Channel"}


async def test_spaces(api: httpx.AsyncClient) -> None:
    spaces = (await api.get("/spaces")).json()["data"]
    assert [s["title"] for s in spaces] == ["Marketing", "Engineering", "Operations"]
    one = (await api.get(f"/spaces/{spaces[0]['id']}", params={"fields": '["members"]'})).json()["data"][0]
    assert one["members"][0]["id"]


async def test_folder_tree_and_filters(api: httpx.AsyncClient, state: SandboxState) -> None:
    tree = await api.get("/folders")
    assert tree.json()["kind"] == "folderTree"
    entries = tree.json()["data"]
    scopes = {e["scope"] for e in entries}
    assert {"WsRoot", "RbRoot", "WsFolder", "RbFolder"} <= scopes
    assert sum(1 for e in entries if e["scope"] == "WsFolder" and not e.get("space")) >= 25
    projects = (await api.get("/folders", params={"project": "true"})).json()
    assert projects["kind"] == "folders"
    classic = {p["project"]["status"] for p in projects["data"] if "status" in p["project"]}
    assert classic == {"Green", "Yellow", "Red", "Cancelled"}  # Engineering keeps classic statuses
    in_workflow = [p for p in projects["data"] if "status" not in p["project"]]
    assert len(in_workflow) == 9 and all(p["project"]["customStatusId"] for p in in_workflow)
    assert all("description" not in p for p in projects["data"])
    campaigns = folder_id(state, "Marketing/Campaigns")
    direct = (await api.get(f"/folders/{campaigns}/folders", params={"descendants": "false"})).json()["data"]
    assert {f["title"] for f in direct} == {"Spring Campaign", "Q3 Launch", "Holiday Promo"}
    deep = (await api.get(f"/folders/{campaigns}/folders")).json()["data"]
    assert "Launch Assets" in {f["title"] for f in deep}
    space = folder_id(state, "Engineering")
    in_space = (await api.get(f"/spaces/{space}/folders", params={"project": "true"})).json()["data"]
    assert {"API Revamp", "Mobile App"} <= {f["title"] for f in in_space}
    q3 = state.folders[folder_id(state, "Marketing/Campaigns/Q3 Launch")]
    by_link = (await api.get("/folders", params={"permalink": q3.permalink})).json()["data"]
    assert [f["id"] for f in by_link] == [q3.id]
    two_plannings = [f for f in state.folders.values() if f.title == "Planning"]
    assert len(two_plannings) == 2


async def test_get_folders_by_id(api: httpx.AsyncClient, state: SandboxState) -> None:
    revamp = folder_id(state, "Engineering/Platform/API Revamp")
    folder = (await api.get(f"/folders/{revamp}", params={"fields": '["briefDescription"]'})).json()["data"][
        0
    ]
    assert folder["project"]["ownerIds"] == [contact_id(state, "Ben Carter")]
    assert folder["workflowId"] == next(
        w.id for w in state.workflows.values() if w.name == "Software Development"
    )
    assert folder["description"].startswith("<p>") and "briefDescription" in folder
    assert folder["childIds"] and folder["permalink"].startswith("https://www.wrike.com/open.htm?id=")


async def test_create_update_delete_restore_project(api: httpx.AsyncClient, state: SandboxState) -> None:
    parent = folder_id(state, "Engineering/Planning")  # a space on classic project statuses
    julia, ben = contact_id(state, "Julia Novak"), contact_id(state, "Ben Carter")
    created = await api.post(
        f"/folders/{parent}/folders",
        data={
            "title": "Interns 2031",
            "project": json.dumps({"ownerIds": [julia], "status": "Yellow", "startDate": "2031-01-01"}),
        },
    )
    project = created.json()["data"][0]
    assert project["project"]["status"] == "Yellow" and project["parentIds"] == [parent]
    updated = await api.put(
        f"/folders/{project['id']}",
        json={
            "title": "Interns 2032",
            "project": {"ownersAdd": [ben], "ownersRemove": [julia], "status": "Completed"},
        },
    )
    body = updated.json()["data"][0]
    assert body["title"] == "Interns 2032"
    assert body["project"]["ownerIds"] == [ben] and "completedDate" in body["project"]
    await api.post(f"/folders/{project['id']}/tasks", data={"title": "Inside"})
    deleted = (await api.delete(f"/folders/{project['id']}")).json()["data"][0]
    assert deleted["scope"] == "RbFolder"
    assert not (await api.get("/tasks", params={"title": "Inside"})).json()["data"]
    recycled = (await api.get(f"/folders/{state.folders[project['id']].id}/tasks")).json()["data"]
    assert [t["scope"] for t in recycled] == ["RbTask"]
    restored = (await api.put(f"/folders/{project['id']}", data={"restore": "true"})).json()["data"][0]
    assert restored["scope"] == "WsFolder"
    assert (await api.get("/tasks", params={"title": "Inside"})).json()["data"]
    as_folder = (await api.put(f"/folders/{project['id']}", json={"project": None})).json()["data"][0]
    assert "project" not in as_folder


async def test_folder_write_errors(api: httpx.AsyncClient, state: SandboxState) -> None:
    bin_id = "IEAAB2CDI7777776"
    refused = await api.post(f"/folders/{bin_id}/folders", data={"title": "x"})
    assert refused.status_code == 400 and "folderId" in refused.json()["errorDescription"]
    bad_status = await api.post(
        f"/folders/{folder_id(state, 'Marketing')}/folders",
        json={"title": "x", "project": {"status": "Purple"}},
    )
    assert "project.status" in bad_status.json()["errorDescription"]
    space = folder_id(state, "Marketing")
    assert (await api.delete(f"/folders/{space}")).json()["error"] == "invalid_request"


async def test_workflows_and_custom_fields(api: httpx.AsyncClient) -> None:
    workflows = (await api.get("/workflows")).json()["data"]
    software = next(w for w in workflows if w["name"] == "Software Development")
    groups = {s["name"]: s["group"] for s in software["customStatuses"]}
    assert groups == {
        "Backlog": "Active",
        "In Progress": "Active",
        "In Review": "Active",
        "QA": "Active",
        "Done": "Completed",
        "Blocked": "Deferred",
        "Won't Fix": "Cancelled",
    }
    for workflow in workflows:
        names = [s["name"] for s in workflow["customStatuses"]]
        assert len(names) == len(set(names))
    fields = (await api.get("/customfields")).json()["data"]
    assert {f["title"]: f["type"] for f in fields} == {
        "Budget": "Currency",
        "Story Points": "Numeric",
        "Channel": "DropDown",
        "Launch Date": "Date",
        "Reviewer": "Contacts",
        "Billable": "Checkbox",
        "Notes": "Text",
        "Sprint": "DropDown",  # Engineering's own field
        "Old Priority": "Text",  # archived
    }
    two = (await api.get(f"/customfields/{fields[0]['id']},{fields[1]['id']}")).json()["data"]
    assert len(two) == 2


async def test_legacy_id_conversion(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = state.tasks[task_id(state, "Draft launch announcement")]
    folder = state.folders[folder_id(state, "Marketing/Campaigns/Q3 Launch")]
    converted = await api.get("/ids", params={"type": "ApiV2Task", "ids": f'["{task.legacy_id}", "1"]'})
    assert converted.json() == {"kind": "ids", "data": [{"id": task.id, "apiV2Id": str(task.legacy_id)}]}
    bare = await api.get("/ids", params={"type": "ApiV2Folder", "ids": str(folder.legacy_id)})
    assert bare.json()["data"][0]["id"] == folder.id
    assert (await api.get("/ids", params={"type": "Nope", "ids": "[1]"})).json()[
        "error"
    ] == "invalid_parameter"
    assert (await api.get("/ids", params={"type": "ApiV2Task"})).json()["error"] == "parameter_required"


async def test_comments(api: httpx.AsyncClient, state: SandboxState) -> None:
    recent = (await api.get("/comments")).json()["data"]
    assert recent and all(c.get("taskId") or c.get("folderId") for c in recent)
    too_long = await api.get(
        "/comments",
        params={"updatedDate": '{"start": "2020-01-01T00:00:00Z", "end": "2020-02-01T00:00:00Z"}'},
    )
    assert "updatedDate" in too_long.json()["errorDescription"]
    task = task_id(state, "Draft launch announcement")
    added = (await api.post(f"/tasks/{task}/comments", data={"text": "<p>Hi <b>team</b></p>"})).json()[
        "data"
    ][0]
    assert added["taskId"] == task and added["authorId"] == "KUAAAAAB"
    plain = (await api.get(f"/tasks/{task}/comments", params={"plainText": "true"})).json()["data"]
    assert plain[-1]["text"] == "Hi team"
    edited = await api.put(f"/comments/{added['id']}", json={"text": "edited"})
    assert edited.json()["data"][0]["text"] == "edited"
    state.clock_offset += 6 * 60  # Wrike allows edits for 5 minutes only
    late = await api.put(f"/comments/{added['id']}", json={"text": "too late"})
    assert (late.status_code, late.json()["error"]) == (403, "not_allowed")
    assert (await api.delete(f"/comments/{added['id']}")).json() == {"kind": "comments", "data": []}
    empty = await api.post(f"/tasks/{task}/comments", data={"text": "  "})
    assert "text" in empty.json()["errorDescription"]
    folder = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    assert (await api.get(f"/folders/{folder}/comments")).json()["data"]


async def test_timelogs(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    logged = await api.post(
        f"/tasks/{task}/timelogs", data={"hours": "1.5", "trackedDate": "2030-03-04", "comment": "Drafting"}
    )
    entry = logged.json()["data"][0]
    assert (entry["hours"], entry["trackedDate"], entry["userId"]) == (1.5, "2030-03-04", "KUAAAAAB")
    mine = await api.get(
        "/timelogs", params={"me": "true", "trackedDate": '{"start": "2030-03-01", "end": "2030-03-05"}'}
    )
    assert [t["id"] for t in mine.json()["data"]] == [entry["id"]]
    # Both forms are taken: the plain dates above, and the descriptions' timestamp range (semi-open: an end at
    # midnight leaves that day out, one at 23:59:59 keeps it).
    for start, end, found in (
        ("2030-03-04T00:00:00Z", "2030-03-04T23:59:59Z", [entry["id"]]),
        ("2030-03-01T00:00:00Z", "2030-03-04T00:00:00Z", []),
        ("2030-03-04T00:00:01Z", "2030-03-09T00:00:00Z", []),
    ):
        ranged = f'{{"start": "{start}", "end": "{end}"}}'
        answer = await api.get("/timelogs", params={"me": "true", "trackedDate": ranged})
        assert [t["id"] for t in answer.json()["data"]] == found, (start, end)
    garbled = await api.get("/timelogs", params={"trackedDate": '{"start": "2030-03-01T00:00"}'})
    assert "trackedDate.start" in garbled.json()["errorDescription"]
    assert entry["id"] in [t["id"] for t in (await api.get(f"/tasks/{task}/timelogs")).json()["data"]]
    assert entry["id"] in [t["id"] for t in (await api.get("/contacts/KUAAAAAB/timelogs")).json()["data"]]
    too_many = await api.post(
        f"/tasks/{task}/timelogs", data={"hours": "25", "trackedDate": "2030-03-04", "comment": "x"}
    )
    assert "hours" in too_many.json()["errorDescription"]
    # trackedDate and a comment are required: 400 invalid_parameter as live Wrike answers a missing date
    for missing in ("trackedDate", "comment"):
        form = {"hours": "1", "trackedDate": "2030-03-04", "comment": "Drafting"}
        del form[missing]
        refused = await api.post(f"/tasks/{task}/timelogs", data=form)
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_parameter")
        assert missing in refused.json()["errorDescription"]
    blank = {"hours": "1", "trackedDate": "2030-03-04", "comment": "  "}
    assert (await api.post(f"/tasks/{task}/timelogs", data=blank)).status_code == 400
    changed = await api.put(f"/timelogs/{entry['id']}", json={"hours": 2})
    assert changed.json()["data"][0]["hours"] == 2
    assert (await api.delete(f"/timelogs/{entry['id']}")).json()["data"] == []
