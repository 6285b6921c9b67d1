"""Fidelity against what Wrike documents, both vendored in tests/data: the 2026 digest of Wrike's OpenAPI
description (version 154), which describes today's Wrike, and the 2020 reference data, still the only source
of scopes and of nested models. Every route, parameter, enum value, optional field and response field the
sandbox has must be documented in one of them; the 2026 one wins where they disagree."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.sandbox import wrike_digest
from tests.sandbox.sandbox_helpers import contact_id, folder_id, task_id
from wrike_mcp.sandbox import SandboxState
from wrike_mcp.sandbox.routes import all_routes
from wrike_mcp.wrike.audit_log import AUDIT_OBJECT_TYPES, AUDIT_OPERATIONS

REFERENCE = Path(__file__).parent.parent / "data" / "wrike-api-v4-reference-2020.json"
# Routes neither document above has (custom item types, request forms): the team's 2026 intake reference,
# whose sections are headed `### 1.4 POST /custom_item_types/{customItemTypeId}/instantiate — …`.
INTAKE = Path(__file__).parent.parent / "data" / "wrike-api-v4-intake-2026.md"
_INTAKE_HEADING = re.compile(r"^### (\d+\.\d+) (GET|POST|PUT|DELETE) (/\S+)", re.M)

# Nested fields the sandbox emits that the 2020 response models lack (the digest does not expand nested
# models), each with its source.
ALLOWED_EXTRA = {
    # `space` is in the `fields` enum of the 2020 folder queries (model22/24) but missing from the Folder
    # model itself; the sandbox emits it only when asked for through `fields`.
    ("Folder", "space"),
    ("User profile", "active"),  # 2026 sample: profiles[].active
    ("Custom status", "hidden"),  # 2026 sample: a workflow's custom statuses carry hidden
    ("Custom field settings", "options"),  # 2026 sample: settings.options [{value, color}]
    # The account's custom fields are custom field definitions, which the 2026 digest extends.
    *(
        ("Custom field description", name)
        for name in ("description", "archived", "spaceId", "archivedBy", "archivedOn")
    ),
}


# Parameters the sandbox takes beyond both documents, each with its source.
EXTRA_PARAMS = {
    # [assumption] withUrls as on the digest's GET /tasks/{taskId}/attachments: the by-id read of the
    # wrike-mcp tools asks for a download link the same way.
    ("GET", "/attachments/{attachmentIds}"): {"withUrls"},
}

# Enum values of response fields beyond both documents, each with its source.
ASSUMED_VALUES = {
    # [assumption] the 2020 enum names only CopyFolder; the digest gives launch_async the same async-job
    # record without listing types, so the sandbox names a blueprint launch's job after what it does.
    ("Async job", "type"): {"FolderBlueprintLaunch", "TaskBlueprintLaunch"},
}


def _newer_values() -> dict[tuple[str, str], set[str]]:
    """Enum values of response fields that the 2026 digest adds to the 2020 reference."""
    digest = wrike_digest.load()
    audit = digest.endpoint("GET", "/audit_log")
    assert audit is not None
    return {
        ("Audit Log", "operation"): set(digest.audit_operations),
        ("Audit Log", "objectType"): set(audit.params["objectType"]),
        **ASSUMED_VALUES,
    }


def _load() -> tuple[dict[str, Any], list[tuple[str, str, list[str], str | None, str | None]]]:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    models = {mid: body for entry in ref["models"] for mid, body in entry.items()}
    methods = [
        (m["httpMethod"], m["path"], group["scopes"], m["requestModelRef"], m["responseModelRef"])
        for entity in ref["entities"]
        for group in entity["methodGroups"]
        for m in group["methods"]
    ]
    return models, methods


def _normalise(path: str) -> str:
    path = path.split(" - ")[0]
    path = re.sub(r",\{\w+\},\.\.\.", "", path)
    return re.sub(r"\{\w+\}", "{}", path)


def _reference_for(method: str, path: str) -> list[tuple[str, str, list[str], str | None, str | None]]:
    _, methods = _load()
    return [m for m in methods if m[0] == method and _normalise(m[1]) == _normalise(path)]


def _intake() -> dict[tuple[str, str], tuple[set[str], frozenset[str] | None]]:
    """(method, path) → (the names a section of the intake reference puts in backticks, its scopes or None
    where it states none); a section saying "same query params as 2.1" takes 2.1's names too."""
    text = INTAKE.read_text(encoding="utf-8")
    heads = list(_INTAKE_HEADING.finditer(text))
    bodies: dict[str, str] = {}
    routes: dict[str, tuple[str, str]] = {}
    for index, head in enumerate(heads):
        end = heads[index + 1].start() if index + 1 < len(heads) else len(text)
        bodies[head.group(1)] = text[head.end() : end].split("\n## ", 1)[0]
        routes[head.group(1)] = (head.group(2), _normalise(head.group(3)))
    found = {}
    for number, body in bodies.items():
        names = set(re.findall(r"`(\w+)`", body))
        for other in re.findall(r"(?:same query params as|identical to) (\d+\.\d+)", body):
            names |= set(re.findall(r"`(\w+)`", bodies[other]))
        scopes = re.search(r"[Ss]copes:?\*{0,2} ((?:`\w+`(?:, )?)+)", body)
        listed = frozenset(re.findall(r"`(\w+)`", scopes.group(1))) if scopes else None
        found[routes[number]] = (names, listed)
    return found


