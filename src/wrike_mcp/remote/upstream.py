"""`/oauth/wrike/callback`: Wrike's answer to the sign-in, turned into wrike-mcp's own authorization code.

The Wrike code is exchanged server-side, the user is read from `/contacts?me=true` with the new token, and
the Wrike tokens are stored encrypted with the user; the MCP client gets only our code (no passthrough).
Only the browser holding the binding cookie issued at Allow for this transaction gets that code, and only
when the person Wrike signed in is the one who consented (remote/consent.py decides both).
"""

from __future__ import annotations

import logging

import httpx
import httpx2
from starlette.requests import Request
from starlette.responses import Response

from wrike_mcp import scopes as scope_rules
from wrike_mcp.auth.errors import AuthError
from wrike_mcp.auth.oauth import grant_from_response, post_token_request
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.consent import ConsentPages, client_redirect, error_page, split_approval
from wrike_mcp.remote.users import UserClients, seal_grant
from wrike_mcp.server_commands import client_from_settings
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.models import Contact
from wrike_mcp.wrike.tokens import StaticTokenSource

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/wrike/callback"


class WrikeCallback:
    def __init__(
        self,
        pages: ConsentPages,
        users: UserClients,
        settings: Settings,
        *,
        api_transport: httpx.AsyncBaseTransport | None = None,
        login_transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.pages = pages
        self.users = users
        self.settings = settings
        self.api_transport = api_transport
        self.login_transport = login_transport

    async def handle(self, request: Request) -> Response:
        provider = self.pages.provider
        state = request.query_params.get("state", "")
        found = await self.pages.store.take_pending(state, provider.clock()) if state else None
        if found is None:
            return error_page(
                400, "This sign-in has expired or was already completed. Start again from your app."
            )
        client_id, approved_params, bound_browser = found
        approval, params = split_approval(approved_params)
        problem = self.pages.arrival_problem(request, state, bound_browser, approval)
        if problem is not None:
            return self.pages.refuse(state, 403, problem)
        issuer = provider.config.issuer
        if request.query_params.get("error"):
            return client_redirect(params, issuer, {"error": "access_denied"})
        code = request.query_params.get("code", "")
        if not code:
            return client_redirect(params, issuer, {"error": "server_error"})
        try:
            grant, user = await self._sign_in(code, params["scopes"])
        except (AuthError, WrikeError) as exc:
            log.warning("Wrike sign-in failed: %s", exc)
            return client_redirect(
                params, issuer, {"error": "server_error", "error_description": "Wrike sign-in failed"}
            )
        granted = grant.scopes if grant.scopes is not None else params["scopes"]
        scopes = [scope for scope in params["scopes"] if scope_rules.satisfies(granted, [scope])]
        if not scopes:
            return client_redirect(params, issuer, {"error": "access_denied"})
        problem = await self.pages.consent_problem(approval, client_id, user.id, params["scopes"])
        if problem is not None:
            return self.pages.refuse(state, 403, problem)
        now = provider.clock()
        await self.pages.store.save_user(
            user.id,
            email=user.primary_email or (user.emails[0] if user.emails else None),
            name=user.name or None,
            host=grant.host,
            grant=seal_grant(self.pages.keyring, grant),
            scopes=list(granted),
            now=now,
        )
        self.users.forget(user.id)
        if self.pages.consented_here(approval, user.id):
            await self.pages.store.save_consent(user.id, client_id, scopes, now)
        our_code = await provider.issue_code(client_id, user.id, {**params, "scopes": scopes})
        response = client_redirect(params, issuer, {"code": our_code})
        self.pages.signed_in(response, state, user.id)
        return response

    async def _sign_in(self, code: str, requested: list[str]) -> tuple[Grant, Contact]:
        response = await post_token_request(
            self.settings,
            grant_type="authorization_code",
            params={"code": code, "redirect_uri": self.pages.upstream.redirect_uri},
            transport=self.login_transport,
        )
        grant = grant_from_response(response, self.settings, requested_scopes=requested)
        source = StaticTokenSource(grant.access_token, host=grant.host)
        async with client_from_settings(
            self.settings, source, transport=self.api_transport, host=grant.host
        ) as client:
            me = await client.get_one("/contacts", {"me": True}, model=Contact)
        return grant, me
