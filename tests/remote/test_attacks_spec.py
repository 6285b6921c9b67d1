"""Spec gaps of the authorization server, attacked in raw HTTP against real replicas.

Resource indicators at `/token` (RFC 8707), scope narrowing on refresh (RFC 6749 §6), the protected-resource
metadata at both well-known URLs (RFC 9728 §3.1), no OpenID discovery document, and multi-round-trip request
state bound to the user who started it. The module's replica serves the public URL `http://localhost:PORT`
(a host name, so its case can vary); a second replica on the same database with another public URL plays the
other server; the request-state test runs two replicas of one public URL on PostgreSQL, stateful and
stateless. docs/RELIABILITY.md "Remote mode" has one row per test here (OA70-OA76).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
)
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url

from tests.remote.helpers import Replica, free_port, pkce, start_replica
from tests.remote.test_attacks import (
    ANN,
    BEN,
    TIMEOUT,
    Registered,
    Started,
    assert_error_redirect,
    assert_invalid_grant,
    authorize_url,
    authorized_code,
    browser,
    decide,
    exchange,
    new_client,
    refresh,
    sign_in,
    token_request,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

PROTOCOL = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": PROTOCOL,
    "io.modelcontextprotocol/clientInfo": {"name": "attacks-spec", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
}


@pytest.fixture(scope="module")
def server(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[str]:
    """The replica under attack; yields its public URL, `http://localhost:PORT` (the issuer)."""
    port = free_port()
    public = f"http://localhost:{port}"
    running = start_replica(workdir, module_sandbox.base_url, database, public_url=public, port=port)
    try:
        yield public
    finally:
        running.stop()


@pytest.fixture(scope="module")
def other_server(workdir: Path, module_sandbox: BackgroundSandbox, database: str) -> Iterator[Replica]:
    """Same database and keys, another public URL (`http://127.0.0.1:ITS_PORT`)."""
    running = start_replica(workdir, module_sandbox.base_url, database, name="other")
    try:
        yield running
    finally:
        running.stop()


def start_with(base: str, client: Registered, **extra: str) -> Started:
    """/authorize with extra parameters (a scope, a resource), then the consent page, in a fresh browser."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    agent = browser()
    response = agent.get(authorize_url(base, client.client_id, challenge, state=state, **extra))
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(f"{base}/consent?txn="), location
    page = agent.get(location)
    assert page.status_code == 200, page.text
    return Started(agent, verifier, state, page)


def code_for(base: str, client: Registered, user: str = ANN, **extra: str) -> tuple[str, str]:
    started = start_with(base, client, **extra)
    answer = decide(base, started, user=user)
    assert answer.get("state") == started.state and "code" in answer, answer
    return answer["code"], started.verifier


def rpc(base: str, token: str, method: str, params: dict[str, Any]) -> httpx.Response:
    """One stateless (2026-07-28) JSON-RPC request to `{base}/mcp`."""
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": META}}
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": PROTOCOL,
        "Mcp-Method": method,
        "Authorization": f"Bearer {token}",
    }
    if "name" in params:
        headers["Mcp-Name"] = params["name"]
    return httpx.post(f"{base}/mcp", content=json.dumps(message).encode(), headers=headers, timeout=TIMEOUT)


