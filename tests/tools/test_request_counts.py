"""Wrike requests per tool call on a warm server, exactly, from the sandbox's request log.

A read runs once to warm the caches (contacts, `me`, workflows, spaces, custom fields, folder tree), then
again to be measured; a write runs after reads that warm them. The requests are listed with ids replaced by
`{id}`, so a test shows which request a call makes, not only how many.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call, requests_made

Q3 = "Marketing/Campaigns/Q3 Launch"
PLANNING = "Marketing/Planning"
WORDS = {"api", "v4", "folders", "tasks", "contacts", "account", "spaces", "workflows", "customfields"}
WORDS |= {"audit_log", "comments", "timelogs", "dependencies", "ids"}
WARMING_READS: list[tuple[str, dict[str, Any]]] = [
    ("get_me", {}),
    ("list_folders", {}),
    ("find_people", {}),
    ("list_workflows", {}),
    ("list_custom_fields", {}),
]


def shape(path: str) -> str:
    """`/api/v4/folders/IEAAB2CDI4AAAAAG/tasks` → `/folders/{id}/tasks`."""
    segments = [s if s in WORDS else "{id}" for s in path.split("/")[3:]]
    return "/" + "/".join(segments)


async def requests_of(
    mcp: Client, sandbox_http: httpx.AsyncClient, tool: str, arguments: dict[str, Any]
) -> tuple[list[str], dict[str, Any]]:
    """The Wrike requests one call makes ("GET /folders/{id}"), and its result."""
    made, result = await requests_made(mcp, sandbox_http, tool, **arguments)
    return [f"{method} {shape(path)}" for method, path in made], result


async def warm(mcp: Client) -> None:
    for tool, arguments in WARMING_READS:
        await call(mcp, tool, **arguments)


READS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("get_me", {}, ["GET /account"]),
    ("list_folders", {}, []),
    ("list_folders", {"include_archived": True}, ["GET /spaces"]),
    ("list_folders", {"parent": "Marketing", "depth": 2}, []),
    ("get_folder", {"folder": "Marketing/Campaigns"}, ["GET /folders/{id}"]),
    ("list_projects", {"within": "Marketing"}, ["GET /folders/{id}/folders"]),
    ("get_folder", {"folder": Q3}, ["GET /folders/{id}", "GET /folders/{id}/tasks"]),
    (
        "get_folder",
        {"folder": Q3, "task_counts": False, "include_comments": 3},
        ["GET /folders/{id}", "GET /folders/{id}/comments"],
    ),
    ("find_people", {"query": "Chloe"}, []),
    ("list_workflows", {}, []),
    ("list_custom_fields", {}, []),
    ("list_app_activity", {}, ["GET /audit_log"]),
    ("list_audit_log", {"operations": ["Oauth2AccessGranted"], "limit": 20}, ["GET /audit_log"]),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"), READS, ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(READS)]
)
async def test_a_warm_read_makes_exactly_these_requests(
    mcp: Client, sandbox_http: httpx.AsyncClient, tool: str, arguments: dict[str, Any], expected: list[str]
) -> None:
    await call(mcp, tool, **arguments)
    made, _ = await requests_of(mcp, sandbox_http, tool, arguments)
    assert made == expected


async def test_create_folder_makes_one_request_and_the_tree_shows_the_folder(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    await warm(mcp)
    made, created = await requests_of(
        mcp, sandbox_http, "create_folder", {"parent": PLANNING, "title": "Offsite"}
    )
    assert made == ["POST /folders/{id}/folders"]
    # The write's answer went into the cached tree: the folder is listed and found by path without a read.
    listed, tree = await requests_of(mcp, sandbox_http, "list_folders", {"parent": PLANNING})
    assert listed == []
    assert created["id"] in [item["id"] for item in tree["items"]]
    found, details = await requests_of(mcp, sandbox_http, "get_folder", {"folder": f"{PLANNING}/Offsite"})
    assert found == ["GET /folders/{id}"]
    assert details["path"] == f"{PLANNING}/Offsite"


async def test_create_project_makes_one_request(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    await warm(mcp)
    made, created = await requests_of(
        mcp,
        sandbox_http,
        "create_project",
        {"parent": PLANNING, "title": "Rebrand", "owners": ["me"], "status": "In Progress"},
    )
    assert made == ["POST /folders/{id}/folders"]
    assert created["path"] == f"{PLANNING}/Rebrand"
    assert created["project"]["status"] == "In Progress"
    assert [owner["name"] for owner in created["project"]["owners"]] == ["Ann Lee"]


async def test_update_project_makes_two_requests(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    await warm(mcp)
    await call(mcp, "create_project", parent=PLANNING, title="Rebrand")
    made, updated = await requests_of(
        mcp,
        sandbox_http,
        "update_project",
        {"project": f"{PLANNING}/Rebrand", "title": "Rebrand 2027", "status": "Completed"},
    )
    assert made == ["GET /folders/{id}", "PUT /folders/{id}"]
    assert updated["path"] == f"{PLANNING}/Rebrand 2027"
    assert updated["project"]["status_group"] == "Completed"
    # The renamed project is found by its new path from the cached tree, the old path no longer.
    listed, projects = await requests_of(mcp, sandbox_http, "list_folders", {"parent": PLANNING})
    assert listed == []
    assert "Rebrand 2027" in [item["title"] for item in projects["items"]]
    assert "Rebrand" not in [item["title"] for item in projects["items"]]
