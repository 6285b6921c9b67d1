"""Remote multi-user mode (`--auth oauth`, a real replica) with the default toolsets: a session that turns a
toolset on (enable_toolsets, 2025-era stateful session) changes only its own tool list, never another session
of the same user nor another user's; a 2026-07-28 session is told which setting to use (docs/TOOLSETS.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, Replica, oauth_provider, start_replica, structured
from tests.remote.test_clients import USERS
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

TIMEOUT = 30.0
AUDIT = "list_audit_log"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with BackgroundSandbox() as running:
        yield running.base_url


@pytest.fixture
def replica(tmp_path: Path, sandbox_url: str) -> Iterator[Replica]:
    running = start_replica(
        tmp_path,
        sandbox_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # as a deployment starts without the setting; the audit scope requested, so a grant can cover the tools
        extra_env={"WRIKE_TOOLSETS": "default", "WRIKE_SCOPES": "wsReadWrite,amReadOnlyAuditLog"},
    )
    try:
        yield running
    finally:
        running.stop()


@asynccontextmanager
async def session(replica: Replica, user: str, mode: str, name: str) -> AsyncIterator[Client]:
    provider, _ = oauth_provider(replica.mcp_url, Browser(user=USERS[user][0]), client_name=name)
    async with (
        httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http), mode=mode) as client,
    ):
        yield client


async def names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def test_a_users_session_turns_a_toolset_on_for_itself_only(replica: Replica) -> None:
    async with (
        session(replica, "ann", "legacy", "ann laptop") as ann,
        session(replica, "ann", "legacy", "ann phone") as ann_again,
        session(replica, "ben", "legacy", "ben laptop") as ben,
    ):
        for client in (ann, ann_again, ben):
            listed = await names(client)
            assert "enable_toolsets" in listed and AUDIT not in listed
        turned = structured(await ann.call_tool("enable_toolsets", {"toolsets": ["app_activity"]}))
        assert turned["turned_on"] == ["app_activity"]
        assert AUDIT in await names(ann)
        assert structured(await ann.call_tool(AUDIT, {"limit": 1}))["items"]
        assert AUDIT not in await names(ann_again)
        assert AUDIT not in await names(ben)
        refused = await ben.call_tool(AUDIT, {"limit": 1})
        assert refused.is_error and "enable_toolsets" in str(refused.content)


async def test_a_sessionless_user_is_told_the_setting(replica: Replica) -> None:
    async with session(replica, "ann", "auto", "ann modern") as ann:
        refused = await ann.call_tool("enable_toolsets", {"toolsets": ["app_activity"]})
        assert refused.is_error and "WRIKE_TOOLSETS" in str(refused.content)
        assert AUDIT not in await names(ann)
