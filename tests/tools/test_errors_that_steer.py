"""Errors that steer (issue 24): a reference that names nothing lists the closest names with their ids, a
refused status names the valid ones, and a long first line breaks where a sentence or clause ends, never
with a " …" that reads as cut off. Real tool calls against the sandbox, in both protocol eras; what is
expected is computed from the sandbox's state."""

from __future__ import annotations

import re
from typing import Any

import httpx
from mcp import Client

from tests.tools.tool_helpers import api_calls, failure, refused_up_front, state_folder
from wrike_mcp.wrike.text import closest

LISTED_ID = re.compile(r"\(id ([^)\s]+)\)")


def listed_ids(text: str) -> list[str]:
    """The ids an error lists, in its order."""
    return LISTED_ID.findall(text)


def reads_whole(text: str) -> None:
    """No line of the error ends as if cut off."""
    assert not [line for line in text.splitlines() if line.rstrip().endswith("…")], text


def live_folders(sandbox_state: Any) -> list[Any]:
    return [
        f
        for f in sandbox_state.folders.values()
        if not f.deleted and f.title not in ("Root", "Recycle Bin") and not f.space
    ]


async def test_a_folder_not_found_lists_those_whose_titles_contain_it(
    mcp: Client, sandbox_state: Any
) -> None:
    expected = {f.id for f in live_folders(sandbox_state) if "launch" in f.title.casefold()}
    assert len(expected) >= 2  # Q3 Launch and Launch Assets
    first, text = await failure(mcp, "get_folder", folder="launch")
    assert first.startswith("Error executing tool get_folder: folder 'launch' not found; closest: ")
    listed = listed_ids(text)
    assert expected <= set(listed) and len(listed) <= 5
    reads_whole(text)


async def test_a_misspelt_folder_comes_first_among_the_near_matches(mcp: Client, sandbox_state: Any) -> None:
    spring = state_folder(sandbox_state, "Marketing/Campaigns/Spring Campaign")
    first, text = await failure(mcp, "search_tasks", folder="Spring Campaing")
    assert f"closest: Marketing/Campaigns/Spring Campaign (id {spring.id})" in first
    assert listed_ids(text)[0] == spring.id


async def test_a_misspelt_space_is_suggested(mcp: Client, sandbox_state: Any) -> None:
    marketing = next(f for f in sandbox_state.folders.values() if f.space and f.title == "Marketing")
    first, _ = await failure(mcp, "list_blueprints", space="Marketng")
    assert f"space 'Marketng' not found; closest: Marketing (id {marketing.id})" in first


async def test_a_misspelt_person_is_suggested_with_their_contact_id(mcp: Client, sandbox_state: Any) -> None:
    hana = next(c for c in sandbox_state.contacts.values() if (c.first_name, c.last_name) == ("Hana", "Sato"))
    first, text = await failure(mcp, "search_tasks", assignee="Hanna Sato")
    assert "person 'Hanna Sato' not found; closest: Hana Sato <" in first
    assert listed_ids(text)[0] == hana.id


