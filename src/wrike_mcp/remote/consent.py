"""The consent page: before wrike-mcp sends anyone to Wrike for a client, the person approves that client.

This is the confused-deputy guard of the MCP security best practices: wrike-mcp holds one Wrike app, so a
Wrike sign-in remembered by the browser must never silently hand a code to a client the person never saw.
The page names the client (and, for a client ID metadata document, the host publishing it), shows the full
redirect URI the authorization will be sent to (with a warning when it is this computer), and each Wrike
scope in words. It cannot be framed.

What is remembered is a server-side consent per (user, client, scopes, redirect URI), written when Wrike's
callback completes. The user is known only then, so a signed user cookie set after a sign-in tells the next
/consent whose consents to look at: a request for the same client, the same redirect URI (port included) and
the same or narrower scopes skips the page; a broader one, another redirect URI, a new client or anything
after `wrike-mcp admin revoke` shows it. The transaction records who approved it (the user cookie's user at
Allow or at the skip), and the callback refuses a code when Wrike signed in someone else who has not
consented to that client themselves.

Three cookies, each `__Host-` + `Secure` over https, `HttpOnly` and `SameSite=Lax`:
- the form cookie, set when the page is viewed, guards only the form (with a token derived from it and the
  `Origin` of the POST); nothing set at page view is trusted later;
- the binding cookie, fresh per transaction and named after it, set at Allow (or at a skip) and checked at
  the callback against the hash kept in the transaction;
- the user cookie, set after a successful sign-in.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from wrike_mcp import scopes as scope_rules
from wrike_mcp.encoding import b64url, unb64url
from wrike_mcp.hosts import is_loopback_host
from wrike_mcp.remote import cimd
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.pending import Approval, AuthorizationRequest, PendingAuthorization
from wrike_mcp.remote.provider import WrikeMCPAuthProvider
from wrike_mcp.remote.store import Store, digest

FORM_COOKIE = "wrike-mcp-form"
BINDING_COOKIE = "wrike-mcp-bind-"  # + a per-transaction suffix (binding_cookie)
USER_COOKIE = "wrike-mcp-user"
REMEMBER_SECONDS = 90 * 86400  # how long a browser remembers who signed in

SCOPE_TEXT = {
    "wsReadOnly": "read your spaces, folders, projects, tasks, comments and time logs",
    "wsReadWrite": "change your spaces, folders, projects, tasks, comments and time logs",
    "Default": "read and change your workspace data",
    "amReadOnlyAuditLog": "read the account's audit log (admins only)",
}


@dataclass(frozen=True)
class UpstreamAuthorize:
    """Where and how to send a person to Wrike's sign-in."""

    authorize_url: str  # Wrike's /oauth2/authorize/v4
    client_id: str
    redirect_uri: str  # {public-url}/oauth/wrike/callback


def with_query(uri: str, values: dict[str, str | None]) -> str:
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in values.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return parts._replace(query=query).geturl()


def client_redirect(
    request: AuthorizationRequest, issuer: str, values: dict[str, str | None]
) -> RedirectResponse:
    """Back to the MCP client: the client's `state` echoed and our issuer named (RFC 9207)."""
    location = with_query(request.redirect_uri, {**values, "state": request.state, "iss": issuer})
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


def same_person(user: str, other: str) -> bool:
    """Whether two user keys ("{accountId}/{contactId}") name one person (a Wrike contact, any account)."""
    return user.rpartition("/")[2] == other.rpartition("/")[2]


def binding_cookie(upstream_state: str) -> str:
    """The binding cookie's name for one transaction, found again from the state Wrike sends back."""
    return BINDING_COOKIE + digest(upstream_state)[:16]


