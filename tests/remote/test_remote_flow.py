"""End to end with real MCP clients: the SDK's OAuthClientProvider signs in through DCR and through a client
ID metadata document, a scripted browser walks the consent page and the sandbox's Wrike sign-in."""

from __future__ import annotations

from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, oauth_provider, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow


async def test_sign_in_with_dcr_then_use_tools(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    replica = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        browser = Browser(user="chloe.martin@northwind.example")
        provider, storage = oauth_provider(replica.mcp_url, browser)
        async with (
            httpx2.AsyncClient(auth=provider, timeout=30) as http,
            Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,  # type: ignore[arg-type]
        ):
            tools = {tool.name for tool in (await client.list_tools()).tools}
            me = structured(await client.call_tool("get_me", {}))
        assert "create_task" in tools and "search_tasks" in tools
        assert me["user"]["name"] == "Chloe Martin"
        assert storage.client_info is not None and storage.tokens is not None
        assert storage.tokens.access_token.startswith("wmcp_at_")
        assert len(browser.pages) == 1 and "Test Client" in browser.pages[0]
        log = replica.access_log()
        assert any('"tool": "get_me"' in line and '"outcome": "ok"' in line for line in log)
        assert not any(storage.tokens.access_token in line for line in log)
    finally:
        replica.stop()
