"""Attacks on what the client rules allow: private-use redirect schemes, loopback ports and scope-less clients.

The rules (provider.redirect_uri_problem, provider.RegisteredClient): a public client may register a private-use
scheme with an authority (`cursor://anysphere.cursor-mcp/oauth/callback`), matched exactly; a loopback redirect
URI matches on any port but nothing else; a client registered without `scope` may ask for any scope we support.
Each test here tries to stretch one of them. Raw HTTP against one replica; docs/RELIABILITY.md has a row per test
(OA85-OA98).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.remote.helpers import Browser, Replica, document_server, free_port, pkce, start_replica
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

TIMEOUT = 15.0
ANN = "ann.lee@northwind.example"
CURSOR = "cursor://anysphere.cursor-mcp/oauth/callback"
HOSTED = "https://app.example/oauth/callback"


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    tmp: Path = tmp_path_factory.mktemp("attacks-clients")
    with BackgroundSandbox() as sandbox:
        running = start_replica(tmp, sandbox.base_url, f"sqlite:///{tmp / 'db.sqlite3'}")
        try:
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def documents() -> Iterator[tuple[str, dict[str, bytes]]]:
    """Client ID metadata documents on a loopback port (the replica allows loopback documents in tests)."""
    with document_server() as server:
        yield server.base_url, server.documents


def register(replica: Replica, redirect_uris: list[str], **metadata: Any) -> httpx.Response:
    body = {
        "client_name": "Attack client",
        "redirect_uris": redirect_uris,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    return httpx.post(f"{replica.base_url}/register", json=body, timeout=TIMEOUT)


def client_id(replica: Replica, redirect_uris: list[str], **metadata: Any) -> str:
    response = register(replica, redirect_uris, **metadata)
    assert response.status_code == 201, response.text
    value: str = response.json()["client_id"]
    return value


def assert_refused_registration(response: httpx.Response, uri: str) -> None:
    assert response.status_code == 400, (uri, response.text)
    assert response.json()["error"] == "invalid_redirect_uri", (uri, response.text)


def authorize_url(replica: Replica, client: str, redirect_uri: str, **extra: str) -> str:
    _, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "resource": replica.mcp_url,
        **extra,
    }
    return f"{replica.base_url}/authorize?{urlencode(params)}"


def assert_no_redirect(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert "location" not in response.headers, response.headers
    assert response.json()["error"] == "invalid_request", response.text


def reaches_consent(replica: Replica, url: str) -> bool:
    response = httpx.get(url, timeout=TIMEOUT)
    location = response.headers.get("location", "")
    return response.status_code == 302 and location.startswith(f"{replica.base_url}/consent?")


def authorize_error(replica: Replica, url: str) -> str:
    """The OAuth `error` of an /authorize refused for a client with an https redirect URI that this browser's
    user never approved: wrike-mcp's own error page names it, and nothing is redirected (RFC 9700 §4.11.2)."""
    response = httpx.get(url, timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert "location" not in response.headers
    found = re.search(r"\((\w+): ", response.text)
    assert found, response.text
    return found.group(1)


def tokens_for(replica: Replica, client: str, redirect_uri: str, scope: str) -> dict[str, Any]:
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
        "scope": scope,
    }
    answer = Browser(user=ANN).authorize(f"{replica.base_url}/authorize?{urlencode(params)}")
    assert "code" in answer, answer
    response = httpx.post(
        f"{replica.base_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "client_id": client,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# ---- redirect schemes at registration ----------------------------------------------------------------


def test_script_file_and_web_schemes_are_not_private_use(replica: Replica) -> None:
    for uri in (
        "javascript://anysphere.cursor-mcp/%0Aalert(document.domain)",
        "javascript:alert(1)",
        "JavaScript://x/%0Aalert(1)",
        "vbscript://x/msgbox",
        "data://text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD4=",
        "file:///etc/passwd",
        "file://host/share/cb",
        "blob://app.example/uuid",
        "view-source://app.example/",
        "about://blank/x",
        "ws://127.0.0.1.nip.io/cb",
        "ftp://ftp.example/cb",
    ):
        assert_refused_registration(register(replica, [uri]), uri)


def test_schemes_without_an_authority_are_refused(replica: Replica) -> None:
    for uri in (
        "foo:bar",
        "cursor:/oauth/callback",
        "com.example.app:/oauth2redirect",
        "cursor:",
        "cursor://",
    ):
        assert_refused_registration(register(replica, [uri]), uri)


def test_private_use_schemes_are_for_public_clients_only(replica: Replica) -> None:
    for method in ("client_secret_post", "client_secret_basic"):
        response = register(replica, [CURSOR], token_endpoint_auth_method=method)
        assert_refused_registration(response, CURSOR)
        assert "public clients" in response.json()["error_description"]
    # leaving the method out means client_secret_post (RFC 7591 §2): confidential, so refused too
    body = {"client_name": "No method", "redirect_uris": [CURSOR]}
    assert_refused_registration(
        httpx.post(f"{replica.base_url}/register", json=body, timeout=TIMEOUT), CURSOR
    )
    # the same client with https is fine
    assert register(replica, [HOSTED], token_endpoint_auth_method="client_secret_post").status_code == 201


def test_http_off_loopback_stays_refused_for_public_clients(replica: Replica) -> None:
    for uri in (
        "http://evil.example/cb",
        "http://127.0.0.1.evil.example/cb",
        "http://localhost.evil.example/cb",
        "http://0.0.0.0:8787/cb",
        "http://[::2]:8787/cb",
        "http://10.0.0.1/cb",
    ):
        assert_refused_registration(register(replica, [uri]), uri)


def test_user_info_and_fragments_in_private_use_uris_are_refused(replica: Replica) -> None:
    for uri in (
        "cursor://user:pass@anysphere.cursor-mcp/oauth/callback",
        "cursor://evil.example@anysphere.cursor-mcp/oauth/callback",
        "cursor://anysphere.cursor-mcp/oauth/callback#frag",
    ):
        assert_refused_registration(register(replica, [uri]), uri)


def test_one_bad_uri_spoils_a_multi_uri_registration(replica: Replica) -> None:
    cursor_body = [
        CURSOR,
        "https://www.cursor.com/agents/mcp/oauth/callback",
        "http://localhost:8787/callback",
    ]
    assert register(replica, cursor_body).status_code == 201
    assert_refused_registration(register(replica, [*cursor_body, "javascript://x/%0Aalert(1)"]), "javascript")


# ---- redirect URIs at /authorize ---------------------------------------------------------------------


def test_private_use_redirect_uri_matches_exactly(replica: Replica) -> None:
    client = client_id(replica, [CURSOR])
    assert reaches_consent(replica, authorize_url(replica, client, CURSOR))
    for uri in (
        "cursor://anysphere.cursor-mcp/oauth/callback2",
        "cursor://anysphere.cursor-mcp/oauth/callback/",
        "cursor://anysphere.cursor-mcp/oauth/callback?next=https://evil.example",
        "cursor://evil.example/oauth/callback",
        "cursor://anysphere.cursor-mcp:1234/oauth/callback",
        "vscode://anysphere.cursor-mcp/oauth/callback",
    ):
        assert_no_redirect(httpx.get(authorize_url(replica, client, uri), timeout=TIMEOUT))


def test_loopback_port_may_vary_but_nothing_else(replica: Replica) -> None:
    client = client_id(replica, ["http://127.0.0.1:33418/cb"])
    other = free_port()
    assert reaches_consent(replica, authorize_url(replica, client, f"http://127.0.0.1:{other}/cb"))
    assert reaches_consent(replica, authorize_url(replica, client, "http://127.0.0.1/cb"))
    for uri in (
        f"http://localhost:{other}/cb",
        f"http://[::1]:{other}/cb",
        f"http://127.0.0.1:{other}/cb/",
        f"http://127.0.0.1:{other}/other",
        f"http://127.0.0.1:{other}/cb?x=1",
        f"https://127.0.0.1:{other}/cb",
        f"http://127.0.0.2:{other}/cb",
    ):
        assert_no_redirect(httpx.get(authorize_url(replica, client, uri), timeout=TIMEOUT))


def test_port_freedom_is_for_loopback_http_only(replica: Replica) -> None:
    client = client_id(replica, ["https://app.example:8443/cb", "cursor://host.example:1/cb"])
    for uri in ("https://app.example:9443/cb", "https://app.example/cb", "cursor://host.example:2/cb"):
        assert_no_redirect(httpx.get(authorize_url(replica, client, uri), timeout=TIMEOUT))


def test_code_is_bound_to_the_port_it_was_sent_to(replica: Replica) -> None:
    client = client_id(replica, ["http://localhost:33418/"])
    verifier, challenge = pkce()
    used = "http://localhost:1/"  # not 127.0.0.1, so the scripted browser stops here without a listener
    params = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": used,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "s",
    }
    answer = Browser(user=ANN).authorize(f"{replica.base_url}/authorize?{urlencode(params)}")
    assert "code" in answer, answer
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "client_id": client,
        "code_verifier": verifier,
    }
    for redirect_uri in ("http://localhost:33418/", "http://localhost:2/"):
        wrong = httpx.post(
            f"{replica.base_url}/token", data={**form, "redirect_uri": redirect_uri}, timeout=TIMEOUT
        )
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request", wrong.text
    right = httpx.post(f"{replica.base_url}/token", data={**form, "redirect_uri": used}, timeout=TIMEOUT)
    assert right.status_code == 200, right.text


