"""The consent page in a real browser: Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The scripted browser of helpers.py reads HTML with regular expressions; this one renders the page, runs its
Content-Security-Policy, keeps cookies the way browsers do and follows the form's redirects to the sandbox's
Wrike sign-in and back to the client's loopback redirect URI, where a small HTTP server plays the client.
The code it brings back is then exchanged at /token and used with the MCP SDK's client.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Replica, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

CLIENT_NAME = "Browser Test App"


@dataclass
class RedirectTarget:
    """The MCP client's loopback redirect URI: records every query it receives."""

    server: ThreadingHTTPServer
    received: list[dict[str, str]] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/cb"


@pytest.fixture
def redirect_target() -> Iterator[RedirectTarget]:
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/cb":
                received.append({k: v[0] for k, v in parse_qs(parts.query).items()})
            body = b"<!doctype html><title>Signed in</title><h1>You can close this window.</h1>"
            self.send_response(200 if parts.path == "/cb" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RedirectTarget(server, received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def replica(tmp_path: Path, sandbox: BackgroundSandbox) -> Iterator[Replica]:
    running = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        yield running
    finally:
        running.stop()


async def register(replica: Replica, redirect_uri: str, scope: str = "wsReadWrite") -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{replica.base_url}/register",
            json={
                "client_name": CLIENT_NAME,
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "scope": scope,
            },
        )
    assert response.status_code == 201, response.text
    client_id: str = response.json()["client_id"]
    return client_id


@dataclass
class AuthorizeRequest:
    url: str
    state: str
    verifier: str


def authorize_request(replica: Replica, client_id: str, redirect_uri: str, scope: str) -> AuthorizeRequest:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": state,
            "scope": scope,
            "resource": replica.mcp_url,
        }
    )
    return AuthorizeRequest(f"{replica.base_url}/authorize?{query}", state, verifier)


async def exchange(
    replica: Replica, client_id: str, redirect_uri: str, code: str, verifier: str
) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{replica.base_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": verifier,
                "resource": replica.mcp_url,
            },
        )
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()
    return token


async def list_tools_and_me(replica: Replica, access_token: str) -> tuple[set[str], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
    ):
        tools = {tool.name for tool in (await client.list_tools()).tools}
        me = structured(await client.call_tool("get_me", {}))
    return tools, me


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_consent_in_chromium_then_token_and_tools(
    tmp_path: Path, chromium: Any, replica: Replica, redirect_target: RedirectTarget
) -> None:
    redirect_uri = redirect_target.uri
    client_id = await register(replica, redirect_uri, "wsReadOnly wsReadWrite amReadOnlyAuditLog")
    request = authorize_request(replica, client_id, redirect_uri, "wsReadWrite")

    context = await chromium.new_context()
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))

    response = await page.goto(request.url)
    assert response is not None and response.status == 200
    assert urlsplit(page.url).path == "/consent"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert await page.title() == "Allow access to Wrike?"
    assert (await page.locator("#client-name").inner_text()).strip() == CLIENT_NAME
    assert (await page.locator("#redirect-uri").inner_text()).strip() == redirect_uri  # in full
    assert "wsReadWrite" in await page.locator("#scopes").inner_text()
    assert await page.locator('#scopes input[name="scope"][value="wsReadWrite"]').is_checked()
    assert "on this computer" in await page.locator(".warn").inner_text()  # loopback redirect warning
    assert client_id in await page.locator("code").inner_text()
    await page.screenshot(path=str(tmp_path / "consent.png"), full_page=True)

    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect_uri}?**", timeout=15_000)
    assert await page.locator("h1").inner_text() == "You can close this window."

    result = query_of(page.url)
    assert set(result) == {"code", "state", "iss"}, result
    assert result["state"] == request.state
    assert result["iss"] == replica.base_url
    assert redirect_target.received == [result]
    # the browser was never shown a CSP violation on the way (form-action covers Wrike and the client)
    assert not [line for line in console if "Content Security Policy" in line], console

    token = await exchange(replica, client_id, redirect_uri, result["code"], request.verifier)
    assert token["token_type"].lower() == "bearer"
    assert token["access_token"].startswith("wmcp_at_")
    assert token["scope"] == "wsReadWrite"

    tools, me = await list_tools_and_me(replica, token["access_token"])
    assert {"search_tasks", "create_task", "get_me"} <= tools
    assert me["user"]["name"]

    # the same person in the same browser is not asked again for the same client and the same (or fewer)
    # permissions: straight through Wrike to the redirect URI, no page on the way
    consent_answers: list[int] = []
    page.on(
        "response",
        lambda answer: consent_answers.append(answer.status) if "/consent?" in answer.url else None,
    )
    again = authorize_request(replica, client_id, redirect_uri, "wsReadWrite")
    await page.goto(again.url)
    await page.wait_for_url(f"{redirect_uri}?**", timeout=15_000)
    second = query_of(page.url)
    assert second["state"] == again.state and second["code"] != result["code"]
    assert len(redirect_target.received) == 2
    assert consent_answers == [302], consent_answers  # /consent sent the browser on to Wrike: no page

    # more than was approved (the audit log too): the page again, naming every permission asked for
    broader = authorize_request(replica, client_id, redirect_uri, "wsReadWrite amReadOnlyAuditLog")
    response = await page.goto(broader.url)
    assert response is not None and response.status == 200
    assert urlsplit(page.url).path == "/consent"
    assert await page.locator('#scopes input[name="scope"]').count() == 2
    assert "audit log" in await page.locator("#scopes").inner_text()
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect_uri}?**", timeout=15_000)
    third = query_of(page.url)
    assert third["state"] == broader.state and "code" in third
    wider = await exchange(replica, client_id, redirect_uri, third["code"], broader.verifier)
    assert wider["scope"] == "wsReadWrite amReadOnlyAuditLog"

    # the first code was spent: a replay is refused
    async with httpx.AsyncClient(timeout=30) as http:
        replay = await http.post(
            f"{replica.base_url}/token",
            data={
                "grant_type": "authorization_code",
                "code": result["code"],
                "redirect_uri": redirect_uri,
                "client_id": client_id,
                "code_verifier": request.verifier,
            },
        )
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    await context.close()


