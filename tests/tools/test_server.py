"""Server-level behaviour shared by every tool: argument errors, logging/setLevel, HTTP Host/Origin defaults."""

from __future__ import annotations

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call_error, error_text, own_task_client, requests_log
from wrike_mcp.config import Settings
from wrike_mcp.hosts import LOOPBACK_HOST_HEADERS
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.server_commands import transport_security
from wrike_mcp.wrike.tokens import StaticTokenSource


async def test_argument_errors_name_the_parameter_not_the_value(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    before = len(await requests_log(sandbox_http))
    first = await call_error(mcp, "search_tasks", limit="lots")
    assert first.startswith("Error executing tool search_tasks: invalid argument limit:"), first
    huge = "x" * 100_000
    result = await mcp.call_tool("create_task", {"folder": "Q3 Launch", "title": huge})
    assert result.is_error
    text = error_text(result)
    assert "invalid argument title:" in text.splitlines()[0] and huge[:500] not in text
    assert len(await requests_log(sandbox_http)) == before  # refused before any Wrike call


async def test_a_misspelt_argument_is_refused_before_any_wrike_call(
    mcp: Client, sandbox_http: httpx.AsyncClient
) -> None:
    before = len(await requests_log(sandbox_http))
    first = await call_error(mcp, "search_tasks", folder="Q3 Launch", asignee="me")
    assert first == "Error executing tool search_tasks: unknown argument 'asignee' (did you mean 'assignee'?)"
    assert len(await requests_log(sandbox_http)) == before  # a widened search never ran


async def test_several_bad_arguments_are_listed_one_per_line(mcp: Client) -> None:
    result = await mcp.call_tool("search_tasks", {"limit": 0, "importance": "Urgent"})
    lines = error_text(result).splitlines()
    assert len(lines) == 2 and lines[1].startswith("- ")
    assert all(len(line) < 200 for line in lines)


@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")
async def test_logging_set_level_is_accepted_in_the_2025_era(server: WrikeMCPServer) -> None:
    # logging/setLevel exists only up to 2025-11-25 (SEP-2577 removed it); today's clients still send it
    async with own_task_client(server, mode="legacy") as legacy:
        await legacy.set_logging_level("info")


def test_client_from_settings() -> None:
    settings = Settings(
        base_url="http://127.0.0.1:9/api/v4", timeout=3, max_retries=1, retry_budget=2, max_queue_wait=4
    )
    client = client_from_settings(settings, StaticTokenSource("t"))
    assert client.base_url == "http://127.0.0.1:9/api/v4"
    assert (client.timeout, client.max_retries, client.retry_budget, client.max_queue_wait) == (3, 1, 2, 4)
    eu = client_from_settings(Settings(), StaticTokenSource("t"), host="app-eu.wrike.com")
    assert eu.base_url == "https://app-eu.wrike.com/api/v4"  # a remote user's data centre wins


def test_host_and_origin_checks_stay_on_for_any_bind_address() -> None:
    default = transport_security(Settings())
    assert default.enable_dns_rebinding_protection and default.allowed_hosts == LOOPBACK_HOST_HEADERS
    public = transport_security(Settings(allowed_hosts="mcp.example.com"))
    assert public.allowed_hosts == ["mcp.example.com"]
    assert public.allowed_origins == ["https://mcp.example.com"]
