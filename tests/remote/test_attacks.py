"""The OAuth attack list against a real replica: every attack a test, in raw HTTP (no SDK client smoothing it).

One sandbox and one replica (SQLite) serve the module; a second replica on the same database with another public
URL and CIMD loopback fetching off plays the "other server", and the attacks that need their own settings
(token lifetime, rate limit) start their own. A "browser" is an `httpx.Client` with its own cookie jar that
follows nothing by itself, so every hop (and every place a redirect must not happen) is asserted.
docs/RELIABILITY.md "Remote mode (OAuth authorization server)" has one row per test here;
`test_reliability_rows_match_attack_tests` keeps the two in sync.
"""

from __future__ import annotations

import ast
import base64
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from tests.remote.helpers import REDIRECT_URI, DocumentServer, Replica, document_server, pkce, start_replica
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ANN = "ann.lee@northwind.example"
BEN = "ben.carter@northwind.example"
TIMEOUT = 15.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "attacks", "version": "0"},
    },
}
# A state that only survives unchanged if every hop encodes and decodes it properly.
TRICKY_STATE = "st@te/ä &x=1+2?#%41"


# ---- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replica(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[Replica]:
    """The replica under attack (CIMD loopback fetching on, as start_replica sets it)."""
    running = start_replica(workdir, module_sandbox.base_url, database, name="main")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def other_replica(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[Replica]:
    """Same database and keys, another public URL (its own port), and CIMD as in production: no loopback."""
    running = start_replica(
        workdir,
        module_sandbox.base_url,
        database,
        name="other",
        extra_env={"WRIKE_MCP_CIMD_ALLOW_LOOPBACK": "0"},
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def documents() -> Iterator[DocumentServer]:
    with document_server() as server:
        base = server.base_url

        def document(path: str, **fields: Any) -> None:
            doc = {
                "client_id": f"{base}{path}",
                "client_name": "CIMD client",
                "redirect_uris": [REDIRECT_URI],
            }
            server.documents[path] = json.dumps({**doc, **fields}).encode()

        document("/good.json")
        document("/big.json", client_name="Big " + "x" * 6000)  # valid but over 5 KiB
        document("/wrong.json", client_id=f"{base}/good.json")  # claims to be another URL
        yield server


# ---- the flow, one hop at a time ---------------------------------------------------------------------


@dataclass
class Registered:
    client_id: str
    secret: str | None = None
    auth_method: str = "none"
    redirect_uri: str = REDIRECT_URI


@dataclass
class Started:
    """An authorization taken to the consent page by one browser."""

    browser: httpx.Client
    verifier: str
    state: str
    page: httpx.Response

    @property
    def fields(self) -> dict[str, Any]:
        """The form as a browser submits it untouched: txn, csrf and the ticked permissions."""
        found = dict(re.findall(r'name="(txn|csrf)" value="([^"]*)"', self.page.text))
        assert set(found) == {"txn", "csrf"}, self.page.text[:500]
        ticked = [unescape(v) for v in re.findall(r'name="scope" value="([^"]*)" checked', self.page.text)]
        return {**{key: unescape(value) for key, value in found.items()}, "scope": ticked}


@dataclass
class Tokens:
    access: str
    refresh: str
    client: Registered


def browser() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def register(base: str, **metadata: Any) -> httpx.Response:
    body = {
        "client_name": "Attack test client",
        "redirect_uris": [REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    return httpx.post(f"{base}/register", json=body, timeout=TIMEOUT)


def new_client(base: str, **metadata: Any) -> Registered:
    response = register(base, **metadata)
    assert response.status_code == 201, response.text
    info = response.json()
    return Registered(info["client_id"], info.get("client_secret"), info["token_endpoint_auth_method"])


def authorize_url(base: str, client_id: str, challenge: str | None, **extra: str | None) -> str:
    """/authorize with PKCE S256 and our redirect URI; an `extra` of None drops that parameter."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(16),
        "resource": f"{base}/mcp",
        **extra,
    }
    return f"{base}/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def start(base: str, client: Registered, *, state: str | None = None) -> Started:
    """/authorize, then the consent page, in a fresh browser."""
    verifier, challenge = pkce()
    state = state or secrets.token_urlsafe(16)
    agent = browser()
    response = agent.get(authorize_url(base, client.client_id, challenge, state=state))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{base}/consent?txn="), location
    page = agent.get(location)
    assert page.status_code == 200, page.text
    return Started(agent, verifier, state, page)


def decide(base: str, started: Started, decision: str = "allow", user: str = ANN) -> dict[str, str]:
    """Submit the consent form and walk Wrike's sign-in; the query of the redirect back to the client."""
    agent = started.browser
    response = agent.post(f"{base}/consent", data={**started.fields, "decision": decision})
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    if decision == "allow":
        assert "/oauth2/authorize/v4?" in location and not location.startswith(REDIRECT_URI), location
        response = agent.get(location + "&" + urlencode({"user": user}))  # the sandbox signs `user` in
        assert response.status_code == 302, response.text
        callback = response.headers["location"]
        assert callback.startswith(f"{base}/oauth/wrike/callback?"), callback
        response = agent.get(callback)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return query_of(location)


def token_request(base: str, client: Registered, **form: str) -> httpx.Response:
    data = {"client_id": client.client_id, **form}
    headers = {}
    if client.auth_method == "client_secret_basic":
        assert client.secret
        credentials = base64.b64encode(f"{client.client_id}:{client.secret}".encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    elif client.auth_method == "client_secret_post":
        assert client.secret
        data["client_secret"] = client.secret
    return httpx.post(f"{base}/token", data=data, headers=headers, timeout=TIMEOUT)


def exchange(base: str, client: Registered, code: str, verifier: str) -> httpx.Response:
    return token_request(
        base,
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=client.redirect_uri,
        code_verifier=verifier,
    )


def refresh(base: str, client: Registered, refresh_token: str) -> httpx.Response:
    return token_request(base, client, grant_type="refresh_token", refresh_token=refresh_token)


def authorized_code(base: str, client: Registered, user: str = ANN) -> tuple[str, str]:
    """(our authorization code, its PKCE verifier) after a complete consent and Wrike sign-in."""
    started = start(base, client)
    answer = decide(base, started, user=user)
    assert answer.get("state") == started.state and "code" in answer, answer
    return answer["code"], started.verifier


def sign_in(base: str, client: Registered | None = None, user: str = ANN) -> Tokens:
    """A complete sign-in: register (unless given a client), consent, Wrike, code exchange."""
    client = client or new_client(base)
    code, verifier = authorized_code(base, client, user)
    response = exchange(base, client, code, verifier)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["access_token"].startswith("wmcp_at_") and body["refresh_token"].startswith("wmcp_rt_")
    assert body["scope"] == "wsReadWrite", body  # the default, every permission left ticked
    return Tokens(body["access_token"], body["refresh_token"], client)


def mcp(
    replica: Replica,
    token: str | None,
    *,
    content: bytes | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(
        replica.mcp_url,
        content=content if content is not None else json.dumps(INITIALIZE).encode(),
        headers=headers,
        params=params,
        timeout=TIMEOUT,
    )


def assert_works(replica: Replica, token: str) -> None:
    response = mcp(replica, token)
    assert response.status_code == 200, response.text
    assert '"serverInfo"' in response.text


def assert_invalid_token(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge


def assert_invalid_grant(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant", response.text


def assert_no_redirect(response: httpx.Response, status: int = 400) -> None:
    assert response.status_code == status, response.text
    assert "location" not in response.headers, response.headers["location"]


def assert_unknown_client(response: httpx.Response) -> None:
    assert_no_redirect(response, 401)
    assert response.json()["error"] == "invalid_client", response.text


def assert_error_redirect(response: httpx.Response, base: str, error: str, state: str) -> None:
    """A redirect to the registered redirect URI only, with the error, the state unchanged and our issuer."""
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    answer = query_of(location)
    assert answer["error"] == error, answer
    assert answer["state"] == state and answer["iss"] == base, answer
    assert "code" not in answer


# ---- PKCE --------------------------------------------------------------------------------------------


def test_pkce_missing_is_refused(replica: Replica) -> None:
    client = new_client(replica.base_url)
    state = secrets.token_urlsafe(8)
    url = authorize_url(replica.base_url, client.client_id, None, code_challenge_method=None, state=state)
    response = httpx.get(url, timeout=TIMEOUT)
    assert_error_redirect(response, replica.base_url, "invalid_request", state)  # never to the consent page


def test_pkce_plain_method_is_refused(replica: Replica) -> None:
    client = new_client(replica.base_url)
    state = secrets.token_urlsafe(8)
    verifier = secrets.token_urlsafe(48)
    url = authorize_url(
        replica.base_url, client.client_id, verifier, code_challenge_method="plain", state=state
    )
    response = httpx.get(url, timeout=TIMEOUT)
    assert_error_redirect(response, replica.base_url, "invalid_request", state)


def test_pkce_wrong_verifier_is_refused(replica: Replica) -> None:
    client = new_client(replica.base_url)
    code, verifier = authorized_code(replica.base_url, client)
    wrong, _ = pkce()
    response = exchange(replica.base_url, client, code, wrong)
    assert_invalid_grant(response)
    assert "code_verifier" in response.json()["error_description"]
    # the right verifier still works afterwards: a wrong guess does not burn the code for its owner
    assert exchange(replica.base_url, client, code, verifier).status_code == 200


# ---- codes and redirects -----------------------------------------------------------------------------


def test_code_replay_fails_and_revokes_the_first_tokens(replica: Replica) -> None:
    client = new_client(replica.base_url)
    code, verifier = authorized_code(replica.base_url, client)
    first = exchange(replica.base_url, client, code, verifier)
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert_works(replica, tokens["access_token"])
    assert_invalid_grant(exchange(replica.base_url, client, code, verifier))
    assert_invalid_token(mcp(replica, tokens["access_token"]))
    assert_invalid_grant(refresh(replica.base_url, client, tokens["refresh_token"]))


def test_unregistered_redirect_uri_gets_no_redirect(replica: Replica) -> None:
    client = new_client(replica.base_url)
    _, challenge = pkce()
    for uri in (
        "http://127.0.0.1:53682/other",
        "http://127.0.0.1:53683/other",  # any port may vary on loopback (RFC 8252 §7.3), not the path
        "http://localhost:53682/callback",
    ):
        response = httpx.get(
            authorize_url(replica.base_url, client.client_id, challenge, redirect_uri=uri), timeout=TIMEOUT
        )
        assert_no_redirect(response)
        assert response.json()["error"] == "invalid_request"


def test_open_redirect_via_redirect_uri_is_refused(replica: Replica) -> None:
    client = new_client(replica.base_url)  # registered with a loopback URI only
    _, challenge = pkce()
    evil = "https://evil.example/cb"
    cases = [
        authorize_url(replica.base_url, client.client_id, challenge, redirect_uri=evil),
        # an error that would be redirected with a valid URI is not redirected to an attacker's one either
        authorize_url(replica.base_url, client.client_id, None, redirect_uri=evil),
        authorize_url(
            replica.base_url, client.client_id, challenge, redirect_uri=evil, resource="https://x.example"
        ),
    ]
    for url in cases:
        response = httpx.get(url, timeout=TIMEOUT)
        assert_no_redirect(response)
        assert "evil.example" not in response.headers.get("location", "")


def test_state_and_iss_on_success_and_on_deny(replica: Replica) -> None:
    base = replica.base_url
    client = new_client(base)
    started = start(base, client, state=TRICKY_STATE)
    answer = decide(base, started)
    assert answer["state"] == TRICKY_STATE and answer["iss"] == base and "code" in answer
    assert "error" not in answer

    denied = start(base, client, state=TRICKY_STATE)
    answer = decide(base, denied, decision="deny")
    assert answer == {"error": "access_denied", "state": TRICKY_STATE, "iss": base}


# ---- the consent page --------------------------------------------------------------------------------


def test_consent_csrf_and_browser_binding(replica: Replica) -> None:
    base = replica.base_url
    started = start(base, new_client(base))
    fields = started.fields
    wrong_csrf = started.browser.post(
        f"{base}/consent", data={**fields, "csrf": "0" * 64, "decision": "allow"}
    )
    assert_no_redirect(wrong_csrf, 403)
    no_cookie = httpx.post(f"{base}/consent", data={**fields, "decision": "allow"}, timeout=TIMEOUT)
    assert_no_redirect(no_cookie, 403)
    other_cookie = browser()
    other_cookie.cookies.set("wrike-mcp-form", secrets.token_urlsafe(32))
    assert_no_redirect(other_cookie.post(f"{base}/consent", data={**fields, "decision": "allow"}), 403)
    second_browser = browser().get(str(started.page.url))
    assert_no_redirect(second_browser, 400)
    assert "wrike-mcp-form" not in second_browser.cookies
    # the page view set the form cookie only: the browser binding is issued at Allow (OA37)
    assert set(started.browser.cookies) == {"wrike-mcp-form"}
    # none of that spent the transaction: its own browser still completes
    answer = decide(base, started)
    assert answer["state"] == started.state and "code" in answer


def test_consent_page_cannot_be_framed(replica: Replica) -> None:
    page = start(replica.base_url, new_client(replica.base_url)).page
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy, policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


# ---- audience and bearer tokens ----------------------------------------------------------------------


def test_foreign_resource_is_refused(replica: Replica) -> None:
    client = new_client(replica.base_url)
    _, challenge = pkce()
    for resource in ("https://other.example/mcp", f"{replica.base_url}/other", "http://127.0.0.1:1/mcp"):
        state = secrets.token_urlsafe(8)
        url = authorize_url(replica.base_url, client.client_id, challenge, resource=resource, state=state)
        assert_error_redirect(httpx.get(url, timeout=TIMEOUT), replica.base_url, "invalid_target", state)


def test_token_for_another_audience_is_refused(replica: Replica, other_replica: Replica) -> None:
    tokens = sign_in(replica.base_url)
    assert_works(replica, tokens.access)
    # the other replica shares the database and keys, so it finds the token; its audience is not this one
    assert_invalid_token(mcp(other_replica, tokens.access))
    # and a refresh at the other server does not turn it into one for that server
    response = refresh(other_replica.base_url, tokens.client, tokens.refresh)
    if response.status_code == 200:
        assert_invalid_token(mcp(other_replica, response.json()["access_token"]))
    else:
        assert_invalid_grant(response)


def test_wrike_token_and_query_token_are_refused(replica: Replica) -> None:
    assert_invalid_token(mcp(replica, "wrike-sandbox-token"))
    tokens = sign_in(replica.base_url)
    query_only = mcp(replica, None, params={"access_token": tokens.access})
    assert query_only.status_code == 401, query_only.text
    assert "error=" not in query_only.headers["www-authenticate"]
    assert_works(replica, tokens.access)  # the same token is fine where it belongs: the header


def test_expired_token_is_refused(tmp_path: Path, module_sandbox: BackgroundSandbox) -> None:
    short = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="short",
        extra_env={"WRIKE_MCP_ACCESS_TOKEN_TTL": "2"},
    )
    try:
        tokens = sign_in(short.base_url)
        issued = time.monotonic()
        assert_works(short, tokens.access)
        time.sleep(max(0.0, issued + 3 - time.monotonic()))
        assert_invalid_token(mcp(short, tokens.access))
    finally:
        short.stop()


def revoke(base: str, client: Registered, token: str, **extra: str) -> httpx.Response:
    return httpx.post(
        f"{base}/revoke", data={"token": token, "client_id": client.client_id, **extra}, timeout=TIMEOUT
    )


def test_revoked_token_is_refused(replica: Replica) -> None:
    tokens = sign_in(replica.base_url)
    assert_works(replica, tokens.access)
    # with an empty `client_secret=`, which is accepted too; the next test sends none (RFC 7009)
    response = revoke(replica.base_url, tokens.client, tokens.access, client_secret="")
    assert response.status_code == 200, response.text
    assert_invalid_token(mcp(replica, tokens.access))
    assert_invalid_grant(refresh(replica.base_url, tokens.client, tokens.refresh))  # the whole grant


def test_public_client_revokes_with_token_and_client_id(replica: Replica) -> None:
    tokens = sign_in(replica.base_url)
    response = revoke(replica.base_url, tokens.client, tokens.access)
    assert response.status_code == 200, response.text
    assert_invalid_token(mcp(replica, tokens.access))


def test_refresh_token_reuse_revokes_the_family(tmp_path: Path, module_sandbox: BackgroundSandbox) -> None:
    # no reuse leeway, so the reuse right after the rotation counts (test_attacks_tokens.py: the leeway)
    replica = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="no-leeway",
        extra_env={"WRIKE_MCP_REFRESH_REUSE_LEEWAY": "0"},
    )
    try:
        base = replica.base_url
        tokens = sign_in(base)
        rotated = refresh(base, tokens.client, tokens.refresh)
        assert rotated.status_code == 200, rotated.text
        new_access, new_refresh = rotated.json()["access_token"], rotated.json()["refresh_token"]
        assert {new_access, new_refresh}.isdisjoint({tokens.access, tokens.refresh})
        assert_works(replica, new_access)
        assert_invalid_grant(refresh(base, tokens.client, tokens.refresh))  # the old one, again
        assert_invalid_grant(refresh(base, tokens.client, new_refresh))
        assert_invalid_token(mcp(replica, new_access))
        assert_invalid_token(mcp(replica, tokens.access))
    finally:
        replica.stop()


# ---- discovery ---------------------------------------------------------------------------------------


def test_challenge_and_metadata(replica: Replica) -> None:
    base = replica.base_url
    bare = mcp(replica, None)
    assert bare.status_code == 401, bare.text
    challenge = bare.headers["www-authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"')
    assert "error=" not in challenge, challenge

    # RFC 9728 §3.1: each document names the resource its URL derives from (tests/remote/test_attacks_spec.py)
    for path, resource in (
        ("/.well-known/oauth-protected-resource/mcp", f"{base}/mcp"),
        ("/.well-known/oauth-protected-resource", base),
    ):
        document = httpx.get(base + path, timeout=TIMEOUT).json()
        assert document["resource"] == resource, document
        assert document["authorization_servers"] == [base], document

    document = httpx.get(f"{base}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()
    assert document["issuer"] == base, document
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["client_id_metadata_document_supported"] is True
    assert document["authorization_response_iss_parameter_supported"] is True
    methods = document["token_endpoint_auth_methods_supported"]
    assert {"none", "client_secret_post", "client_secret_basic"} <= set(methods), methods
    # no ID tokens, so no OpenID Connect discovery document
    assert httpx.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT).status_code == 404


# ---- clients -----------------------------------------------------------------------------------------


def test_registration_refuses_dangerous_redirect_uris(replica: Replica) -> None:
    for uri in (
        "javascript:alert(1)",
        "http://evil.example/cb",
        "https://app.example/cb#frag",
        "data:text/html,x",
    ):
        response = register(replica.base_url, redirect_uris=[uri])
        assert response.status_code == 400, (uri, response.text)
        assert response.json()["error"] == "invalid_redirect_uri", (uri, response.text)
    # one bad URI among good ones spoils the registration
    response = register(replica.base_url, redirect_uris=[REDIRECT_URI, "http://evil.example/cb"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_redirect_uri"


def test_confidential_client_needs_its_secret(replica: Replica) -> None:
    base = replica.base_url
    client = new_client(base, token_endpoint_auth_method="client_secret_basic")
    assert client.auth_method == "client_secret_basic" and client.secret
    code, verifier = authorized_code(base, client)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": client.redirect_uri,
        "code_verifier": verifier,
        "client_id": client.client_id,
    }
    no_secret = httpx.post(f"{base}/token", data=form, timeout=TIMEOUT)
    assert no_secret.status_code == 401 and no_secret.json()["error"] == "invalid_client"
    wrong = base64.b64encode(f"{client.client_id}:{'0' * 64}".encode()).decode()
    bad_secret = httpx.post(
        f"{base}/token", data=form, headers={"Authorization": f"Basic {wrong}"}, timeout=TIMEOUT
    )
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    response = exchange(base, client, code, verifier)  # with Basic auth
    assert response.status_code == 200, response.text
    assert_works(replica, response.json()["access_token"])


def test_unknown_client_is_invalid_client(replica: Replica) -> None:
    _, challenge = pkce()
    response = httpx.get(authorize_url(replica.base_url, "no-such-client", challenge), timeout=TIMEOUT)
    assert_unknown_client(response)
    response = httpx.post(
        f"{replica.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "redirect_uri": REDIRECT_URI,
            "code_verifier": "y" * 43,
            "client_id": "no-such-client",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text


def test_cimd_private_addresses_are_not_fetched(other_replica: Replica, documents: DocumentServer) -> None:
    port = documents.server_address[1]
    _, challenge = pkce()
    before = documents.connections
    for client_id in (
        f"https://127.0.0.1:{port}/good.json",
        f"https://localhost:{port}/good.json",
        f"{documents.base_url}/good.json",  # http, loopback: test mode only
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/client.json",
        "https://[::1]/client.json",
    ):
        started = time.monotonic()
        response = httpx.get(authorize_url(other_replica.base_url, client_id, challenge), timeout=TIMEOUT)
        assert_unknown_client(response)
        assert time.monotonic() - started < 3, client_id  # refused before any connection, not timed out
    assert documents.connections == before  # nothing reached the loopback document server


def test_cimd_oversized_or_mismatched_documents_are_refused(
    replica: Replica, documents: DocumentServer
) -> None:
    _, challenge = pkce()
    for path in ("/big.json", "/wrong.json"):
        response = httpx.get(
            authorize_url(replica.base_url, documents.base_url + path, challenge), timeout=TIMEOUT
        )
        assert_unknown_client(response)
        assert documents.requests[path] >= 1  # fetched, then refused for what it says
    # the control: a proper document from the same server is accepted
    good = documents.base_url + "/good.json"
    response = httpx.get(authorize_url(replica.base_url, good, challenge), timeout=TIMEOUT)
    assert response.status_code == 302 and "/consent?txn=" in response.headers["location"], response.text


# ---- request limits ----------------------------------------------------------------------------------


def test_oversized_and_malformed_requests(replica: Replica) -> None:
    tokens = sign_in(replica.base_url)
    try:
        response = mcp(replica, tokens.access, content=b"x" * (5 * 1024 * 1024))
    except httpx.TransportError as exc:  # pragma: no cover - the server may close before reading it all
        pytest.fail(f"the 5 MB body got no answer: {exc!r}")
    assert response.status_code == 413, response.text
    assert_works(replica, tokens.access)
    malformed = httpx.post(
        f"{replica.base_url}/register",
        content=b'{"redirect_uris": ["http://127.0.0.1/cb"',
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert malformed.status_code == 400, malformed.text
    assert malformed.json()["error"] == "invalid_client_metadata"


def test_per_user_rate_limit(tmp_path: Path, module_sandbox: BackgroundSandbox) -> None:
    limited = start_replica(
        tmp_path,
        module_sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        name="limited",
        extra_env={"WRIKE_MCP_USER_RATE_LIMIT": "3"},
    )
    try:
        tokens = sign_in(limited.base_url, user=BEN)
        for _ in range(3):
            assert_works(limited, tokens.access)
        response = mcp(limited, tokens.access)
        assert response.status_code == 429, response.text
        assert 1 <= int(response.headers["retry-after"]) <= 60
        # per user: another person's requests are not held back by Ben's
        assert_works(limited, sign_in(limited.base_url, user=ANN).access)
    finally:
        limited.stop()


# ---- the matrix --------------------------------------------------------------------------------------

SECTION = "## Remote mode (OAuth authorization server)"
ROW = re.compile(r"^\|\s*(OA\d{2,3})\s*\|(.*)\|\s*`(tests/remote/test_\w+\.py)::(test_\w+)`\s*\|\s*$")


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def test_reliability_rows_match_attack_tests() -> None:
    """Every row names a test that exists; every test in tests/remote/test_attacks*.py has a row."""
    text = (ROOT / "docs" / "RELIABILITY.md").read_text()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            ident, middle, file, test = match.groups()
            assert ident not in rows, f"row id {ident} is used twice"
            assert middle.count("|") == 2, (
                f"row {ident} needs: id | fault or attack | expected | observed | test"
            )
            rows[ident] = (file, test)
        else:
            assert not line.startswith("| OA"), f"malformed row: {line}"
    named = set(rows.values())
    missing = {(file, test) for file, test in named if test not in defined_tests(ROOT / file)}
    assert not missing, f"rows naming tests that do not exist: {sorted(missing)}"
    attack_files = sorted((ROOT / "tests" / "remote").glob("test_attacks*.py"))
    assert len(attack_files) >= 1
    tests = {(str(path.relative_to(ROOT)), name) for path in attack_files for name in defined_tests(path)}
    assert not tests - named, f"attack tests without a row: {sorted(tests - named)}"
