"""Fixtures for tool tests: the sandbox, a Wrike client on it, the MCP server, MCP clients in both eras."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import SANDBOX_BASE_URL, own_task_client
from wrike_mcp.config import Settings
from wrike_mcp.sandbox import SandboxConfig, create_app
from wrike_mcp.server import WrikeMCPServer, create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource


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
    """Build a server on the sandbox; keyword arguments are Settings overrides (and granted_scopes).

    Every toolset is on unless `toolsets` is given: the tests of a tool need not turn its toolset on, and
    `toolsets=None` builds the server as it starts by default (test_toolsets.py)."""

    def make(granted_scopes: frozenset[str] | None = None, **overrides: Any) -> WrikeMCPServer:
        overrides.setdefault("toolsets", ["all"])
        settings = Settings(base_url=SANDBOX_BASE_URL, **overrides)
        context = WrikeContext(settings, wrike_client, granted_scopes=granted_scopes, mode="sandbox")
        return create_server(settings, StaticContext(context))

    return make


@pytest.fixture
def server(make_server: Callable[..., WrikeMCPServer]) -> WrikeMCPServer:
    """The full server: every toolset on (some are off by default, see test_toolsets.py) and delete_task."""
    return make_server(allow_delete=True)


@pytest.fixture(params=["auto", "legacy"])
async def mcp(request: pytest.FixtureRequest, server: WrikeMCPServer) -> AsyncIterator[Client]:
    """An in-memory MCP client in each protocol era: 2026-07-28 (auto) and 2025-11-25 (legacy)."""
    async with own_task_client(server, mode=request.param) as client:
        yield client
