"""Abuse of the unauthenticated routes, against real replicas: floods, oversized and malformed input.

Each test is a row (OA50–OA69, OA81–OA84) of docs/RELIABILITY.md's Remote-mode table. Limits are set small
through the environment so that the tests are fast. The tests connect from loopback, which uvicorn trusts as a proxy by
default, so a test can stand for several client addresses by sending `X-Forwarded-For`.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import httpx
import pytest
from sqlalchemy import update

from tests.remote.conftest import POSTGRES_ADMIN_URL, _postgres_admin
from tests.remote.helpers import (
    REDIRECT_URI,
    SECRET_KEY,
    WRIKE_MCP,
    Browser,
    DocumentServer,
    Replica,
    base_env,
    document_server,
    pkce,
    sign_in_raw,
    start_replica,
)
from wrike_mcp.remote.consent import BINDING_COOKIE, FORM_COOKIE, USER_COOKIE, binding_cookie
from wrike_mcp.remote.store import Store, clients
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

ANN = "ann.lee@northwind.example"
TIMEOUT = 15.0
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
METRICS_TOKEN = "metrics-secret-for-abuse-tests-0123456789"


# ---- fixtures and helpers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, module_sandbox: BackgroundSandbox) -> Iterator[Replica]:
    """Every per-address limit at 3 a minute; each test counts as its own addresses (X-Forwarded-For)."""
    workdir = tmp_path_factory.mktemp("limited")
    running = start_replica(
        workdir,
        module_sandbox.base_url,
        f"sqlite:///{workdir / 'db.sqlite3'}",
        name="limited",
        extra_env={
            "WRIKE_MCP_REGISTER_RATE_LIMIT": "3",
            "WRIKE_MCP_AUTHORIZE_RATE_LIMIT": "3",
            "WRIKE_MCP_TOKEN_RATE_LIMIT": "3",
            "WRIKE_MCP_REVOKE_RATE_LIMIT": "3",
            "WRIKE_MCP_SIGN_IN_RATE_LIMIT": "3",
            "WRIKE_MCP_METRICS_TOKEN": METRICS_TOKEN,
            "WRIKE_MCP_METRICS_RATE_LIMIT": "3",
        },
    )
    try:
        yield running
    finally:
        running.stop()


async def _postgres(statement: str) -> None:
    admin = await _postgres_admin()
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def safe_database() -> Iterator[str]:
    """The PostgreSQL database of the `safe` replica."""
    name = f"wrike_mcp_test_{secrets.token_hex(6)}"
    anyio.run(_postgres, f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        anyio.run(_postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def safe(
    tmp_path_factory: pytest.TempPathFactory, module_sandbox: BackgroundSandbox, safe_database: str
) -> Iterator[Replica]:
    """A replica on PostgreSQL, which refuses text holding NUL: malformed input goes all the way."""
    running = start_replica(
        tmp_path_factory.mktemp("safe"), module_sandbox.base_url, safe_database, name="safe"
    )
    try:
        yield running
    finally:
        running.stop()


ADDRESSES = iter(f"203.0.113.{n}" for n in range(1, 255))


def new_address() -> dict[str, str]:
    """Headers making the request count as coming from a client address no other request used."""
    return {"X-Forwarded-For": next(ADDRESSES)}


def registration_body(**metadata: Any) -> bytes:
    body = {
        "client_name": "Abuse test client",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    # json.dumps escapes what is not ASCII, so that even a lone surrogate travels as JSON allows
    return json.dumps(body).encode()


def register(base: str, headers: dict[str, str] | None = None, **metadata: Any) -> httpx.Response:
    headers = {"Content-Type": "application/json", **(headers or {})}
    content = registration_body(**metadata)
    return httpx.post(f"{base}/register", content=content, headers=headers, timeout=TIMEOUT)


def authorize(
    base: str, client_id: str, headers: dict[str, str] | None = None, **extra: str
) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(8),
        **extra,
    }
    return httpx.get(f"{base}/authorize?{urlencode(params)}", headers=headers, timeout=TIMEOUT)


def consent_url(response: httpx.Response, base: str) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{base}/consent?txn="), location
    return location


def form_fields(page: httpx.Response) -> dict[str, str]:
    found = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', page.text))
    assert set(found) == {"txn", "csrf"}, page.text[:300]
    return {key: unescape(value) for key, value in found.items()}


def assert_json_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["error"] == error, body
    assert body.get("error_description"), body
    return body


def assert_html_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers
    assert "Sign-in stopped" in response.text, response.text[:300]


def assert_retry_after(response: httpx.Response, at_most: int = 60) -> None:
    assert 1 <= int(response.headers["retry-after"]) <= at_most, response.headers


def raw_request(replica: Replica, request: bytes) -> tuple[int, bytes]:
    """Send bytes httpx would refuse to send (non-ASCII headers, huge request lines); (status, body)."""
    with socket.create_connection(("127.0.0.1", replica.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def assert_no_server_errors(replica: Replica) -> None:
    """Nothing reached the server's 500 handler (it logs a traceback for each)."""
    log = replica.log.read_text()
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]


