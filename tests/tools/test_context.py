"""get_me against the sandbox, in both protocol eras: the user, role and account as Wrike's own JSON has them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import call, own_task_client, user_today
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


async def test_get_me_gives_the_users_today_and_time_zone(
    mcp: Client, sandbox_http: httpx.AsyncClient, sandbox_state: Any
) -> None:
    """What "overdue", "today" and "this week" count from: the date in the user's Wrike time zone (their
    profile's `timezone`), which differs from the server's date for hours each day."""
    me = await raw(sandbox_http, "/contacts", me="true")
    result = await call(mcp, "get_me")
    assert result["time_zone"] == me["timezone"] == "America/New_York"
    assert result["today"] == datetime.now(ZoneInfo(me["timezone"])).date().isoformat()
    assert result["today"] == user_today(sandbox_state).isoformat()


async def test_get_me_today_follows_a_far_time_zone(mcp: Client, sandbox_state: Any) -> None:
    # Kiritimati is UTC+14 and Pago Pago UTC-11: one of them is on another date than UTC right now
    zone = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    sandbox_state.contacts[sandbox_state.access_tokens["wrike-sandbox-token"].user_id].timezone = zone
    result = await call(mcp, "get_me")
    assert result["time_zone"] == zone
    assert (
        result["today"]
        == datetime.now(ZoneInfo(zone)).date().isoformat()
        != datetime.now(UTC).date().isoformat()
    )