class ConsentPages:
    def __init__(
        self, provider: WrikeMCPAuthProvider, store: Store, keyring: KeyRing, upstream: UpstreamAuthorize
    ) -> None:
        self.provider = provider
        self.store = store
        self.keyring = keyring
        self.upstream = upstream
        self.secure = provider.config.issuer.startswith("https://")
        self.origin = _origin(provider.config.issuer)

    # ---- cookies ------------------------------------------------------------------------------------

    def _cookie_name(self, name: str) -> str:
        # `__Host-` over https: only this origin, over TLS, can set it (no other port or subdomain plants one)
        return f"__Host-{name}" if self.secure else name

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            self._cookie_name(name),
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def delete_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(
            self._cookie_name(name), path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def cookie(self, request: Request, name: str) -> str | None:
        value = request.cookies.get(self._cookie_name(name))
        return value if value and len(value) <= 1000 else None

    def signed_user(self, purpose: str, user_id: str) -> str:
        """A cookie value naming a user, signed for one purpose and stamped with its time."""
        encoded = b64url(user_id.encode())
        issued = str(int(self.provider.clock()))
        return f"{encoded}.{issued}.{self.keyring.sign(f'{purpose}:{encoded}.{issued}')}"

    def signed_user_of(self, value: str | None, purpose: str, max_age: int) -> str | None:
        """The user a `signed_user` value names, if it is genuine, for `purpose` and younger than `max_age`."""
        parts = (value or "").split(".")
        if len(parts) != 3:
            return None
        encoded, issued, signature = parts
        if not issued.isdigit() or not self.keyring.verify(f"{purpose}:{encoded}.{issued}", signature):
            return None
        if self.provider.clock() - int(issued) > max_age:
            return None
        try:
            return unb64url(encoded).decode()
        except (ValueError, UnicodeDecodeError):
            return None

    def user_of(self, request: Request) -> str | None:
        """The user this browser last signed in as (the signed user cookie), or None."""
        return self.signed_user_of(self.cookie(request, USER_COOKIE), "user", REMEMBER_SECONDS)

    def _remember_user(self, response: Response, user_id: str) -> None:
        self.set_cookie(response, USER_COOKIE, self.signed_user("user", user_id), REMEMBER_SECONDS)

    def _csrf(self, txn: str, form_key: str) -> str:
        return self.keyring.sign(f"csrf:{txn}:{form_key}")

    # ---- remembered consents ------------------------------------------------------------------------

    async def covered(self, user_id: str, client_id: str, scopes: list[str], redirect_uri: str) -> bool:
        """Whether the user already approved this client for these scopes or broader ones, sent to this very
        redirect URI. Exactly this one, port included: a loopback client may use any port (RFC 8252 §7.3), so
        its public client id alone does not tell its own listener from another program on this computer
        listening on another port, and the page (which shows the full redirect URI) is the person's check."""
        consent = await self.store.consent_of(user_id, client_id)
        return (
            consent is not None
            and consent.redirect_uri == redirect_uri
            and scope_rules.satisfies(consent.scopes, scopes)
        )

    async def approved_client(self, request: Request, client_id: str | None) -> bool:
        """Whether this browser's user has approved this client before (for any scopes)."""
        user = self.user_of(request)
        if user is None or not client_id:
            return False
        return await self.store.consent_of(user, client_id) is not None

    # ---- pages --------------------------------------------------------------------------------------

    async def show(self, request: Request) -> Response:
        txn = request.query_params.get("txn", "")
        found = await self.store.get_pending(txn, self.provider.clock()) if txn else None
        if found is None:
            return error_page(
                400, "This sign-in link has expired or was already used. Start again from your app."
            )
        client_id, pending, _ = found
        form_key = self.cookie(request, FORM_COOKIE) or secrets.token_urlsafe(32)
        if not await self.store.bind_pending(txn, form_key):
            return error_page(400, "This sign-in was started in another browser. Start again from your app.")
        client = await self.provider.get_client(client_id)
        if client is None:
            return error_page(400, "The app that started this sign-in is no longer registered. Start again.")
        user = self.user_of(request)
        if user is not None and await self.covered(user, client_id, pending.scopes, pending.redirect_uri):
            return await self._to_wrike(txn, pending, Approval(approver=user, skipped=True))
        response = consent_page(
            client_name=client.client_name or "An unnamed app",
            client_id=client_id,
            client_host=urlsplit(client_id).hostname if cimd.is_metadata_url(client_id) else None,
            redirect_uri=pending.redirect_uri,
            scopes=pending.scopes,
            txn=txn,
            csrf=self._csrf(txn, form_key),
            form_targets=[self.upstream.authorize_url, pending.redirect_uri],
        )
        self.set_cookie(response, FORM_COOKIE, form_key, None)
        return response

    async def decide(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        if origin is not None and origin != self.origin:
            return error_page(403, "This form was not sent from wrike-mcp's own page. Start again.")
        form = await request.form()
        txn, csrf, decision = (str(form.get(key, "")) for key in ("txn", "csrf", "decision"))
        found = await self.store.get_pending(txn, self.provider.clock()) if txn else None
        if found is None:
            return error_page(400, "This sign-in has expired or was already used. Start again from your app.")
        _, pending, bound_form = found
        form_key = self.cookie(request, FORM_COOKIE)
        if (
            form_key is None
            or bound_form != digest(form_key)
            or not secrets.compare_digest(
                csrf.encode(), self._csrf(txn, form_key).encode()
            )  # bytes: any text
        ):
            return error_page(403, "This form did not come from this browser's sign-in page. Start again.")
        if decision == "deny":
            await self.store.delete_pending(txn)
            return client_redirect(pending, self.provider.config.issuer, {"error": "access_denied"})
        if decision != "allow":
            return error_page(400, "Choose Allow or Deny.")
        kept = kept_scopes(pending.scopes, [str(value) for value in form.getlist("scope")])
        if not kept:
            return error_page(400, "Keep at least one permission, or choose Deny.")
        approval = Approval(approver=self.user_of(request), skipped=False)
        return await self._to_wrike(txn, pending.model_copy(update={"scopes": kept}), approval)

    async def _to_wrike(self, txn: str, pending: PendingAuthorization, approval: Approval) -> Response:
        state = secrets.token_urlsafe(32)
        binding = secrets.token_urlsafe(32)  # fresh: nothing from the page view is trusted at the callback
        approved = pending.model_copy(update={"approval": approval})
        if not await self.store.approve_pending(txn, state, approved, binding=binding):
            return error_page(400, "This sign-in was already sent to Wrike. Start again from your app.")
        location = self.wrike_location(state, pending.scopes)
        response = RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})
        self.set_cookie(response, binding_cookie(state), binding, self.provider.config.limits.pending_ttl)
        return response

    def wrike_location(self, state: str, scopes: list[str]) -> str:
        """Wrike's sign-in for one transaction."""
        return with_query(
            self.upstream.authorize_url,
            {
                "client_id": self.upstream.client_id,
                "response_type": "code",
                "redirect_uri": self.upstream.redirect_uri,
                "state": state,
                "scope": ",".join(scopes),
            },
        )

    async def ask_wrike_again(
        self, state: str, client_id: str, approved: PendingAuthorization, asked: list[str]
    ) -> Response:
        """Send an approved transaction back to Wrike for the scopes `asked`, with a new state and a new
        binding cookie for it (the old transaction's cookie goes)."""
        again = secrets.token_urlsafe(32)
        binding = secrets.token_urlsafe(32)
        await self.store.save_approved_pending(
            again,
            client_id,
            approved.model_copy(update={"asked": asked}),
            digest(binding),
            self.provider.clock() + self.provider.config.limits.pending_ttl,
        )
        response = RedirectResponse(
            self.wrike_location(again, asked),
            status_code=302,
            headers={"Cache-Control": "no-store"},
        )
        self.delete_cookie(response, binding_cookie(state))
        self.set_cookie(response, binding_cookie(again), binding, self.provider.config.limits.pending_ttl)
        return response

    # ---- at Wrike's callback ------------------------------------------------------------------------

    def arrival_problem(
        self, request: Request, state: str, bound: str | None, approval: Approval
    ) -> str | None:
        """Why this browser may not finish the transaction Wrike's `state` names (None: it may).

        It must hold the binding cookie issued at Allow for this very transaction, and still be signed in
        here as the user who approved it (a user cookie that changed or appeared since means another
        browser's cookies, or another person)."""
        binding = self.cookie(request, binding_cookie(state))
        if binding is None or bound is None or not secrets.compare_digest(digest(binding), bound):
            return "This sign-in was approved in another browser. Start again from your app."
        if self.user_of(request) != approval.approver:
            return (
                "This browser is signed in here as someone other than the person who approved this sign-in. "
                "Start again from your app."
            )
        return None

    async def consent_problem(
        self, approval: Approval, client_id: str, user_id: str, pending: PendingAuthorization
    ) -> str | None:
        """Why the person Wrike signed in may not get a code for this client (None: they may).

        A remembered consent skips the page only for the user it belongs to, and a page approved by one
        signed-in user is not a consent of another person: either needs the Wrike user's own covering consent.
        A page the same person approved while this browser named their other Wrike account is theirs (a
        person in two accounts adds the second from the same browser)."""
        if await self.covered(user_id, client_id, pending.scopes, pending.redirect_uri):
            return None
        if approval.skipped:
            return (
                "Wrike signed in a person or Wrike account that has not approved this app here (this browser "
                "remembered someone else's approval, so no page was shown). Start again from your app to see "
                "the consent page."
            )
        if not self.consented_here(approval, user_id):
            return (
                "Wrike signed in a person who has not approved this app here (not the one who approved "
                "it in this browser, or their approval was withdrawn). Start again from your app to see "
                "the consent page."
            )
        return None

    @staticmethod
    def consented_here(approval: Approval, user_id: str) -> bool:
        """Whether this transaction's page was approved by the person Wrike signed in (so it is their consent):
        nobody was signed in here, or the same person, in this Wrike account or another one."""
        if approval.skipped:
            return False
        return approval.approver is None or same_person(approval.approver, user_id)

    def refuse(self, state: str, status: int, message: str) -> Response:
        """The callback's error page: the transaction's cookie and the user cookie go (they did not match)."""
        response = error_page(status, message)
        self.delete_cookie(response, binding_cookie(state))
        self.delete_cookie(response, USER_COOKIE)
        return response

    def signed_in(self, response: Response, state: str, user_id: str) -> None:
        """After a code is issued: the transaction's cookie goes, the user cookie names who signed in."""
        self.delete_cookie(response, binding_cookie(state))
        self._remember_user(response, user_id)


