"""`/oauth/wrike/callback`: Wrike's answer to the sign-in, turned into wrike-mcp's own authorization code.

The Wrike code is exchanged server-side, the user is read from `/contacts?me=true` and `/account` with the
new token (a grant is for one person in one Wrike account), and the Wrike tokens are stored encrypted with
the user; the MCP client gets only our code (no passthrough). Only the browser holding the binding cookie
issued at Allow for this transaction gets that code, and only when the person Wrike signed in is the one
who consented (remote/consent.py decides both).

A person's later sign-in with another client never narrows the grant their earlier clients use: each
client's tokens carry the scopes consented for it (enforced at the gate), and the stored Wrike grant is
replaced only by one at least as wide. A narrower new grant is dropped when the stored one covers the new
client; when neither covers the other, the person is sent to Wrike once more for the union of both.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal

import httpx
import httpx2
from starlette.requests import Request
from starlette.responses import Response

from wrike_mcp import scopes as scope_rules
from wrike_mcp.auth.errors import AuthError
from wrike_mcp.auth.oauth import grant_from_response, post_token_request
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.consent import ConsentPages, client_redirect, error_page
from wrike_mcp.remote.pending import NO_APPROVAL
from wrike_mcp.remote.store import UserRow, user_key
from wrike_mcp.remote.users import UserClients, seal_grant
from wrike_mcp.runtime import client_from_settings
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.models import Account, Contact
from wrike_mcp.wrike.tokens import StaticTokenSource

log = logging.getLogger(__name__)

CALLBACK_PATH = "/oauth/wrike/callback"


def wrike_scopes(stored: Iterable[str] | None, consented: Iterable[str]) -> list[str]:
    """The scopes to ask Wrike for: those consented for this client plus those the person's stored grant
    already has, so that the new grant can replace the stored one without taking anything from the
    person's other clients."""
    return list(dict.fromkeys([*consented, *(stored or [])]))


def grant_decision(
    stored: UserRow | None, granted: list[str], client_scopes: list[str], *, asked_union: bool
) -> Literal["replace", "keep", "widen"]:
    """What a new Wrike grant does to the person's stored one: replace it, leave it (it already covers this
    client, and the new one would take from the others), or first ask Wrike for the union of both."""
    if stored is None or stored.revoked or scope_rules.satisfies(granted, stored.scopes):
        return "replace"
    if scope_rules.satisfies(stored.scopes, client_scopes):
        return "keep"
    # asked once: the person refused the union at Wrike (or chose another account), their choice stands
    return "replace" if asked_union else "widen"


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
        client_id, pending, bound_browser = found
        approval = pending.approval or NO_APPROVAL
        problem = self.pages.arrival_problem(request, state, bound_browser, approval)
        if problem is not None:
            return self.pages.refuse(state, 403, problem)
        issuer = provider.config.issuer
        if request.query_params.get("error"):
            return client_redirect(pending, issuer, {"error": "access_denied"})
        code = request.query_params.get("code", "")
        if not code:
            return client_redirect(pending, issuer, {"error": "server_error"})
        try:
            grant, user, account, requests = await self.sign_in(code, pending.asked or pending.scopes)
        except (AuthError, WrikeError) as exc:
            log.warning("Wrike sign-in failed: %s", exc)
            return client_redirect(
                pending, issuer, {"error": "server_error", "error_description": "Wrike sign-in failed"}
            )
        granted = grant.scopes if grant.scopes is not None else pending.scopes
        scopes = [scope for scope in pending.scopes if scope_rules.satisfies(granted, [scope])]
        if not scopes:
            return client_redirect(pending, issuer, {"error": "access_denied"})
        user_id = user_key(account.id, user.id)
        problem = await self.pages.consent_problem(approval, client_id, user_id, pending)
        if problem is not None:
            return self.pages.refuse(state, 403, problem)
        stored = await self.pages.store.get_user(user_id)
        # the sign-in's own requests count in the person's Wrike budget whatever becomes of this grant
        await self.users.count_wrike_requests(user_id, requests)
        decision = grant_decision(stored, list(granted), scopes, asked_union=pending.asked is not None)
        if decision == "widen" and stored is not None:  # only a stored grant is widened
            asked = wrike_scopes(stored.scopes, pending.scopes)
            return await self.pages.ask_wrike_again(state, client_id, pending, asked)
        now = provider.clock()
        if decision == "replace":
            await self.pages.store.save_user(
                user_id,
                email=user.primary_email or (user.emails[0] if user.emails else None),
                name=user.name or None,
                host=grant.host,
                grant=seal_grant(self.pages.keyring, grant),
                scopes=list(granted),
                now=now,
            )
            await self.users.forget(user_id)
        else:
            log.info("kept the wider stored Wrike grant of user %s; this client gets %s", user_id, scopes)
        if self.pages.consented_here(approval, user_id):
            await self.pages.store.save_consent(user_id, client_id, scopes, pending.redirect_uri, now)
        our_code = await provider.issue_code(client_id, user_id, pending.request(scopes))
        response = client_redirect(pending, issuer, {"code": our_code})
        self.pages.signed_in(response, state, user_id)
        return response

    async def sign_in(self, code: str, requested: list[str]) -> tuple[Grant, Contact, Account, int]:
        """The new grant, its person and account, and how many API requests were made with it."""
        response = await post_token_request(
            self.settings,
            grant_type="authorization_code",
            params={"code": code, "redirect_uri": self.pages.upstream.redirect_uri},
            transport=self.login_transport,
        )
        grant = grant_from_response(response, self.settings, requested_scopes=requested)
        source = StaticTokenSource(grant.access_token, host=grant.host)
        async with client_from_settings(
            self.settings,
            source,
            transport=self.api_transport,
            host=grant.host,
            event_hooks=self.users.event_hooks,
        ) as client:
            me = await client.get_one("/contacts", {"me": True}, model=Contact)
            # API v4 tokens reach one account: the one the person chose at Wrike's sign-in
            account = await client.get_one("/account", model=Account)
        return grant, me, account, client.request_count
