"""What a configuration offers: resources, resource templates, prompts and completion follow the same filters as
tools (flags, granted scopes, a remote user's scopes); destructive tools follow their declared kind."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.client.context import ClientRequestContext
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import (
    INVALID_PARAMS,
    ElicitRequestParams,
    ElicitResult,
    PromptReference,
    ResourceTemplateReference,
)
from pydantic import BaseModel

from wrike_mcp import scopes
from wrike_mcp.config import Settings
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools.deps import REQUEST_CONTEXT, UserContexts, WrikeContext
from wrike_mcp.tools.registry import READS, ToolSpec, all_tools
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.resolve import Resolver

SANDBOX_BASE_URL = "http://127.0.0.1:8100/api/v4"
ME, WORKFLOWS, TASK, FOLDER = "wrike://me", "wrike://workflows", "wrike://task/{id}", "wrike://folder/{id}"
TRIAGE, REPORT = "triage_tasks", "project_status_report"
EVERYTHING = {ME, WORKFLOWS, TASK, FOLDER, TRIAGE, REPORT}


async def offered(client: Client) -> set[str]:
    """The resources, resource templates and prompts the client is offered, by URI (template) or name."""
    resources = {str(item.uri) for item in (await client.list_resources()).resources}
    templates = {item.uri_template for item in (await client.list_resource_templates()).resource_templates}
    prompts = {item.name for item in (await client.list_prompts()).prompts}
    return resources | templates | prompts


def test_every_resource_and_prompt_reads_through_declared_tools() -> None:
    declared = {spec.name for spec in all_tools()}
    assert set(READS) == EVERYTHING
    assert set(chain.from_iterable(READS.values())) <= declared


@pytest.mark.parametrize("mode", ["auto", "legacy"])
@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, EVERYTHING),
        ({"read_only": True}, EVERYTHING),
        ({"toolsets": ["app_activity"]}, set()),
        ({"toolsets": ["tasks"]}, {TASK, TRIAGE, REPORT}),
        ({"toolsets": ["folders", "directory"]}, {FOLDER, WORKFLOWS, REPORT}),
        ({"tools": ["get_me", "get_folder"]}, {ME, FOLDER, REPORT}),
        ({"exclude_tools": ["get_task", "list_workflows", "search_tasks"]}, {ME, FOLDER, REPORT}),
        ({"scopes": [scopes.AUDIT_LOG]}, set()),
        ({"scopes": [scopes.WS_READ_ONLY]}, EVERYTHING),
    ],
)
async def test_filters_decide_resources_templates_and_prompts(
    make_server: Callable[..., WrikeMCPServer], settings: dict[str, Any], expected: set[str], mode: str
) -> None:
    async with Client(make_server(**settings), mode=mode) as client:
        assert await offered(client) == expected


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_what_is_not_offered_cannot_be_read_got_or_completed(
    make_server: Callable[..., WrikeMCPServer], mode: str
) -> None:
    async with Client(make_server(toolsets=["app_activity"]), mode=mode) as client:
        with pytest.raises(MCPError) as unread:
            await client.read_resource("wrike://task/IEAAB2CDKQAAAAAB")
        assert unread.value.error.code == INVALID_PARAMS
        assert unread.value.error.message == "Unknown resource: wrike://task/IEAAB2CDKQAAAAAB"
        with pytest.raises(MCPError) as unprompted:
            await client.get_prompt(TRIAGE, {"folder": "Q3 Launch"})
        assert unprompted.value.error.code == INVALID_PARAMS
        assert unprompted.value.error.message == "Unknown prompt: triage_tasks"
        assert client.server_capabilities.completions is None


def as_user(state: WrikeContext) -> Callable[..., Any]:
    """Middleware standing in for the remote HTTP gate: every request is this signed-in user's."""

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        token = REQUEST_CONTEXT.set(state)
        try:
            return await call_next(ctx)
        finally:
            REQUEST_CONTEXT.reset(token)

    return middleware