def sqlite_rows(replica_db: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(replica_db) as conn:
        return conn.execute(query).fetchall()


# ---- per-address rate limits -------------------------------------------------------------------------


def test_register_flood_is_limited_per_address(limited: Replica) -> None:
    first, second = new_address(), new_address()
    for _ in range(3):
        assert register(limited.base_url, first).status_code == 201
    refused = register(limited.base_url, first)
    assert_json_error(refused, 429, "rate_limited")
    assert_retry_after(refused)
    # per address: another client is not held back by the first one's flood
    assert register(limited.base_url, second).status_code == 201


def test_every_unauthenticated_route_is_limited(limited: Replica) -> None:
    base = limited.base_url
    client_id = register(base, new_address()).json()["client_id"]
    requests: dict[str, Callable[[dict[str, str]], httpx.Response]] = {
        "/authorize": lambda h: authorize(base, client_id, h),
        "/token": lambda h: httpx.post(
            f"{base}/token",
            data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": client_id},
            headers=h,
            timeout=TIMEOUT,
        ),
        "/revoke": lambda h: httpx.post(
            f"{base}/revoke", data={"token": "x", "client_id": client_id}, headers=h, timeout=TIMEOUT
        ),
        "/consent": lambda h: httpx.get(f"{base}/consent?txn=nothing", headers=h, timeout=TIMEOUT),
        "/oauth/wrike/callback": lambda h: httpx.get(
            f"{base}/oauth/wrike/callback?state=x&code=y", headers=h, timeout=TIMEOUT
        ),
        # the Connected apps page's sign-in and forms
        "/account/sign-in": lambda h: httpx.get(f"{base}/account/sign-in", headers=h, timeout=TIMEOUT),
        "/account/revoke": lambda h: httpx.post(
            f"{base}/account/revoke", data={"client_id": client_id}, headers=h, timeout=TIMEOUT
        ),
        "/account/sign-out": lambda h: httpx.post(
            f"{base}/account/sign-out", data={"csrf": "x"}, headers=h, timeout=TIMEOUT
        ),
    }
    for path, send in requests.items():
        headers = new_address()
        answers = [send(headers).status_code for _ in range(3)]
        assert 429 not in answers, (path, answers)
        refused = send(headers)
        if path.startswith(("/consent", "/oauth/wrike/callback", "/account/")):
            assert_html_error(refused, 429)  # browser routes: a page a person can read
        else:
            assert_json_error(refused, 429, "rate_limited")
        assert_retry_after(refused)
    # the consent form's POST shares the consent page's count
    headers = new_address()
    for _ in range(3):
        httpx.get(f"{base}/consent?txn=nothing", headers=headers, timeout=TIMEOUT)
    posted = httpx.post(f"{base}/consent", data={"txn": "x"}, headers=headers, timeout=TIMEOUT)
    assert_html_error(posted, 429)


def test_account_page_and_metrics_are_limited_per_address(limited: Replica) -> None:
    """GET /account (a database read per view) counts under the sign-in limit as a browser route; /metrics
    under its own, so a wrong WRIKE_MCP_METRICS_TOKEN cannot be guessed at full speed: once over the limit
    even the right token waits, and another address is not held back."""
    base = limited.base_url
    page = new_address()
    assert [httpx.get(f"{base}/account", headers=page, timeout=TIMEOUT).status_code for _ in range(3)] == [
        200
    ] * 3
    refused = httpx.get(f"{base}/account", headers=page, timeout=TIMEOUT)
    assert_html_error(refused, 429)
    assert_retry_after(refused)
    assert httpx.get(f"{base}/account", headers=new_address(), timeout=TIMEOUT).status_code == 200

    guesser = new_address()
    guesses = [
        httpx.get(
            f"{base}/metrics", headers={**guesser, "Authorization": f"Bearer guess-{n:016d}"}, timeout=TIMEOUT
        )
        for n in range(3)
    ]
    assert [guess.status_code for guess in guesses] == [401] * 3
    right = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    refused = httpx.get(f"{base}/metrics", headers={**guesser, **right}, timeout=TIMEOUT)
    assert_json_error(refused, 429, "rate_limited")
    assert_retry_after(refused)
    scraped = httpx.get(f"{base}/metrics", headers={**new_address(), **right}, timeout=TIMEOUT)
    assert scraped.status_code == 200 and "wrike_mcp_" in scraped.text, scraped.text[:300]


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    tmp_path: Path, module_sandbox: BackgroundSandbox
) -> None:
    """With no trusted proxy, X-Forwarded-For cannot buy a fresh count: every request is the peer's."""
    untrusting = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="untrusting",
        extra_env={"WRIKE_MCP_REGISTER_RATE_LIMIT": "2", "FORWARDED_ALLOW_IPS": "192.0.2.1"},
    )
    try:
        answers = [register(untrusting.base_url, new_address()).status_code for _ in range(3)]
        assert answers == [201, 201, 429]
    finally:
        untrusting.stop()


