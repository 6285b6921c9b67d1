"""The "Connected apps" page in Chromium (Playwright): a person signs in with Wrike (the sandbox's sign-in,
no MCP client involved), sees the apps holding their tokens, revokes one, and that app's next call is a 401
while the other app keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Replica, sign_in_raw, start_replica, structured
from tests.remote.test_attacks import assert_invalid_token, mcp
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

OTHER_PERSON = "ben.carter@northwind.example"


@pytest.fixture
def replica(tmp_path: Path, sandbox: BackgroundSandbox) -> Iterator[Replica]:
    running = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        yield running
    finally:
        running.stop()


async def owner_email(sandbox: BackgroundSandbox) -> str:
    """The sandbox's account owner: whom its sign-in signs in when the request names nobody (a browser)."""
    async with httpx.AsyncClient(timeout=30) as http:
        me = (
            await http.get(
                f"{sandbox.api_url}/contacts",
                params={"me": "true"},
                headers={"Authorization": "Bearer wrike-sandbox-token"},
            )
        ).json()["data"][0]
    email: str = me.get("primaryEmail") or me["profiles"][0]["email"]
    return email


async def get_me(replica: Replica, token: str) -> dict[str, Any]:
    async with (
        httpx2.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
    ):
        return structured(await client.call_tool("get_me", {}))


async def test_connected_apps_list_revoke_and_the_revoked_app_gets_401(
    tmp_path: Path, chromium: Any, replica: Replica, sandbox: BackgroundSandbox
) -> None:
    email = await owner_email(sandbox)
    one = await anyio.to_thread.run_sync(lambda: sign_in_raw(replica.base_url, email, client_name="App One"))
    two = await anyio.to_thread.run_sync(lambda: sign_in_raw(replica.base_url, email, client_name="App Two"))
    theirs = await anyio.to_thread.run_sync(
        lambda: sign_in_raw(replica.base_url, OTHER_PERSON, client_name="Someone Else's App")
    )
    await get_me(replica, one["access_token"])
    await get_me(replica, two["access_token"])  # App Two was used last

    context = await chromium.new_context()
    page = await context.new_page()
    response = await page.goto(f"{replica.base_url}/account")
    assert response is not None and response.status == 200
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cache-control"] == "no-store"
    await page.locator("#sign-in").click()  # to the sandbox's Wrike sign-in and back
    await page.wait_for_url(f"{replica.base_url}/account", timeout=15_000)
    assert (await page.locator("#who").inner_text()).strip() == email
    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    assert cookies["wrike-mcp-account"]["httpOnly"] and cookies["wrike-mcp-account"]["sameSite"] == "Lax"
    await page.screenshot(path=str(tmp_path / "account.png"), full_page=True)

    rows = page.locator("tr.app")
    assert await rows.count() == 2  # the other person's app is not theirs to see
    names = [(await rows.nth(i).locator(".name").inner_text()).splitlines()[0] for i in range(2)]
    assert names == ["App Two", "App One"]  # most recently used first
    first_row = rows.nth(1)
    assert await first_row.get_attribute("data-client-id") == one["client_id"]
    assert (await first_row.locator(".redirect-host").inner_text()).strip() == "127.0.0.1:53682"
    assert (await first_row.locator(".scopes").inner_text()).strip() == one["scope"]
    first = await first_row.locator(".first").inner_text()
    last = await first_row.locator(".last").inner_text()
    assert first.endswith("UTC") and last.endswith("UTC") and first <= last

    await first_row.get_by_role("button", name="Revoke").click()
    await page.wait_for_url(f"{replica.base_url}/account", timeout=15_000)
    assert await page.locator("tr.app").count() == 1
    assert (await page.locator("tr.app .name").inner_text()).startswith("App Two")
    assert urlsplit(page.url).path == "/account"

    assert_invalid_token(mcp(replica, one["access_token"]))  # the revoked app's next call
    assert (await get_me(replica, two["access_token"]))["user"]  # the other app keeps working
    assert (await get_me(replica, theirs["access_token"]))["user"]  # and so does the other person's

    # signing out of the page ends its session: the list is gone, a sign-in link instead
    await page.locator("#sign-out").click()
    await page.wait_for_url(f"{replica.base_url}/account", timeout=15_000)
    assert await page.locator("#sign-in").count() == 1 and await page.locator("tr.app").count() == 0
    await context.close()