def test_every_route_is_documented_with_its_scopes_and_parameters() -> None:
    models, _ = _load()
    digest = wrike_digest.load()
    intake = _intake()
    for api_route in all_routes():
        documented = digest.endpoint(api_route.method, api_route.path)
        matches = _reference_for(api_route.method, api_route.path)
        in_intake = intake.get((api_route.method, _normalise(api_route.path)))
        if in_intake is not None and not (documented or matches):
            names, stated = in_intake
            assert api_route.params <= names, (api_route.path, api_route.params - names)
            # Where the reference states no scopes (submit), docs/FIDELITY.md marks the sandbox's an assumption.
            assert stated is None or api_route.scopes == stated, (api_route.path, api_route.scopes, stated)
            continue
        assert documented or matches, f"{api_route.method} {api_route.path} is documented nowhere"
        if matches:  # scopes are only in the 2020 reference
            scopes = {frozenset(m[2] or []) for m in matches}
            expected = frozenset() if api_route.scopes is None else api_route.scopes
            assert expected in scopes, (api_route.path, expected, scopes)
        allowed = {p["name"] for m in matches if m[3] for p in models[m[3]]["params"]}
        allowed |= set(documented.params) if documented else set()
        allowed |= EXTRA_PARAMS.get((api_route.method, api_route.path), set())
        assert api_route.params <= allowed, (api_route.method, api_route.path, api_route.params - allowed)


def test_the_audit_vocabulary_is_the_digest_s() -> None:
    digest = wrike_digest.load()
    audit = digest.endpoint("GET", "/audit_log")
    assert audit is not None
    assert set(AUDIT_OPERATIONS) == set(digest.audit_operations)
    assert set(AUDIT_OBJECT_TYPES) == set(audit.params["objectType"])


def test_the_digest_is_read_whole() -> None:
    digest = wrike_digest.load()
    assert len(digest.endpoints) >= 75
    assert len(digest.audit_operations) == 157
    tasks = digest.endpoint("GET", "/tasks")
    assert tasks is not None
    assert {"title", "customStatuses", "status", "sortField"} <= set(tasks.params)
    assert tasks.params["status"] == ["Active", "Deferred", "Completed", "Cancelled"]
    assert {"status", "customStatusId", "dates", "permalink"} <= tasks.returns
    folders_of_space = digest.endpoint("GET", "/spaces/{spaceId}/folders")
    assert folders_of_space is not None and "customStatuses" in folders_of_space.params


TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "optional boolean": bool,
    "number": (int, float),
    "array": list,
    "object": dict,
}


def _enum(comment: str | None) -> list[str] | None:
    if not comment or "Enum: " not in comment:
        return None
    return [value.strip() for value in comment.split("Enum: ", 1)[1].split(",")]


