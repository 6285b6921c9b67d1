"""The `projects` toolset against the sandbox, in both protocol eras: list_projects, a project's task counts
over every page (get_folder, which took over get_project), create_project and update_project — results, sandbox state, bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import (
    BIG,
    api_calls,
    call,
    call_error,
    failure,
    refused_up_front,
    requests_log,
    state_folder,
    user_today,
)
from wrike_mcp.tools import render as render_module


def state_projects(sandbox_state: Any) -> list[Any]:
    return [f for f in sandbox_state.folders.values() if f.project is not None and not f.deleted]


def project_status_id(sandbox_state: Any, name: str) -> str:
    workflow = next(w for w in sandbox_state.workflows.values() if w.name == "Default Project Workflow")
    return str(next(s.id for s in workflow.statuses if s.name == name))


def person(sandbox_state: Any, name: str) -> Any:
    return next(c for c in sandbox_state.contacts.values() if c.name == name)


async def all_pages(client: Client, **arguments: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor = None
    total = -1
    for _ in range(50):
        page = await call(client, "list_projects", **arguments, **({"cursor": cursor} if cursor else {}))
        items.extend(page["items"])
        total = page["total"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items, total


# ---- list_projects -------------------------------------------------------------------------------------


async def test_list_projects_all_pages(mcp: Client, sandbox_state: Any) -> None:
    items, total = await all_pages(mcp, limit=4)
    expected = state_projects(sandbox_state)
    assert total == len(expected) == len(items)
    assert {item["id"] for item in items} == {f.id for f in expected}
    paths = [item["path"] for item in items]
    assert paths == sorted(paths, key=str.casefold)
    q3 = next(item for item in items if item["title"] == "Q3 Launch")
    assert q3["path"] == "Marketing/Campaigns/Q3 Launch"
    assert q3["status"] == "Planning"  # a status of the project workflow, never a classic default
    api_revamp = next(item for item in items if item["title"] == "API Revamp")
    assert api_revamp["status"] == "Red"  # Engineering keeps classic statuses
    assert q3["owners"] == [{"id": person(sandbox_state, "Chloe Martin").id, "name": "Chloe Martin"}]
    assert q3["start_date"] and q3["end_date"]


async def test_list_projects_within_a_space_or_folder(mcp: Client) -> None:
    marketing = await call(mcp, "list_projects", within="Marketing")
    assert {item["path"].split("/")[0] for item in marketing["items"]} == {"Marketing"}
    assert marketing["total"] == 5
    campaigns = await call(mcp, "list_projects", within="Marketing/Campaigns")
    assert {item["title"] for item in campaigns["items"]} == {"Spring Campaign", "Q3 Launch", "Holiday Promo"}


async def test_list_projects_by_status_owner_and_text(mcp: Client) -> None:
    on_hold = await call(mcp, "list_projects", status="on hold")
    assert {item["title"] for item in on_hold["items"]} == {"Brand Refresh", "Vendor Review"}
    assert {item["status"] for item in on_hold["items"]} == {"On Hold"}
    mine = await call(mcp, "list_projects", owner="me")
    assert {item["title"] for item in mine["items"]} == {"Brand Refresh", "Vendor Review", "Annual Budget"}
    by_email = await call(mcp, "list_projects", owner="ben.carter@northwind.example")
    assert [item["title"] for item in by_email["items"]] == ["API Revamp"]
    text = await call(mcp, "list_projects", text="LAUNCH")
    assert [item["title"] for item in text["items"]] == ["Q3 Launch"]
    combined = await call(mcp, "list_projects", owner="Ann Lee", status="Completed")
    assert [item["title"] for item in combined["items"]] == ["Annual Budget"]


async def test_list_projects_by_workflow_status_group_and_classic_status(mcp: Client) -> None:
    async def titles(status: str) -> set[str]:
        return {
            item["title"] for item in (await call(mcp, "list_projects", status=status, limit=200))["items"]
        }

    # "In Progress" is also a task status in two task workflows: only the project workflow's counts.
    assert await titles("in progress") == {"Spring Campaign", "Blog Calendar", "Office Move", "Q4 Hiring"}
    assert await titles("Done") == {"Holiday Promo", "Annual Budget"}
    assert await titles("Red") == {"API Revamp"}
    assert await titles("Cancelled") == {"Legacy Portal"}  # classic Cancelled; no project is in "Cancelled"
    active = await titles("Active")  # a status group covers both kinds
    assert {"Q3 Launch", "Spring Campaign", "API Revamp", "Infrastructure", "Mobile App"} <= active
    assert not active & {"Holiday Promo", "Brand Refresh", "Legacy Portal"}


async def test_list_projects_date_ranges_and_updated_since(mcp: Client, sandbox_state: Any) -> None:
    projects = state_projects(sandbox_state)
    starts = sorted(date.fromisoformat(f.project.start_date) for f in projects)
    middle = starts[len(starts) // 2]
    later = await call(mcp, "list_projects", start_from=middle.isoformat(), limit=200)
    expected = {f.id for f in projects if date.fromisoformat(f.project.start_date) >= middle}
    assert {item["id"] for item in later["items"]} == expected
    window = await call(mcp, "list_projects", end_from=starts[0].isoformat(), end_to=starts[0].isoformat())
    assert window["total"] == 0
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (await call(mcp, "list_projects", updated_since=future))["total"] == 0
    past = await call(mcp, "list_projects", updated_since="2000-01-01", limit=200)
    assert past["total"] == len(projects)


async def test_list_projects_unknown_status_and_ambiguous_owner(mcp: Client) -> None:
    message = await call_error(mcp, "list_projects", status="Purple")
    assert "status 'Purple' is unknown" in message and "Green" in message
    first, text = await failure(mcp, "list_projects", owner="Sam")
    assert "ambiguous" in first and "Sam Taylor" in text and "Sam Turner" in text


async def test_list_projects_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = [
        {"start_from": "2026-02-30"},
        {"end_to": "yesterday"},
        {"updated_since": "2026-13-01"},
        {"start_from": "2026-05-01", "start_to": "2026-04-01"},
        {"text": "   "},
        {"text": BIG},
        {"limit": 0},
        {"limit": 1000},
        {"cursor": "garbage"},
        {"status": BIG},
        {"within": BIG},
        {"owner": 7},
    ]
    for arguments in cases:
        await refused_up_front(mcp, sandbox_http, "list_projects", **arguments)


async def test_list_projects_cursor_must_match_filters(mcp: Client) -> None:
    page = await call(mcp, "list_projects", limit=2)
    message = await call_error(mcp, "list_projects", limit=2, status="Green", cursor=page["next_cursor"])
    assert "cursor" in message


# ---- a project's task counts: get_folder (get_project until 0.x) -----------------------------------------


def expected_counts(sandbox_state: Any, project_id: str) -> tuple[int, dict[str, int], int]:
    scope = {project_id, *sandbox_state.descendant_folder_ids(project_id)}
    today = user_today(sandbox_state)
    tasks = [
        t
        for t in sandbox_state.tasks.values()
        if not t.deleted and (set(t.parent_ids) | set(sandbox_state.super_parent_ids(t))) & scope
    ]
    groups: dict[str, int] = {}
    for task in tasks:
        groups[task.status] = groups.get(task.status, 0) + 1
    overdue = sum(
        1 for t in tasks if t.status == "Active" and t.dates.due is not None and t.dates.due.date() < today
    )
    return len(tasks), groups, overdue


async def test_get_folder_counts_a_projects_tasks_by_default(mcp: Client, sandbox_state: Any) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    result = await call(mcp, "get_folder", folder="Marketing/Campaigns/Q3 Launch")
    assert result["id"] == q3.id and result["kind"] == "project"
    assert result["project"]["owners"][0]["name"] == "Chloe Martin"
    counts = result["task_counts"]
    total, groups, overdue = expected_counts(sandbox_state, q3.id)
    assert counts["counted_tasks"] == total > 0
    assert counts["complete"] is True
    assert counts["by_status_group"] == groups
    assert counts["overdue"] == overdue >= 3
    assert sum(item["count"] for item in counts["by_custom_status"]) == total
    assert all(item.get("name") for item in counts["by_custom_status"])


async def test_get_folder_counts_every_page(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_module, "COUNT_PAGE_SIZE", 5)
    api = state_folder(sandbox_state, "Engineering/Platform/API Revamp")
    result = await call(mcp, "get_folder", folder=api.id)
    total, groups, overdue = expected_counts(sandbox_state, api.id)
    assert total > 10
    assert result["task_counts"]["counted_tasks"] == total
    assert result["task_counts"]["by_status_group"] == groups
    assert result["task_counts"]["overdue"] == overdue
    assert result["task_counts"]["complete"] is True
    pages = [c for c in await api_calls(sandbox_http) if c[1].endswith(f"/folders/{api.id}/tasks")]
    assert len(pages) == -(-total // 5)


async def test_get_folder_says_when_counts_are_incomplete(
    mcp: Client, sandbox_state: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render_module, "COUNT_PAGE_SIZE", 2)
    monkeypatch.setattr(render_module, "COUNT_MAX_PAGES", 2)
    result = await call(mcp, "get_folder", folder="Engineering/Platform/API Revamp")
    counts = result["task_counts"]
    assert counts["counted_tasks"] == 4
    assert counts["complete"] is False
    assert counts["total_reported"] > 4


async def test_get_folder_counts_a_plain_folder_only_when_asked_and_refuses_unknowns(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    campaigns = state_folder(sandbox_state, "Marketing/Campaigns")
    plain = await call(mcp, "get_folder", folder="Marketing/Campaigns")
    assert plain["kind"] == "folder" and "task_counts" not in plain
    assert not [c for c in await api_calls(sandbox_http) if c[1].endswith("/tasks")]
    counted = await call(mcp, "get_folder", folder="Marketing/Campaigns", task_counts=True)
    total, groups, overdue = expected_counts(sandbox_state, campaigns.id)
    assert counted["task_counts"]["counted_tasks"] == total > 0
    assert counted["task_counts"]["by_status_group"] == groups
    assert counted["task_counts"]["overdue"] == overdue
    project = await call(mcp, "get_folder", folder="Marketing/Campaigns/Q3 Launch", task_counts=False)
    assert project["kind"] == "project" and "task_counts" not in project
    plain_folders, text = await failure(mcp, "get_folder", folder="Planning")  # two folders, no project
    assert "ambiguous" in plain_folders and "Marketing/Planning" in text
    unknown = await call_error(mcp, "get_folder", folder="No Such Project")
    assert "not found" in unknown


async def test_get_folder_ambiguous_project_name_lists_the_candidates(mcp: Client) -> None:
    await call(mcp, "create_project", parent="Engineering/Planning", title="Q3 Launch")
    first, text = await failure(mcp, "get_folder", folder="Q3 Launch")
    assert "ambiguous" in first
    assert "Marketing/Campaigns/Q3 Launch" in text and "Engineering/Planning/Q3 Launch" in text


async def test_get_folder_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = ["", BIG, None]
    for folder in cases:
        await refused_up_front(mcp, sandbox_http, "get_folder", folder=folder)
    for arguments in ({"task_counts": "yes"}, {"include_comments": 51}, {"comments_cursor": "%%%"}):
        await refused_up_front(mcp, sandbox_http, "get_folder", folder="Marketing/Campaigns", **arguments)


# ---- create_project ------------------------------------------------------------------------------------


async def test_create_project_writes_owners_status_and_dates(mcp: Client, sandbox_state: Any) -> None:
    result = await call(
        mcp,
        "create_project",
        parent="Marketing/Campaigns",
        title="Winter Push",
        description="Goals:\n- more leads",
        owners=["Ben Carter", "emma.rossi@northwind.example", "me"],
        status="In Progress",
        start_date="2026-11-02",
        end_date="2027-01-15",
    )
    created = sandbox_state.folders[result["id"]]
    assert created.title == "Winter Push"
    assert created.parent_ids == [state_folder(sandbox_state, "Marketing/Campaigns").id]
    assert created.project.owner_ids == [
        person(sandbox_state, "Ben Carter").id,
        person(sandbox_state, "Emma Rossi").id,
        person(sandbox_state, "Ann Lee").id,
    ]
    assert created.project.status is None
    assert created.project.custom_status_id == project_status_id(sandbox_state, "In Progress")
    assert (created.project.start_date, created.project.end_date) == ("2026-11-02", "2027-01-15")
    assert created.description == "Goals:<br>- more leads"
    assert result["path"] == "Marketing/Campaigns/Winter Push"
    assert result["project"]["status"] == "In Progress"
    assert result["project"]["status_group"] == "Active"
    assert result["project"]["workflow"] == "Default Project Workflow"
    assert [o["name"] for o in result["project"]["owners"]] == ["Ben Carter", "Emma Rossi", "Ann Lee"]
    assert result["permalink"] == created.permalink
    listed = await call(mcp, "list_projects", within="Marketing/Campaigns", text="winter")
    assert [item["id"] for item in listed["items"]] == [result["id"]]


async def test_create_project_minimal(mcp: Client, sandbox_state: Any) -> None:
    result = await call(mcp, "create_project", parent="Operations", title="Audit 2027")
    created = sandbox_state.folders[result["id"]]
    assert created.project.custom_status_id == project_status_id(sandbox_state, "Planning")
    assert result["project"]["status"] == "Planning"
    classic = await call(mcp, "create_project", parent="Engineering", title="Audit 2028")
    assert sandbox_state.folders[classic["id"]].project.status == "Green"
    assert classic["project"]["status"] == "Green" and "workflow" not in classic["project"]


async def test_create_project_in_a_classic_space_by_classic_or_workflow_status(
    mcp: Client, sandbox_state: Any
) -> None:
    red = await call(mcp, "create_project", parent="Engineering", title="Firefight", status="red")
    assert sandbox_state.folders[red["id"]].project.status == "Red"
    planned = await call(mcp, "create_project", parent="Engineering", title="Roadmap", status="Planning")
    assert sandbox_state.folders[planned["id"]].project.custom_status_id == project_status_id(
        sandbox_state, "Planning"
    )
    message = await call_error(mcp, "create_project", parent="Engineering", title="X", status="In Review")
    assert "not a project status" in message and "Planning" in message  # a task status is not offered


async def test_create_project_bad_input(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    cases: list[Any] = [
        {"title": ""},
        {"title": "  "},
        {"title": BIG},
        {"description": BIG},
        {"start_date": "2026-02-30"},
        {"end_date": "31/12/2026"},
        {"start_date": "2026-06-01", "end_date": "2026-05-01"},
        {"owners": "Ben Carter"},
        {"owners": [BIG]},
        {"owners": ["x"] * 21},
        {"status": ""},
    ]
    for arguments in cases:
        before = len(sandbox_state.folders)
        await refused_up_front(
            mcp, sandbox_http, "create_project", **{"parent": "Operations", "title": "T", **arguments}
        )
        assert len(sandbox_state.folders) == before


async def test_create_project_bad_references_create_nothing(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    cases: list[Any] = [
        ({"owners": ["Sam"]}, "ambiguous"),
        ({"owners": ["Nobody Atall"]}, "not found"),
        ({"status": "Sparkly"}, "not a status of the project workflow 'Default Project Workflow'"),
        ({"status": "In Review"}, "use Planning, In Progress, On Hold, Done, Cancelled"),
        ({"status": "Green"}, "a classic status"),
        ({"parent": "Planning"}, "ambiguous"),
    ]
    for arguments, expected in cases:
        before = len(sandbox_state.folders)
        message = await call_error(
            mcp, "create_project", **{"parent": "Operations", "title": "T", **arguments}
        )
        assert expected in message
        assert len(message) < 220
        assert len(sandbox_state.folders) == before
        assert not [c for c in await api_calls(sandbox_http) if c[0] == "POST"]


# ---- update_project ------------------------------------------------------------------------------------


async def test_update_project_status_owners_dates_title(mcp: Client, sandbox_state: Any) -> None:
    api = state_folder(sandbox_state, "Engineering/Platform/API Revamp")
    result = await call(
        mcp,
        "update_project",
        project="Engineering/Platform/API Revamp",
        title="API Revamp v2",
        status="Green",
        add_owners=["Diego Alvarez"],
        remove_owners=["Ben Carter"],
        end_date="2099-12-31",
    )
    assert api.title == "API Revamp v2"
    assert api.project.status == "Green"
    assert api.project.owner_ids == [person(sandbox_state, "Diego Alvarez").id]
    assert api.project.end_date == "2099-12-31"
    assert result["project"]["status"] == "Green"
    assert result["path"] == "Engineering/Platform/API Revamp v2"
    assert set(result["changed"]) >= {"title", "status", "owners added", "owners removed", "end date"}


async def test_update_project_clears_dates_and_description(mcp: Client, sandbox_state: Any) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    await call(mcp, "update_project", project=q3.id, clear_start_date=True, description="")
    assert q3.project.start_date is None
    assert q3.project.end_date is not None
    assert q3.description == ""
    await call(mcp, "update_project", project=q3.permalink, status="OnHold", description="New <plan>")
    assert q3.project.custom_status_id == project_status_id(sandbox_state, "On Hold")
    assert q3.description == "New &lt;plan&gt;"


async def test_update_project_in_a_workflow_sends_its_custom_status(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    result = await call(mcp, "update_project", project="Q3 Launch", status="In Progress")
    assert q3.project.custom_status_id == project_status_id(sandbox_state, "In Progress")
    assert result["project"]["status"] == "In Progress" and result["changed"] == ["status"]
    done = await call(mcp, "update_project", project="Q3 Launch", status="completed")  # a group: its status
    assert done["project"]["status"] == "Done" and done["project"]["completed"]
    puts = [entry for entry in await requests_log(sandbox_http) if entry["method"] == "PUT"]
    assert len(puts) == 2
    for entry in puts:
        sent = json.dumps(entry["body"])
        assert "customStatusId" in sent and '"status"' not in sent


async def test_update_project_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = [
        {},
        {"title": "   "},
        {"title": BIG},
        {"description": BIG},
        {"start_date": "2026-02-29"},
        {"start_date": "2026-01-01", "clear_start_date": True},
        {"end_date": "2026-01-01", "clear_end_date": True},
        {"start_date": "2026-06-01", "end_date": "2026-05-01"},
        {"add_owners": ["x"] * 21},
        {"clear_end_date": "maybe"},
    ]
    for arguments in cases:
        await refused_up_front(
            mcp, sandbox_http, "update_project", **{"project": "Marketing/Campaigns/Q3 Launch", **arguments}
        )


async def test_update_project_checks_against_existing_dates(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    before_end = q3.project.end_date
    message = await call_error(mcp, "update_project", project=q3.id, end_date="1999-01-01")
    assert "before" in message
    assert q3.project.end_date == before_end
    assert not [c for c in await api_calls(sandbox_http) if c[0] == "PUT"]


async def test_update_project_bad_references_change_nothing(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    cases: list[Any] = [
        ({"project": "Marketing/Campaigns", "status": "Green"}, "not a project"),
        ({"project": "Nowhere", "status": "Green"}, "not found"),
        ({"add_owners": ["Sam"]}, "ambiguous"),
        ({"add_owners": ["Ben Carter"], "remove_owners": ["ben.carter@northwind.example"]}, "add_owners"),
        ({"status": "Purple Rain"}, "not a status of the project workflow"),
    ]
    for arguments, expected in cases:
        message = await call_error(
            mcp, "update_project", **{"project": "Marketing/Campaigns/Q3 Launch", **arguments}
        )
        assert expected in message
        assert not [c for c in await api_calls(sandbox_http) if c[0] == "PUT"]