async def test_limits_are_shared_by_replicas_on_one_database(
    tmp_path: Path, module_sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """Two replicas on one PostgreSQL: a client alternating between them gets the limit once, not twice."""
    env = {"WRIKE_MCP_REGISTER_RATE_LIMIT": "4", "WRIKE_MCP_AUTHORIZE_RATE_LIMIT": "4"}
    replicas = [
        start_replica(tmp_path, module_sandbox.base_url, postgres_url, name=name, extra_env=env)
        for name in ("a", "b")
    ]
    try:
        headers = new_address()
        answers = [
            (await anyio.to_thread.run_sync(register, replicas[n % 2].base_url, headers)).status_code
            for n in range(6)
        ]
        assert answers == [201, 201, 201, 201, 429, 429], answers
        client_id = register(replicas[0].base_url, new_address()).json()["client_id"]
        headers = new_address()
        answers = [authorize(replicas[n % 2].base_url, client_id, headers).status_code for n in range(5)]
        assert answers == [302, 302, 302, 302, 429], answers
    finally:
        for replica in replicas:
            replica.stop()


# ---- registrations: size and number ------------------------------------------------------------------


def test_registration_size_limits(safe: Replica) -> None:
    base = safe.base_url
    oversized = register(base, client_name="x", software_statement="y" * 17 * 1024)
    assert_json_error(oversized, 413, "invalid_client_metadata")
    # the body limit itself: 16 KiB is taken, one byte more is not (the padding is a field nobody keeps)
    padding = 16 * 1024 - len(registration_body(padding=""))
    assert len(registration_body(padding="p" * padding)) == 16 * 1024
    assert register(base, padding="p" * padding).status_code == 201
    assert_json_error(register(base, padding="p" * (padding + 1)), 413, "invalid_client_metadata")
    assert register(base, client_name="n" * 200).status_code == 201
    assert_json_error(register(base, client_name="n" * 201), 400, "invalid_client_metadata")
    uris = [f"http://127.0.0.1:{53000 + n}/callback" for n in range(11)]
    assert register(base, redirect_uris=uris[:10]).status_code == 201
    assert_json_error(register(base, redirect_uris=uris), 400, "invalid_redirect_uri")
    long_uri = "https://client.example/" + "p" * (2000 - len("https://client.example/"))
    assert register(base, redirect_uris=[long_uri]).status_code == 201
    assert_json_error(register(base, redirect_uris=[long_uri + "p"]), 400, "invalid_redirect_uri")
    for name in ("nul\x00name", "escape\x1b[31m", "two\nlines", "bidi\u202eeman", "lone\ud800"):
        assert_json_error(register(base, client_name=name), 400, "invalid_client_metadata")
    assert_no_server_errors(safe)


def test_registration_keeps_only_known_fields(limited: Replica) -> None:
    headers = new_address()
    response = register(
        limited.base_url,
        headers,
        unknown_field="u" * 8000,
        jwks={"keys": [{"k": "j" * 3000}]},
        contacts=["c" * 2000],
        software_id="app-1",
    )
    assert response.status_code == 201, response.text
    client_id = response.json()["client_id"]
    database = limited.log.parent / "db.sqlite3"
    (info,) = sqlite_rows(database, f"SELECT info FROM oauth_clients WHERE client_id = '{client_id}'")[0]
    stored = json.loads(info)
    assert stored["software_id"] == "app-1" and stored["client_name"] == "Abuse test client"
    assert not {"unknown_field", "jwks", "contacts"} & set(stored), stored
    assert len(info) < 1000, len(info)


def test_unused_registrations_are_capped(tmp_path: Path, module_sandbox: BackgroundSandbox) -> None:
    capped = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="capped",
        extra_env={"WRIKE_MCP_MAX_UNUSED_REGISTRATIONS": "2"},
    )
    try:
        base = capped.base_url
        # a client that signed in is no longer "unused": it does not count against the cap
        assert sign_in_raw(base, ANN)["access_token"].startswith("wmcp_at_")
        assert register(base, new_address()).status_code == 201
        assert register(base, new_address()).status_code == 201
        full = register(base, new_address())
        body = assert_json_error(full, 503, "temporarily_unavailable")
        assert "registrations" in body["error_description"], body
        assert_retry_after(full)
        # unused registrations over 10 minutes old make room at the cap, before they expire: addresses that
        # filled it cannot keep everyone else out (aged in the database)
        with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
            conn.execute("UPDATE oauth_clients SET created_at = created_at - 601 WHERE used_at IS NULL")
        assert register(base, new_address()).status_code == 201
        assert sqlite_rows(tmp_path / "db.sqlite3", "SELECT COUNT(*) FROM oauth_clients") == [(2,)]
        # the signed-in client never has to make room, and fresh registrations do not either
        assert register(base, new_address()).status_code == 201
        assert register(base, new_address()).status_code == 503
    finally:
        capped.stop()


def test_one_address_can_keep_only_so_many_registrations_and_sign_ins(
    tmp_path: Path, module_sandbox: BackgroundSandbox
) -> None:
    """Over an hour (registrations) or ten minutes (sign-ins) one address may make the server keep only a
    few, whatever its per-minute rate: the global caps take many addresses to reach."""
    kept = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="kept",
        extra_env={"WRIKE_MCP_REGISTRATIONS_PER_ADDRESS": "2", "WRIKE_MCP_PENDING_PER_ADDRESS": "2"},
    )
    try:
        base = kept.base_url
        one, other = new_address(), new_address()
        assert [register(base, one).status_code for _ in range(2)] == [201, 201]
        refused = register(base, one)
        assert_json_error(refused, 429, "rate_limited")
        # the hour's window, not the minute's: it slides in 10-minute steps, so the two counted leave it
        # between 40 and 60 minutes after they were made
        assert 2400 < int(refused.headers["retry-after"]) <= 3600, refused.headers
        client_id = register(base, other).json()["client_id"]  # another address is not held back
        for _ in range(2):
            assert authorize(base, client_id, headers=one).status_code == 302
        refused = authorize(base, client_id, headers=one)
        assert_json_error(refused, 429, "rate_limited")
        # ten minutes' window, in 100-second steps
        assert 400 < int(refused.headers["retry-after"]) <= 600, refused.headers
        assert authorize(base, client_id, headers=other).status_code == 302
    finally:
        kept.stop()


# ---- sign-ins in progress ----------------------------------------------------------------------------