async def test_a_task_title_not_exact_lists_the_tasks_containing_it(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    expected = {
        t.id for t in sandbox_state.tasks.values() if not t.deleted and "draft launch" in t.title.casefold()
    }
    assert expected
    first, text = await failure(mcp, "get_task", task="Draft launch")
    assert first.startswith("Error executing tool get_task: task 'Draft launch' not found; closest: ")
    assert set(listed_ids(text)) == expected
    assert [method for method, _ in await api_calls(sandbox_http)] == ["GET", "GET"]  # the search, the tree


async def test_a_blueprint_not_found_lists_the_near_ones(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    expected = {
        b.id
        for b in sandbox_state.blueprints.values()
        if b.parent_id is None and "campaign" in b.title.casefold()
    }
    assert expected
    first, text = await failure(mcp, "launch_blueprint", blueprint="campaign", parent="Q3 Launch", title="X")
    assert "blueprint 'campaign' not found; closest: Campaign folder (folder blueprint)" in first
    assert expected <= set(listed_ids(text))
    assert all(method == "GET" for method, _ in await api_calls(sandbox_http))  # nothing launched


async def test_a_misspelt_custom_field_is_suggested_before_anything_is_written(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    budget = next(f for f in sandbox_state.custom_fields.values() if f.title == "Budget")
    first, _ = await failure(
        mcp, "create_task", folder="Q3 Launch", title="Budget check", custom_fields={"Budgt": 1200}
    )
    assert f"custom field 'Budgt' not found; closest: Budget ({budget.type}) (id {budget.id})" in first
    assert all(method == "GET" for method, _ in await api_calls(sandbox_http))


# ---- statuses ---------------------------------------------------------------------------------------------


def visible_status_names(workflows: list[Any]) -> set[str]:
    return {s.name for w in workflows for s in w.statuses if not s.hidden}


async def test_search_tasks_refusing_a_status_names_the_valid_ones(mcp: Client, sandbox_state: Any) -> None:
    task_workflows = [w for w in sandbox_state.workflows.values() if not w.for_projects]
    names = visible_status_names(task_workflows)
    assert names
    _, text = await failure(mcp, "search_tasks", status="Waiting on legal")
    unwrapped = " ".join(text.split())
    assert "status 'Waiting on legal' not found" in unwrapped
    assert "status groups: Active, Completed, Deferred, Cancelled" in unwrapped
    assert all(name in unwrapped for name in names), [n for n in names if n not in unwrapped]
    assert "list_workflows" not in unwrapped  # named here, not another call away
    reads_whole(text)


async def test_update_task_refusing_a_status_names_its_workflows_statuses(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    task = next(t for t in sandbox_state.tasks.values() if not t.deleted and t.custom_status_id)
    workflow = next(
        w for w in sandbox_state.workflows.values() if any(s.id == task.custom_status_id for s in w.statuses)
    )
    _, text = await failure(mcp, "update_task", task=task.id, status="Waiting on legal")
    unwrapped = " ".join(text.split())
    assert all(name in unwrapped for name in visible_status_names([workflow]))
    assert not [method for method, _ in await api_calls(sandbox_http) if method != "GET"]


# ---- long messages ----------------------------------------------------------------------------------------


async def test_a_long_error_breaks_at_a_clause_and_loses_nothing(mcp: Client, sandbox_state: Any) -> None:
    png = next(a for a in sandbox_state.attachments.values() if a.content_type == "image/png")
    first, text = await failure(mcp, "read_attachment", attachment=png.id)
    assert first.endswith("is not a text file: read_attachment reads txt, md, csv, json and html")
    assert text.splitlines()[1] == "list_attachments with_links=true gives a download link"
    reads_whole(text)


async def test_a_blank_status_is_refused_in_words(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    message = await refused_up_front(mcp, sandbox_http, "update_task", task="IEAAB2CDKQAAAAAE", status=" ")
    assert message.endswith("status is empty: give a status group or a custom status name, or omit it")


async def test_a_misspelt_email_is_suggested(mcp: Client, sandbox_state: Any) -> None:
    hana = next(c for c in sandbox_state.contacts.values() if (c.first_name, c.last_name) == ("Hana", "Sato"))
    email = hana.email
    typo = email.replace("northwind", "nortwind")
    first, _ = await failure(mcp, "list_timelogs", person=typo)
    assert f"person {typo!r} not found; closest: Hana Sato <{email}> (id {hana.id})" in first


async def test_a_project_not_found_lists_near_projects_only(
    mcp: Client, sandbox_state: Any, sandbox_http: httpx.AsyncClient
) -> None:
    q3 = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch")
    assert q3.project  # a project; Launch Assets below it is a folder
    assets = state_folder(sandbox_state, "Marketing/Campaigns/Q3 Launch/Launch Assets")
    assert not assets.project
    first, text = await failure(mcp, "update_project", project="Q3 Lanch", title="Renamed")
    assert f"project 'Q3 Lanch' not found; closest: Marketing/Campaigns/Q3 Launch (id {q3.id})" in first
    assert assets.id not in listed_ids(text)
    assert not [method for method, _ in await api_calls(sandbox_http) if method != "GET"]


# ---- the likeness rule, on its own -------------------------------------------------------------------------


def test_closest_folds_ranks_and_caps() -> None:
    entries = [
        ("1", ["Q3 Launch"], "Marketing/Q3 Launch"),
        ("2", ["Launch Assets"], "Marketing/Q3 Launch/Launch Assets"),
        ("3", ["Budget"], "Finance/Budget"),
        ("4", ["LAUNCH"], "Launch"),  # folds to the same name: the best match
        ("5", ["L\u200baunch day"], "Launch day"),  # a zero-width space folds away
    ]
    assert closest("launch", entries) == [
        ("4", "Launch"),
        ("5", "Launch day"),
        ("1", "Marketing/Q3 Launch"),  # as close as the next: by label
        ("2", "Marketing/Q3 Launch/Launch Assets"),
    ]
    assert closest("Budgt", entries) == [("3", "Finance/Budget")]
    assert closest("zzz", entries) == []
    many = [(str(i), [f"Launch {i}"], f"Launch {i}") for i in range(9)]
    assert len(closest("launch", many)) == 5
