"""Where a request's Wrike context comes from: one StaticContext, or in remote mode the signed-in user's
(UserContexts), and what a tool error tells each kind of user to do about credentials Wrike refuses."""

from __future__ import annotations

from typing import Any

import httpx
from mcp import Client

from tests.tools.test_offers import as_user
from tests.tools.tool_helpers import SANDBOX_BASE_URL, error_text
from wrike_mcp.config import Settings
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import Mode, StaticContext, UserContexts, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

SETTINGS = Settings(base_url=SANDBOX_BASE_URL)


def refused_client(sandbox_app: Any) -> WrikeClient:
    """A client whose token the sandbox does not know: every request is Wrike's 401."""
    return WrikeClient(
        StaticTokenSource("a-token-wrike-refuses"),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
    )


async def refusal(server: Any) -> str:
    async with Client(server) as client:
        result = await client.call_tool("get_me", {})
    assert result.is_error
    return error_text(result)


async def test_a_refused_token_names_what_this_kind_of_user_fixes(sandbox_app: Any) -> None:
    async with refused_client(sandbox_app) as wrike:
        modes: list[Mode] = ["permanent token", "oauth", "sandbox"]
        for mode in modes:
            server = create_server(SETTINGS, StaticContext(WrikeContext(SETTINGS, wrike, mode=mode)))
            message = await refusal(server)
            assert "(401): check WRIKE_ACCESS_TOKEN or run `wrike-mcp auth login`" in message, message

        # a remote user has no environment to set and no CLI to run: they sign in to wrike-mcp again
        user = WrikeContext(
            SETTINGS, wrike, granted_scopes=frozenset({"wsReadOnly"}), mode="oauth (remote, multi-user)"
        )
        server = create_server(SETTINGS, UserContexts(), middleware=[as_user(user)])
        message = await refusal(server)
        assert "Wrike rejected your sign-in (401): sign in to wrike-mcp again" in message, message
        assert "WRIKE_ACCESS_TOKEN" not in message and "auth login" not in message


async def test_each_request_of_a_remote_server_is_its_users(wrike_client: WrikeClient) -> None:
    """UserContexts registers every tool and answers each request with the context the gate put in it."""
    ann = WrikeContext(
        SETTINGS, wrike_client, granted_scopes=frozenset({"wsReadOnly"}), mode="oauth (remote, multi-user)"
    )
    server = create_server(SETTINGS, UserContexts(), middleware=[as_user(ann)])
    assert (
        server.contexts.offered_scopes is not None and "amReadOnlyAuditLog" in server.contexts.offered_scopes
    )
    async with Client(server) as client:
        me = await client.call_tool("get_me", {})
    assert not me.is_error
    assert me.structured_content is not None
    assert me.structured_content["mode"] == "oauth (remote, multi-user)"
    assert me.structured_content["granted_scopes"] == ["wsReadOnly"]
