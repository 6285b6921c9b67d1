"""`wrike-mcp auth login`: Wrike's authorization-code flow from a terminal.

The browser is sent to Wrike's authorize URL and comes back to the redirect URI, where a one-shot local
listener catches the code: plain http by default (`http://localhost:8765/callback`, which completed a real
Wrike login), or https with a throw-away self-signed certificate for an app registered with an https
loopback URI. With `--no-browser` the user pastes the redirected URL instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import os
import secrets
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx
import httpx2
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from wrike_mcp.auth.errors import AppCredentialsRejected, LoginError, TokenRefreshUnavailable
from wrike_mcp.auth.oauth import (
    APP_CREDENTIAL_ERRORS,
    TokenEndpointRejected,
    authorize_endpoint,
    grant_from_response,
    join_scopes,
    post_token_request,
)
from wrike_mcp.auth.store import Grant, TokenStore
from wrike_mcp.config import Settings
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.tokens import StaticTokenSource

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
REDIRECT_TIMEOUT = 300.0
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>wrike-mcp</title>"
    "<p>wrike-mcp received Wrike's answer. You can close this tab and return to the terminal.</p>"
)


class LoginFlow:
    """One login attempt: its random `state`, the authorize URL, and the code exchange."""

    def __init__(
        self,
        settings: Settings,
        scopes: list[str],
        store: TokenStore,
        *,
        oauth_transport: httpx2.AsyncBaseTransport | None = None,
        api_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.client_id or not settings.client_secret:
            raise LoginError(
                "set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET (your app in Wrike's App Console) "
                "before logging in"
            )
        self.settings = settings
        self.scopes = scopes
        self.store = store
        self.state = secrets.token_urlsafe(32)  # binds the redirect to this attempt (CSRF)
        self._oauth_transport = oauth_transport
        self._api_transport = api_transport

    def authorization_url(self) -> str:
        url: str = prepare_grant_uri(
            authorize_endpoint(self.settings),
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=self.settings.redirect_uri,
            scope=join_scopes(self.scopes),  # a string: authlib passes it through, so the commas stay
            state=self.state,
        )
        return url

    def code_from_redirect(self, redirected: str) -> str:
        """The code in the URL the browser was sent back to, after checking `state` and `error`."""
        text = redirected.strip().strip("'\"")
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
        params = parse_qs(query)

        def one(name: str) -> str:
            values = params.get(name) or [""]
            return values[0]

        if not params:
            raise LoginError(
                "that is not the redirected URL: paste the full address from the browser's address bar"
            )
        if not secrets.compare_digest(one("state").encode(), self.state.encode()):
            raise LoginError(
                "the redirect's `state` does not match this login (a stale or forged redirect); nothing was "
                "stored — run `wrike-mcp auth login` again"
            )
        error = one("error")
        if error == "access_denied":
            raise LoginError("access was denied in Wrike; nothing was stored")
        if error:
            description = one("error_description")[:200]
            raise LoginError(
                f"Wrike refused the authorization ({error}{': ' + description if description else ''})"
            )
        code = one("code")
        if not code:
            raise LoginError("the redirected URL has no `code`: paste the full address from the browser")
        return code

    async def complete(self, redirected: str) -> Grant:
        """Check the redirect, exchange the code, find out who this is, store the grant."""
        code = self.code_from_redirect(redirected)
        try:
            response = await post_token_request(
                self.settings,
                grant_type="authorization_code",
                params={"code": code, "redirect_uri": self.settings.redirect_uri},
                transport=self._oauth_transport,
            )
        except TokenEndpointRejected as exc:
            if exc.error in APP_CREDENTIAL_ERRORS:
                # a wrong secret fails every attempt the same way: logging in again would not help
                raise AppCredentialsRejected(exc.error, "nothing was stored") from None
            raise LoginError(
                f"Wrike refused the authorization code ({exc.error}); run `wrike-mcp auth login` again"
            ) from None
        except TokenRefreshUnavailable as exc:
            raise LoginError(f"could not exchange the authorization code: {exc}") from None
        # checks the API host before any token goes anywhere; raises UntrustedHost (nothing stored)
        grant = grant_from_response(response, self.settings, requested_scopes=self.scopes)
        user, account = await self._identity(grant)
        grant = grant.model_copy(update={"user": user, "account": account})
        await anyio.to_thread.run_sync(self.store.save, grant)
        return grant

    async def _identity(self, grant: Grant) -> tuple[dict[str, str] | None, dict[str, str] | None]:
        """Who logged in and into which account; a failure here only costs the labels, not the login."""
        from wrike_mcp.wrike.client import WrikeClient

        source = StaticTokenSource(grant.access_token, host=grant.host)
        try:
            async with WrikeClient.from_settings(
                self.settings, source, transport=self._api_transport
            ) as client:
                me = await client.get_one("/contacts", {"me": True})
                account = await client.get_one("/account")
        except WrikeError as exc:
            log.warning("logged in, but could not read the Wrike profile: %s", exc)
            return None, None
        profiles = me.get("profiles") or [{}]
        user = {
            "id": str(me.get("id", "")),
            "name": f"{me.get('firstName', '')} {me.get('lastName', '')}".strip(),
            "email": str(profiles[0].get("email", "")),
        }
        return user, {"id": str(account.get("id", "")), "name": str(account.get("name", ""))}


class RedirectListener:
    """Serves the redirect URI on loopback until the browser comes back once with the answer."""

    def __init__(self, redirect_uri: str, *, wait_seconds: float = REDIRECT_TIMEOUT) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme not in {"http", "https"} or parts.hostname not in LOOPBACK_NAMES:
            raise LoginError(
                f"the redirect URI {redirect_uri} is not on localhost, so wrike-mcp cannot catch it; "
                "use `wrike-mcp auth login --no-browser`"
            )
        self.wait_seconds = wait_seconds
        self.scheme = parts.scheme
        self.netloc = parts.netloc
        self.host = str(parts.hostname)
        # browsers may resolve localhost to ::1 or 127.0.0.1: listen on both where IPv6 exists
        self._bind: list[list[str]] = (
            [["127.0.0.1", "::1"], ["127.0.0.1"]] if self.host == "localhost" else [[self.host]]
        )
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path = parts.path or "/"
        self.fingerprint: str | None = None  # of the self-signed certificate, for https
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[str] | None = None

    async def __aenter__(self) -> RedirectListener:
        context = None
        if self.scheme == "https":
            context, self.fingerprint = self_signed_tls_context()
        self._result = asyncio.get_running_loop().create_future()
        error = OSError("not bound")
        for hosts in self._bind:
            try:
                self._server = await asyncio.start_server(self._handle, hosts, self.port, ssl=context)
                break
            except OSError as exc:
                error = exc
        if self._server is None:
            raise LoginError(
                f"cannot listen on {self.host}:{self.port} for the redirect ({error.strerror}); "
                "is another login running? Free the port or use --no-browser"
            ) from None
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def wait(self) -> str:
        """The full URL the browser was redirected to (LoginError after `wait_seconds`)."""
        assert self._result is not None, "use `async with RedirectListener(...)`"
        try:
            return await asyncio.wait_for(asyncio.shield(self._result), self.wait_seconds)
        except TimeoutError:
            raise LoginError(
                f"no redirect arrived within {self.wait_seconds:.0f} s; run `wrike-mcp auth login` again "
                "(or use --no-browser)"
            ) from None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 10)
            for _ in range(100):  # drain the headers; nothing in them matters
                line = await asyncio.wait_for(reader.readline(), 10)
                if line in {b"\r\n", b"\n", b""}:
                    break
            method, target, *_ = [*request_line.decode("latin-1").split(" "), "", ""]
            if method == "GET" and urlsplit(target).path == self.path:
                if self._result is not None and not self._result.done():
                    self._result.set_result(f"{self.scheme}://{self.netloc}{target}")
                status, body = "200 OK", _PAGE
            else:
                status, body = "404 Not Found", "not found"  # a favicon request must not end the login
            data = body.encode()
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {len(data)}"
                "\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"
            )
            writer.write(head.encode() + data)
            await writer.drain()
        except (TimeoutError, OSError, ssl.SSLError, ValueError):
            pass  # a browser probing or refusing the certificate: wait for the next connection
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


def self_signed_tls_context() -> tuple[ssl.SSLContext, str]:
    """A TLS server context with a fresh one-day certificate for localhost; and its SHA-256 fingerprint."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # `ssl` only loads certificates from files: write them to a private temp dir, load, delete
    with tempfile.TemporaryDirectory(prefix="wrike-mcp-tls-") as directory:
        cert_path, key_path = Path(directory, "cert.pem"), Path(directory, "key.pem")
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        context.load_cert_chain(cert_path, key_path)
    return context, cert.fingerprint(hashes.SHA256()).hex(":").upper()