def answer_of(response: httpx.Response) -> dict[str, Any]:
    """The JSON-RPC answer, whether sent as JSON or as one server-sent event."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        assert len(data) == 1, response.text
        answer: dict[str, Any] = json.loads(data[0])
        return answer
    answer = response.json()
    return answer


def get_me(base: str, token: str) -> dict[str, Any]:
    result: dict[str, Any] = answer_of(rpc(base, token, "tools/call", {"name": "get_me", "arguments": {}}))
    assert "result" in result and not result["result"]["isError"], result
    structured: dict[str, Any] = result["result"]["structuredContent"]
    return structured


def assert_invalid_target(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_target", response.text
    assert response.headers["cache-control"] == "no-store"
    assert "access_token" not in response.text


def refresh_with(
    base: str, client: Registered, refresh_token: str, **form: str | list[str]
) -> httpx.Response:
    return token_request(base, client, grant_type="refresh_token", refresh_token=refresh_token, **form)  # type: ignore[arg-type]


def foreign_resources(base: str) -> list[str | list[str]]:
    """Resources this server does not serve: another host, another path or case of it, a fragment, a query,
    a malformed URI; and ours repeated with a foreign one (RFC 8707 allows several `resource` parameters)."""
    return [
        "https://other.example/mcp",
        f"{base}/other",
        f"{base}/MCP",
        f"{base}/mcp#x",
        f"{base}/mcp?x=1",
        "http://[::1/mcp",  # not even a URI
        [f"{base}/mcp", "https://other.example/mcp"],
    ]


# ---- resource indicators at /token (RFC 8707) -------------------------------------------------------------


def test_token_with_a_foreign_resource_is_invalid_target(server: str) -> None:
    base = server
    client = new_client(base)
    code, verifier = authorized_code(base, client)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    for resource in foreign_resources(base):
        response = token_request(base, client, **form, code_verifier=verifier, resource=resource)  # type: ignore[arg-type]
        assert_invalid_target(response)
    # none of that spent the code: the right resource gets tokens for this server
    response = token_request(base, client, **form, code_verifier=verifier, resource=f"{base}/mcp")
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert get_me(base, tokens["access_token"])["email"] == ANN

    for resource in foreign_resources(base):
        assert_invalid_target(refresh_with(base, client, tokens["refresh_token"], resource=resource))
    # nor the refresh token: it still rotates once, with the right resource
    response = refresh_with(base, client, tokens["refresh_token"], resource=f"{base}/mcp")
    assert response.status_code == 200, response.text
    assert get_me(base, response.json()["access_token"])["email"] == ANN


def test_resource_scheme_and_host_compare_case_insensitively(server: str) -> None:
    base = server
    port = base.rsplit(":", 1)[1]
    client = new_client(base)
    code, verifier = code_for(base, client, resource=f"HTTP://LOCALHOST:{port}/mcp")
    response = token_request(
        base,
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=client.redirect_uri,
        code_verifier=verifier,
        resource=f"Http://LocalHost:{port}/mcp/",
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert get_me(base, tokens["access_token"])["email"] == ANN
    response = refresh_with(base, client, tokens["refresh_token"], resource=f"http://LOCALHOST:{port}/mcp")
    assert response.status_code == 200, response.text
    assert get_me(base, response.json()["access_token"])["email"] == ANN
    # the path is compared exactly; and a malformed resource is refused the same way, not a server error
    _, challenge = pkce()
    for resource in (f"HTTP://LOCALHOST:{port}/MCP", f"http://[::1:{port}/mcp"):
        state = secrets.token_urlsafe(8)
        url = authorize_url(base, client.client_id, challenge, state=state, resource=resource)
        assert_error_redirect(httpx.get(url, timeout=TIMEOUT), base, "invalid_target", state)


# ---- discovery (RFC 9728, RFC 8414) -----------------------------------------------------------------------


def test_metadata_at_both_prm_urls_and_no_openid_configuration(server: str) -> None:
    base = server
    mcp_url = f"{base}/mcp"
    documents = {}
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        response = httpx.get(base + path, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        documents[path] = response.json()
        assert documents[path]["authorization_servers"] == [base]
    # RFC 9728 §3.1/§3.3: the resource is the one whose identifier the document's URL derives from
    assert documents["/.well-known/oauth-protected-resource/mcp"]["resource"] == mcp_url
    assert documents["/.well-known/oauth-protected-resource"]["resource"] == base
    # the MCP SDK's client, given `{base}/mcp`, would accept either document (a parent resource is allowed)
    requested = resource_url_from_server_url(mcp_url)
    for document in documents.values():
        assert check_resource_allowed(requested_resource=requested, configured_resource=document["resource"])
    assert build_protected_resource_metadata_discovery_urls(None, mcp_url) == [
        f"{base}/.well-known/oauth-protected-resource/mcp",
        f"{base}/.well-known/oauth-protected-resource",
    ]

    assert httpx.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT).status_code == 404
    # the SDK's client asks for RFC 8414 metadata first, and it is there: OpenID discovery is never needed
    first, *fallbacks = build_oauth_authorization_server_metadata_discovery_urls(base, mcp_url)
    assert first == f"{base}/.well-known/oauth-authorization-server"
    assert fallbacks == [f"{base}/.well-known/openid-configuration"]
    response = httpx.get(first, timeout=TIMEOUT)
    assert response.status_code == 200 and response.json()["issuer"] == base, response.text


def test_the_origin_as_resource_gets_a_token_for_mcp(server: str, other_server: Replica) -> None:
    """A client that used the root metadata sends `resource={public-url}`: a token for `{public-url}/mcp`."""
    base = server
    root = httpx.get(f"{base}/.well-known/oauth-protected-resource", timeout=TIMEOUT).json()["resource"]
    client = new_client(base)
    code, verifier = code_for(base, client, resource=root)
    response = token_request(
        base,
        client,
        grant_type="authorization_code",
        code=code,
        redirect_uri=client.redirect_uri,
        code_verifier=verifier,
        resource=root + "/",
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert get_me(base, tokens["access_token"])["email"] == ANN  # the gate takes only `{base}/mcp`
    response = refresh_with(base, client, tokens["refresh_token"], resource=root)
    assert response.status_code == 200, response.text
    assert get_me(base, response.json()["access_token"])["email"] == ANN
    # the other server's origin is not this server's resource
    assert_invalid_target(
        refresh_with(base, client, response.json()["refresh_token"], resource=other_server.base_url)
    )


def test_codes_and_refresh_tokens_work_only_where_issued(server: str, other_server: Replica) -> None:
    """Another server sharing the database (other public URL) finds the grants, and must not honour them."""
    base, other = server, other_server.base_url
    client = new_client(base)
    code, verifier = authorized_code(base, client)
    assert_invalid_grant(exchange(other, client, code, verifier))
    response = exchange(base, client, code, verifier)  # not spent over there
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert_invalid_grant(refresh(other, client, tokens["refresh_token"]))
    response = refresh(base, client, tokens["refresh_token"])  # not spent, and the grant not revoked
    assert response.status_code == 200, response.text
    assert get_me(base, response.json()["access_token"])["email"] == ANN


# ---- scope on refresh (RFC 6749 §6) -----------------------------------------------------------------------


def test_refresh_with_a_narrower_scope_narrows_only_that_access_token(server: str) -> None:
    base = server
    client = new_client(base, scope="wsReadOnly wsReadWrite")
    code, verifier = code_for(base, client, scope="wsReadOnly wsReadWrite")
    response = exchange(base, client, code, verifier)
    assert response.status_code == 200, response.text
    granted = response.json()
    assert set(granted["scope"].split()) == {"wsReadOnly", "wsReadWrite"}
    write_call = {"name": "update_task", "arguments": {}}

    narrowed = refresh_with(base, client, granted["refresh_token"], scope="wsReadOnly")
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "wsReadOnly"
    access = narrowed.json()["access_token"]
    assert get_me(base, access)["granted_scopes"] == ["wsReadOnly"]
    refused = rpc(base, access, "tools/call", write_call)
    assert refused.status_code == 403, refused.text
    challenge = refused.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge and "wsReadWrite" in challenge, challenge
    # a scope outside the grant is refused, and does not spend the refresh token
    outside = refresh_with(base, client, narrowed.json()["refresh_token"], scope="amReadOnlyAuditLog")
    assert outside.status_code == 400 and outside.json()["error"] == "invalid_scope", outside.text

    # the grant kept its scope: the next refresh without `scope` brings all of it back
    full = refresh_with(base, client, narrowed.json()["refresh_token"])
    assert full.status_code == 200, full.text
    assert set(full.json()["scope"].split()) == {"wsReadOnly", "wsReadWrite"}
    assert get_me(base, full.json()["access_token"])["granted_scopes"] == ["wsReadOnly", "wsReadWrite"]
    allowed = rpc(base, full.json()["access_token"], "tools/call", write_call)
    assert "error" not in answer_of(allowed)  # past the gate; the tool itself answers the empty arguments


# ---- multi-round-trip request state --------------------------------------------------------------------


@pytest.mark.parametrize("mode", [(), ("--stateless",)], ids=["stateful", "stateless"])
async def test_request_state_is_bound_to_the_user(
    mode: tuple[str, ...], tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    port = free_port()
    public = f"http://127.0.0.1:{port}"  # as behind one proxy: one public URL, one database, one key
    a = start_replica(tmp_path, sandbox.base_url, postgres_url, public_url=public, port=port, extra_args=mode)
    b = start_replica(tmp_path, sandbox.base_url, postgres_url, public_url=public, name="b", extra_args=mode)
    try:
        base = a.base_url
        client = new_client(base)  # one client for both people: only the user differs
        ann = sign_in(base, client, ANN).access
        ben = sign_in(base, client, BEN).access
        delete = {"name": "delete_task", "arguments": {"task": "Approve press kit"}}
        asked = answer_of(rpc(base, ann, "tools/call", delete))["result"]
        assert asked["resultType"] == "input_required", asked
        (key,) = asked["inputRequests"]
        assert "Approve press kit" in asked["inputRequests"][key]["params"]["message"]
        confirmed = {
            **delete,
            "inputResponses": {key: {"action": "accept", "content": {"confirm": True}}},
            "requestState": asked["requestState"],
        }
        for replica in (a, b):
            response = rpc(replica.base_url, ben, "tools/call", confirmed)
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == -32602, response.text  # invalid or expired state
        # the person who started it finishes it, on the other replica: nothing was deleted before
        done = answer_of(rpc(b.base_url, ann, "tools/call", confirmed))["result"]
        assert done["structuredContent"]["deleted"] is True, done
        assert done["structuredContent"]["task"]["name"] == "Approve press kit"
    finally:
        a.stop()
        b.stop()