def test_pending_authorizations_expire_and_are_capped(
    tmp_path: Path, module_sandbox: BackgroundSandbox
) -> None:
    database = tmp_path / "db.sqlite3"
    capped = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{database}",
        name="pending",
        extra_env={"WRIKE_MCP_MAX_PENDING_AUTHORIZATIONS": "3"},
    )
    try:
        base = capped.base_url
        client_id = register(base).json()["client_id"]
        started = time.time()
        first, second, third = (consent_url(authorize(base, client_id), base) for _ in range(3))
        expiries = sqlite_rows(database, "SELECT expires_at FROM pending_authorizations")
        ttls = [expires_at - started for (expires_at,) in expiries]
        assert len(ttls) == 3 and all(595 <= ttl <= 605 for ttl in ttls), ttls  # TRANSACTION_TTL: 10 min
        full = authorize(base, client_id)
        body = assert_json_error(full, 503, "temporarily_unavailable")
        assert "sign-ins in progress" in body["error_description"], body
        assert_retry_after(full)

        # two sign-ins are sent on to Wrike (one comes back late, one never), another waits on the consent
        # page; then 10 minutes pass
        def allow(url: str) -> tuple[httpx.Client, httpx.Response]:
            agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
            page = agent.get(url)
            assert page.status_code == 200, page.text
            to_wrike = agent.post(f"{base}/consent", data={**form_fields(page), "decision": "allow"})
            assert to_wrike.status_code == 302 and "/oauth2/authorize/v4?" in to_wrike.headers["location"]
            return agent, to_wrike

        agent, to_wrike = allow(first)
        allow(third)
        other_agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        waiting = other_agent.get(second)
        assert waiting.status_code == 200, waiting.text
        with sqlite3.connect(database) as conn:
            conn.execute("UPDATE pending_authorizations SET expires_at = expires_at - 601")

        # expired everywhere: the consent page, its form, and Wrike's callback
        assert_html_error(other_agent.get(second), 400)
        decision = {**form_fields(waiting), "decision": "allow"}
        assert_html_error(other_agent.post(f"{base}/consent", data=decision), 400)
        signed_in = agent.get(to_wrike.headers["location"] + "&" + urlencode({"user": ANN}))
        assert signed_in.status_code == 302, signed_in.text
        assert signed_in.headers["location"].startswith(f"{base}/oauth/wrike/callback?")
        assert_html_error(agent.get(signed_in.headers["location"]), 400)

        # and the expired rows are purged, the one that went to Wrike and never came back too (only sign-ins
        # not yet approved make room at the cap): room for three new sign-ins
        for _ in range(3):
            consent_url(authorize(base, client_id), base)
        assert sqlite_rows(database, "SELECT COUNT(*) FROM pending_authorizations") == [(3,)]
    finally:
        capped.stop()


# ---- client ID metadata documents --------------------------------------------------------------------


@pytest.fixture
def documents() -> Iterator[DocumentServer]:
    with document_server() as server:
        yield server


def test_refused_client_id_urls_are_not_fetched_again_within_a_minute(
    safe: Replica, documents: DocumentServer
) -> None:
    good = {"client_name": "CIMD client", "redirect_uris": [REDIRECT_URI]}
    documents.documents["/good.json"] = json.dumps(
        {**good, "client_id": documents.url("/good.json")}
    ).encode()
    documents.documents["/liar.json"] = json.dumps(
        {**good, "client_id": documents.url("/good.json")}
    ).encode()
    for path in ("/missing.json", "/liar.json"):  # a 404, and a document claiming another URL
        for _ in range(4):
            refused = authorize(safe.base_url, documents.url(path))
            assert_json_error(refused, 401, "invalid_client")
        assert documents.requests[path] == 1, documents.requests
    # the control: a proper document is fetched and accepted
    consent_url(authorize(safe.base_url, documents.url("/good.json")), safe.base_url)
    assert documents.requests["/good.json"] == 1


# One address of each kind the client-metadata fetch refuses (cimd.REFUSED_NETWORKS and the IPv6 forms that
# carry an IPv4 address; test_cimd_addresses.py has the full table, case by case).
NON_PUBLIC_HOSTS = {
    "loopback": "127.0.0.2",
    "private": "192.168.1.1",
    "link-local": "[fe80::1]",
    "CGNAT": "100.64.0.1",
    "multicast": "224.0.0.1",
    "reserved": "240.0.0.1",
    "NAT64 of 10.0.0.1": "[64:ff9b::a00:1]",
    "local-use NAT64": "[64:ff9b:1::808:808]",
    "6to4 of 169.254.169.254": "[2002:a9fe:a9fe::1]",
    "Teredo, client 192.168.1.1": "[2001:0:808:808::3f57:fefe]",
    "IPv4-mapped 100.64.0.1": "[::ffff:100.64.0.1]",  # which Python calls global
    "IPv4-compatible 10.0.0.1": "[::10.0.0.1]",
}


def test_client_id_urls_on_non_public_addresses_are_not_fetched(
    tmp_path: Path, module_sandbox: BackgroundSandbox
) -> None:
    """As in production (no loopback allowance): each refused for its address before any connection."""
    production = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="production-cimd",
        extra_env={"WRIKE_MCP_CIMD_ALLOW_LOOPBACK": "0"},
    )
    try:
        for kind, host in NON_PUBLIC_HOSTS.items():
            started = time.monotonic()
            refused = authorize(production.base_url, f"https://{host}/client.json")
            assert_json_error(refused, 401, "invalid_client")
            assert time.monotonic() - started < 3, kind  # refused, not a connection that timed out
        log = production.log.read_text()
        for kind, host in NON_PUBLIC_HOSTS.items():
            reason = f"client metadata document refused: {host.strip('[]')} resolves to a non-public address"
            assert reason in log, (kind, log[-3000:])
        assert_no_server_errors(production)
    finally:
        production.stop()


