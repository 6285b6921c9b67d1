"""Project workflows and the other 2026 shapes of spaces, custom fields, contacts and comments."""

from __future__ import annotations

import json

import httpx

from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState


def _status_id(state: SandboxState, workflow: str, name: str) -> str:
    found = next(w for w in state.workflows.values() if w.name == workflow)
    return next(s.id for s in found.statuses if s.name == name)


async def test_spaces_name_their_project_and_task_workflows(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    spaces = {s["title"]: s for s in (await api.get("/spaces")).json()["data"]}
    project_wf = next(w.id for w in state.workflows.values() if w.name == "Default Project Workflow")
    marketing = spaces["Marketing"]
    assert marketing["defaultProjectWorkflowId"] == project_wf
    assert marketing["suggestedProjectWorkflowIds"] == [project_wf]
    assert marketing["defaultTaskWorkflowId"] in state.workflows
    assert marketing["description"] == "<p>Marketing space</p>"
    assert "defaultProjectWorkflowId" not in spaces["Engineering"]  # still on classic project statuses
    one = (await api.get(f"/spaces/{marketing['id']}")).json()["data"][0]
    assert one["defaultProjectWorkflowId"] == project_wf


async def test_a_project_in_a_project_workflow_has_a_custom_status_and_no_status(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    project = (await api.get(f"/folders/{q3}")).json()["data"][0]["project"]
    assert "status" not in project
    assert project["customStatusId"] == _status_id(state, "Default Project Workflow", "Planning")
    tree_entry = next(e for e in (await api.get("/folders")).json()["data"] if e["id"] == q3)
    assert "status" not in tree_entry["project"]


async def test_creating_a_project_in_a_workflow_space_starts_at_the_default_active_status(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    parent = folder_id(state, "Operations/Hiring")
    created = await api.post(
        f"/folders/{parent}/folders",
        data={"title": "Interns", "project": json.dumps({"ownerIds": [contact_id(state, "Julia Novak")]})},
    )
    project = created.json()["data"][0]["project"]
    assert project["customStatusId"] == _status_id(state, "Default Project Workflow", "Planning")
    assert "status" not in project


async def test_project_custom_status_updates_and_completion(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    done = _status_id(state, "Default Project Workflow", "Done")
    body = (await api.put(f"/folders/{q3}", json={"project": {"customStatusId": done}})).json()["data"][0]
    assert body["project"]["customStatusId"] == done and "completedDate" in body["project"]
    planning = _status_id(state, "Default Project Workflow", "Planning")
    body = (await api.put(f"/folders/{q3}", json={"project": {"customStatusId": planning}})).json()["data"][0]
    assert "completedDate" not in body["project"]


async def test_project_status_errors(api: httpx.AsyncClient, state: SandboxState) -> None:
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    classic = await api.put(f"/folders/{q3}", json={"project": {"status": "Green"}})
    assert classic.status_code == 400 and "project.customStatusId" in classic.json()["errorDescription"]
    task_status = _status_id(state, "Default Workflow", "In Progress")
    wrong_kind = await api.put(f"/folders/{q3}", json={"project": {"customStatusId": task_status}})
    assert wrong_kind.status_code == 400 and "project workflow" in wrong_kind.json()["errorDescription"]


async def test_a_project_status_is_not_a_task_status(api: httpx.AsyncClient, state: SandboxState) -> None:
    task = task_id(state, "Draft launch announcement")
    project_status = _status_id(state, "Default Project Workflow", "In Progress")
    refused = await api.put(f"/tasks/{task}", json={"customStatus": project_status})
    assert refused.status_code == 400 and "project status" in refused.json()["errorDescription"]


async def test_folders_filter_by_custom_statuses(api: httpx.AsyncClient, state: SandboxState) -> None:
    on_hold = _status_id(state, "Default Project Workflow", "On Hold")
    found = (await api.get("/folders", params={"customStatuses": json.dumps([on_hold])})).json()["data"]
    assert {f["title"] for f in found} == {"Brand Refresh", "Vendor Review"}


async def test_space_workflows_and_custom_fields(api: httpx.AsyncClient, state: SandboxState) -> None:
    engineering = folder_id(state, "Engineering")
    workflows = (await api.get(f"/spaces/{engineering}/workflows")).json()["data"]
    assert {"Default Workflow", "Software Development", "Default Project Workflow"} <= {
        w["name"] for w in workflows
    }
    fields = (await api.get(f"/spaces/{engineering}/customfields")).json()["data"]
    assert [(f["title"], f["spaceId"]) for f in fields] == [("Sprint", engineering)]
    assert fields[0]["settings"]["options"][0] == {"value": "Sprint 41", "color": "Gray"}
    marketing = folder_id(state, "Marketing")
    assert (await api.get(f"/spaces/{marketing}/customfields")).json()["data"] == []


async def test_archived_custom_fields_say_so(api: httpx.AsyncClient) -> None:
    fields = {f["title"]: f for f in (await api.get("/customfields")).json()["data"]}
    assert fields["Old Priority"]["archived"] is True and fields["Old Priority"]["archivedOn"]
    assert fields["Budget"]["archived"] is False and "archivedOn" not in fields["Budget"]
    dropdowns = (await api.get("/customfields", params={"types": '["DropDown"]'})).json()["data"]
    assert {f["title"] for f in dropdowns} == {"Channel", "Sprint"}


async def test_contact_profiles_say_whether_active(api: httpx.AsyncClient, state: SandboxState) -> None:
    people = {c["id"]: c for c in (await api.get("/contacts")).json()["data"]}
    assert people[contact_id(state, "Ann Lee")]["profiles"][0]["active"] is True
    assert people[contact_id(state, "Old Contractor")]["profiles"][0]["active"] is False


async def test_comments_carry_updated_date_and_filter_by_created_date(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    comments = (await api.get("/comments")).json()["data"]
    assert comments and all("updatedDate" in c for c in comments)
    newest = max(state.comments.values(), key=lambda c: c.created)
    day = newest.created.strftime("%Y-%m-%d")
    window = json.dumps({"start": f"{day}T00:00:00Z", "end": f"{day}T23:59:59Z"})
    created = (await api.get("/comments", params={"createdDate": window})).json()["data"]
    assert newest.id in {c["id"] for c in created}


async def test_bulk_update_changes_several_tasks_at_once(api: httpx.AsyncClient, state: SandboxState) -> None:
    first, second = task_id(state, "Draft launch announcement"), task_id(state, "Book launch venue")
    ben = contact_id(state, "Ben Carter")
    done = _status_id(state, "Default Workflow", "Completed")
    response = await api.put(
        f"/tasks/{first},{second}", json={"addResponsibles": [ben], "customStatus": done}
    )
    assert response.status_code == 200, response.text
    assert [t["id"] for t in response.json()["data"]] == [first, second]
    for ident in (first, second):
        assert ben in state.tasks[ident].responsible_ids and state.tasks[ident].status == "Completed"
    refused = await api.put(f"/tasks/{first},{second}", json={"title": "Same title"})
    assert refused.status_code == 400 and "several tasks" in refused.json()["errorDescription"]
