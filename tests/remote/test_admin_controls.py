"""Admin controls, against real replicas: which clients may sign in (redirect hosts, client ids), dynamic
registration off, pre-registered confidential clients from `wrike-mcp admin register-client`, and the
deployment's tool filters applied to every remote user (docs/REMOTE.md "Admin controls")."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import (
    REDIRECT_URI,
    Browser,
    Replica,
    admin,
    free_port,
    oauth_provider,
    pkce,
    start_replica,
    structured,
)
from tests.remote.test_clients import USERS, Client_, authorize, get_me, register, sign_in, token
from tests.remote.test_remote_flow import _https_document_server
from wrike_mcp.remote.store import Store
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

TIMEOUT = 30.0
CLAUDE_REDIRECT = "https://claude.ai/api/mcp/auth_callback"
CHATGPT_REDIRECT = "https://chatgpt.com/connector_platform_oauth_redirect"
COPILOT_REDIRECT = "https://global.consent.azure-apim.net/redirect"
POLICY_PAGE = "does not allow this app"


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    with BackgroundSandbox() as running:
        yield running.base_url


class Documents:
    """Client ID metadata documents on a real loopback HTTP server (the replicas' test mode fetches them)."""

    def __init__(self) -> None:
        self.bodies: dict[str, bytes] = {}
        documents = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, name: str, redirect_uri: str) -> str:
        url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        self.bodies[path] = json.dumps(
            {
                "client_id": url,
                "client_name": name,
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
            }
        ).encode()
        return url


@pytest.fixture
def documents() -> Iterator[Documents]:
    served = Documents()
    try:
        yield served
    finally:
        served.server.shutdown()
        served.server.server_close()


def public(client_id: str) -> Client_:
    return Client_(client_id, None, "none")


def authorize_page(replica: Replica, client_id: str, redirect_uri: str) -> httpx.Response:
    """The first hop of a sign-in, as the person's browser makes it."""
    _, challenge = pkce()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s1",
        }
    )
    return httpx.get(f"{replica.base_url}/authorize?{query}", timeout=TIMEOUT)


