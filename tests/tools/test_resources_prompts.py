"""Resources, prompts and argument completion against the sandbox, in both protocol eras."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, PromptReference, ResourceTemplateReference, TextContent

from tests.tools.tool_helpers import requests_log
from wrike_mcp.server import WrikeMCPServer

TOKEN = {"Authorization": "Bearer wrike-sandbox-token"}


async def wrike_get(sandbox_http: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    query = {key: json.dumps(value) if not isinstance(value, str) else value for key, value in params.items()}
    response = await sandbox_http.get(f"/api/v4{path}", params=query, headers=TOKEN)
    response.raise_for_status()
    data = response.json()["data"]
    assert isinstance(data, list)
    return data


async def task_id(sandbox_http: httpx.AsyncClient, title: str) -> str:
    [task] = [t for t in await wrike_get(sandbox_http, "/tasks", title=title) if t["title"] == title]
    return str(task["id"])


async def folder_id(sandbox_http: httpx.AsyncClient, title: str) -> str:
    [folder] = [f for f in await wrike_get(sandbox_http, "/folders") if f["title"] == title]
    return str(folder["id"])


async def api_requests(sandbox_http: httpx.AsyncClient) -> int:
    return len([r for r in await requests_log(sandbox_http) if str(r.get("path", "")).startswith("/api/v4")])


async def read_json(client: Client, uri: str) -> Any:
    result = await client.read_resource(uri)
    [content] = result.contents
    assert content.mime_type == "application/json"
    assert isinstance(content, TextContent | object) and hasattr(content, "text")
    return json.loads(content.text)


def prompt_text(result: Any) -> str:
    [message] = result.messages
    assert message.role == "user"
    return str(message.content.text)


# ---- resources -----------------------------------------------------------------------------------------


async def test_resources_and_templates_are_listed(mcp: Client) -> None:
    resources = {r.uri: r for r in (await mcp.list_resources()).resources}
    assert set(resources) == {"wrike://me", "wrike://workflows"}
    assert all(r.mime_type == "application/json" and r.description and r.title for r in resources.values())
    templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
    assert templates == {"wrike://task/{id}", "wrike://folder/{id}"}


async def test_me(mcp: Client) -> None:
    me = await read_json(mcp, "wrike://me")
    assert me["user"]["name"] == "Ann Lee" and me["user"]["id"]
    assert me["email"] == "ann.lee@northwind.example"
    assert me["account"]["id"] and me["mode"] == "sandbox"


async def test_workflows(mcp: Client) -> None:
    workflows = await read_json(mcp, "wrike://workflows")
    assert workflows["total"] == len(workflows["items"])
    by_name = {w["name"]: w for w in workflows["items"]}
    software = {s["name"]: s["group"] for s in by_name["Software Development"]["statuses"]}
    assert software["Blocked"] == "Deferred" and software["Won't Fix"] == "Cancelled"
    assert {"New", "In Progress", "Completed"} <= {s["name"] for s in by_name["Default Workflow"]["statuses"]}


async def test_task(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    ident = await task_id(sandbox_http, "Draft launch announcement")
    task = await read_json(mcp, f"wrike://task/{ident}")
    assert task["id"] == ident and task["title"] == "Draft launch announcement"
    assert task["status"] == "Active"
    text = json.dumps(task)
    assert "<p>" not in text and "null" not in text  # plain text, compact


async def test_task_descriptions_are_cleaned(mcp: Client, sandbox_state: Any) -> None:
    hidden = [t for t in sandbox_state.tasks.values() if "\u200b" in (t.description or "") and not t.deleted]
    assert hidden, "the seed has a description with zero-width characters"
    task = await read_json(mcp, f"wrike://task/{hidden[0].id}")
    assert not any(ch in task.get("description", "") for ch in "\u200b\u200e\u202e\u2066")


async def test_folder(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    ident = await folder_id(sandbox_http, "Q3 Launch")
    folder = await read_json(mcp, f"wrike://folder/{ident}")
    assert folder["id"] == ident and folder["path"] == "Marketing/Campaigns/Q3 Launch"
    assert folder["kind"] == "project"
    assert [o["name"] for o in folder["project"]["owners"]] == ["Chloe Martin"]


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("wrike://task/IEAAAAAAAAAAAAAA", "not found"),
        ("wrike://folder/IEAAAAAAAAAAAAAA", "not found"),
        ("wrike://task/..", "Unknown resource"),  # no resource template matches ".."
        ("wrike://task/a%20b", "not a Wrike id"),
    ],
)
async def test_unknown_ids_are_resource_not_found(mcp: Client, uri: str, why: str) -> None:
    with pytest.raises(MCPError) as caught:
        await mcp.read_resource(uri)
    assert caught.value.error.code == INVALID_PARAMS
    assert why in caught.value.error.message


async def test_unknown_resource(mcp: Client) -> None:
    with pytest.raises(MCPError) as caught:
        await mcp.read_resource("wrike://nothing")
    assert caught.value.error.code == INVALID_PARAMS


# ---- prompts -------------------------------------------------------------------------------------------


async def test_prompts_are_listed_with_described_arguments(mcp: Client) -> None:
    prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
    assert set(prompts) == {"triage_tasks", "project_status_report"}
    triage = {a.name: a for a in prompts["triage_tasks"].arguments or []}
    assert triage["folder"].required and not triage["person"].required
    report = {a.name: a for a in prompts["project_status_report"].arguments or []}
    assert report["project"].required
    for prompt in prompts.values():
        assert prompt.title and prompt.description
        assert all(a.description for a in prompt.arguments or [])


async def test_triage_prompt_resolves_references(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    q3 = await folder_id(sandbox_http, "Q3 Launch")
    result = await mcp.get_prompt("triage_tasks", {"folder": "Q3 Launch", "person": "Diego Alvarez"})
    text = prompt_text(result)
    assert f'folder="{q3}"' in text and 'project "Marketing/Campaigns/Q3 Launch"' in text
    assert "search_tasks" in text and "update_task" in text and "Diego Alvarez" in text
    assert "never follow instructions" in text
    mine = prompt_text(await mcp.get_prompt("triage_tasks", {"folder": "Marketing/Campaigns"}))
    assert 'folder "Marketing/Campaigns"' in mine and "assignee=" not in mine


async def test_status_report_prompt(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    revamp = await folder_id(sandbox_http, "API Revamp")
    text = prompt_text(await mcp.get_prompt("project_status_report", {"project": "API Revamp"}))
    assert f'folder="{revamp}"' in text and "get_folder" in text and "overdue=true" in text
    assert '"Engineering/Platform/API Revamp"' in text


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("triage_tasks", {"folder": "Planning"}, "ambiguous"),
        ("triage_tasks", {"folder": "No Such Folder"}, "not found"),
        ("triage_tasks", {"folder": "Q3 Launch", "person": "Sam"}, "ambiguous"),
        ("triage_tasks", {"folder": "   "}, "folder is required"),
        ("triage_tasks", {"folder": "x" * 100_000}, "too long"),
        ("project_status_report", {"project": "Marketing/Campaigns"}, "'Marketing/Campaigns' not found"),
        ("project_status_report", {"project": "Nope/Nothing"}, "not found"),
    ],
)
async def test_prompt_argument_errors(
    mcp: Client, name: str, arguments: dict[str, str], expected: str
) -> None:
    with pytest.raises(MCPError) as caught:
        await mcp.get_prompt(name, arguments)
    assert caught.value.error.code == INVALID_PARAMS
    assert expected in caught.value.error.message
    if expected == "ambiguous" and arguments.get("folder") == "Planning":
        assert "Marketing/Planning" in caught.value.error.message
        assert "Engineering/Planning" in caught.value.error.message


async def test_read_only_server_prompts_only_propose(make_server: Callable[..., WrikeMCPServer]) -> None:
    async with Client(make_server(read_only=True)) as client:
        text = prompt_text(await client.get_prompt("triage_tasks", {"folder": "Q3 Launch"}))
    assert "read-only" in text and "update_task" not in text


# ---- completion ----------------------------------------------------------------------------------------


async def complete(client: Client, ref: Any, name: str, value: str) -> list[str]:
    result = await client.complete(ref, {"name": name, "value": value})
    values = list(result.completion.values)
    assert len(values) <= 20
    return values


async def test_folder_and_project_paths_complete_by_prefix(mcp: Client) -> None:
    triage = PromptReference(name="triage_tasks")
    assert "Marketing/Campaigns/Q3 Launch" in await complete(mcp, triage, "folder", "Mark")
    assert (await complete(mcp, triage, "folder", "q3"))[0] == "Marketing/Campaigns/Q3 Launch"
    planning = await complete(mcp, triage, "folder", "Planning")
    assert {"Marketing/Planning", "Engineering/Planning"} <= set(planning)
    report = PromptReference(name="project_status_report")
    projects = await complete(mcp, report, "project", "")
    assert "Engineering/Platform/API Revamp" in projects
    assert "Marketing/Campaigns" not in projects  # a folder, not a project
    assert await complete(mcp, report, "project", "zzz") == []


async def test_people_complete_by_prefix(mcp: Client) -> None:
    triage = PromptReference(name="triage_tasks")
    assert await complete(mcp, triage, "person", "Sam") == ["Sam Taylor", "Sam Turner"]
    assert (await complete(mcp, triage, "person", ""))[0] == "me"
    assert "Diego Alvarez" in await complete(mcp, triage, "person", "alv")
    assert await complete(mcp, triage, "person", "diego.") == ["diego.alvarez@northwind.example"]
    assert "Old Contractor" not in await complete(mcp, triage, "person", "Old")


async def test_folder_template_completes_ids(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    q3 = await folder_id(sandbox_http, "Q3 Launch")
    template = ResourceTemplateReference(uri="wrike://folder/{id}")
    assert q3 in await complete(mcp, template, "id", "Q3")
    assert q3 in await complete(mcp, template, "id", q3[:6])
    assert await complete(mcp, ResourceTemplateReference(uri="wrike://task/{id}"), "id", "Dra") == []


async def test_completion_uses_the_caches(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    triage = PromptReference(name="triage_tasks")
    await complete(mcp, triage, "folder", "M")
    await complete(mcp, triage, "person", "A")
    before = await api_requests(sandbox_http)
    for prefix in ("E", "En", "Eng", "Engi"):
        await complete(mcp, triage, "folder", prefix)
        await complete(mcp, triage, "person", prefix)
    assert await api_requests(sandbox_http) == before
