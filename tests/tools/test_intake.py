"""The intake toolset against the sandbox, in both protocol eras: custom item types (list, create work from
one) and request forms (list, questions, submit, prefilled link). Writes are checked in the sandbox's state
and request log; bad arguments are refused before any Wrike request."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from mcp import Client

from tests.sandbox.sandbox_helpers import contact_id, folder_id, item_type_id, request_form, task_id
from tests.tools.test_request_counts import warm
from tests.tools.tool_helpers import (
    api_calls,
    call,
    call_error,
    refused_up_front,
    requests_log,
    requests_made,
    user_today,
)
from wrike_mcp.sandbox import SandboxState


def posts(log: list[dict[str, Any]], suffix: str) -> list[dict[str, Any]]:
    return [e for e in log if e["method"] == "POST" and str(e["path"]).endswith(suffix)]


def sent_fields(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The formFields a logged POST carried, decoded."""
    body = entry.get("body") or entry.get("form") or {}
    if isinstance(body, str):
        body = {k: v[0] for k, v in parse_qs(body).items()}
    raw = body["formFields"]
    return list(json.loads(raw) if isinstance(raw, str) else raw)


# ---- custom item types ------------------------------------------------------------------------------------


async def test_list_item_types_shows_what_each_creates_its_space_and_fields(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    listed = (await call(mcp, "list_item_types"))["items"]
    live = [t for t in state.item_types.values() if not t.deleted]
    assert [i["id"] for i in listed] == [t.id for t in live]
    bug = next(i for i in listed if i["title"] == "Bug")
    assert bug == {
        "id": item_type_id(state, "Bug"),
        "title": "Bug",
        "creates": "task",
        "space": {"id": folder_id(state, "Engineering"), "name": "Engineering"},
        "description": "A defect to triage and fix",
        "fields": ["Story Points", "Sprint"],
    }
    campaign = next(i for i in listed if i["title"] == "Campaign request")
    assert campaign["creates"] == "project" and campaign["fields"] == ["Channel", "Budget", "Launch Date"]
    meeting = next(i for i in listed if i["title"] == "Meeting")
    assert "space" not in meeting  # account-wide
    assert not any(i["title"] == "Support ticket" for i in listed)  # deleted

    ops = (await call(mcp, "list_item_types", space="operations"))["items"]
    expected = {t.title for t in live if t.space_id in (None, folder_id(state, "Operations"))}
    assert {i["title"] for i in ops} == expected == {"Purchase request", "New hire onboarding", "Meeting"}


async def test_create_from_item_type_makes_a_task_with_one_post_and_returns_its_permalink(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    before = len(await requests_log(sandbox_http))
    made = await call(
        mcp, "create_from_item_type", item_type="bug", parent="Engineering/Platform", title="Crash on resume"
    )
    task = state.tasks[made["id"]]
    assert made == {
        "id": task.id,
        "title": "Crash on resume",
        "kind": "task",
        "path": "Engineering/Platform",
        "permalink": task.permalink,
        "item_type": {"id": item_type_id(state, "Bug"), "name": "Bug"},
    }
    assert task.custom_item_type_id == item_type_id(state, "Bug")
    status = state.custom_status(task.custom_status_id)
    assert status is not None and state.workflows[status.workflow_id].name == "Software Development"
    log = (await requests_log(sandbox_http))[before:]
    sent = posts(log, "/instantiate")
    assert len(sent) == 1 and [e for e in log if e["method"] != "GET"] == sent
    assert sent[0]["path"].endswith(f"/custom_item_types/{item_type_id(state, 'Bug')}/instantiate")
    # the new task is found by its title at once (the resolver forgot the titles it knew)
    found = await call(mcp, "get_task", task="Crash on resume")
    assert found["id"] == task.id


async def test_create_from_item_type_makes_a_project_and_subtasks(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    await call(mcp, "list_folders")  # a cached tree the new project must join
    project = await call(
        mcp,
        "create_from_item_type",
        item_type="Campaign request",
        parent="Marketing/Campaigns",
        title="Autumn",
    )
    folder = state.folders[project["id"]]
    assert project["kind"] == "project" and project["path"] == "Marketing/Campaigns/Autumn"
    assert folder.project is not None and folder.custom_item_type_id == item_type_id(
        state, "Campaign request"
    )
    assert (await call(mcp, "get_folder", folder="Marketing/Campaigns/Autumn"))["id"] == folder.id

    # "Design review" exists in Marketing and Engineering: a task parent in Marketing picks Marketing's
    sub = await call(
        mcp,
        "create_from_item_type",
        item_type="Design review",
        parent="Draft launch announcement",
        title="Check",
    )
    made = state.tasks[sub["id"]]
    assert made.super_task_ids == [task_id(state, "Draft launch announcement")]
    assert made.custom_item_type_id == item_type_id(state, "Design review", "Marketing")


async def test_create_from_item_type_refuses_ambiguity_and_mismatches_before_writing(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    tasks_before = len(state.tasks)

    async def no_write(**arguments: Any) -> str:
        before = len(await api_calls(sandbox_http))
        message = await call_error(mcp, "create_from_item_type", **arguments)
        assert all(m == "GET" for m, _ in (await api_calls(sandbox_http))[before:]), arguments
        return message

    # neither space's "Design review" is Operations': the name stays ambiguous, refused with both
    result = await mcp.call_tool(
        "create_from_item_type", {"item_type": "Design review", "parent": "Operations/Hiring", "title": "X"}
    )
    assert result.is_error
    text = " ".join(b.text for b in result.content if b.type == "text")
    assert "ambiguous" in text
    assert f"Design review (Marketing) (id {item_type_id(state, 'Design review', 'Marketing')})" in text
    assert f"Design review (Engineering) (id {item_type_id(state, 'Design review', 'Engineering')})" in text
    assert "not found" in await no_write(item_type="Epic", parent="Engineering/Platform", title="X")
    assert "list_item_types" in await no_write(item_type="Epic", parent="Engineering/Platform", title="X")
    assert "cannot go under a task" in await no_write(
        item_type="Release", parent="Fix crash on login", title="X"
    )
    assert "not found" in await no_write(item_type="Bug", parent="Nowhere/At all", title="X")
    assert "empty" in await refused_up_front(
        mcp, sandbox_http, "create_from_item_type", item_type="Bug", parent="Engineering", title="  \u200b "
    )
    assert len(state.tasks) == tasks_before


# ---- request forms -------------------------------------------------------------------------------------


async def test_list_request_forms_counts_questions(mcp: Client, sandbox_state: SandboxState) -> None:
    state = sandbox_state
    listed = (await call(mcp, "list_request_forms"))["items"]
    assert [i["title"] for i in listed] == [f.title for f in state.request_forms.values()]
    bug = next(i for i in listed if i["title"] == "Bug report")
    form = request_form(state, "Bug report")
    assert bug == {
        "id": form.id,
        "title": "Bug report",
        "space": {"id": folder_id(state, "Engineering"), "name": "Engineering"},
        "description": "Report a defect in the platform or the mobile app.",
        "questions": len(form.questions),
    }
    only = (await call(mcp, "list_request_forms", space="Marketing"))["items"]
    assert [i["title"] for i in only] == ["Campaign request"]


async def test_get_request_form_gives_questions_in_plain_terms(
    mcp: Client, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    form = request_form(state, "Bug report")
    shown = await call(mcp, "get_request_form", form="bug REPORT")
    assert shown["id"] == form.id and shown["space"]["name"] == "Engineering"
    by_question = {q["question"]: q for q in shown["questions"]}
    assert [q["question"] for q in shown["questions"]] == [q.title for q in form.questions]
    severity = next(q for q in form.questions if q.title == "Severity")
    assert by_question["Severity"] == {
        "id": severity.id,
        "question": "Severity",
        "answer": "one of the options",
        "required": True,
        "options": ["Blocker", "Major", "Minor"],
        "help": "Blocker: no workaround",
    }
    assert (
        by_question["Platforms"]["answer"] == "a list of options"
        and "required" not in by_question["Platforms"]
    )
    assert by_question["Fix needed by"]["answer"] == "date: YYYY-MM-DD, or today/tomorrow/yesterday"
    assert by_question["Incident owner"] == {
        "id": by_question["Incident owner"]["id"],
        "question": "Incident owner",
        "answer": "a list of people: each `me`, an email, a full name or a contact id",
        "required": True,
        "asked_when": "Severity is Blocker",
    }
    assert by_question["Screenshot"]["answer"] == "a file: attach it in Wrike"
    assert "note" not in shown
    hire = await call(
        mcp,
        "get_request_form",
        form=f"https://www.wrike.com/workspace.htm#/forms?formid={request_form(state, 'New hire request').legacy_id}",
    )
    assert hire["title"] == "New hire request" and "Signed headcount approval" in hire["note"]
    assert (await call(mcp, "get_request_form", form=form.id))["title"] == "Bug report"
    assert "forms: Campaign request, Bug report" in await call_error(mcp, "get_request_form", form="IT help")


async def test_submit_request_form_creates_the_task_with_checked_answers(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    form = request_form(state, "Bug report")
    qid = {q.title: q.id for q in form.questions}
    tomorrow = user_today(state).toordinal() + 1
    before = len(await requests_log(sandbox_http))
    answers = {
        "summary": "Login fails on iOS 19",
        "Severity": "blocker",
        "Platforms": "iOS, api",
        qid["Fix needed by"]: "tomorrow",
        "Customer impact": "Every iOS user since the update",
        "Incident owner": ["Sam Taylor", "me"],
    }
    result = await call(mcp, "submit_request_form", form="Bug report", answers=answers)
    task = state.tasks[result["created"]["id"]]
    assert result == {
        "form": {"id": form.id, "name": "Bug report"},
        "created": {
            "id": task.id,
            "title": "Login fails on iOS 19",
            "kind": "task",
            "path": "Engineering/Platform",
            "permalink": task.permalink,
        },
    }
    me = state.access_tokens["wrike-sandbox-token"].user_id
    assert task.responsible_ids == [contact_id(state, "Ben Carter"), contact_id(state, "Sam Taylor"), me]
    assert task.dates.due is not None and task.dates.due.date().toordinal() == tomorrow
    log = (await requests_log(sandbox_http))[before:]
    sent = posts(log, "/submit")
    assert len(sent) == 1 and [e for e in log if e["method"] != "GET"] == sent
    assert {f["id"]: f["value"] for f in sent_fields(sent[0])} == {
        qid["Summary"]: "Login fails on iOS 19",
        qid["Severity"]: "Blocker",
        qid["Platforms"]: ["iOS", "API"],
        qid["Fix needed by"]: task.dates.due.date().isoformat(),
        qid["Customer impact"]: "Every iOS user since the update",
        qid["Incident owner"]: [contact_id(state, "Sam Taylor"), me],
    }


async def test_submit_request_form_creates_a_project(mcp: Client, sandbox_state: SandboxState) -> None:
    state = sandbox_state
    answers = {
        "Campaign name": "Winter sale",
        "Channel": "Email",
        "Launch date": "2030-11-02",
        "Campaign owner": ["emma.rossi@northwind.example"],
        "Budget (USD)": 2500,
    }
    result = await call(mcp, "submit_request_form", form="Campaign request", answers=answers)
    folder = state.folders[result["created"]["id"]]
    assert (
        result["created"]["kind"] == "project"
        and result["created"]["path"] == "Marketing/Campaigns/Winter sale"
    )
    assert folder.project is not None and contact_id(state, "Emma Rossi") in folder.project.owner_ids
    assert {state.custom_fields[k].title: v for k, v in folder.custom_fields.items()} == {
        "Channel": "Email",
        "Launch Date": "2030-11-02",
        "Budget": "2500",
    }


async def test_submit_request_form_refuses_bad_answers_before_any_write(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    await call(mcp, "get_request_form", form="Bug report")  # the reads a submission needs, warmed
    await warm(mcp)
    ok = {"Summary": "S", "Severity": "Minor"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("Bug report", {"Summary": "S"}, "required questions unanswered: Severity"),
        ("Bug report", {**ok, "Severity": "Critical"}, "choose from Blocker, Major, Minor"),
        ("Bug report", {**ok, "Platforms": ["Windows"]}, "not an option"),
        ("Bug report", {**ok, "Fix needed by": "31/01/2030"}, "not a valid date"),
        ("Bug report", {**ok, "Customer impact": "x"}, "asked only when Severity is Blocker"),
        ("Bug report", {**ok, "Screenshot": "file.png"}, "takes a file"),
        ("Bug report", {**ok, "Colour": "red"}, "is not a question of"),
        ("Bug report", {**ok, "Severity ": "Minor"}, "answered twice"),
        ("Bug report", {**ok, "Summary": ["a", "b"]}, "takes text, not a list"),
        ("Bug report", {"Summary": "S", "Severity": "Blocker", "Customer impact": "x"}, "Incident owner"),
        (
            "New hire request",
            {"Role title": "R", "Hiring manager": ["me"], "Start date": "2030-01-01", "Team": "Marketing"},
            "use prefill_request_form",
        ),
        ("Campaign request", {"Campaign name": "C", "Budget (USD)": "a lot"}, "takes a number"),
    ]
    before = (len(state.tasks), len(state.folders))
    for form, answers, expected in cases:
        calls_before = len(await api_calls(sandbox_http))
        message = await call_error(mcp, "submit_request_form", form=form, answers=answers)
        assert expected in message, (answers, message)
        assert len(message) < 200
        assert all(m == "GET" for m, _ in (await api_calls(sandbox_http))[calls_before:]), answers
    assert (len(state.tasks), len(state.folders)) == before
    unknown_person = await call_error(
        mcp,
        "submit_request_form",
        form="Bug report",
        answers={**ok, "Severity": "Blocker", "Customer impact": "x", "Incident owner": ["Nobody Known"]},
    )
    assert "not found" in unknown_person
    assert "answers" in await refused_up_front(
        mcp, sandbox_http, "submit_request_form", form="Bug report", answers="Summary=S"
    )


async def test_prefill_request_form_links_the_form_and_says_what_is_left(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    state = sandbox_state
    form = request_form(state, "New hire request")
    before = (len(state.tasks), len(state.folders))
    result = await call(
        mcp,
        "prefill_request_form",
        form="New hire request",
        answers={"Role title": "Data analyst", "Team": "operations"},
    )
    token = result["url"].rsplit("prefill=", 1)[1]
    assert result == {
        "url": f"https://www.wrike.com/workspace.htm#/forms?formid={form.legacy_id}&prefill={token}",
        "form": {"id": form.id, "name": "New hire request"},
        "still_to_answer": ["Hiring manager", "Start date", "Signed headcount approval"],
    }
    qid = {q.title: q.id for q in form.questions}
    assert state.prefills[token] == {
        "formId": form.id,
        "answers": {qid["Role title"]: "Data analyst", qid["Team"]: "Operations"},
    }
    assert (len(state.tasks), len(state.folders)) == before
    assert "takes a file" in await call_error(
        mcp, "prefill_request_form", form="New hire request", answers={"Signed headcount approval": "x.pdf"}
    )


async def test_intake_tools_declare_their_scopes_and_kinds(mcp: Client) -> None:
    tools = {t.name: t for t in (await mcp.list_tools()).tools}
    expected = {
        "list_item_types": (["wsReadOnly"], True),
        "create_from_item_type": (["wsReadWrite"], False),
        "list_request_forms": (["wsReadOnly"], True),
        "get_request_form": (["wsReadOnly"], True),
        "submit_request_form": (["wsReadWrite"], False),
        "prefill_request_form": (["wsReadOnly"], True),
    }
    for name, (scopes, read_only) in expected.items():
        tool = tools[name]
        assert tool.meta is not None
        assert tool.meta["wrike-mcp/toolset"] == "intake" and tool.meta["wrike-mcp/scopes"] == scopes
        assert tool.annotations is not None and tool.annotations.read_only_hint is read_only
        assert tool.annotations.destructive_hint is False


async def test_requests_per_call_on_warm_caches(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    """The figures of bench/RESULTS.md (issue 22): every request of a call waits for the one before it."""
    await warm(mcp)
    bug = {"Summary": "Counted", "Severity": "Minor"}
    expected: list[tuple[str, dict[str, Any], list[str]]] = [
        ("list_item_types", {}, ["GET custom_item_types"]),
        ("list_item_types", {"space": "Engineering"}, ["GET custom_item_types", "GET spaces"]),
        (
            "create_from_item_type",
            {"item_type": "Bug", "parent": "Engineering/Platform", "title": "Counted"},
            ["GET custom_item_types", "POST instantiate", "GET tasks"],
        ),
        ("list_request_forms", {}, ["GET request_forms"]),
        ("get_request_form", {"form": "Bug report"}, ["GET request_forms"]),
        (
            "submit_request_form",
            {"form": "Bug report", "answers": bug},
            ["GET request_forms", "POST submit", "GET tasks"],
        ),
        (
            "prefill_request_form",
            {"form": "Bug report", "answers": bug},
            ["GET request_forms", "POST prefill_url"],
        ),
    ]
    for tool, arguments, requests in expected:
        made, _ = await requests_made(mcp, sandbox_http, tool, **arguments)
        words = [
            f"{method} {path.split('/')[3] if method == 'GET' else path.rsplit('/', 1)[1]}"
            for method, path in made
        ]
        assert words == requests, tool


async def test_bad_arguments_are_refused_before_any_request(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("list_item_types", {"space": ""}),
        ("list_item_types", {"space": "x" * 1001}),
        ("create_from_item_type", {"item_type": "", "parent": "Engineering", "title": "T"}),
        ("create_from_item_type", {"item_type": "Bug", "parent": "Engineering"}),
        ("create_from_item_type", {"item_type": "Bug", "parent": "Engineering", "title": "t" * 501}),
        ("list_request_forms", {"space": 3}),
        ("get_request_form", {"form": ""}),
        ("get_request_form", {}),
        ("submit_request_form", {"form": "Bug report"}),
        ("submit_request_form", {"form": "Bug report", "answers": {"Summary": True}}),
        ("submit_request_form", {"form": "Bug report", "answers": {"Summary": {"nested": "x"}}}),
        ("submit_request_form", {"form": "Bug report", "answers": {f"q{i}": "x" for i in range(101)}}),
        ("submit_request_form", {"form": "Bug report", "answers": {"": "x"}}),
        ("prefill_request_form", {"form": "Bug report", "answers": {"Summary": "x" * 20_001}}),
        ("prefill_request_form", {"form": "Bug report", "answers": {"Platforms": [1, 2]}}),
    ]
    for tool, arguments in cases:
        message = await refused_up_front(mcp, sandbox_http, tool, **arguments)
        assert message, (tool, arguments)


async def test_a_write_that_fails_ambiguously_is_sent_once_and_reported_unknown(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    """A 502 after Wrike applied the write: the tool says the outcome is unknown and never sends it again."""
    state = sandbox_state
    form = request_form(state, "Bug report")
    bug = item_type_id(state, "Bug")
    writes: list[tuple[str, str, dict[str, Any]]] = [
        (
            f"/api/v4/request_forms/{form.id}/submit",
            "submit_request_form",
            {"form": "Bug report", "answers": {"Summary": "Sent once", "Severity": "Minor"}},
        ),
        (
            f"/api/v4/custom_item_types/{bug}/instantiate",
            "create_from_item_type",
            {"item_type": "Bug", "parent": "Engineering/Platform", "title": "Sent once"},
        ),
    ]
    for path, tool, arguments in writes:
        fault = {"method": "POST", "path": path, "status": 502, "apply": True, "times": 10}
        (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
        message = await call_error(mcp, tool, **arguments)
        (await sandbox_http.delete("/_sandbox/faults")).raise_for_status()
        assert "outcome unknown: POST" in message and len(message) < 200, message
        assert [p for m, p in await api_calls(sandbox_http) if m == "POST"].count(path) == 1
    assert [t.title for t in state.tasks.values()].count("Sent once") == 2  # each applied once


async def test_space_types_are_found_when_the_account_list_leaves_them_out(
    mcp: Client, sandbox_state: SandboxState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether Wrike's account list holds space-level types is open: the tools read the space's own list."""
    from wrike_mcp.sandbox.routes import intake as routes

    original = routes._item_types

    def account_only(ctx: Any, space_id: str | None) -> list[dict[str, Any]]:
        found = original(ctx, space_id)
        return found if space_id is not None else [t for t in found if "spaceId" not in t]

    monkeypatch.setattr(routes, "_item_types", account_only)
    made = await call(
        mcp, "create_from_item_type", item_type="Bug", parent="Engineering/Platform", title="Found"
    )
    assert made["item_type"] == {"id": item_type_id(sandbox_state, "Bug"), "name": "Bug"}
    listed = (await call(mcp, "list_item_types", space="Engineering"))["items"]
    assert {i["title"] for i in listed} == {"Bug", "Feature", "Design review", "Release", "Meeting"}
    assert next(i for i in listed if i["title"] == "Bug")["space"]["name"] == "Engineering"


async def test_a_created_item_that_cannot_be_read_back_is_still_reported_created(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: SandboxState
) -> None:
    """A requester often cannot see the intake folder: the read-back after the write is refused. The answer
    is the new id and a note, never an error that would invite a second submission."""
    state = sandbox_state
    calls: list[tuple[str, dict[str, Any], str]] = [
        (
            "create_from_item_type",
            {"item_type": "Bug", "parent": "Engineering/Platform", "title": "Unreadable bug"},
            "/api/v4/tasks/*",
        ),
        (
            "submit_request_form",
            {"form": "Bug report", "answers": {"Summary": "Unreadable report", "Severity": "Minor"}},
            "/api/v4/tasks/*",
        ),
    ]
    for tool, arguments, read_path in calls:
        before = {t.id for t in state.tasks.values()}
        sent_before = len(await api_calls(sandbox_http))
        fault = {"method": "GET", "path": read_path, "status": 403, "error": "not_allowed", "times": 5}
        (await sandbox_http.post("/_sandbox/faults", json=fault)).raise_for_status()
        made = await call(mcp, tool, **arguments)
        (await sandbox_http.delete("/_sandbox/faults")).raise_for_status()
        new = [t for t in state.tasks.values() if t.id not in before]
        assert len(new) == 1, tool
        created = made.get("created", made)
        assert created["id"] == new[0].id and created["kind"] == "task"
        assert "do not create it again" in created["note"]
        assert [m for m, _ in (await api_calls(sandbox_http))[sent_before:]].count("POST") == 1
