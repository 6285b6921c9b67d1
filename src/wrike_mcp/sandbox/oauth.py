"""OAuth 2.0 authorization-code flow the way Wrike runs it: /oauth2/authorize/v4 and /oauth2/token.

The sandbox approves every authorization request at once (as the demo user, or `?user=` for tests),
issues single-use codes valid for 10 minutes, and rotates refresh tokens on every use.

Registered redirect URIs: the demo app counts every loopback URL (http or https, any port and path) as
registered, so tests and local logins can use any free port. Real Wrike matches the app's registered list;
an unregistered URI gets the same 400 page there and here (live observation).
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from wrike_mcp.sandbox.ids import ACCOUNT_IDS
from wrike_mcp.sandbox.state import SandboxState
from wrike_mcp.sandbox.tokens import (
    ALL_SCOPES,
    DEMO_APP_NAME,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
)

CLIENTS = {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET}
# Registered redirect URIs of the demo client: any loopback URL, http or https, any port and path.
REDIRECT_RE = re.compile(r"^https?://(localhost|127\.0\.0\.1)(:\d+)?(/[^#]*)?$")
DEFAULT_REDIRECT_URI = "http://localhost/callback"


def _page(status: int, message: str) -> HTMLResponse:
    text = html.escape(message)
    return HTMLResponse(
        f"<!doctype html><title>Wrike sandbox</title><h1>Authorization failed</h1><p>{text}</p>",
        status_code=status,
    )


def _redirect(uri: str, values: dict[str, str]) -> RedirectResponse:
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(values.items())
    return RedirectResponse(urlunsplit(parts._replace(query=urlencode(query))), status_code=302)


def parse_scopes(text: str | None) -> frozenset[str] | None:
    """Comma-separated scope names (spaces tolerated); None when one is unknown."""
    names = [part.strip() for part in re.split(r"[,\s]+", text or "") if part.strip()] or ["Default"]
    if any(name not in ALL_SCOPES for name in names):
        return None
    return frozenset(names)


async def authorize(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    query = request.query_params
    client_id = query.get("client_id")
    if not client_id or client_id not in CLIENTS:
        return _page(400, "Unknown client_id.")
    redirect_uri = query.get("redirect_uri") or DEFAULT_REDIRECT_URI
    if not REDIRECT_RE.match(redirect_uri):
        # Never redirect to an unregistered URI: an open redirector would leak the code. Wording as Wrike's.
        return _page(400, "Redirect uri is missing or invalid")
    echo = {"state": query["state"]} if "state" in query else {}
    if query.get("response_type") != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", **echo})
    scopes = parse_scopes(query.get("scope"))
    if scopes is None:
        return _redirect(redirect_uri, {"error": "invalid_scope", **echo})
    account_id = query.get("account") or ACCOUNT_IDS[0]
    if account_id not in ACCOUNT_IDS:
        return _page(400, "No sandbox account with that id.")
    user = state.demo_user()
    wanted = query.get("user")
    if wanted:
        found = state.contacts.get(wanted) or state.user_by_email(wanted)
        if found is None or found.type != "Person" or found.deleted:
            return _page(400, "No active sandbox user with that email or id.")
        user = found
    code = state.tokens.issue_code(
        client_id,
        user.id,
        redirect_uri if "redirect_uri" in query else "",
        scopes,
        expires_at=state.clock() + state.config.code_ttl,
        account_id=account_id,
    )
    return _redirect(redirect_uri, {"code": code.value, **echo})


def _oauth_error(status: int, code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "error_description": description},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str | None, str | None]:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
            return client_id, secret
        except ValueError:
            return None, None
    return form.get("client_id"), form.get("client_secret")


def _issue(
    state: SandboxState,
    request: Request,
    user_id: str,
    scopes: frozenset[str],
    client_id: str,
    grant_id: str,
    *,
    account_id: str,
    new_refresh_token: bool = True,
) -> dict[str, Any]:
    access, refresh = state.tokens.issue(
        user_id,
        scopes,
        client_id,
        grant_id,
        account_id=account_id,
        expires_at=state.clock() + state.config.token_ttl,
        with_refresh_token=new_refresh_token,
    )
    body: dict[str, Any] = {
        "access_token": access.value,
        "token_type": "bearer",
        "expires_in": state.config.token_ttl,
        # The API host for this user, as Wrike reports its data-centre host; here: the sandbox itself.
        "host": request.headers.get("host") or f"{request.url.hostname}:{request.url.port}",
        "scope": ",".join(sorted(scopes)),
    }
    if refresh is not None:
        body["refresh_token"] = refresh.value
    return body


async def token(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return _oauth_error(400, "invalid_request", "The token request must be form-encoded")
    form = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    client_id, client_secret = _client_credentials(request, form)
    if not client_id or CLIENTS.get(client_id) is None or not client_secret:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    if not secrets.compare_digest(CLIENTS[client_id], client_secret):
        # Live Wrike answers a secret that does not match the app with unauthorized_client (400 as RFC 6749
        # §5.2 gives it; the live status was not recorded)
        return _oauth_error(
            400, "unauthorized_client", "The client is not authorized: check the client secret"
        )
    grant_type = form.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "grant_type is required")
    if grant_type == "authorization_code":
        return _exchange_code(state, request, form, client_id)
    if grant_type == "refresh_token":
        return _refresh(state, request, form, client_id)
    return _oauth_error(400, "unsupported_grant_type", f"grant_type '{grant_type}' is not supported")


def _exchange_code(state: SandboxState, request: Request, form: dict[str, str], client_id: str) -> Response:
    value = form.get("code")
    if not value:
        return _oauth_error(400, "invalid_request", "code is required")
    code = state.tokens.codes.get(value)
    if code is None:
        return _oauth_error(400, "invalid_grant", "The authorization code is invalid")
    if code.used:
        # A replayed code revokes what it produced (RFC 6749 §4.1.2).
        for access in [t for t in state.tokens.access.values() if t.grant_id == code.value]:
            state.revoke_grant(code.value, access.user_id, client_id)
        return _oauth_error(400, "invalid_grant", "The authorization code has already been used")
    if state.clock() >= code.expires_at:
        return _oauth_error(400, "invalid_grant", "The authorization code has expired")
    if code.client_id != client_id:
        return _oauth_error(400, "invalid_grant", "The authorization code was issued to another client")
    if code.redirect_uri and form.get("redirect_uri") != code.redirect_uri:
        return _oauth_error(400, "invalid_grant", "redirect_uri does not match the authorization request")
    state.tokens.redeem_code(code)
    user = state.contacts.get(code.user_id)
    if user is None or user.deleted:
        return _oauth_error(400, "invalid_grant", "The user is deactivated")
    body = _issue(
        state, request, code.user_id, code.scopes, client_id, grant_id=code.value, account_id=code.account_id
    )
    state.record_audit(
        "Oauth2AccessGranted",
        user,
        "Oauth2Client",
        DEMO_APP_NAME,
        client_id,
        {"scope": body["scope"]},
        ip_address=request.client.host if request.client else "127.0.0.1",
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _refresh(state: SandboxState, request: Request, form: dict[str, str], client_id: str) -> Response:
    value = form.get("refresh_token")
    if not value:
        return _oauth_error(400, "invalid_request", "refresh_token is required")
    refresh = state.tokens.refresh.get(value)
    if refresh is None:
        return _oauth_error(400, "invalid_grant", "The refresh token is invalid, used or revoked")
    if refresh.client_id != client_id:
        return _oauth_error(400, "invalid_grant", "The refresh token was issued to another client")
    scopes = refresh.scopes
    if form.get("scope"):
        narrowed = parse_scopes(form["scope"])
        if narrowed is None or not narrowed <= refresh.scopes:
            return _oauth_error(400, "invalid_scope", "The requested scope exceeds the granted scope")
        scopes = narrowed
    user = state.contacts.get(refresh.user_id)
    if user is None or user.deleted:
        return _oauth_error(400, "invalid_grant", "The user is deactivated")
    # RFC 6749 §6 lets a refresh answer leave out `refresh_token` (the client keeps the old one, which then
    # stays valid) and `scope` (unchanged): /_sandbox/oauth switches the sandbox to answering that way.
    omits = state.tokens.refresh_omits
    rotate = "refresh_token" not in omits
    if rotate:
        state.tokens.spend_refresh_token(value)
    body = _issue(
        state,
        request,
        refresh.user_id,
        scopes,
        client_id,
        grant_id=refresh.grant_id,
        account_id=refresh.account_id,
        new_refresh_token=rotate,
    )
    if "scope" in omits:
        del body["scope"]
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