def test_malformed_client_id_urls_are_invalid_client(safe: Replica) -> None:
    for client_id in (
        "https://a:99999/c.json",  # port out of range: was a 500
        "https://a:-1/c.json",
        "https://[::1/c.json",
        "https://" + "a" * 300 + ".example/c.json",  # a label IDNA cannot encode
        "https://a.example/c.json\\..\\x",
        "https://a.example/%ZZ",
    ):
        refused = authorize(safe.base_url, client_id)
        assert_json_error(refused, 401, "invalid_client")
    assert_no_server_errors(safe)


def cimd_document(documents: DocumentServer, path: str) -> str:
    """A proper client ID metadata document served at `path`; its URL, the client's id."""
    url = documents.url(path)
    body = {"client_id": url, "client_name": "ChatGPT-like", "redirect_uris": [REDIRECT_URI]}
    documents.documents[path] = json.dumps(body).encode()
    return url


def post_form(base: str, path: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base}{path}", data=data, timeout=TIMEOUT)


def test_token_and_revoke_never_fetch_a_client_id_url(safe: Replica, documents: DocumentServer) -> None:
    """Only /authorize fetches a client's metadata document: an unknown URL at /token or /revoke (which an
    unauthenticated caller could otherwise aim anywhere) is invalid_client at once. The document is a proper
    one, so a fetch would have found a client and answered something else."""
    client_id = cimd_document(documents, "/never-authorized.json")
    before = documents.connections
    forms = [
        (
            "/token",
            {
                "grant_type": "authorization_code",
                "code": "x" * 43,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": "v" * 43,
            },
        ),
        ("/token", {"grant_type": "refresh_token", "refresh_token": "wmcp_rt_" + "x" * 43}),
        ("/revoke", {"token": "wmcp_at_" + "x" * 43}),
    ]
    for path, form in forms:
        for _ in range(2):
            assert_json_error(
                post_form(safe.base_url, path, {**form, "client_id": client_id}), 401, "invalid_client"
            )
    assert documents.connections == before, documents.requests
    # the control: /authorize fetches the same document and reaches the consent page
    consent_url(authorize(safe.base_url, client_id), safe.base_url)
    assert documents.requests["/never-authorized.json"] == 1


async def _age_client_record(database_url: str, client_id: str) -> None:
    """An hour and more passes for the client's cached document, then a replica's periodic purge runs."""
    store = Store.open(database_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(
                update(clients).where(clients.c.client_id == client_id).values(expires_at=time.time() - 1)
            )
        await store.purge_expired(time.time())
    finally:
        await store.close()


def test_a_metadata_document_client_refreshes_and_revokes_after_its_cache_expires(
    safe: Replica, safe_database: str, documents: DocumentServer
) -> None:
    """ChatGPT's flow (authorize, token, refresh, revoke) with the cached document over an hour old and purged
    meanwhile, and the document itself gone: the record /authorize stored serves /token and /revoke within the
    tokens' life, with no fetch; the next /authorize fetches again (and is refused: the document is gone)."""
    client_id = cimd_document(documents, "/chatgpt.json")
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": safe.mcp_url,
    }
    answer = Browser(user=ANN).authorize(f"{safe.base_url}/authorize?{urlencode(params)}")
    anyio.run(_age_client_record, safe_database, client_id)  # between /authorize and /token
    code_grant = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
        "resource": safe.mcp_url,
    }
    issued = post_form(safe.base_url, "/token", code_grant)
    assert issued.status_code == 200, issued.text
    anyio.run(_age_client_record, safe_database, client_id)
    del documents.documents["/chatgpt.json"]  # the client's server no longer serves it
    fetched = documents.connections
    refreshed = post_form(
        safe.base_url,
        "/token",
        {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": issued.json()["refresh_token"],
            "resource": safe.mcp_url,
        },
    )
    assert refreshed.status_code == 200, refreshed.text
    revoked = post_form(
        safe.base_url, "/revoke", {"token": refreshed.json()["refresh_token"], "client_id": client_id}
    )
    assert revoked.status_code == 200, revoked.text
    assert documents.connections == fetched  # neither refresh nor revocation fetched the document
    again = post_form(
        safe.base_url,
        "/token",
        {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "refresh_token": refreshed.json()["refresh_token"],
        },
    )
    assert_json_error(again, 400, "invalid_grant")
    assert_json_error(authorize(safe.base_url, client_id), 401, "invalid_client")
    assert documents.connections == fetched + 1  # /authorize did fetch, and the document was gone
    # nor does a POSTed /authorize go on with the stored record once the fetch was refused
    form = {**params, "code_challenge": pkce()[1]}
    assert_json_error(post_form(safe.base_url, "/authorize", form), 401, "invalid_client")


# ---- malformed requests ------------------------------------------------------------------------------

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "abuse", "version": "0"},
    },
}


def test_deeply_nested_mcp_body_is_a_parse_error(safe: Replica) -> None:
    access = sign_in_raw(safe.base_url, ANN)["access_token"]
    headers = {
        "Authorization": f"Bearer {access}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    for body in (b"[" * 3000 + b"]" * 3000, b'{"a":' * 3000 + b"1" + b"}" * 3000):
        response = httpx.post(safe.mcp_url, content=body, headers=headers, timeout=TIMEOUT)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == -32700, response.text  # JSON-RPC parse error
    works = httpx.post(safe.mcp_url, json=INITIALIZE, headers=headers, timeout=TIMEOUT)
    assert works.status_code == 200 and '"serverInfo"' in works.text, works.text
    assert_no_server_errors(safe)


