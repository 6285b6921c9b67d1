"""`/account`, the "Connected apps" page: a person signs in with Wrike (no MCP client needed), sees each MCP
client holding their tokens (name, the host it receives sign-ins at, permissions, first and last use) and
revokes any of them, without asking the administrator.

The sign-in is the same upstream flow as the consent page's: Wrike's authorization with this server's one
callback (`/oauth/wrike/callback`), told apart by its state's prefix. It proves who the person is and
nothing else: the Wrike grant it returns is neither stored nor used for anything but reading who they are,
and the stored grant their apps use is left alone.

- The state goes to Wrike and into a short-lived cookie of this browser; the callback accepts the answer only
  from the browser holding it (no one can sign a victim into an attacker's page, or the reverse).
- The session is a signed cookie naming the user and their session generation (Store.account_session_generation),
  for ACCOUNT_SESSION seconds (`__Host-`, Secure over https, HttpOnly, SameSite=Lax, as the consent page's
  cookies). Signing out, or `wrike-mcp admin revoke --user`, moves the person to the next generation in the
  shared store, so a copy of the cookie taken before is refused on every replica, not only deleted from this
  browser. A generation rather than a time: replicas' clocks differ, and a sign-in may follow a sign-out
  within the same second.
- A revocation is a POST carrying a token derived from the session cookie, from this origin (the `Origin`
  header, when sent, must be ours); the page has the consent page's headers (no framing, a strict CSP).
"""

from __future__ import annotations

import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from wrike_mcp import scopes as scope_rules
from wrike_mcp.auth.errors import AuthError
from wrike_mcp.remote.consent import STYLE, ConsentPages, error_page, security_headers
from wrike_mcp.remote.store import ConnectedClient, keys_of_person, user_key
from wrike_mcp.remote.upstream import WrikeCallback
from wrike_mcp.wrike.errors import WrikeError

log = logging.getLogger(__name__)

ACCOUNT_PATH = "/account"
SIGN_IN_PATH = "/account/sign-in"
REVOKE_PATH = "/account/revoke"
SIGN_OUT_PATH = "/account/sign-out"
STATE_PREFIX = "acct."  # never the start of a consent flow's state (URL-safe base64 has no dot)
STATE_COOKIE = "wrike-mcp-account-state"
SESSION_COOKIE = "wrike-mcp-account"
SESSION_PURPOSE = "account"
STATE_SECONDS = 600
ACCOUNT_SESSION = 3600  # seconds a sign-in to this page lasts