def check_model(
    value: dict[str, Any],
    model_id: str,
    models: dict[str, Any],
    where: str,
    documented_2026: frozenset[str] = frozenset(),
) -> None:
    """`value` against the 2020 model; a top-level field the 2020 model lacks passes when the 2026 digest
    documents it (`documented_2026`)."""
    model = models[model_id]
    params = {p["name"]: p for p in model["params"]}
    for name, item in value.items():
        if (model.get("name"), name) in ALLOWED_EXTRA:
            continue
        if name not in params and name in documented_2026:
            continue
        assert name in params, f"{where}: field '{name}' is not in {model_id} ({model.get('name')})"
        spec = params[name]
        expected = TYPES.get(spec["type"])
        if expected is not None:
            assert isinstance(item, expected), f"{where}.{name}: {item!r} is not {spec['type']}"
        enum = _enum(spec["comment"])
        if enum is not None:
            enum = [*enum, *_newer_values().get((model.get("name"), name), set())]
        values = item if isinstance(item, list) else [item]
        if enum is not None:
            for entry in values:
                assert entry in enum, f"{where}.{name}: '{entry}' not in the reference enum"
        if spec["modelRef"]:
            for entry in values:
                if isinstance(entry, dict):
                    check_model(entry, spec["modelRef"], models, f"{where}.{name}")