def test_non_ascii_cookies_and_csrf_are_refused_cleanly(safe: Replica) -> None:
    base = safe.base_url
    client_id = register(base).json()["client_id"]
    consent = urlsplit(consent_url(authorize(base, client_id), base))
    # the server's own cookie names (plain http: no `__Host-` prefix), so that the values are read; the user
    # cookie has the three parts of a signed value, so that its signature is checked
    cookie = f"{FORM_COOKIE}=é,é; {USER_COOKIE}=é.1.é".encode()
    request = (
        f"GET {consent.path}?{consent.query} HTTP/1.1\r\nHost: 127.0.0.1:{safe.port}\r\n".encode()
        + b"Cookie: "
        + cookie
        + b"\r\nConnection: close\r\n\r\n"
    )
    status, body = raw_request(safe, request)
    assert status == 200 and b"<form" in body, body[:300]  # the non-ASCII cookies are ignored, not a 500
    # a non-ASCII CSRF token from the browser the sign-in is bound to
    agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    page = agent.get(consent_url(authorize(base, client_id), base))
    fields = {**form_fields(page), "csrf": "é" * 64, "decision": "allow"}
    assert_html_error(agent.post(f"{base}/consent", data=fields), 403)
    # and at Wrike's callback, for a sign-in approved in this browser: its binding cookie and the user cookie
    # not ASCII, so the callback finds neither
    page = agent.get(consent_url(authorize(base, client_id), base))
    to_wrike = agent.post(f"{base}/consent", data={**form_fields(page), "decision": "allow"})
    assert to_wrike.status_code == 302, to_wrike.text
    signed_in = agent.get(to_wrike.headers["location"] + "&" + urlencode({"user": ANN}))
    callback = urlsplit(signed_in.headers["location"])
    assert callback.path == "/oauth/wrike/callback", signed_in.headers
    (state,) = (value for name, value in parse_qsl(callback.query) if name == "state")
    status, body = raw_request(
        safe,
        f"GET {callback.path}?{callback.query} HTTP/1.1\r\nHost: 127.0.0.1:{safe.port}\r\n".encode()
        + f"Cookie: {binding_cookie(state)}=é; {USER_COOKIE}=é.1.é\r\nConnection: close\r\n\r\n".encode(),
    )
    assert status == 403 and b"approved in another browser" in body, body[-600:]
    assert_no_server_errors(safe)


def test_bad_encoding_and_control_characters_are_400(safe: Replica) -> None:
    base = safe.base_url
    for query in ("client_id=%FF%FE", "client_id=%00", "client_id=a%0Ab", "state=%C3%28&client_id=x"):
        assert_json_error(httpx.get(f"{base}/authorize?{query}", timeout=TIMEOUT), 400, "invalid_request")
    for path in ("/token", "/revoke"):
        for body in (b"grant_type=refresh_token&client_id=\xff\xfe", b"client_id=%00&token=x", b"token=%E9"):
            response = httpx.post(f"{base}{path}", content=body, headers=FORM, timeout=TIMEOUT)
            assert_json_error(response, 400, "invalid_request")
    for body in (b"txn=\xff&csrf=x&decision=allow", b"txn=%00&decision=allow"):
        assert_html_error(httpx.post(f"{base}/consent", content=body, headers=FORM, timeout=TIMEOUT), 400)
    assert_html_error(httpx.get(f"{base}/consent?txn=%FF", timeout=TIMEOUT), 400)
    # form bodies only: no multipart (a missing boundary was a text/plain 400, and a 500 at /authorize)
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=x", "application/json"):
        headers = {"Content-Type": content_type}
        for path in ("/authorize", "/token", "/revoke"):
            response = httpx.post(f"{base}{path}", content=b"--x\r\n", headers=headers, timeout=TIMEOUT)
            assert_json_error(response, 400, "invalid_request")
        assert_html_error(
            httpx.post(f"{base}/consent", content=b"--x", headers=headers, timeout=TIMEOUT), 400
        )
    assert_html_error(httpx.get(f"{base}/oauth/wrike/callback?state=%FF&code=x", timeout=TIMEOUT), 400)
    invalid_json = httpx.post(f"{base}/register", content=b'{"client_name": "\xff"}', timeout=TIMEOUT)
    assert_json_error(invalid_json, 400, "invalid_client_metadata")
    assert_no_server_errors(safe)


def test_duplicate_oauth_parameters_are_400(safe: Replica) -> None:
    base = safe.base_url
    client_id = register(base).json()["client_id"]
    twice = authorize(base, client_id).request.url.query.decode() + f"&client_id={client_id}"
    assert_json_error(httpx.get(f"{base}/authorize?{twice}", timeout=TIMEOUT), 400, "invalid_request")
    for path, body in (
        ("/token", f"grant_type=authorization_code&code=a&code=b&client_id={client_id}"),
        ("/revoke", f"token=a&token=b&client_id={client_id}"),
    ):
        response = httpx.post(f"{base}{path}", content=body.encode(), headers=FORM, timeout=TIMEOUT)
        assert_json_error(response, 400, "invalid_request")
    # the consent form's permission checkboxes legitimately repeat `scope`: not refused for that
    agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    page = agent.get(consent_url(authorize(base, client_id), base))
    fields = urlencode({**form_fields(page), "decision": "allow"}) + "&scope=wsReadOnly&scope=wsReadWrite"
    response = agent.post(f"{base}/consent", content=fields.encode(), headers=FORM)
    assert response.status_code == 302 and "/oauth2/authorize/v4?" in response.headers["location"]
    assert_no_server_errors(safe)