# ---- scopes ------------------------------------------------------------------------------------------


def test_scopeless_client_cannot_ask_for_unknown_scopes(replica: Replica) -> None:
    client = client_id(replica, [HOSTED])
    for scope in ("Full", "wsReadWrite amReadWriteAuditLog", "wsReadOnly admin", "wsreadwrite"):
        url = authorize_url(replica, client, HOSTED, scope=scope)
        assert authorize_error(replica, url) == "invalid_scope", scope


def test_scopeless_client_gets_what_it_asked_for_not_more(replica: Replica) -> None:
    client = client_id(replica, [HOSTED])
    tokens = tokens_for(replica, client, HOSTED, "wsReadOnly")
    assert tokens["scope"] == "wsReadOnly"
    # a refresh cannot widen it (RFC 6749 §6)
    widened = httpx.post(
        f"{replica.base_url}/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client,
            "scope": "wsReadOnly wsReadWrite",
        },
        timeout=TIMEOUT,
    )
    assert widened.status_code == 400 and widened.json()["error"] == "invalid_scope", widened.text


def test_registered_scope_still_bounds_the_client(replica: Replica) -> None:
    response = register(replica, [HOSTED], scope="wsReadOnly")
    assert response.status_code == 201 and response.json()["scope"] == "wsReadOnly", response.text
    client = response.json()["client_id"]
    for scope in ("wsReadOnly amReadOnlyAuditLog", "wsReadWrite"):
        url = authorize_url(replica, client, HOSTED, scope=scope)
        assert authorize_error(replica, url) == "invalid_scope", scope
    assert reaches_consent(replica, authorize_url(replica, client, HOSTED, scope="wsReadOnly"))
    # registering a scope we do not have is refused outright
    refused = register(replica, [HOSTED], scope="wsReadOnly Full")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_client_metadata", refused.text


# ---- client ID metadata documents --------------------------------------------------------------------


def test_metadata_documents_follow_the_same_redirect_rules(
    replica: Replica, documents: tuple[str, dict[str, bytes]]
) -> None:
    base, served = documents

    def document(path: str, **fields: Any) -> str:
        url = f"{base}{path}"
        served[path] = json.dumps({"client_id": url, "client_name": "Doc", **fields}).encode()
        return url

    private_use = document("/private-use.json", redirect_uris=[CURSOR])
    script = document("/script.json", redirect_uris=["javascript://x/%0Aalert(1)"])
    jwt_only = document(
        "/jwt-only.json", redirect_uris=[HOSTED], token_endpoint_auth_method="private_key_jwt"
    )
    # a document's client is public (it has no secret), so a private-use scheme is fine
    assert reaches_consent(replica, authorize_url(replica, private_use, CURSOR))
    for url, redirect_uri in ((script, "javascript://x/%0Aalert(1)"), (jwt_only, HOSTED)):
        response = httpx.get(authorize_url(replica, url, redirect_uri), timeout=TIMEOUT)
        assert response.status_code == 401 and response.json()["error"] == "invalid_client", response.text
        assert "location" not in response.headers