def post(replica: Replica, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{replica.base_url}{path}", timeout=TIMEOUT, **kwargs)


def authorization_server_metadata(replica: Replica) -> dict[str, Any]:
    response = httpx.get(f"{replica.base_url}/.well-known/oauth-authorization-server", timeout=TIMEOUT)
    document: dict[str, Any] = response.json()
    return document


def assert_policy_page(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert POLICY_PAGE in response.text and "location" not in response.headers


def refusals(replica: Replica) -> list[str]:
    return [line for line in replica.log.read_text().splitlines() if "by the administrator's policy" in line]


# ---- allowed redirect hosts ----------------------------------------------------------------------------


async def test_allowed_redirect_hosts(tmp_path: Path, sandbox_url: str) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    # before the policy: an app with its own redirect host registers and signs in
    port = free_port()  # the same public URL before and after, so its tokens are this server's
    open_replica = start_replica(tmp_path, sandbox_url, database, name="open", port=port)
    try:
        other_body = {
            "client_name": "Other App",
            "redirect_uris": ["https://app.other.example/callback"],
            "token_endpoint_auth_method": "client_secret_post",
        }
        other, _ = register(open_replica, other_body)
        other_tokens = sign_in(open_replica, other, "https://app.other.example/callback", "ann")
    finally:
        open_replica.stop()

    replica = start_replica(
        tmp_path,
        sandbox_url,
        database,
        name="policy",
        port=port,
        extra_env={"WRIKE_MCP_ALLOWED_REDIRECT_HOSTS": "claude.ai, localhost"},
    )
    try:
        # listed hosts register and sign in; loopback is allowed as a family because localhost is listed
        claude, _ = register(
            replica,
            {
                "client_name": "Claude",
                "redirect_uris": [CLAUDE_REDIRECT],
                "token_endpoint_auth_method": "client_secret_post",
            },
        )
        tokens = sign_in(replica, claude, CLAUDE_REDIRECT, "ben")
        assert (await get_me(replica, tokens["access_token"]))["user"]["name"] == USERS["ben"][1]
        native, _ = register(
            replica,
            {
                "client_name": "Native",
                "redirect_uris": [REDIRECT_URI, "http://[::1]:8080/cb"],
                "token_endpoint_auth_method": "none",
            },
        )
        sign_in(replica, native, REDIRECT_URI, "chloe")

        # one unlisted redirect URI is enough to refuse the registration, and the answer names the setting
        for uris in (
            ["https://app.other.example/callback"],
            [CLAUDE_REDIRECT, "https://claude.ai.other.example/cb"],
            [CHATGPT_REDIRECT],
        ):
            before = len(refusals(replica))
            refused = post(
                replica,
                "/register",
                json={
                    "client_name": "Not Listed",
                    "redirect_uris": uris,
                    "token_endpoint_auth_method": "none",
                },
            )
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"] == "invalid_redirect_uri"
            assert "WRIKE_MCP_ALLOWED_REDIRECT_HOSTS" in refused.json()["error_description"]
            assert len(refusals(replica)) == before + 1

        # the app registered before the policy: its browser gets our page, its redirect URI nothing
        assert_policy_page(authorize_page(replica, other.client_id, "https://app.other.example/callback"))
        # and its refresh token no longer gets tokens
        refreshed = post(
            replica,
            "/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": other_tokens["refresh_token"],
                "client_id": other.client_id,
                "client_secret": other.secret,
            },
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant", refreshed.text

        log = replica.log.read_text()
        lines = refusals(replica)
        assert "admin controls: only clients allowed by redirect hosts claude.ai, localhost;" in log
        assert len(lines) == 5, lines  # 3 registrations, 1 /authorize, 1 /token
        assert all("WARNING" in line and "WRIKE_MCP_ALLOWED_REDIRECT_HOSTS" in line for line in lines)
        assert other.secret and other.secret not in log and other_tokens["refresh_token"] not in log
    finally:
        replica.stop()


async def test_loopback_only_when_listed(tmp_path: Path, sandbox_url: str) -> None:
    replica = start_replica(
        tmp_path,
        sandbox_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"WRIKE_MCP_ALLOWED_REDIRECT_HOSTS": "claude.ai"},
    )
    try:
        for uri in (REDIRECT_URI, "http://localhost:8765/callback", "http://[::1]/cb"):
            refused = post(
                replica,
                "/register",
                json={"client_name": "Native", "redirect_uris": [uri], "token_endpoint_auth_method": "none"},
            )
            assert refused.status_code == 400 and refused.json()["error"] == "invalid_redirect_uri", uri
    finally:
        replica.stop()


# ---- allowed client ids ----------------------------------------------------------------------------


async def test_allowed_client_ids(tmp_path: Path, sandbox_url: str, documents: Documents) -> None:
    chatgpt = documents.add("/chatgpt.json", "ChatGPT", CHATGPT_REDIRECT)
    claude = documents.add("/claude.json", "Claude", CLAUDE_REDIRECT)  # same document, another host
    stranger = documents.add("/stranger.json", "Stranger", CHATGPT_REDIRECT)
    replica = start_replica(
        tmp_path,
        sandbox_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"WRIKE_MCP_ALLOWED_CLIENT_IDS": chatgpt, "WRIKE_MCP_ALLOWED_REDIRECT_HOSTS": "claude.ai"},
    )
    try:
        # listed by id, or by redirect host: either admits a client
        tokens = sign_in(replica, public(chatgpt), CHATGPT_REDIRECT, "ann")
        assert (await get_me(replica, tokens["access_token"]))["user"]["name"] == USERS["ann"][1]
        sign_in(replica, public(claude), CLAUDE_REDIRECT, "ben")
        # the same redirect URI as a listed client does not make another document's client listed
        assert_policy_page(authorize_page(replica, stranger, CHATGPT_REDIRECT))
        _, challenge = pkce()
        form = {
            "response_type": "code",
            "client_id": stranger,
            "redirect_uri": CHATGPT_REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        assert_policy_page(post(replica, "/authorize", data=form))  # the form post of the same request
        # a dynamic registration gets a fresh id, so only the host list can admit it
        refused = post(
            replica,
            "/register",
            json={
                "client_name": "X",
                "redirect_uris": [CHATGPT_REDIRECT],
                "token_endpoint_auth_method": "none",
            },
        )
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_redirect_uri", refused.text
        assert len(refusals(replica)) == 3
    finally:
        replica.stop()
    ids_only = start_replica(
        tmp_path,
        sandbox_url,
        f"sqlite:///{tmp_path / 'db2.sqlite3'}",
        name="ids",
        extra_env={"WRIKE_MCP_ALLOWED_CLIENT_IDS": chatgpt},
    )
    try:
        refused = post(
            ids_only,
            "/register",
            json={
                "client_name": "X",
                "redirect_uris": [CLAUDE_REDIRECT],
                "token_endpoint_auth_method": "none",
            },
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_client_metadata"
        assert "WRIKE_MCP_ALLOWED_CLIENT_IDS" in refused.json()["error_description"]
        assert_policy_page(authorize_page(ids_only, claude, CLAUDE_REDIRECT))
        sign_in(ids_only, public(chatgpt), CHATGPT_REDIRECT, "chloe")
    finally:
        ids_only.stop()


# ---- dynamic registration off, pre-registered clients -----------------------------------------------


@pytest.fixture(scope="module")
def dcr_off(
    tmp_path_factory: pytest.TempPathFactory, sandbox_url: str
) -> Iterator[tuple[Replica, str, Path]]:
    tmp = tmp_path_factory.mktemp("dcr-off")
    document_url, cert, server = _https_document_server(
        tmp,
        {
            "client_name": "Metadata Document Client",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        },
    )
    database = f"sqlite:///{tmp / 'db.sqlite3'}"
    replica = start_replica(
        tmp,
        sandbox_url,
        database,
        extra_env={"WRIKE_MCP_DCR": "off", "SSL_CERT_FILE": str(cert), "WRIKE_MCP_REGISTRATION_TTL": "1"},
    )
    try:
        yield replica, document_url, tmp
    finally:
        replica.stop()
        server.shutdown()  # type: ignore[attr-defined]


def _causes(error: BaseException) -> Iterator[BaseException]:
    yield error
    for inner in getattr(error, "exceptions", ()):
        yield from _causes(inner)
    if error.__cause__ is not None:
        yield from _causes(error.__cause__)


async def test_dcr_off(dcr_off: tuple[Replica, str, Path]) -> None:
    replica, document_url, _ = dcr_off
    metadata = authorization_server_metadata(replica)
    assert "registration_endpoint" not in metadata and metadata["client_id_metadata_document_supported"]
    assert "admin controls: every client; dynamic registration off" in replica.log.read_text()
    refused = post(
        replica,
        "/register",
        json={"client_name": "X", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "access_denied"
    assert "WRIKE_MCP_DCR=off" in refused.json()["error_description"]

    # the MCP SDK's client falls back to POST /register without a registration_endpoint: it stops there
    provider, storage = oauth_provider(replica.mcp_url, Browser(user=USERS["ann"][0]))
    with pytest.raises(BaseException) as failed:  # the SDK's error, in anyio's task groups
        async with (
            httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http,
            Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
        ):
            await client.list_tools()
    assert any("dynamic client registration is turned off" in str(e) for e in _causes(failed.value)), failed
    assert storage.tokens is None

    # a client with a metadata document signs in as before
    browser = Browser(user=USERS["ben"][0])
    provider, storage = oauth_provider(replica.mcp_url, browser, client_metadata_url=document_url)
    async with (
        httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
    ):
        me = structured(await client.call_tool("get_me", {}))
    assert me["user"]["name"] == USERS["ben"][1]
    assert storage.client_info is not None and storage.client_info.client_id == document_url


@pytest.mark.parametrize("auth_method", ["client_secret_post", "client_secret_basic"])
async def test_pre_registered_client(dcr_off: tuple[Replica, str, Path], auth_method: str) -> None:
    replica, _, tmp = dcr_off
    database = f"sqlite:///{tmp / 'db.sqlite3'}"
    made = admin(
        tmp,
        database,
        "register-client",
        "--name",
        "Copilot Studio (Sales)",
        "--redirect-uri",
        COPILOT_REDIRECT,
        "--redirect-uri",
        f"{COPILOT_REDIRECT}/cr938-5fwrike",
        "--auth-method",
        auth_method,
    )
    assert made.returncode == 0, made.stderr
    printed = dict(line.split("\t") for line in made.stdout.splitlines())
    client = Client_(printed["client_id"], printed["client_secret"], auth_method)
    assert len(client.secret or "") == 64 and printed["token_endpoint_auth_method"] == auth_method
    assert "only this once" in made.stderr

    listed = admin(tmp, database, "clients")
    row = next(line.split("\t") for line in listed.stdout.splitlines() if line.startswith(client.client_id))
    assert row[1:3] == ["Copilot Studio (Sales)", "pre-registered"], row
    assert (client.secret or "") not in listed.stdout

    await anyio.sleep(
        1.5
    )  # longer than this replica's WRIKE_MCP_REGISTRATION_TTL: a pre-registered client stays
    tokens = sign_in(replica, client, f"{COPILOT_REDIRECT}/cr938-5fwrike", "chloe", resource=False)
    assert (await get_me(replica, tokens["access_token"]))["user"]["name"] == USERS["chloe"][1]
    # the secret is what makes it this client
    query, verifier = authorize(replica, client, COPILOT_REDIRECT, "chloe")
    wrong = token(
        replica, Client_(client.client_id, "0" * 64, auth_method), query["code"], verifier, COPILOT_REDIRECT
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client", wrong.text

    revoked = admin(tmp, database, "revoke", "--client", client.client_id)
    assert revoked.returncode == 0, revoked.stderr
    gone = authorize_page(replica, client.client_id, COPILOT_REDIRECT)
    assert gone.status_code == 401 and gone.json()["error"] == "invalid_client"
    refreshed = post(
        replica,
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
        },
    )
    assert refreshed.status_code in (400, 401), refreshed.text
    assert client.client_id not in admin(tmp, database, "clients").stdout


async def test_pre_registered_client_is_kept(tmp_path: Path, database_url: str) -> None:
    """On SQLite and PostgreSQL: the purge of expired registrations leaves a pre-registered client alone."""
    made = admin(
        tmp_path, database_url, "register-client", "--name", "Kept", "--redirect-uri", COPILOT_REDIRECT
    )
    assert made.returncode == 0, made.stderr
    client_id = made.stdout.split("\t", 1)[1].splitlines()[0]
    store = Store.open(database_url)
    try:
        await store.purge_expired(time.time() + 10 * 365 * 86400)
        row = await store.get_client(client_id)
        assert row is not None and row.kind == "pre" and row.expires_at is None and row.secret
        assert (
            row.info["token_endpoint_auth_method"] == "client_secret_post" and "client_secret" not in row.info
        )
        assert made.stdout.split("client_secret\t", 1)[1].split()[0] not in json.dumps(row.info) + row.secret
    finally:
        await store.close()
    revoked = admin(tmp_path, database_url, "revoke", "--client", client_id)
    assert revoked.returncode == 0 and "it is gone" in revoked.stdout, revoked.stderr


def test_register_client_refuses_bad_input(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    for args, message in (
        (["--redirect-uri", "http://app.example/cb"], "must be https"),
        (["--redirect-uri", "cursor://app/cb"], "public clients only"),
        (["--redirect-uri", COPILOT_REDIRECT, "--scope", "wsEverything"], "unknown scope"),
    ):
        made = admin(tmp_path, database, "register-client", "--name", "X", *args)
        assert made.returncode == 2 and message in made.stderr, made.stderr
        assert "client_secret" not in made.stdout
    # the registration bounds are the server's settings, for the administrator's clients too
    named = ["register-client", "--name", "n" * 21, "--redirect-uri", COPILOT_REDIRECT]
    made = admin(tmp_path, database, *named, WRIKE_MCP_MAX_CLIENT_NAME="20")
    assert made.returncode == 2 and "client_name is at most 20 characters" in made.stderr, made.stderr
    # a client the policy would refuse is registered, with a note saying so
    made = admin(
        tmp_path,
        database,
        "register-client",
        "--name",
        "Copilot",
        "--redirect-uri",
        COPILOT_REDIRECT,
        WRIKE_MCP_ALLOWED_REDIRECT_HOSTS="claude.ai",
    )
    assert made.returncode == 0 and "the client policy as set now refuses this client" in made.stderr


# ---- the deployment's tool filters apply to every user ---------------------------------------------


# the context and tasks toolsets, read-only, without list_timelogs: written out, not computed by the filter
READ_ONLY_TASKS = {
    "get_me",
    "enable_toolsets",
    "search_tasks",
    "get_task",
    "my_work",
    "list_approvals",
}


@pytest.mark.parametrize(
    ("env", "offered", "refused"),
    [
        (
            {
                "WRIKE_READ_ONLY": "true",
                "WRIKE_TOOLSETS": "context,tasks",
                "WRIKE_EXCLUDE_TOOLS": "list_timelogs",
            },
            READ_ONLY_TASKS,
            ["create_task", "list_timelogs", "list_folders"],
        ),
        (
            {"WRIKE_TOOLS": "get_me,search_tasks,create_task"},
            {"get_me", "search_tasks", "create_task"},
            ["list_folders", "update_task"],
        ),
    ],
)
async def test_tool_policy_for_every_user(
    tmp_path: Path, sandbox_url: str, env: dict[str, str], offered: set[str], refused: list[str]
) -> None:
    replica = start_replica(tmp_path, sandbox_url, f"sqlite:///{tmp_path / 'db.sqlite3'}", extra_env=env)
    try:
        # Ann grants write access; Ben unticks it. Neither sees or calls what the deployment does not offer,
        # and a refused write tool asks Ben for no more scopes (granting them would not make it callable).
        for user, untick in (("ann", ()), ("ben", ("wsReadWrite",))):
            browser = Browser(user=USERS[user][0], untick=untick)
            provider, _ = oauth_provider(replica.mcp_url, browser, client_name=f"{user} client")
            async with (
                httpx2.AsyncClient(auth=provider, timeout=TIMEOUT) as http,
                Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
            ):
                tools = {tool.name for tool in (await client.list_tools()).tools}
                expected = offered if not untick else {name for name in offered if name != "create_task"}
                assert tools == expected, (user, sorted(tools ^ expected))
                for name in refused:
                    result = await client.call_tool(name, {})
                    assert result.is_error, (user, name)
                    assert f"Unknown tool: {name}" in str(result.content), (user, name, result.content)
                assert structured(await client.call_tool("get_me", {}))["user"]["name"] == USERS[user][1]
    finally:
        replica.stop()
