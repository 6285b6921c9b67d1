"""Fixtures for tool tests: the sandbox, a Wrike client on it, the MCP server, MCP clients in both eras."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult

from wrike_mcp.config import Settings
from wrike_mcp.sandbox import SandboxConfig, create_app
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

SANDBOX_BASE_URL = "http://127.0.0.1:8100/api/v4"


@pytest.fixture
def sandbox_config(request: pytest.FixtureRequest) -> SandboxConfig:
    """The sandbox's settings; a test picks others with
    `@pytest.mark.parametrize("sandbox_config", [SandboxConfig(plan="team")], indirect=True)`."""
    config: SandboxConfig = getattr(request, "param", None) or SandboxConfig()
    return config


@pytest.fixture
def sandbox_app(sandbox_config: SandboxConfig) -> Any:
    return create_app(sandbox_config)


@pytest.fixture
def sandbox_state(sandbox_app: Any) -> Any:
    """The emulator's in-memory state, for asserting what a write did."""
    return sandbox_app.state.sandbox


@pytest.fixture
async def sandbox_http(sandbox_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the sandbox (control plane, request log, raw Wrike JSON for comparisons)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox_app), base_url="http://127.0.0.1:8100"
    ) as http:
        yield http


@pytest.fixture
async def wrike_client(sandbox_app: Any) -> AsyncIterator[WrikeClient]:
    client = WrikeClient(
        StaticTokenSource("wrike-sandbox-token"),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
    )
    async with client:
        yield client


@pytest.fixture
def make_server(wrike_client: WrikeClient) -> Callable[..., WrikeMCPServer]:
    """Build a server on the sandbox; keyword arguments are Settings overrides (and granted_scopes)."""

    def make(granted_scopes: frozenset[str] | None = None, **overrides: Any) -> WrikeMCPServer:
        settings = Settings(base_url=SANDBOX_BASE_URL, **overrides)
        return create_server(settings, wrike_client, granted_scopes=granted_scopes, mode="sandbox")

    return make


@pytest.fixture
def server(make_server: Callable[..., WrikeMCPServer]) -> WrikeMCPServer:
    return make_server(allow_delete=True)


@pytest.fixture(params=["auto", "legacy"])
async def mcp(request: pytest.FixtureRequest, server: WrikeMCPServer) -> AsyncIterator[Client]:
    """An in-memory MCP client in each protocol era: 2026-07-28 (auto) and 2025-11-25 (legacy)."""
    async with own_task_client(server, mode=request.param) as client:
        yield client


@asynccontextmanager
async def own_task_client(server: WrikeMCPServer, **options: Any) -> AsyncIterator[Client]:
    """An MCP client opened and closed by one task of its own.

    pytest-asyncio runs an async fixture's setup and teardown in different tasks, and the client's anyio
    task group must be exited by the task that entered it.
    """
    ready, stop = asyncio.Event(), asyncio.Event()
    holder: list[Client] = []

    async def hold() -> None:
        async with Client(server, **options) as client:
            holder.append(client)
            ready.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(ready.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if not holder:
        waiter.cancel()
        await task  # raises what went wrong while connecting
    try:
        yield holder[0]
    finally:
        stop.set()
        await task


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, error_text(result)
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text's first line."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return error_text(result).splitlines()[0]


def error_text(result: CallToolResult) -> str:
    return " ".join(block.text for block in result.content if block.type == "text")


async def requests_log(sandbox_http: httpx.AsyncClient) -> list[dict[str, Any]]:
    """What the sandbox received, oldest first (method, path, query, body, status), from its control plane."""
    response = await sandbox_http.get("/_sandbox/requests")
    response.raise_for_status()
    body = response.json()
    return list(body["requests"] if isinstance(body, dict) else body)


BIG = "x" * 100_000  # a 100 kB argument


async def api_calls(sandbox_http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(method, path) of every Wrike API request the sandbox received so far."""
    return [
        (str(entry["method"]), str(entry["path"]))
        for entry in await requests_log(sandbox_http)
        if "/api/v4" in str(entry["path"])
    ]


async def refused_up_front(
    client: Client, sandbox_http: httpx.AsyncClient, tool: str, **arguments: Any
) -> str:
    """Call a tool that must fail without reaching Wrike; return its first error line."""
    before = len(await api_calls(sandbox_http))
    message = await call_error(client, tool, **arguments)
    assert len(await api_calls(sandbox_http)) == before, f"{tool} called Wrike for bad input {arguments}"
    assert len(message) < 200, message
    return message
