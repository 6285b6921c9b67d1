"""get_me against the sandbox, in both protocol eras: the user, role and account as Wrike's own JSON has them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call, own_task_client
from wrike_mcp.server import WrikeMCPServer

TOKEN = {"Authorization": "Bearer wrike-sandbox-token"}


async def raw(sandbox_http: httpx.AsyncClient, path: str, **params: str) -> dict[str, Any]:
    response = await sandbox_http.get(f"/api/v4{path}", params=params, headers=TOKEN)
    response.raise_for_status()
    data: list[dict[str, Any]] = response.json()["data"]
    return data[0]


async def test_get_me_names_the_user_role_and_account(mcp: Client, sandbox_http: httpx.AsyncClient) -> None:
    me = await raw(sandbox_http, "/contacts", me="true")
    account = await raw(sandbox_http, "/account")
    profile = me["profiles"][0]
    expected_role = "Owner" if profile.get("owner") else "Admin" if profile.get("admin") else profile["role"]

    result = await call(mcp, "get_me")

    assert result["user"] == {"id": me["id"], "name": f"{me['firstName']} {me['lastName']}"}
    assert result["email"] == profile["email"]
    assert result["role"] == expected_role
    assert result["account"] == {"id": account["id"], "name": account["name"]}
    assert result["api_host"] == "http://127.0.0.1:8100/api/v4"
    assert result["mode"] == "sandbox"
    assert "granted_scopes" not in result  # a permanent token's scopes are unknown


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_get_me_lists_granted_scopes(make_server: Callable[..., WrikeMCPServer], mode: str) -> None:
    server = make_server(granted_scopes=frozenset({"wsReadWrite", "amReadOnlyAuditLog"}))
    async with own_task_client(server, mode=mode) as client:
        result = await call(client, "get_me")
    assert result["granted_scopes"] == ["amReadOnlyAuditLog", "wsReadWrite"]
