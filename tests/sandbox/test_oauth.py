"""OAuth 2.0: authorization code, token exchange, refresh rotation, expiry, revocation, errors."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.sandbox_helpers import CLIENT, REDIRECT, authorize, bearer, exchange
from wrike_mcp.sandbox import SandboxState


async def test_code_flow_and_refresh_rotation(raw: httpx.AsyncClient, state: SandboxState) -> None:
    code = await authorize(raw, scope="wsReadOnly,amReadOnlyAuditLog")
    tokens = (await exchange(raw, code)).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 3600
    assert tokens["host"] == "127.0.0.1:8100"
    assert tokens["scope"] == "amReadOnlyAuditLog,wsReadOnly"
    me = await raw.get("/api/v4/contacts", params={"me": "true"}, headers=bearer(tokens["access_token"]))
    assert me.json()["data"][0]["firstName"] == "Ann"
    write = await raw.post(
        "/api/v4/folders/IEAAB2CDI7777777/tasks", data={"title": "x"}, headers=bearer(tokens["access_token"])
    )
    assert write.status_code == 403

    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    rotated = (await raw.post("/oauth2/token", data=refresh)).json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    again = await raw.post("/oauth2/token", data=refresh)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")  # the used one is dead
    assert (await raw.get("/api/v4/account", headers=bearer(rotated["access_token"]))).status_code == 200
    # Codes are single-use; a replayed code also revokes what it produced (RFC 6749 section 4.1.2).
    assert (await exchange(raw, code)).json()["error"] == "invalid_grant"
    assert (await raw.get("/api/v4/account", headers=bearer(rotated["access_token"]))).status_code == 401
    granted = [
        e for e in state.audit if e.operation == "Oauth2AccessGranted" and e.object_name == "Sandbox Demo App"
    ]
    assert granted and granted[-1].object_id == "sandbox-client" and granted[-1].object_type == "Oauth2Client"


async def test_access_token_expires(raw: httpx.AsyncClient, state: SandboxState) -> None:
    tokens = (await exchange(raw, await authorize(raw))).json()
    assert tokens["scope"] == "Default"
    headers = bearer(tokens["access_token"])
    assert (await raw.get("/api/v4/account", headers=headers)).status_code == 200
    await raw.post("/_sandbox/clock", json={"advance": 3601})
    expired = await raw.get("/api/v4/account", headers=headers)
    assert (expired.status_code, expired.json()["error"]) == (401, "not_authorized")
    assert "expired" in expired.json()["errorDescription"]
    assert (await raw.get("/api/v4/account", headers=bearer("wrike-sandbox-token"))).status_code == 200


async def test_code_expires_after_ten_minutes(raw: httpx.AsyncClient) -> None:
    code = await authorize(raw)
    await raw.post("/_sandbox/clock", json={"advance": 601})
    assert (await exchange(raw, code)).json()["error"] == "invalid_grant"


async def test_authorize_as_another_user(raw: httpx.AsyncClient) -> None:
    tokens = (await exchange(raw, await authorize(raw, user="julia.novak@northwind.example"))).json()
    me = await raw.get("/api/v4/contacts", params={"me": "true"}, headers=bearer(tokens["access_token"]))
    assert me.json()["data"][0]["lastName"] == "Novak"
    refused = await raw.get("/api/v4/audit_log", headers=bearer(tokens["access_token"]))
    assert refused.status_code == 403  # Default scope has no audit-log access


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": "other", "response_type": "code", "redirect_uri": REDIRECT},
        {"client_id": "sandbox-client", "response_type": "code", "redirect_uri": "https://evil.example/cb"},
        {
            "client_id": "sandbox-client",
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "user": "nobody@x",
        },
    ],
)
async def test_authorize_refusals_never_redirect(raw: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 400 and "location" not in response.headers


async def test_unregistered_redirect_uri_gets_wrikes_400_page(raw: httpx.AsyncClient) -> None:
    params = {
        "client_id": "sandbox-client",
        "response_type": "code",
        "redirect_uri": "https://evil.example/cb",
    }
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 400 and "location" not in response.headers
    assert "Redirect uri is missing or invalid" in response.text


@pytest.mark.parametrize(
    "redirect", ["http://localhost:8765/callback", "https://127.0.0.1:9999/cb", "http://localhost/x"]
)
async def test_demo_app_counts_any_loopback_redirect_as_registered(
    raw: httpx.AsyncClient, redirect: str
) -> None:
    params = {"client_id": "sandbox-client", "response_type": "code", "redirect_uri": redirect}
    response = await raw.get("/oauth2/authorize/v4", params=params)
    assert response.status_code == 302 and response.headers["location"].startswith(redirect)


async def test_refresh_answers_can_leave_out_scope_and_refresh_token(raw: httpx.AsyncClient) -> None:
    tokens = (await exchange(raw, await authorize(raw, scope="wsReadOnly"))).json()
    switched = await raw.post("/_sandbox/oauth", json={"refresh_omits": ["scope", "refresh_token"]})
    assert switched.json() == {"refresh_omits": ["refresh_token", "scope"]}
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    first = (await raw.post("/oauth2/token", data=refresh)).json()
    assert "scope" not in first and "refresh_token" not in first
    second = await raw.post("/oauth2/token", data=refresh)  # not rotated: the old one still works
    assert second.status_code == 200
    assert (
        await raw.get("/api/v4/account", headers=bearer(second.json()["access_token"]))
    ).status_code == 200
    refused = await raw.post("/_sandbox/oauth", json={"refresh_omits": ["host"]})
    assert refused.status_code == 400


async def test_authorize_errors_redirect(raw: httpx.AsyncClient) -> None:
    for params, error in [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "root"}, "invalid_scope"),
    ]:
        query = {"client_id": "sandbox-client", "response_type": "code", "redirect_uri": REDIRECT, **params}
        response = await raw.get("/oauth2/authorize/v4", params=query)
        assert response.status_code == 302 and f"error={error}" in response.headers["location"]


async def test_token_endpoint_errors(raw: httpx.AsyncClient) -> None:
    code = await authorize(raw)
    cases = [
        (
            {
                "client_id": "sandbox-client",
                "client_secret": "wrong",
                "grant_type": "authorization_code",
                "code": code,
            },
            400,
            "unauthorized_client",  # live Wrike's answer to a secret that does not match the app
        ),
        ({"client_id": "other-app", "client_secret": "x", "grant_type": "password"}, 401, "invalid_client"),
        (
            {"client_id": "sandbox-client", "grant_type": "authorization_code", "code": code},
            401,
            "invalid_client",
        ),
        ({**CLIENT, "grant_type": "password"}, 400, "unsupported_grant_type"),
        ({**CLIENT}, 400, "invalid_request"),
        ({**CLIENT, "grant_type": "authorization_code"}, 400, "invalid_request"),
        ({**CLIENT, "grant_type": "authorization_code", "code": "bogus"}, 400, "invalid_grant"),
        (
            {
                **CLIENT,
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://localhost:1/x",
            },
            400,
            "invalid_grant",
        ),
        ({**CLIENT, "grant_type": "refresh_token", "refresh_token": "bogus"}, 400, "invalid_grant"),
    ]
    for form, status, error in cases:
        response = await raw.post("/oauth2/token", data=form)
        assert (response.status_code, response.json()["error"]) == (status, error), form
        assert "error_description" in response.json()


async def test_revocation(raw: httpx.AsyncClient, state: SandboxState) -> None:
    first = (await exchange(raw, await authorize(raw))).json()
    second = (await exchange(raw, await authorize(raw))).json()
    assert (await raw.post("/_sandbox/revoke", json={"refresh_token": first["refresh_token"]})).json()[
        "revoked"
    ] == 1
    assert (await raw.get("/api/v4/account", headers=bearer(first["access_token"]))).status_code == 401
    assert (await raw.get("/api/v4/account", headers=bearer(second["access_token"]))).status_code == 200
    await raw.post("/_sandbox/revoke", json={"access_token": second["access_token"]})
    assert (await raw.get("/api/v4/account", headers=bearer(second["access_token"]))).status_code == 401
    refresh = {**CLIENT, "grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    assert (await raw.post("/oauth2/token", data=refresh)).status_code == 200
    await raw.post("/_sandbox/revoke", json={"all": True})
    assert not state.refresh_tokens
    assert any(e.operation == "Oauth2AccessRevoked" and e.object_id == "sandbox-client" for e in state.audit)
    assert (await raw.get("/api/v4/account", headers=bearer("wrike-sandbox-token"))).status_code == 200