def remote_server(wrike_client: WrikeClient, granted: set[str]) -> WrikeMCPServer:
    """A multi-user server (no client of its own, as `--auth oauth` builds it) whose requests are one user's;
    every toolset on, so that only the user's scopes decide."""
    settings = Settings(base_url=SANDBOX_BASE_URL, toolsets=["all"])
    user = WrikeContext(
        settings=settings,
        client=wrike_client,
        given_resolver=Resolver(wrike_client),
        granted_scopes=frozenset(granted),
        mode="oauth",
    )
    return create_server(settings, UserContexts(), middleware=[as_user(user)])


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_remote_user_is_offered_what_their_scopes_cover(wrike_client: WrikeClient, mode: str) -> None:
    async with Client(remote_server(wrike_client, {scopes.AUDIT_LOG}), mode=mode) as client:
        assert await offered(client) == set()
        tools = {tool.name for tool in (await client.list_tools()).tools}
        # and enable_toolsets, which needs no Wrike scope
        assert tools == {spec.name for spec in all_tools() if spec.scopes in ((scopes.AUDIT_LOG,), ())}
        with pytest.raises(MCPError) as unread:
            await client.read_resource(ME)
        assert unread.value.error.message == f"Unknown resource: {ME}"
        completion = await client.complete(PromptReference(name=TRIAGE), {"name": "folder", "value": "Q3"})
        assert completion.completion.values == []

    async with Client(remote_server(wrike_client, {scopes.WS_READ_ONLY}), mode=mode) as client:
        assert await offered(client) == EVERYTHING
        assert "create_task" not in {tool.name for tool in (await client.list_tools()).tools}
        [me] = (await client.read_resource(ME)).contents
        assert '"mode":"oauth"' in me.text  # type: ignore[union-attr]
        template = ResourceTemplateReference(uri=FOLDER)
        completion = await client.complete(template, {"name": "id", "value": "Q3 Launch"})
        assert completion.completion.values and all(value.isalnum() for value in completion.completion.values)


# ---- destructive tools ----------------------------------------------------------------------------------


class Purged(BaseModel):
    purged: str


async def purge_thing(thing: str) -> Purged:
    """Purge a thing for good."""
    return Purged(purged=thing)


PURGE = ToolSpec(
    name="purge_thing",
    toolset="tasks",
    scopes=(scopes.WS_READ_WRITE,),
    title="Purge a thing",
    kind="destructive",
    idempotent=True,
    description="Purge a thing for good.",
    module=__name__,
    fn=purge_thing,
)


def with_purge(make_server: Callable[..., WrikeMCPServer], **settings: Any) -> WrikeMCPServer:
    server = make_server(**settings)
    server.add_wrike_tools([PURGE])
    return server


async def accept(context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"confirm": True})


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_declared_destructive_tool_needs_a_client_that_confirms_or_allow_delete(
    make_server: Callable[..., WrikeMCPServer], mode: str
) -> None:
    async with Client(with_purge(make_server, allow_delete=False), mode=mode) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        refused = await client.call_tool("purge_thing", {"thing": "x"})
    assert "purge_thing" not in listed and "delete_task" not in listed and "update_task" in listed
    assert refused.is_error
    assert refused.content[0].text == (  # type: ignore[union-attr]
        "purge_thing needs the user's confirmation, but this client cannot ask (no elicitation support); "
        "do it in Wrike, or run the server with --allow-delete"
    )

    async with Client(
        with_purge(make_server, allow_delete=False), mode=mode, elicitation_callback=accept
    ) as client:
        listed = {tool.name for tool in (await client.list_tools()).tools}
        assert {"purge_thing", "delete_task"} <= listed

    async with Client(with_purge(make_server, allow_delete=True), mode=mode) as client:
        assert "purge_thing" in {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("purge_thing", {"thing": "x"})
    assert result.structured_content == {"purged": "x"}