def kept_scopes(requested: list[str], ticked: list[str]) -> list[str]:
    """The requested scopes the person left ticked; unticking write access keeps read access."""
    kept = [scope for scope in requested if scope in ticked]
    if "wsReadWrite" in requested and "wsReadWrite" not in kept and "wsReadOnly" not in kept:
        kept.insert(0, "wsReadOnly")
    return kept


def _origin(uri: str) -> str:
    """The origin as a browser serializes it (RFC 6454): no default port, no user info, lower-case host."""
    parts = urlsplit(uri)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def security_headers(form_targets: list[str] = ()) -> dict[str, str]:  # type: ignore[assignment]
    # form-action also governs where the POST's redirect may go: Wrike's sign-in or the client's redirect URI
    targets = " ".join(sorted({_origin(uri) for uri in form_targets}))
    return {
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
            f"form-action 'self' {targets}; frame-ancestors 'none'"
        ).replace("  ", " "),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        # not no-referrer: under it a browser sends `Origin: null` with the form's POST, which decide() checks
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}"
    ".host{font-size:1.4rem;font-weight:700;word-break:break-all}.warn{background:#fff3cd;padding:.75rem;"
    "border-radius:6px}button{font-size:1rem;padding:.6rem 1.4rem;margin-right:.8rem;border-radius:6px;"
    "border:1px solid #888;cursor:pointer}button[value=allow]{background:#1a7f37;color:#fff;border:0}"
    "code{font-size:.85rem;word-break:break-all}"
)


