"""The consent page: before wrike-mcp sends anyone to Wrike for a client, the person approves that client.

This is the confused-deputy guard of the MCP security best practices: wrike-mcp holds one Wrike app, so a
Wrike sign-in remembered by the browser must never silently hand a code to a client the person never saw.
The page names the client, shows where the authorization will be sent (the redirect URI's host, with a
warning when it is this computer), and the Wrike scopes. Its form is bound to the browser that opened it (a
`__Host-` cookie over https, a plain one on loopback http) and carries a CSRF token derived from both; it
cannot be framed. An approval is remembered in a signed cookie, so the same browser is not asked again for
the same client.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from wrike_mcp.hosts import is_loopback_host
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.provider import WrikeMCPAuthProvider
from wrike_mcp.remote.store import Store, digest

BROWSER_COOKIE = "wrike-mcp-browser"
CONSENT_COOKIE = "wrike-mcp-consent"
REMEMBER_SECONDS = 90 * 86400
MAX_REMEMBERED = 20

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


def client_redirect(params: dict[str, Any], issuer: str, values: dict[str, str | None]) -> RedirectResponse:
    """Back to the MCP client: the client's `state` echoed and our issuer named (RFC 9207)."""
    location = with_query(params["redirect_uri"], {**values, "state": params.get("state"), "iss": issuer})
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


class ConsentPages:
    def __init__(
        self, provider: WrikeMCPAuthProvider, store: Store, keyring: KeyRing, upstream: UpstreamAuthorize
    ) -> None:
        self.provider = provider
        self.store = store
        self.keyring = keyring
        self.upstream = upstream
        self.secure = provider.config.issuer.startswith("https://")

    # ---- cookies ------------------------------------------------------------------------------------

    def _cookie_name(self, name: str) -> str:
        return f"__Host-{name}" if self.secure else name

    def _set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            self._cookie_name(name),
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def browser_of(self, request: Request) -> str | None:
        value = request.cookies.get(self._cookie_name(BROWSER_COOKIE))
        return value if value and len(value) <= 100 else None

    def remembered(self, request: Request) -> list[str]:
        raw = request.cookies.get(self._cookie_name(CONSENT_COOKIE), "")
        digests, _, signature = raw.rpartition(".")
        if not digests or not self.keyring.verify("consent:" + digests, signature):
            return []
        return digests.split(",")

    def _remember(self, request: Request, response: Response, client_id: str) -> None:
        kept = [d for d in self.remembered(request) if d != digest(client_id)][-(MAX_REMEMBERED - 1) :]
        value = ",".join([*kept, digest(client_id)])
        self._set_cookie(
            response, CONSENT_COOKIE, f"{value}.{self.keyring.sign('consent:' + value)}", REMEMBER_SECONDS
        )

    def _csrf(self, txn: str, browser: str) -> str:
        return self.keyring.sign(f"csrf:{txn}:{browser}")

    # ---- pages --------------------------------------------------------------------------------------

    async def show(self, request: Request) -> Response:
        txn = request.query_params.get("txn", "")
        found = await self.store.get_pending(txn, self.provider.clock()) if txn else None
        if found is None:
            return error_page(
                400, "This sign-in link has expired or was already used. Start again from your app."
            )
        client_id, params, _ = found
        browser = self.browser_of(request) or secrets.token_urlsafe(32)
        if not await self.store.bind_pending(txn, browser):
            return error_page(400, "This sign-in was started in another browser. Start again from your app.")
        client = await self.provider.get_client(client_id)
        if client is None:
            return error_page(400, "The app that started this sign-in is no longer registered. Start again.")
        if digest(client_id) in self.remembered(request):
            response: Response = await self._to_wrike(txn, params)
        else:
            response = consent_page(
                client_name=client.client_name or "An unnamed app",
                client_id=client_id,
                redirect_uri=params["redirect_uri"],
                scopes=params["scopes"],
                txn=txn,
                csrf=self._csrf(txn, browser),
                form_targets=[self.upstream.authorize_url, params["redirect_uri"]],
            )
        self._set_cookie(response, BROWSER_COOKIE, browser, None)
        return response

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        txn, csrf, decision = (str(form.get(key, "")) for key in ("txn", "csrf", "decision"))
        found = await self.store.get_pending(txn, self.provider.clock()) if txn else None
        if found is None:
            return error_page(400, "This sign-in has expired or was already used. Start again from your app.")
        client_id, params, bound_browser = found
        browser = self.browser_of(request)
        if (
            browser is None
            or bound_browser != digest(browser)
            or not secrets.compare_digest(csrf.encode(), self._csrf(txn, browser).encode())  # bytes: any text
        ):
            return error_page(403, "This form did not come from this browser's sign-in page. Start again.")
        if decision == "deny":
            await self.store.delete_pending(txn)
            return client_redirect(params, self.provider.config.issuer, {"error": "access_denied"})
        if decision != "allow":
            return error_page(400, "Choose Allow or Deny.")
        kept = kept_scopes(params["scopes"], [str(value) for value in form.getlist("scope")])
        if not kept:
            return error_page(400, "Keep at least one permission, or choose Deny.")
        response = await self._to_wrike(txn, {**params, "scopes": kept})
        self._remember(request, response, client_id)
        return response

    async def _to_wrike(self, txn: str, params: dict[str, Any]) -> Response:
        state = secrets.token_urlsafe(32)
        if not await self.store.approve_pending(txn, state, params):
            return error_page(400, "This sign-in was already sent to Wrike. Start again from your app.")
        location = with_query(
            self.upstream.authorize_url,
            {
                "client_id": self.upstream.client_id,
                "response_type": "code",
                "redirect_uri": self.upstream.redirect_uri,
                "state": state,
                "scope": ",".join(params["scopes"]),
            },
        )
        return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


def kept_scopes(requested: list[str], ticked: list[str]) -> list[str]:
    """The requested scopes the person left ticked; unticking write access keeps read access."""
    kept = [scope for scope in requested if scope in ticked]
    if "wsReadWrite" in requested and "wsReadWrite" not in kept and "wsReadOnly" not in kept:
        kept.insert(0, "wsReadOnly")
    return kept


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


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
        "Referrer-Policy": "no-referrer",
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
    redirect_uri: str,
    scopes: list[str],
    txn: str,
    csrf: str,
    form_targets: list[str],
) -> HTMLResponse:
    esc = html.escape
    host = urlsplit(redirect_uri).hostname or redirect_uri
    warning = ""
    if is_loopback_host(host):
        warning = (
            '<p class="warn">This app receives the authorization <b>on this computer</b> (localhost). '
            "Allow only if you started this sign-in yourself in an app on this computer.</p>"
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
<p>The authorization will be sent to:</p>
<p class="host" id="redirect-host">{esc(host)}</p>
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
<p>After you allow, Wrike asks you to sign in and confirm.</p>
</body></html>"""
    return HTMLResponse(body, headers=security_headers(form_targets))


def error_page(status: int, message: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wrike-mcp sign-in</title>'
        f"<style>{STYLE}</style></head><body><h1>Sign-in stopped</h1><p>{html.escape(message)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status, headers=security_headers([]))