def test_huge_query_strings_are_refused(safe: Replica) -> None:
    base = safe.base_url
    client_id = register(base).json()["client_id"]
    huge = authorize(base, client_id, state="s" * 9000)
    assert_json_error(huge, 414, "invalid_request")
    assert_html_error(httpx.get(f"{base}/consent?txn={'t' * 9000}", timeout=TIMEOUT), 414)
    # a megabyte request line: refused by the HTTP server before the application, and it keeps serving
    try:
        status, _ = raw_request(
            safe,
            b"GET /authorize?x="
            + b"a" * 1_000_000
            + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        )
        assert 400 <= status < 500, status
    except ConnectionResetError:
        pass  # uvicorn answered 400 and closed while the rest was still on its way
    consent_url(authorize(base, client_id), base)
    assert_no_server_errors(safe)


# ---- the size and lifetime settings, lowered --------------------------------------------------------------

LOWERED = {
    "WRIKE_MCP_MAX_BODY_BYTES": "2048",
    "WRIKE_MCP_MAX_QUERY_BYTES": "1536",
    "WRIKE_MCP_MAX_CLIENT_NAME": "20",
    "WRIKE_MCP_MAX_REDIRECT_URIS": "2",
    "WRIKE_MCP_MAX_URI_LENGTH": "100",
    "WRIKE_MCP_PENDING_AUTHORIZATION_TTL": "3",
    "WRIKE_MCP_CIMD_FAILURE_TTL": "2",
}


@pytest.fixture(scope="module")
def lowered(tmp_path_factory: pytest.TempPathFactory, module_sandbox: BackgroundSandbox) -> Iterator[Replica]:
    """A replica with every size and lifetime setting far below its default, so that each is seen to apply."""
    workdir = tmp_path_factory.mktemp("lowered")
    running = start_replica(
        workdir,
        module_sandbox.base_url,
        f"sqlite:///{workdir / 'db.sqlite3'}",
        name="lowered",
        extra_env=LOWERED,
    )
    try:
        yield running
    finally:
        running.stop()


def test_lowered_size_settings_take_effect(lowered: Replica, documents: DocumentServer) -> None:
    base = lowered.base_url
    # WRIKE_MCP_MAX_BODY_BYTES=2048: a registration of 2 KiB is taken, one byte more is not; a token request too
    padding = 2048 - len(registration_body(padding=""))
    assert len(registration_body(padding="p" * padding)) == 2048
    assert register(base, padding="p" * padding).status_code == 201
    body = assert_json_error(register(base, padding="p" * (padding + 1)), 413, "invalid_client_metadata")
    assert body["error_description"] == "the request body is larger than 2 KiB", body
    token_form = b"grant_type=refresh_token&refresh_token=" + b"r" * 2048
    assert_json_error(
        httpx.post(f"{base}/token", content=token_form, headers=FORM, timeout=TIMEOUT), 413, "invalid_request"
    )
    # WRIKE_MCP_MAX_QUERY_BYTES=1536: an authorization request of 1536 bytes goes on, one byte more is 414
    client_id = register(base).json()["client_id"]
    request = authorize(base, client_id).request.url.query.decode()
    request = re.sub(r"&state=[^&]*", "", request) + "&state="
    state = "s" * (1536 - len(request))
    consent_url(httpx.get(f"{base}/authorize?{request}{state}", timeout=TIMEOUT), base)
    too_long = assert_json_error(
        httpx.get(f"{base}/authorize?{request}{state}s", timeout=TIMEOUT), 414, "invalid_request"
    )
    assert too_long["error_description"] == "the query string is longer than 1536 bytes", too_long
    # WRIKE_MCP_MAX_CLIENT_NAME=20, WRIKE_MCP_MAX_REDIRECT_URIS=2, WRIKE_MCP_MAX_URI_LENGTH=100
    assert register(base, client_name="n" * 20).status_code == 201
    assert_json_error(register(base, client_name="n" * 21), 400, "invalid_client_metadata")
    uris = [f"http://127.0.0.1:{53000 + n}/callback" for n in range(3)]
    assert register(base, redirect_uris=uris[:2]).status_code == 201
    assert_json_error(register(base, redirect_uris=uris), 400, "invalid_redirect_uri")
    long_uri = "http://127.0.0.1:53682/" + "p" * (100 - len("http://127.0.0.1:53682/"))
    assert register(base, redirect_uris=[long_uri]).status_code == 201
    assert_json_error(register(base, redirect_uris=[long_uri + "p"]), 400, "invalid_redirect_uri")
    # a client ID metadata URL is a client id: one of 100 characters is fetched and taken, one of 101 is not
    # even fetched
    for length in (100, 101):
        path = "/" + "d" * (length - len(documents.url("/")) - len(".json")) + ".json"
        url = documents.url(path)
        assert len(url) == length
        documents.documents[path] = json.dumps(
            {"client_id": url, "client_name": "CIMD client", "redirect_uris": [REDIRECT_URI]}
        ).encode()
        answer = authorize(base, url)
        if length == 100:
            consent_url(answer, base)
        else:
            assert_json_error(answer, 401, "invalid_client")
            assert documents.requests[path] == 0, documents.requests
    assert_no_server_errors(lowered)


