"""Every major MCP client signs in to remote mode, each with the registration and requests it really sends.

Each test registers the way the client does (DCR body, or a client ID metadata document served over loopback),
authorizes with its redirect URI, `resource` and scope, walks the consent page and the sandbox's Wrike sign-in
with helpers.Browser, exchanges the code at /token the way the client authenticates, and calls `get_me` over
MCP with the token. The shapes and where they were seen publicly (docs/REMOTE.md "Clients" has the table):

- Claude (claude.ai, Claude Desktop connectors): DCR from Anthropic's backend with
  `token_endpoint_auth_method: client_secret_post`, no `scope`, redirect `https://claude.ai/api/mcp/auth_callback`
  (anthropics/claude-ai-mcp#1043, #500, #313); it then asks for the scopes the resource metadata lists.
- ChatGPT: a client ID metadata document whose preferred method is `private_key_jwt` with `none` also listed in
  `token_endpoint_auth_methods_supported` (gamedev.pl PR #641), redirect
  `https://chatgpt.com/connector_platform_oauth_redirect` (OpenAI Apps SDK docs, android-remote-control-mcp #166),
  `resource` on /authorize and /token.
- Microsoft Copilot Studio: DCR with a client secret, redirect under `https://global.consent.azure-apim.net/redirect`
  (Teamwork/mcp#67, SmartBear/smartbear-mcp#463 shows the per-connector path).
- VS Code: DCR, public, redirect URIs `https://insiders.vscode.dev/redirect`, `https://vscode.dev/redirect`,
  `http://127.0.0.1/` and `http://127.0.0.1:33418/`, and a random loopback port when 33418 is taken
  (microsoft/vscode#278512, contextstream/mcp-server#57).
- Cursor: DCR, public, three redirect URIs in one request (erp-mafia/accounted#2225, soflyy/agent-connector-for-wp#111,
  different-ai/openwork#3059: `token_endpoint_auth_method: none`; elie222/inbox-zero#3780: `application_type: web`).
- The MCP Python SDK's OAuthClientProvider (helpers.oauth_provider).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, Replica, oauth_provider, pkce, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

TIMEOUT = 30.0
ALL_SCOPES = "wsReadOnly wsReadWrite amReadOnlyAuditLog"  # the resource metadata's scopes_supported
DEFAULT_SCOPES = {"wsReadWrite", "amReadOnlyAuditLog"}  # WRIKE_SCOPES of the replica below
USERS = {
    "ann": ("ann.lee@northwind.example", "Ann Lee"),
    "ben": ("ben.carter@northwind.example", "Ben Carter"),
    "chloe": ("chloe.martin@northwind.example", "Chloe Martin"),
}
CLAUDE_REDIRECT = "https://claude.ai/api/mcp/auth_callback"
CHATGPT_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect"
CURSOR_REDIRECTS = [
    "cursor://anysphere.cursor-mcp/oauth/callback",
    "https://www.cursor.com/agents/mcp/oauth/callback",
    "http://localhost:8787/callback",
]
VSCODE_REDIRECTS = [
    "https://insiders.vscode.dev/redirect",
    "https://vscode.dev/redirect",
    "http://127.0.0.1/",
    "http://127.0.0.1:33418/",
]


# ---- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with BackgroundSandbox() as running:
        yield running.base_url


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory, sandbox_url: str) -> Iterator[Replica]:
    tmp = tmp_path_factory.mktemp("clients")
    running = start_replica(
        tmp,
        sandbox_url,
        f"sqlite:///{tmp / 'db.sqlite3'}",
        extra_env={"WRIKE_SCOPES": "wsReadWrite,amReadOnlyAuditLog"},
    )
    try:
        yield running
    finally:
        running.stop()


class _QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Listener:
    """A real HTTP server on a loopback port: a client's metadata document host, or its redirect target."""

    server: ThreadingHTTPServer
    documents: dict[str, bytes]
    received: list[dict[str, str]]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    documents: dict[str, bytes] = {}
    received: list[dict[str, str]] = []

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            body = documents.get(parts.path)
            if body is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            # a redirect target: record what arrived, then send the browser off loopback, where Browser stops
            received.append({k: v[0] for k, v in parse_qs(parts.query).items()})
            self.send_response(302)
            self.send_header("Location", "https://client.example/signed-in")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="client-listener", daemon=True)
    thread.start()
    try:
        yield Listener(server, documents, received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---- one client's sign-in, hop by hop ----------------------------------------------------------------


@dataclass
class Client_:
    client_id: str
    secret: str | None
    auth_method: str


def register(replica: Replica, body: dict[str, Any]) -> tuple[Client_, dict[str, Any]]:
    response = httpx.post(f"{replica.base_url}/register", json=body, timeout=TIMEOUT)
    assert response.status_code == 201, response.text
    info: dict[str, Any] = response.json()
    return Client_(info["client_id"], info.get("client_secret"), info["token_endpoint_auth_method"]), info


def authorize(
    replica: Replica,
    client: Client_,
    redirect_uri: str,
    user: str,
    *,
    scope: str | None = None,
    resource: bool = True,
    listening: Listener | None = None,
) -> tuple[dict[str, str], str]:
    """/authorize, consent and Wrike's sign-in in the scripted browser: (the redirect's query, the verifier).

    With `listening`, the redirect URI is that real loopback listener, and what it received is the answer.
    """
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        **({"scope": scope} if scope is not None else {}),
        **({"resource": replica.mcp_url} if resource else {}),
    }
    query = Browser(user=USERS[user][0]).authorize(f"{replica.base_url}/authorize?{urlencode(params)}")
    if listening is not None:
        assert query == {}, query  # the listener's "signed in" page, off loopback
        query = listening.received.pop()
    assert query.get("state") == state and query.get("iss") == replica.base_url, query
    assert "code" in query, query
    return query, verifier