async def test_unticking_write_access_in_chromium_gives_a_read_only_token(
    chromium: Any, replica: Replica, redirect_target: RedirectTarget
) -> None:
    redirect_uri = redirect_target.uri
    client_id = await register(replica, redirect_uri)
    request = authorize_request(replica, client_id, redirect_uri, "wsReadWrite")
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(request.url)
    await page.locator('#scopes input[value="wsReadWrite"]').uncheck()
    await page.get_by_role("button", name="Allow").click()
    await page.wait_for_url(f"{redirect_uri}?**", timeout=15_000)
    result = query_of(page.url)
    assert "code" in result and result["state"] == request.state

    token = await exchange(replica, client_id, redirect_uri, result["code"], request.verifier)
    assert token["scope"] == "wsReadOnly"
    tools, _ = await list_tools_and_me(replica, token["access_token"])
    assert "search_tasks" in tools and "create_task" not in tools
    await context.close()


async def test_deny_in_chromium_returns_access_denied(
    chromium: Any, replica: Replica, redirect_target: RedirectTarget
) -> None:
    redirect_uri = redirect_target.uri
    client_id = await register(replica, redirect_uri)
    request = authorize_request(replica, client_id, redirect_uri, "wsReadWrite")
    context = await chromium.new_context()
    page = await context.new_page()
    await page.goto(request.url)
    await page.get_by_role("button", name="Deny").click()
    await page.wait_for_url(f"{redirect_uri}?**", timeout=15_000)
    assert query_of(page.url) == {"error": "access_denied", "state": request.state, "iss": replica.base_url}

    # the consent link cannot be reused after the decision, nor opened by another browser
    other = await chromium.new_context()
    other_page = await other.new_page()
    replayed = await other_page.goto(request.url.replace(request.state, "other-state"))
    assert replayed is not None and urlsplit(other_page.url).path == "/consent"
    txn_url = other_page.url
    third = await chromium.new_context()
    stolen = await third.new_page()
    refused = await stolen.goto(txn_url)
    assert refused is not None and refused.status == 400
    assert "another browser" in await stolen.locator("p").inner_text()
    for opened in (context, other, third):
        await opened.close()