def consent_page(
    *,
    client_name: str,
    client_id: str,
    client_host: str | None,
    redirect_uri: str,
    scopes: list[str],
    txn: str,
    csrf: str,
    form_targets: list[str],
) -> HTMLResponse:
    esc = html.escape
    warning = ""
    if is_loopback_host(urlsplit(redirect_uri).hostname):
        warning = (
            '<p class="warn">This app receives the authorization <b>on this computer</b> (localhost). '
            "Allow only if you started this sign-in yourself in an app on this computer.</p>"
        )
    publisher = ""
    if client_host:
        publisher = (
            f'<p>This app is described by a document published at <b id="client-host">{esc(client_host)}</b> '
            "(its client ID is a web address there).</p>"
        )
    items = "".join(
        f'<li><label><input type="checkbox" name="scope" value="{esc(scope)}" checked> <b>{esc(scope)}</b>: '
        f"{esc(SCOPE_TEXT.get(scope, 'Wrike permission ' + scope))}</label></li>"
        for scope in scopes
    )
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Allow access to Wrike?</title><style>{STYLE}</style></head><body>
<h1>Allow access to your Wrike account?</h1>
<p><b id="client-name">{esc(client_name[:200])}</b> wants to use wrike-mcp to act in Wrike as you.</p>
{publisher}
<p>The authorization will be sent to this address:</p>
<p class="host" id="redirect-uri">{esc(redirect_uri)}</p>
{warning}
<form method="post" action="consent">
<p>It asks for these Wrike permissions (untick any you do not want to give; without write access it can
still read):</p>
<ul id="scopes">{items}</ul>
<p>Client id: <code>{esc(client_id[:300])}</code></p>
<input type="hidden" name="txn" value="{esc(txn)}">
<input type="hidden" name="csrf" value="{esc(csrf)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p>After you allow, Wrike asks you to sign in and confirm. Next time this app asks for the same or fewer
permissions, sent to the same address, this page is skipped for you.</p>
</body></html>"""
    return HTMLResponse(body, headers=security_headers(form_targets))


def error_page(status: int, message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wrike-mcp sign-in</title>'
        f"<style>{STYLE}</style></head><body><h1>Sign-in stopped</h1><p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=security_headers([]))