class AccountPages:
    def __init__(self, pages: ConsentPages, callback: WrikeCallback) -> None:
        self.pages = pages
        self.callback = callback
        self.store = pages.store
        self.issuer = pages.provider.config.issuer

    @staticmethod
    def owns(state: str) -> bool:
        """Whether Wrike's callback answers a sign-in to this page (not a consent flow's)."""
        return state.startswith(STATE_PREFIX)

    def callback_route(
        self, consent_flow: Callable[[Request], Awaitable[Response]]
    ) -> Callable[..., Awaitable[Response]]:
        """Wrike's one callback: this page's sign-ins here, every other to the consent flow's handler."""

        async def route(request: Request) -> Response:
            if self.owns(request.query_params.get("state", "")):
                return await self.finish_sign_in(request)
            return await consent_flow(request)

        return route

    # ---- session ------------------------------------------------------------------------------------

    async def _session(self, request: Request) -> tuple[str, str] | None:
        """(user id, the session cookie's value) of this browser's sign-in to the page, or None: a cookie
        that is genuine, young enough, and of the person's current generation (not signed out since)."""
        value = self.pages.cookie(request, SESSION_COOKIE)
        subject = self.pages.signed_user_of(value, SESSION_PURPOSE, ACCOUNT_SESSION)
        generation, _, user = (subject or "").partition(" ")
        if value is None or not user or not generation.isdigit():
            return None
        if int(generation) != await self.store.account_session_generation(user):
            return None
        return user, value

    def _csrf(self, session: str) -> str:
        return self.pages.keyring.sign(f"account-csrf:{session}")

    # ---- routes -------------------------------------------------------------------------------------

    async def show(self, request: Request) -> Response:
        session = await self._session(request)
        if session is None:
            return signed_out_page()
        user_id, value = session
        user = await self.store.get_user(user_id)
        connected = await self.store.connected_clients(keys_of_person(user_id), self.pages.provider.clock())
        who = (user.email or user.name or user_id) if user is not None else user_id
        return apps_page(who, connected, self._csrf(value))

    async def start_sign_in(self, request: Request) -> Response:
        state = STATE_PREFIX + secrets.token_urlsafe(32)
        response = RedirectResponse(
            self.pages.wrike_location(state, [scope_rules.WS_READ_ONLY]),
            status_code=302,
            headers={"Cache-Control": "no-store"},
        )
        self.pages.set_cookie(response, STATE_COOKIE, state, STATE_SECONDS)
        return response

    async def finish_sign_in(self, request: Request) -> Response:
        state = request.query_params.get("state", "")
        expected = self.pages.cookie(request, STATE_COOKIE)
        if expected is None or not secrets.compare_digest(expected.encode(), state.encode()):
            return error_page(
                403,
                "This sign-in was started in another browser, or long ago. Open the Connected apps page again.",
            )
        code = request.query_params.get("code", "")
        if request.query_params.get("error") or not code:
            return error_page(403, "Wrike did not sign you in. Open the Connected apps page to try again.")
        try:
            _, contact, account, requests = await self.callback.sign_in(code, [scope_rules.WS_READ_ONLY])
        except (AuthError, WrikeError) as exc:
            log.warning("Wrike sign-in to the account page failed: %s", exc)
            return error_page(502, "Wrike sign-in failed. Open the Connected apps page to try again.")
        user_id = user_key(account.id, contact.id)
        await self.callback.users.count_wrike_requests(user_id, requests)
        response = RedirectResponse(
            self.issuer + ACCOUNT_PATH, status_code=302, headers={"Cache-Control": "no-store"}
        )
        self.pages.delete_cookie(response, STATE_COOKIE)
        generation = await self.store.account_session_generation(user_id)
        session = self.pages.signed_user(SESSION_PURPOSE, f"{generation} {user_id}")
        self.pages.set_cookie(response, SESSION_COOKIE, session, ACCOUNT_SESSION)
        return response

    async def revoke(self, request: Request) -> Response:
        refused = self._form_refusal(request)
        session = await self._session(request)
        form = await request.form()
        csrf, client_id = str(form.get("csrf", "")), str(form.get("client_id", ""))
        if refused or session is None:
            return error_page(403, refused or "Your sign-in to this page ended. Sign in again.")
        user_id, value = session
        if not secrets.compare_digest(csrf.encode(), self._csrf(value).encode()):
            return error_page(403, "This form did not come from your Connected apps page. Open it again.")
        revoked = await self.store.revoke_user_client(keys_of_person(user_id), client_id)
        log.info(
            "user %s revoked client %s on the account page (%d tokens)", user_id, client_id[:200], revoked
        )
        return RedirectResponse(
            self.issuer + ACCOUNT_PATH, status_code=303, headers={"Cache-Control": "no-store"}
        )

    async def sign_out(self, request: Request) -> Response:
        refused = self._form_refusal(request)
        session = await self._session(request)
        csrf = str((await request.form()).get("csrf", ""))
        if (
            refused
            or session is None
            or not secrets.compare_digest(csrf.encode(), self._csrf(session[1]).encode())
        ):
            return error_page(403, refused or "This form did not come from your Connected apps page.")
        await self.store.end_account_sessions(session[0])  # every copy of the cookie, on every replica
        log.info("user %s signed out of the account page", session[0])
        response = RedirectResponse(
            self.issuer + ACCOUNT_PATH, status_code=303, headers={"Cache-Control": "no-store"}
        )
        self.pages.delete_cookie(response, SESSION_COOKIE)
        return response

    def _form_refusal(self, request: Request) -> str | None:
        origin = request.headers.get("origin")
        if origin is not None and origin != self.pages.origin:
            return "This form was not sent from wrike-mcp's own page. Open the Connected apps page again."
        return None


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _redirect_hosts(info: dict[str, object]) -> str:
    uris = info.get("redirect_uris")
    hosts = [urlsplit(str(uri)).netloc for uri in uris] if isinstance(uris, list) else []
    return ", ".join(dict.fromkeys(host for host in hosts if host)) or "-"


def _page(title: str, body: str) -> HTMLResponse:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width"><title>{html.escape(title)}</title><style>{STYLE}'
        "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.4rem;border-bottom:1px solid "
        "#ddd;vertical-align:top}body{max-width:56rem}</style></head><body>"
        f"{body}</body></html>"
    )
    return HTMLResponse(document, headers=security_headers([]))


def signed_out_page() -> HTMLResponse:
    return _page(
        "Connected apps",
        "<h1>Connected apps</h1><p>See the apps that use wrike-mcp to act in Wrike as you, and cut off any "
        'of them.</p><p><a id="sign-in" href="account/sign-in">Sign in with Wrike</a></p>',
    )


def apps_page(who: str, connected: list[ConnectedClient], csrf: str) -> HTMLResponse:
    esc = html.escape
    rows = "".join(
        f'<tr class="app" data-client-id="{esc(client.client_id)}">'
        f'<td class="name">{esc(str(client.info.get("client_name") or "An unnamed app")[:200])}'
        f"<br><code>{esc(client.client_id[:300])}</code></td>"
        f'<td class="redirect-host">{esc(_redirect_hosts(client.info))}</td>'
        f'<td class="scopes">{esc(" ".join(client.scopes))}</td>'
        f'<td class="first">{_when(client.first_used)}</td><td class="last">{_when(client.last_used)}</td>'
        '<td><form method="post" action="account/revoke">'
        f'<input type="hidden" name="client_id" value="{esc(client.client_id)}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        '<button type="submit">Revoke</button></form></td></tr>'
        for client in connected
    )
    listing = (
        '<table id="apps"><tr><th>App</th><th>Receives sign-ins at</th><th>Permissions</th>'
        f"<th>First used</th><th>Last used</th><th></th></tr>{rows}</table>"
        if connected
        else '<p id="no-apps">No app holds access to your Wrike account through wrike-mcp.</p>'
    )
    return _page(
        "Connected apps",
        f'<h1>Connected apps</h1><p>Signed in as <b id="who">{esc(who[:320])}</b>.</p>{listing}'
        "<p>Revoking ends the app's access at once; it must ask you again (on the consent page) to get it "
        'back.</p><form method="post" action="account/sign-out">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        '<button type="submit" id="sign-out">Sign out of this page</button></form>',
    )
