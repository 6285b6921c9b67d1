"""Work intake: custom item types (lists, by id, instantiate) and request forms (lists, by id, prefill_url,
submit), as the intake reference describes them.

Expected results are read off the seeded entities in `state` with the test's own filters (a space's types,
the project types, a form's assignees and field mappings), not copied from seed_intake.py: the routes' filters
and rendering are what is tested, and a change to the seed data changes the expectation with it. Wrike's own
vocabulary (field names, error codes, question types) stays written out, as the reference gives it."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import (
    READONLY,
    api_client,
    contact_id,
    folder_id,
    item_type_id,
    request_form,
    task_id,
)
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.entities import FORM_QUESTION_TYPES


def _qid(form: Any, title: str) -> str:
    return str(next(q.id for q in form.questions if q.title == title))


def _fields(form: Any, answers: dict[str, Any]) -> dict[str, str]:
    return {"formFields": json.dumps([{"id": _qid(form, k), "value": v} for k, v in answers.items()])}


async def test_item_types_list_account_wide_and_per_space(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    listed = (await api.get("/custom_item_types")).json()
    assert listed["kind"] == "customItemTypes"
    live = [t for t in state.item_types.values() if not t.deleted]
    assert len(listed["data"]) == len(live) >= 8
    bug = next(t for t in listed["data"] if t["title"] == "Bug")
    engineering = folder_id(state, "Engineering")
    assert bug["relatedType"] == "Task" and bug["spaceId"] == engineering and bug["isDeleted"] is False
    assert bug["customFieldIds"] == state.item_types[bug["id"]].custom_field_ids != []
    meeting = next(t for t in listed["data"] if t["title"] == "Meeting")
    assert "spaceId" not in meeting  # an account-level type

    in_space = (await api.get(f"/spaces/{engineering}/custom_item_types")).json()["data"]
    engineering_types = sorted(t.title for t in live if t.space_id == engineering)
    assert sorted(t["title"] for t in in_space) == engineering_types and len(engineering_types) < len(live)
    projects = (await api.get("/custom_item_types", params={"type": "Project"})).json()["data"]
    project_types = sorted(t.id for t in live if t.related_type == "Project")
    assert sorted(t["id"] for t in projects) == project_types and 0 < len(project_types) < len(live)
    titled = (await api.get("/custom_item_types", params={"title": "review"})).json()["data"]
    reviews = sorted(t.id for t in live if "review" in t.title.casefold())
    assert sorted(t["id"] for t in titled) == reviews and len(reviews) > 1
    deleted = (await api.get("/custom_item_types", params={"withDeleted": "true"})).json()["data"]
    assert len(deleted) == len(state.item_types) and any(t["isDeleted"] for t in deleted)


async def test_item_types_by_id_take_a_thousand_ids_and_hide_deleted_ones(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    bug, retired = item_type_id(state, "Bug"), item_type_id(state, "Support ticket")
    both = (await api.get(f"/custom_item_types/{bug},{item_type_id(state, 'Meeting')}")).json()["data"]
    assert [t["title"] for t in both] == ["Bug", "Meeting"]
    gone = await api.get(f"/custom_item_types/{retired}")
    assert gone.status_code == 404 and gone.json()["error"] == "resource_not_found"
    shown = await api.get(f"/custom_item_types/{retired}", params={"withDeleted": "true"})
    assert shown.json()["data"][0]["isDeleted"] is True
    many = ",".join([bug] * 1001)
    assert (await api.get(f"/custom_item_types/{many}")).json()["error"] == "invalid_parameter"
    assert (await api.get(f"/custom_item_types/{','.join([bug] * 150)}")).status_code == 200


async def test_instantiate_creates_a_task_in_the_type_s_workflow(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    platform = folder_id(state, "Engineering/Platform")
    response = await api.post(
        f"/custom_item_types/{item_type_id(state, 'Bug')}/instantiate",
        data={"parentId": platform, "title": "Crash"},
    )
    assert response.status_code == 200, response.text
    created = response.json()["data"]
    assert created == [{"id": created[0]["id"], "relatedType": "Task"}]
    task = state.tasks[created[0]["id"]]
    assert task.title == "Crash" and task.parent_ids == [platform]
    assert task.custom_item_type_id == item_type_id(state, "Bug")
    workflow = state.workflows[state.custom_status(task.custom_status_id).workflow_id]  # type: ignore[union-attr]
    assert workflow.name == "Software Development"
    read = (await api.get(f"/tasks/{task.id}", params={"fields": '["customItemTypeId"]'})).json()["data"][0]
    assert read["customItemTypeId"] == item_type_id(state, "Bug")


async def test_instantiate_under_a_task_makes_a_subtask_and_projects_need_a_folder(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    above = task_id(state, "Draft launch announcement")
    path = f"/custom_item_types/{item_type_id(state, 'Design review', 'Marketing')}/instantiate"
    made = (await api.post(path, data={"superTaskId": above, "title": "Review the draft"})).json()["data"][0]
    assert state.tasks[made["id"]].super_task_ids == [above] and state.tasks[made["id"]].parent_ids == []

    campaign = f"/custom_item_types/{item_type_id(state, 'Campaign request')}/instantiate"
    campaigns = folder_id(state, "Marketing/Campaigns")
    project = (await api.post(campaign, data={"parentId": campaigns, "title": "Autumn"})).json()["data"][0]
    folder = state.folders[project["id"]]
    assert project["relatedType"] == "Project" and folder.project is not None
    assert folder.parent_ids == [campaigns] and folder.custom_item_type_id == item_type_id(
        state, "Campaign request"
    )
    refused = await api.post(campaign, data={"superTaskId": above, "title": "X"})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"


async def test_instantiate_errors_are_wrike_s(api: httpx.AsyncClient, state: SandboxState) -> None:
    bug = f"/custom_item_types/{item_type_id(state, 'Bug')}/instantiate"
    platform = folder_id(state, "Engineering/Platform")
    before = len(state.tasks)
    cases = [
        ({"title": "No parent"}, 400, "parameter_required"),
        ({"parentId": platform}, 400, "parameter_required"),
        (
            {"parentId": platform, "superTaskId": task_id(state, "Fix crash on login"), "title": "T"},
            400,
            None,
        ),
        ({"parentId": "IEAAB2CDI4ZZZZZZ", "title": "T"}, 400, "invalid_parameter"),
        (
            {"parentId": platform, "title": "T", "description": "not a parameter here"},
            400,
            "invalid_parameter",
        ),
    ]
    for body, status, code in cases:
        response = await api.post(bug, data=body)
        assert response.status_code == status, (body, response.text)
        assert code is None or response.json()["error"] == code
    missing = await api.post(
        "/custom_item_types/IEAAB2CDPYZZZZZZ/instantiate", data={"parentId": platform, "title": "T"}
    )
    assert missing.status_code == 404 and missing.json()["error"] == "resource_not_found"
    assert len(state.tasks) == before


async def test_scopes_read_only_lists_and_prefills_but_cannot_create(
    app: Starlette, state: SandboxState
) -> None:
    form = request_form(state, "Campaign request")
    async with api_client(app, READONLY) as readonly:
        assert (await readonly.get("/custom_item_types")).status_code == 200
        assert (await readonly.get("/request_forms")).status_code == 200
        prefill = await readonly.post(
            f"/request_forms/{form.id}/prefill_url", data=_fields(form, {"Campaign name": "X"})
        )
        assert prefill.status_code == 200
        for path in (
            f"/custom_item_types/{item_type_id(state, 'Bug')}/instantiate",
            f"/request_forms/{form.id}/submit",
        ):
            refused = await readonly.post(
                path, data={"title": "X", "parentId": folder_id(state, "Marketing")}
            )
            assert refused.status_code == 403 and refused.json()["error"] == "not_allowed"


async def test_forms_list_with_pages_and_questions(api: httpx.AsyncClient, state: SandboxState) -> None:
    listed = (await api.get("/request_forms")).json()
    assert listed["kind"] == "requestForms"
    seeded = list(state.request_forms.values())
    assert [f["id"] for f in listed["data"]] == [f.id for f in seeded] and len(seeded) > 1
    bug = next(f for f in listed["data"] if f["title"] == "Bug report")
    assert bug["spaceId"] == folder_id(state, "Engineering")
    entry, blocker = bug["pages"]
    assert entry["visibility"] == "ENTRY" and blocker["visibility"] == "ON_CONDITION"
    question = next(q for q in request_form(state, "Bug report").questions if q.title == "Severity")
    severity = next(f for f in entry["fields"] if f["title"] == "Severity")
    assert severity == {
        "id": question.id,
        "title": "Severity",
        "type": "SingleChoice",
        "mandatory": True,
        "helperText": question.helper_text,
        "options": question.options,
    }
    assert question.helper_text and question.options
    assert blocker["condition"] == {"fieldId": question.id, "values": ["Blocker"]}
    # the seeded forms ask every kind of question the sandbox renders
    kinds = {f["type"] for form in listed["data"] for page in form["pages"] for f in page["fields"]}
    assert kinds == set(FORM_QUESTION_TYPES)
    plain = (await api.get("/request_forms", params={"plainTextDescription": "true"})).json()["data"]
    assert "<" not in plain[0]["description"] and "<b>" in listed["data"][0]["description"]

    ops = folder_id(state, "Operations")
    in_ops = [f.id for f in seeded if f.space_id == ops]
    assert [f["id"] for f in (await api.get(f"/spaces/{ops}/request_forms")).json()["data"]] == in_ops
    assert 0 < len(in_ops) < len(seeded)
    one = (await api.get(f"/request_forms/{bug['id']}")).json()["data"]
    assert one == [bug]
    assert (await api.get("/request_forms/IEAAB2CDPFZZZZZZ")).json()["error"] == "resource_not_found"
    assert (await api.get(f"/request_forms/{bug['id']},{bug['id']}")).json()["error"] == "invalid_parameter"


async def test_forms_page_by_at_most_100(api: httpx.AsyncClient, state: SandboxState) -> None:
    seeded = [f.id for f in state.request_forms.values()]
    assert len(seeded) > 2
    first = (await api.get("/request_forms", params={"pageSize": "2"})).json()
    assert [f["id"] for f in first["data"]] == seeded[:2] and first["responseSize"] == len(seeded)
    rest = (await api.get("/request_forms", params={"nextPageToken": first["nextPageToken"]})).json()
    assert [f["id"] for f in rest["data"]] == seeded[2:] and "nextPageToken" not in rest
    assert (await api.get("/request_forms", params={"pageSize": "101"})).json()[
        "error"
    ] == "invalid_parameter"


async def test_legacy_form_numbers_convert_through_ids(api: httpx.AsyncClient, state: SandboxState) -> None:
    form = request_form(state, "Bug report")
    converted = (
        await api.get("/ids", params={"type": "ApiV2RequestForm", "ids": f'["{form.legacy_id}"]'})
    ).json()
    assert converted["data"] == [{"id": form.id, "apiV2Id": str(form.legacy_id)}]


async def test_submit_creates_a_task_with_the_answers(api: httpx.AsyncClient, state: SandboxState) -> None:
    form = request_form(state, "Bug report")
    sam = contact_id(state, "Sam Taylor")
    answers = {
        "Summary": "Login fails on iOS 19",
        "Severity": "Blocker",
        "Platforms": ["iOS", "API"],
        "Fix needed by": "2030-01-31",
        "Customer impact": "Every iOS user",
        "Incident owner": [sam],
    }
    response = await api.post(f"/request_forms/{form.id}/submit", data=_fields(form, answers))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "requestFormSubmissions"
    created = body["data"][0]
    assert set(created) == {"formId", "taskId"} and created["formId"] == form.id
    task = state.tasks[created["taskId"]]
    assert task.title == "Login fails on iOS 19"
    assert task.parent_ids == [form.target_folder_id]
    # the form's own assignees, then the person the answers name
    assert form.assignee_ids and task.responsible_ids == [*form.assignee_ids, sam]
    assert (
        task.dates.type == "Milestone"
        and task.dates.due is not None
        and task.dates.due.date().isoformat() == "2030-01-31"
    )
    assert "<b>Platforms</b>: iOS, API" in task.description and "Sam Taylor" in task.description
    assert task.custom_item_type_id == form.custom_item_type_id == item_type_id(state, "Bug")


async def test_submit_creates_a_project_with_owner_and_custom_fields(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    form = request_form(state, "Campaign request")
    emma = contact_id(state, "Emma Rossi")
    answers = {
        "Campaign name": "Winter sale",
        "Channel": "Email",
        "Launch date": "2030-11-02",
        "Campaign owner": [emma],
        "Budget (USD)": 2500,
    }
    created = (await api.post(f"/request_forms/{form.id}/submit", data=_fields(form, answers))).json()[
        "data"
    ][0]
    assert set(created) == {"formId", "projectId"}
    folder = state.folders[created["projectId"]]
    assert folder.title == "Winter sale" and folder.project is not None
    assert form.assignee_ids and folder.project.owner_ids == [*form.assignee_ids, emma]
    # each answer to a question mapped to a custom field, as Wrike keeps values: text
    mapped = {
        state.custom_fields[q.maps_to].title: str(answers[q.title])
        for q in form.questions
        if q.maps_to in state.custom_fields and q.title in answers
    }
    by_title = {state.custom_fields[k].title: v for k, v in folder.custom_fields.items()}
    assert by_title == mapped and len(mapped) > 1 and mapped["Budget"] == "2500"


async def test_submit_refuses_bad_answers_and_creates_nothing(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    bug = request_form(state, "Bug report")
    hire = request_form(state, "New hire request")
    ok = {"Summary": "S", "Severity": "Minor"}
    before = (len(state.tasks), len(state.folders))
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (bug, {"Summary": "S"}, "misses mandatory field"),
        (bug, {**ok, "Severity": "Critical"}, "must be one of: Blocker, Major, Minor"),
        (bug, {**ok, "Platforms": ["Windows"]}, "must be one of"),
        (bug, {**ok, "Fix needed by": "31/01/2030"}, "yyyy-MM-dd"),
        (bug, {**ok, "Customer impact": "x"}, "do not show"),  # a page the answers do not open
        (bug, {**ok, "Screenshot": "file.png"}, "cannot attach"),
        (bug, {"Summary": "S", "Severity": "Blocker", "Customer impact": "x"}, "misses mandatory field"),
        (
            bug,
            {"Summary": "S", "Severity": "Blocker", "Customer impact": "x", "Incident owner": ["KUAZZZZZ"]},
            "no active user",
        ),
        (
            hire,
            {
                "Role title": "R",
                "Hiring manager": [contact_id(state, "Ann Lee")],
                "Start date": "2030-01-01",
                "Team": "Marketing",
            },
            "takes files",
        ),
    ]
    for form, answers, expected in cases:
        response = await api.post(f"/request_forms/{form.id}/submit", data=_fields(form, answers))
        assert response.status_code == 400, (answers, response.text)
        assert expected in response.json()["errorDescription"], response.json()
    unknown = await api.post(
        f"/request_forms/{bug.id}/submit", data={"formFields": '[{"id": "q999", "value": "x"}]'}
    )
    assert "unknown form field" in unknown.json()["errorDescription"]
    assert (len(state.tasks), len(state.folders)) == before


async def test_prefill_url_links_the_form_and_creates_nothing(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    form = request_form(state, "New hire request")
    before = (len(state.tasks), len(state.folders))
    response = await api.post(
        f"/request_forms/{form.id}/prefill_url", data=_fields(form, {"Role title": "Data analyst"})
    )
    assert response.json()["kind"] == "requestFormPrefillUrl"
    url = response.json()["data"][0]["url"]
    assert url.startswith(f"https://www.wrike.com/workspace.htm#/forms?formid={form.legacy_id}&prefill=")
    token = url.rsplit("=", 1)[1]
    assert state.prefills[token] == {"formId": form.id, "answers": {_qid(form, "Role title"): "Data analyst"}}
    assert (len(state.tasks), len(state.folders)) == before
    missing = await api.post(f"/request_forms/{form.id}/prefill_url")
    assert missing.status_code == 400 and missing.json()["error"] == "parameter_required"


async def test_malformed_form_fields_answer_400_not_500(api: httpx.AsyncClient, state: SandboxState) -> None:
    form = request_form(state, "Bug report")
    for raw in ('[{"id": ["q1"], "value": "x"}]', '[{"value": "x"}]', '"text"', "[1, 2]", '{"id": "q9"}'):
        response = await api.post(f"/request_forms/{form.id}/submit", data={"formFields": raw})
        assert response.status_code == 400, (raw, response.text)