def token(
    replica: Replica, client: Client_, code: str, verifier: str, redirect_uri: str, *, resource: bool = True
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client.client_id,
        "code_verifier": verifier,
        **({"resource": replica.mcp_url} if resource else {}),
    }
    headers = {}
    if client.auth_method == "client_secret_basic":
        assert client.secret
        headers["Authorization"] = (
            "Basic " + base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
        )
    elif client.auth_method == "client_secret_post":
        assert client.secret
        data["client_secret"] = client.secret
    return httpx.post(f"{replica.base_url}/token", data=data, headers=headers, timeout=TIMEOUT)


def sign_in(
    replica: Replica,
    client: Client_,
    redirect_uri: str,
    user: str,
    *,
    scope: str | None = None,
    resource: bool = True,
) -> dict[str, Any]:
    query, verifier = authorize(replica, client, redirect_uri, user, scope=scope, resource=resource)
    response = token(replica, client, query["code"], verifier, redirect_uri, resource=resource)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    assert tokens["access_token"].startswith("wmcp_at_") and tokens["refresh_token"].startswith("wmcp_rt_")
    return tokens


async def get_me(replica: Replica, access_token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=TIMEOUT) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as session,
    ):
        return structured(await session.call_tool("get_me", {}))


async def assert_signed_in(replica: Replica, tokens: dict[str, Any], user: str, scopes: set[str]) -> None:
    assert set(tokens["scope"].split()) == scopes, tokens["scope"]
    me = await get_me(replica, tokens["access_token"])
    assert me["user"]["name"] == USERS[user][1], me
    assert set(me["granted_scopes"]) == scopes, me


# ---- the clients -------------------------------------------------------------------------------------


