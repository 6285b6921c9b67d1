"""The `directory` toolset against the sandbox, in both protocol eras: find_people, list_workflows,
list_custom_fields — results and bad input refused before any Wrike call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import BIG, call, refused_up_front, requests_log


async def test_directory_tools_are_read_only(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    for name in ("find_people", "list_workflows", "list_custom_fields"):
        tool = tools[name]
        assert tool.title and tool.description
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.meta is not None and tool.meta["wrike-mcp/toolset"] == "directory"
        assert tool.meta["wrike-mcp/scopes"] == ["wsReadOnly"]
        for prop, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), f"{name}.{prop} has no description"


# ---- find_people ---------------------------------------------------------------------------------------


async def test_find_people_by_name_fragment(mcp: Client, sandbox_state: Any) -> None:
    result = await call(mcp, "find_people", query="ann")
    ann = result["items"][0]
    contact = next(c for c in sandbox_state.contacts.values() if c.name == "Ann Lee")
    assert ann["id"] == contact.id
    assert ann["name"] == "Ann Lee"
    assert ann["email"] == "ann.lee@northwind.example"
    assert ann["me"] is True
    assert ann["timezone"] == contact.timezone
    assert ann["role"] == "Owner"  # the account's owner (an admin too)


async def test_find_people_me_and_email(mcp: Client) -> None:
    me = await call(mcp, "find_people", query="me")
    assert [item["name"] for item in me["items"]] == ["Ann Lee"]
    by_email = await call(mcp, "find_people", query="ben.carter@northwind.example")
    assert [item["name"] for item in by_email["items"]] == ["Ben Carter"]


async def test_find_people_ambiguous_name_lists_both(mcp: Client) -> None:
    result = await call(mcp, "find_people", query="Sam")
    assert {item["name"] for item in result["items"]} == {"Sam Taylor", "Sam Turner"}
    assert result["total"] == 2


async def test_find_people_groups_and_deactivated_on_request(mcp: Client) -> None:
    assert (await call(mcp, "find_people", query="Marketing Team"))["total"] == 0
    groups = await call(mcp, "find_people", query="Marketing Team", include_groups=True)
    team = groups["items"][0]
    assert team["name"] == "Marketing Team" and team["type"] == "Group" and team["members"] > 0
    assert (await call(mcp, "find_people", query="Old Contractor"))["total"] == 0
    old = await call(mcp, "find_people", query="Old Contractor", include_deactivated=True)
    assert old["items"][0]["deactivated"] is True


async def test_find_people_lists_everyone_in_pages(mcp: Client, sandbox_state: Any) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = await call(mcp, "find_people", limit=5, **({"cursor": cursor} if cursor else {}))
        seen.extend(item["id"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    active_people = [c for c in sandbox_state.contacts.values() if c.type == "Person" and not c.deleted]
    assert sorted(seen) == sorted(c.id for c in active_people)
    assert page["total"] == len(active_people)


async def test_find_people_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = [
        {"query": "   "},
        {"query": BIG},
        {"query": 12},
        {"limit": 0},
        {"limit": 10_000},
        {"include_groups": "perhaps"},
        {"cursor": "bogus"},
    ]
    for arguments in cases:
        await refused_up_front(mcp, sandbox_http, "find_people", **arguments)


# ---- list_workflows ------------------------------------------------------------------------------------


async def test_list_workflows_with_statuses(mcp: Client) -> None:
    result = await call(mcp, "list_workflows")
    by_name = {item["name"]: item for item in result["items"]}
    software = by_name["Software Development"]
    groups = {status["name"]: status["group"] for status in software["statuses"]}
    assert groups["Backlog"] == "Active"
    assert groups["QA"] == "Active"
    assert groups["Done"] == "Completed"
    assert groups["Blocked"] == "Deferred"
    assert groups["Won't Fix"] == "Cancelled"
    assert all(status["id"] and status.get("color") for status in software["statuses"])
    default = by_name["Default Workflow"]
    assert default.get("standard") is True
    assert {"New", "In Progress", "Completed", "On Hold", "Cancelled"} <= {
        s["name"] for s in default["statuses"]
    }
    assert result["total"] == len(result["items"])
    projects = by_name["Default Project Workflow"]
    assert projects["for_projects"] is True and "for_projects" not in software
    assert [s["name"] for s in projects["statuses"]] == [
        "Planning",
        "In Progress",
        "On Hold",
        "Done",
        "Cancelled",
    ]


async def test_list_workflows_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    await refused_up_front(mcp, sandbox_http, "list_workflows", include_hidden="yes please")


# ---- list_custom_fields --------------------------------------------------------------------------------


async def test_list_custom_fields(mcp: Client) -> None:
    result = await call(mcp, "list_custom_fields")
    by_title = {item["title"]: item for item in result["items"]}
    assert {"Budget", "Story Points", "Channel", "Launch Date", "Reviewer", "Billable", "Notes"} <= set(
        by_title
    )
    assert by_title["Channel"]["type"] == "DropDown"
    assert by_title["Channel"]["options"] == ["Email", "Social", "Events", "Web"]
    assert by_title["Budget"]["type"] == "Currency" and by_title["Budget"]["currency"] == "USD"
    assert "options" not in by_title["Notes"]
    assert by_title["Notes"]["shared_with_everyone"] is True
    assert by_title["Notes"]["shared_count"] >= 12
    assert "shared_with" not in by_title["Notes"]


async def test_list_custom_fields_names_who_shares_it(mcp: Client, sandbox_state: Any) -> None:
    field = next(f for f in sandbox_state.custom_fields.values() if f.title == "Notes")
    ben = next(c for c in sandbox_state.contacts.values() if c.name == "Ben Carter")
    field.shared_ids = [ben.id]
    result = await call(mcp, "list_custom_fields", query="notes")
    assert result["items"][0]["shared_with"] == [{"id": ben.id, "name": "Ben Carter"}]
    assert "shared_with_everyone" not in result["items"][0]


async def test_list_custom_fields_filters(mcp: Client) -> None:
    dates = await call(mcp, "list_custom_fields", type="Date")
    assert [item["title"] for item in dates["items"]] == ["Launch Date"]
    story = await call(mcp, "list_custom_fields", query="story")
    assert [item["title"] for item in story["items"]] == ["Story Points"]
    assert (await call(mcp, "list_custom_fields", query="no such field"))["total"] == 0


async def test_list_custom_fields_space_level_and_archived(mcp: Client, sandbox_state: Any) -> None:
    listed = {item["title"]: item for item in (await call(mcp, "list_custom_fields"))["items"]}
    assert "Old Priority" not in listed  # archived fields are hidden unless asked for
    engineering = next(f for f in sandbox_state.folders.values() if f.title == "Engineering")
    assert listed["Sprint"]["space"] == {"id": engineering.id, "name": "Engineering"}
    assert listed["Sprint"]["options"] == ["Sprint 41", "Sprint 42", "Sprint 43"]
    everything = await call(mcp, "list_custom_fields", include_archived=True, query="priority")
    assert [(i["title"], i["archived"]) for i in everything["items"]] == [("Old Priority", True)]


async def test_list_custom_fields_bad_input(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    cases: list[Any] = [{"type": "Fancy"}, {"query": BIG}, {"type": 3}]
    for arguments in cases:
        await refused_up_front(mcp, sandbox_http, "list_custom_fields", **arguments)


def people_matching(state: Any, query: str) -> set[str]:
    """Active people whose name, email or job title holds every word of the query (ignoring case)."""
    words = query.casefold().split()
    return {
        c.id
        for c in state.contacts.values()
        if c.type == "Person"
        and not c.deleted
        and all(w in " ".join([c.name, c.email, c.title or ""]).casefold() for w in words)
    }


@pytest.mark.parametrize(
    ("query", "sent"),
    [
        ("ann", [("name", "ann")]),
        ("Sam", [("name", "sam")]),
        ("ben.carter@northwind.example", [("emails", '["ben.carter@northwind.example"]')]),
        # A job title no name holds: the name filter finds nobody, so every contact is read, as before.
        ("engineer", [("name", "engineer"), (None, None)]),
    ],
)
async def test_find_people_asks_wrike_s_name_and_email_filters_first(
    mcp: Client,
    sandbox_http: httpx.AsyncClient,
    sandbox_state: Any,
    query: str,
    sent: list[tuple[str | None, str | None]],
) -> None:
    await call(mcp, "get_me")  # `me` is read and cached first: the list of contacts is not
    before = len(await requests_log(sandbox_http))
    found = await call(mcp, "find_people", query=query)
    expected = people_matching(sandbox_state, query)
    assert (
        expected and {item["id"] for item in found["items"]} == expected and found["total"] == len(expected)
    )
    reads = [e for e in (await requests_log(sandbox_http))[before:] if e["path"] == "/api/v4/contacts"]
    made = []
    for e in reads:
        key = next((k for k in ("name", "emails") if k in e["query"]), None)
        made.append((key, e["query"][key] if key else None))
        if key:
            assert json.loads(e["query"]["types"]) == ["Person"]
    assert made == sent
    # With the list cached (by the fallback or another tool), a query costs no request at all.
    await call(mcp, "find_people")
    before = len(await requests_log(sandbox_http))
    assert {item["id"] for item in (await call(mcp, "find_people", query=query))["items"]} == expected
    assert len(await requests_log(sandbox_http)) == before