async def test_responses_use_only_reference_fields_and_values(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    models, _ = _load()
    digest = wrike_digest.load()
    q3 = folder_id(state, "Marketing/Campaigns/Q3 Launch")
    task = task_id(state, "Draft launch announcement")
    other_task = task_id(state, "Book launch venue")
    project_done = next(
        s.id for w in state.workflows.values() if w.for_projects for s in w.statuses if s.group == "Completed"
    )
    space = folder_id(state, "Engineering")
    every_task_field = json.dumps(
        [
            "authorIds",
            "hasAttachments",
            "attachmentCount",
            "parentIds",
            "superParentIds",
            "sharedIds",
            "responsibleIds",
            "description",
            "briefDescription",
            "recurrent",
            "superTaskIds",
            "subTaskIds",
            "dependencyIds",
            "metadata",
            "customFields",
        ]
    )
    every_folder_field = json.dumps(
        [
            "metadata",
            "hasAttachments",
            "attachmentCount",
            "description",
            "briefDescription",
            "customFields",
            "customColumnIds",
            "superParentIds",
            "space",
        ]
    )
    timelog = next(iter(state.timelogs))
    comment = next(iter(state.comments))
    dependency = next(iter(state.dependencies))
    attachment = next(iter(state.attachments))
    approval = next(a.id for a in state.approvals.values() if a.decisions[-1].status == "Approved")
    marketing = folder_id(state, "Marketing")
    folder_blueprint = next(b.id for b in state.blueprints.values() if b.title == "Product launch")
    task_blueprint = next(b.id for b in state.blueprints.values() if b.title == "Bug report")
    requests: list[tuple[str, str, dict[str, str] | None, dict[str, Any] | None]] = [
        ("GET", "/contacts", {"fields": '["metadata","workScheduleId"]'}, None),
        ("GET", f"/contacts/{contact_id(state, 'Marketing Team')},KUAAAAAB", None, None),
        ("GET", "/account", {"fields": '["subscription","metadata","customFields"]'}, None),
        ("GET", "/workflows", None, None),
        ("GET", "/customfields", None, None),
        ("GET", "/folders", None, None),
        ("GET", "/folders", {"fields": every_folder_field}, None),
        ("GET", f"/folders/{q3}/folders", None, None),
        ("GET", f"/spaces/{space}/folders", {"project": "true"}, None),
        (
            "GET",
            f"/folders/{q3},{space}",
            {"fields": '["briefDescription","customColumnIds","attachmentCount"]'},
            None,
        ),
        ("GET", "/tasks", {"fields": every_task_field}, None),
        ("GET", f"/folders/{q3}/tasks", {"pageSize": "5"}, None),
        ("GET", f"/spaces/{space}/tasks", None, None),
        ("GET", f"/tasks/{task}", {"fields": '["recurrent","attachmentCount"]'}, None),
        ("GET", "/comments", None, None),
        ("GET", f"/tasks/{task}/comments", None, None),
        ("GET", f"/comments/{comment}", None, None),
        ("GET", "/timelogs", None, None),
        ("GET", f"/timelogs/{timelog}", None, None),
        ("GET", "/timelogs", {"fields": '["billingType"]'}, None),
        ("GET", "/timelog_categories", None, None),
        ("GET", f"/timelog_categories/{next(iter(state.timelog_categories))}/timelogs", None, None),
        ("GET", f"/tasks/{task}/dependencies", None, None),
        ("GET", f"/dependencies/{dependency}", None, None),
        ("GET", "/spaces", {"fields": '["members"]'}, None),
        ("GET", f"/spaces/{space}", None, None),
        ("GET", f"/spaces/{space}/workflows", None, None),
        ("GET", f"/spaces/{space}/customfields", None, None),
        ("GET", "/ids", {"type": "ApiV2Task", "ids": f'["{state.tasks[task].legacy_id}"]'}, None),
        ("GET", "/audit_log", {"pageSize": "50"}, None),
        ("GET", "/version", None, None),
        ("POST", f"/folders/{q3}/tasks", None, {"title": "Fidelity", "dates": {"due": "2030-01-01"}}),
        ("PUT", f"/tasks/{task}", None, {"status": "Completed"}),
        ("POST", f"/folders/{space}/folders", None, {"title": "F", "project": {"status": "Red"}}),
        ("POST", f"/folders/{q3}/folders", None, {"title": "G", "project": {}}),
        ("PUT", f"/folders/{q3}", None, {"project": {"customStatusId": project_done}}),
        ("POST", f"/tasks/{task}/comments", None, {"text": "hi"}),
        (
            "POST",
            f"/tasks/{task}/timelogs",
            None,
            {"hours": 1, "trackedDate": "2030-01-01", "comment": "Fidelity"},
        ),
        ("PUT", f"/tasks/{task},{other_task}", None, {"addResponsibles": [contact_id(state, "Ben Carter")]}),
        ("GET", f"/tasks/{task}/attachments", {"withUrls": "true"}, None),
        ("GET", f"/folders/{q3}/attachments", None, None),
        ("GET", f"/attachments/{attachment}", {"withUrls": "true"}, None),
        ("GET", f"/attachments/{attachment}/url", None, None),
        ("GET", "/approvals", None, None),
        ("GET", f"/folders/{q3}/approvals", None, None),
        ("GET", f"/tasks/{task}/approvals", None, None),
        ("GET", f"/approvals/{approval}", None, None),
        ("GET", "/folder_blueprints", {"fields": '["customFields"]'}, None),
        ("GET", f"/spaces/{marketing}/folder_blueprints", None, None),
        ("GET", "/task_blueprints", {"fields": '["customFields"]'}, None),
        ("GET", f"/spaces/{space}/task_blueprints", None, None),
        ("POST", f"/folder_blueprints/{folder_blueprint}/launch_async", None, {"parent": q3, "title": "L"}),
        ("POST", f"/task_blueprints/{task_blueprint}/launch_async", None, {"parentId": q3, "title": "B"}),
        (
            "POST",
            f"/tasks/{task}/dependencies",
            None,
            {"successorId": other_task, "relationType": "StartToStart"},
        ),
        ("PUT", f"/dependencies/{dependency}", None, {"lagTime": 480}),
        ("DELETE", f"/dependencies/{dependency}", None, None),
        ("DELETE", f"/tasks/{task}", None, None),
    ]
    checked: set[tuple[str, str]] = set()
    for method, url, params, body in requests:
        response = await api.request(method, url, params=params, json=body)
        assert response.status_code == 200, (method, url, response.text)
        payload = response.json()
        assert set(payload) <= {"kind", "data", "nextPageToken", "responseSize"}
        api_route = next(r for r in all_routes() if r.method == method and r.pattern.match(url.split("?")[0]))
        documented = digest.endpoint(method, api_route.path)
        returns = frozenset(documented.returns if documented else ())
        reference = _reference_for(method, api_route.path) or _reference_for("GET", api_route.path)
        model_id = next((m[4] for m in reference if m[4]), None)
        if payload["kind"] == "folders" and model_id == "model23":
            model_id = "model26"  # filtered folder queries answer with the Folder model
        for index, entry in enumerate(payload["data"]):
            where = f"{method} {url}[{index}]"
            if model_id is not None:
                check_model(entry, model_id, models, where, returns)
            # The digest lists every response field except for folders, whose list it cuts short.
            if returns and payload["kind"] not in ("folders", "folderTree"):
                assert set(entry) <= returns, f"{where}: {set(entry) - returns} not in the 2026 digest"
        checked.add((method, api_route.path))
    jobs = [(f"/async_job/{job}", job) for job in state.async_jobs]
    assert len(jobs) == 2
    for url, _ in jobs:
        for _ in range(state.async_job_polls + 1):  # in progress, then completed with its result
            payload = (await api.get(url)).json()
            check_model(payload["data"][0], "model29", models, url, frozenset())
            assert set(payload["data"][0]) <= digest.endpoint("GET", "/async_job/{asyncJobId}").returns  # type: ignore[union-attr]
        assert payload["data"][0]["status"] == "Completed"
    assert len(checked) >= 46


def test_the_checker_catches_invented_fields_and_values() -> None:
    models, _ = _load()
    with pytest.raises(AssertionError):
        check_model({"id": "x", "mood": "happy"}, "model33", models, "task")
    with pytest.raises(AssertionError):
        check_model({"status": "Done"}, "model33", models, "task")
    with pytest.raises(AssertionError):
        check_model({"dates": {"type": "Someday"}}, "model33", models, "task")


def _read_routes() -> list[tuple[Any, wrike_digest.Endpoint]]:
    """GET routes of the sandbox with their 2026 description (asking them things changes nothing)."""
    digest = wrike_digest.load()
    found = []
    for api_route in all_routes():
        documented = digest.endpoint(api_route.method, api_route.path)
        if api_route.method == "GET" and documented is not None:
            found.append((api_route, documented))
    return found


def _url(api_route: Any, state: SandboxState) -> str:
    examples = {
        "taskId": task_id(state, "Draft launch announcement"),
        "folderId": folder_id(state, "Marketing/Campaigns/Q3 Launch"),
        "spaceId": folder_id(state, "Marketing"),
        "contactId": contact_id(state, "Ann Lee"),
        "timelogId": next(iter(state.timelogs)),
        "timelogCategoryId": next(iter(state.timelog_categories)),
        "commentId": next(iter(state.comments)),
        "dependencyId": next(iter(state.dependencies)),
        "customfieldId": next(iter(state.custom_fields)),
        "groupId": contact_id(state, "Marketing Team"),
    }
    return re.sub(r"\{(\w+?)s?\}", lambda m: examples[m.group(1)], api_route.path)


# Parameters the digest says another one needs ("objectType requires both eventDate and operations").
COMPANIONS = {
    ("/audit_log", "objectType"): {
        "eventDate": json.dumps({"start": "2020-01-01T00:00:00Z", "end": "2030-01-01T00:00:00Z"}),
        "operations": json.dumps(["TaskCreated"]),
    },
}


def _refused_for(response: httpx.Response, name: str) -> bool:
    return response.status_code == 400 and name in response.json().get("errorDescription", "")


async def test_every_documented_enum_value_is_accepted(api: httpx.AsyncClient, state: SandboxState) -> None:
    tried = 0
    for api_route, documented in _read_routes():
        for name, values in documented.params.items():
            if name not in api_route.params or name == "fields" or not values:
                continue
            for value in values:
                companions = COMPANIONS.get((api_route.path, name), {})
                plain = await api.get(_url(api_route, state), params={name: value, **companions})
                listed = await api.get(
                    _url(api_route, state), params={name: json.dumps([value]), **companions}
                )
                assert not (_refused_for(plain, name) and _refused_for(listed, name)), (
                    api_route.path,
                    name,
                    value,
                    plain.text,
                )
                tried += 1
    assert tried >= 60


async def test_every_documented_optional_field_is_accepted(
    api: httpx.AsyncClient, state: SandboxState
) -> None:
    tried = 0
    for api_route, documented in _read_routes():
        if "fields" not in api_route.params:
            continue
        for value in sorted(documented.fields):
            response = await api.get(_url(api_route, state), params={"fields": json.dumps([value])})
            assert not _refused_for(response, "fields"), (api_route.path, value, response.text)
            tried += 1
    assert tried >= 100