async def test_claude_connector(replica: Replica) -> None:
    client, info = register(
        replica,
        {
            "client_name": "Claude",
            "redirect_uris": [CLAUDE_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    assert client.secret and "scope" not in info  # confidential; no scope written in for it
    # Claude asks for every scope the resource metadata lists
    tokens = sign_in(replica, client, CLAUDE_REDIRECT, "ann", scope=ALL_SCOPES)
    await assert_signed_in(replica, tokens, "ann", set(ALL_SCOPES.split()))


async def test_chatgpt_client_id_metadata_document(replica: Replica, listener: Listener) -> None:
    url = f"{listener.base_url}/oauth/chatgpt/client.json"
    listener.documents["/oauth/chatgpt/client.json"] = json.dumps(
        {
            "client_id": url,
            "client_name": "ChatGPT",
            "client_uri": "https://chatgpt.com",
            "redirect_uris": [CHATGPT_REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_methods_supported": ["none", "private_key_jwt"],
        }
    ).encode()
    client = Client_(url, None, "none")  # our metadata offers no private_key_jwt, so ChatGPT uses none
    tokens = sign_in(
        replica, client, CHATGPT_REDIRECT, "ben", scope="wsReadOnly"
    )  # narrower than the default
    await assert_signed_in(replica, tokens, "ben", {"wsReadOnly"})


@pytest.mark.parametrize(
    ("auth_method", "redirect_uri"),
    [
        ("client_secret_post", "https://global.consent.azure-apim.net/redirect"),
        (
            "client_secret_basic",
            "https://global.consent.azure-apim.net/redirect/cr938-5fwrike-20mcp-5f43bcb8573bc3e84",
        ),
    ],
)
async def test_copilot_studio(replica: Replica, auth_method: str, redirect_uri: str) -> None:
    client, _ = register(
        replica,
        {
            "client_name": "Microsoft Copilot Studio",
            "redirect_uris": [redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": auth_method,
        },
    )
    assert client.secret and client.auth_method == auth_method
    tokens = sign_in(replica, client, redirect_uri, "chloe", resource=False)  # no scope: the default
    await assert_signed_in(replica, tokens, "chloe", DEFAULT_SCOPES)
    # the secret is what makes it this client: without it the code is worth nothing
    query, verifier = authorize(replica, client, redirect_uri, "chloe")
    stranger = Client_(client.client_id, "0" * 64, auth_method)
    refused = token(replica, stranger, query["code"], verifier, redirect_uri)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", refused.text


async def test_vscode_loopback_on_another_port_and_vscode_dev(replica: Replica, listener: Listener) -> None:
    client, _ = register(
        replica,
        {
            "client_name": "Visual Studio Code",
            "redirect_uris": VSCODE_REDIRECTS,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    # 33418 is taken (another VS Code window): it listens on a free port and says so in redirect_uri
    loopback = f"{listener.base_url}/"
    assert not loopback.endswith(":33418/")
    query, verifier = authorize(replica, client, loopback, "ann", scope=ALL_SCOPES, listening=listener)
    # the code is bound to the port it was sent to: /token with the registered port is refused
    wrong_port = token(replica, client, query["code"], verifier, "http://127.0.0.1:33418/")
    assert wrong_port.status_code == 400 and wrong_port.json()["error"] == "invalid_request", wrong_port.text
    query, verifier = authorize(replica, client, loopback, "ann", scope=ALL_SCOPES, listening=listener)
    response = token(replica, client, query["code"], verifier, loopback)
    assert response.status_code == 200, response.text
    await assert_signed_in(replica, response.json(), "ann", set(ALL_SCOPES.split()))
    # vscode.dev in the browser uses its https redirect
    tokens = sign_in(replica, client, "https://vscode.dev/redirect", "ben", scope=ALL_SCOPES)
    await assert_signed_in(replica, tokens, "ben", set(ALL_SCOPES.split()))


async def test_cursor_three_redirect_uris(replica: Replica) -> None:
    client, info = register(
        replica,
        {
            "client_name": "Cursor",
            "redirect_uris": CURSOR_REDIRECTS,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "web",
        },
    )
    assert info["redirect_uris"] == CURSOR_REDIRECTS and client.secret is None
    tokens = sign_in(replica, client, CURSOR_REDIRECTS[0], "chloe", scope=ALL_SCOPES)
    await assert_signed_in(replica, tokens, "chloe", set(ALL_SCOPES.split()))
    # the CLI's loopback callback on whatever port it got, and the hosted callback, work for the same client
    for redirect_uri in ("http://localhost:52111/callback", CURSOR_REDIRECTS[1]):
        tokens = sign_in(replica, client, redirect_uri, "ann")
        await assert_signed_in(replica, tokens, "ann", DEFAULT_SCOPES)


async def test_mcp_python_sdk_client(replica: Replica) -> None:
    browser = Browser(user=USERS["ben"][0])
    provider, storage = oauth_provider(replica.mcp_url, browser, client_name="SDK Client")
    async with (
        httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as session,
    ):
        me = structured(await session.call_tool("get_me", {}))
    assert me["user"]["name"] == "Ben Carter"
    assert storage.client_info is not None and storage.tokens is not None
    assert len(browser.pages) == 1 and "SDK Client" in browser.pages[0]


async def test_scopeless_registration_may_narrow_then_step_up(replica: Replica) -> None:
    """A client that registered no scope asks for read-only, meets a 403 on a write, and steps up."""
    client, info = register(
        replica,
        {
            "client_name": "Step-up Client",
            "redirect_uris": [CLAUDE_REDIRECT],
            "token_endpoint_auth_method": "none",
        },
    )
    assert "scope" not in info
    narrow = sign_in(replica, client, CLAUDE_REDIRECT, "ann", scope="wsReadOnly")
    await assert_signed_in(replica, narrow, "ann", {"wsReadOnly"})
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_audit_log", "arguments": {}},
    }
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        denied = await http.post(
            replica.mcp_url,
            json=call,
            headers={
                "Authorization": f"Bearer {narrow['access_token']}",
                "Accept": "application/json, text/event-stream",
            },
        )
    assert denied.status_code == 403, denied.text
    challenge = denied.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and "amReadOnlyAuditLog" in challenge, challenge
    wider = sign_in(replica, client, CLAUDE_REDIRECT, "ann", scope="wsReadOnly amReadOnlyAuditLog")
    await assert_signed_in(replica, wider, "ann", {"wsReadOnly", "amReadOnlyAuditLog"})