async def login_with_listener(
    flow: LoginFlow,
    *,
    out: TextIO,
    open_browser: Callable[[str], object],
    wait_seconds: float = REDIRECT_TIMEOUT,
) -> Grant:
    """Open the browser on the authorize URL and catch the redirect locally."""
    async with RedirectListener(flow.settings.redirect_uri, wait_seconds=wait_seconds) as listener:
        url = flow.authorization_url()
        if listener.fingerprint:
            print(
                f"The redirect comes back to {flow.settings.redirect_uri}, served with a one-off self-signed "
                "certificate:\nyour browser will warn that the connection is not private. Accept it once "
                "(Advanced → Proceed) to finish the login.\n"
                f"Certificate SHA-256 fingerprint: {listener.fingerprint}",
                file=out,
            )
        print(
            f"Opening your browser to authorize wrike-mcp. If it does not open, visit:\n\n  {url}\n", file=out
        )
        out.flush()
        await anyio.to_thread.run_sync(open_browser, url)  # webbrowser.open may block for a moment
        redirected = await listener.wait()
    return await flow.complete(redirected)


async def login_with_paste(flow: LoginFlow, *, out: TextIO, stdin: TextIO) -> Grant:
    """`--no-browser`: print the URL, read back the URL the browser ended up on."""
    print(
        f"Open this URL in a browser and authorize wrike-mcp:\n\n  {flow.authorization_url()}\n\n"
        "The browser then goes to the redirect URI (the page may fail to load; that is fine).\n"
        "Paste the full address it ended up on:",
        file=out,
    )
    out.flush()
    line = await anyio.to_thread.run_sync(stdin.readline)
    if not line.strip():
        raise LoginError("no redirected URL was given; nothing was stored")
    return await flow.complete(line)