def test_a_lowered_sign_in_lifetime_takes_effect(lowered: Replica) -> None:
    """WRIKE_MCP_PENDING_AUTHORIZATION_TTL=3: a sign-in in progress, its row and its browser-binding cookie live
    3 seconds; then the consent page, its form and Wrike's callback refuse it. A sign-in asked of Wrike again
    (to widen the stored grant) gets 3 seconds of its own."""
    base = lowered.base_url
    client_id = register(base).json()["client_id"]
    started = time.time()
    waiting_url, approved_url = (consent_url(authorize(base, client_id), base) for _ in range(2))
    database = lowered.log.parent / "db.sqlite3"
    (expires_at,) = max(sqlite_rows(database, "SELECT expires_at FROM pending_authorizations"))
    assert 2 <= expires_at - started <= 4, expires_at - started
    waiting_agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    waiting = waiting_agent.get(waiting_url)
    assert waiting.status_code == 200, waiting.text
    agent = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    page = agent.get(approved_url)
    to_wrike = agent.post(f"{base}/consent", data={**form_fields(page), "decision": "allow"})
    assert to_wrike.status_code == 302 and "/oauth2/authorize/v4?" in to_wrike.headers["location"]
    (binding,) = [c for c in to_wrike.headers.get_list("set-cookie") if c.startswith(BINDING_COOKIE)]
    assert "Max-Age=3;" in binding, binding
    signed_in = agent.get(to_wrike.headers["location"] + "&" + urlencode({"user": ANN}))
    assert signed_in.headers["location"].startswith(f"{base}/oauth/wrike/callback?"), signed_in.headers
    time.sleep(max(0.0, started + 3.5 - time.time()))
    assert_html_error(waiting_agent.get(waiting_url), 400)
    decision = {**form_fields(waiting), "decision": "allow"}
    assert_html_error(waiting_agent.post(f"{base}/consent", data=decision), 400)
    assert_html_error(agent.get(signed_in.headers["location"]), 400)
    # a sign-in sent back to Wrike to widen the person's stored grant is a new one, and lives 3 s too
    sign_in_raw(base, ANN)  # the stored grant: the default scope
    widening = httpx.Client(timeout=TIMEOUT, follow_redirects=False)  # a browser not signed in here
    asked = ["wsReadOnly", "amReadOnlyAuditLog"]  # neither covers nor is covered by the stored grant
    page = widening.get(consent_url(authorize(base, client_id, scope=" ".join(asked)), base))
    kept = {**form_fields(page), "scope": asked, "decision": "allow"}
    to_wrike = widening.post(f"{base}/consent", data=kept)
    signed_in = widening.get(to_wrike.headers["location"] + "&" + urlencode({"user": ANN}))
    asked_again = time.time()
    again = widening.get(signed_in.headers["location"])
    assert again.status_code == 302 and "/oauth2/authorize/v4?" in again.headers["location"], again.text
    (binding,) = [c for c in again.headers.get_list("set-cookie") if "Max-Age=0" not in c]
    assert binding.startswith(BINDING_COOKIE) and "Max-Age=3;" in binding, binding
    (expires_at,) = max(sqlite_rows(database, "SELECT expires_at FROM pending_authorizations"))
    assert 2 <= expires_at - asked_again <= 4, expires_at - asked_again
    assert_no_server_errors(lowered)


def test_a_lowered_failure_cache_takes_effect(lowered: Replica, documents: DocumentServer) -> None:
    """WRIKE_MCP_CIMD_FAILURE_TTL=2: a client ID metadata URL that failed is not fetched again for 2 seconds,
    then it is."""
    url = documents.url("/missing-for-a-while.json")
    failed = time.monotonic()
    for _ in range(3):
        assert_json_error(authorize(lowered.base_url, url), 401, "invalid_client")
    assert time.monotonic() - failed < 2, "too slow to tell the cache's 2 s"
    assert documents.requests["/missing-for-a-while.json"] == 1, documents.requests
    time.sleep(max(0.0, failed + 2.5 - time.monotonic()))
    for _ in range(2):
        assert_json_error(authorize(lowered.base_url, url), 401, "invalid_client")
    assert documents.requests["/missing-for-a-while.json"] == 2, documents.requests


# ---- admin output ------------------------------------------------------------------------------------


async def test_admin_escapes_stored_text(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'admin.sqlite3'}"
    forged = "Evil\x1b[31m\tdcr\tregistered 2020-01-01 00:00\tfirst token -\nforged-client\tTrusted App"
    store = Store.open(database)
    try:
        await store.migrate()
        now = time.time()
        await store.save_client("evil-client", {"client_name": forged}, None, "dcr", now, now + 60)
        await store.save_client("plain-client", {"client_name": "Plain"}, None, "dcr", now + 1, now + 60)
        await store.save_user(
            "KUSER1",
            email="mallory@example.com\x1b]0;owned\x07",
            name="Mallory\u202edrawkcab\x85",
            host="www.wrike.com",
            grant="sealed",
            scopes=["wsReadOnly"],
            now=now,
        )
    finally:
        await store.close()
    env = base_env(tmp_path)
    env.update(WRIKE_MCP_DATABASE_URL=database, WRIKE_MCP_SECRET_KEY=SECRET_KEY)

    def admin(command: str) -> str:
        done = subprocess.run(
            [str(WRIKE_MCP), "admin", command], env=env, capture_output=True, timeout=60, check=True
        )
        return done.stdout.decode("utf-8")

    clients = admin("clients")
    lines = clients.splitlines()
    assert len(lines) == 2, clients  # one line per client: the newline and tabs did not forge a row
    evil = next(line for line in lines if line.startswith("evil-client\t"))
    assert evil.split("\t")[1] == (
        "Evil\\x1b[31m\\tdcr\\tregistered 2020-01-01 00:00\\tfirst token -\\nforged-client\\tTrusted App"
    ), evil
    assert evil.count("\t") == 4, evil
    assert not any(line.startswith("forged-client") for line in lines)
    users = admin("users")
    assert users.count("\n") == 1, users
    assert "Mallory\\u202edrawkcab\\x85" in users and "mallory@example.com\\x1b]0;owned\\x07" in users, users
    for output in (clients, users):
        assert not any(ord(char) < 0x20 and char not in "\t\n" for char in output), output
        assert "\u202e" not in output and "\x85" not in output
