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
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
import httpx2
import uvicorn
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

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
from wrike_mcp.hosts import is_loopback_host
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import WrikeError
from wrike_mcp.wrike.tokens import StaticTokenSource, TokenSource

log = logging.getLogger(__name__)

REDIRECT_TIMEOUT = 300.0


class LoginFlow:
    """One login attempt: its random `state`, the authorize URL, and the code exchange."""

    def __init__(
        self,
        settings: Settings,
        scopes: list[str],
        store: TokenStore,
        *,
        open_client: Callable[[TokenSource], WrikeClient],
        oauth_transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        """`open_client` builds the Wrike client that reads who logged in (runtime.client_from_settings)."""
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
        self._open_client = open_client

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
        source = StaticTokenSource(grant.access_token, host=grant.host)
        try:
            async with self._open_client(source) as client:
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
    """Serves the redirect URI on loopback until the browser comes back once with the answer.

    A one-route Starlette app on uvicorn, bound to loopback sockets opened here (so a busy port is a clear
    error before the browser opens). Any other path is a 404, so a favicon request does not end the login;
    the first GET on the redirect path is the answer, and the `state` in it is checked by `LoginFlow`.
    """

    def __init__(self, redirect_uri: str, *, wait_seconds: float = REDIRECT_TIMEOUT) -> None:
        parts = urlsplit(redirect_uri)
        if parts.scheme not in {"http", "https"} or not is_loopback_host(parts.hostname):
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
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._result: asyncio.Future[str] | None = None

    async def __aenter__(self) -> RedirectListener:
        app = Starlette(routes=[Route(self.path, self._callback, methods=["GET"])])
        server = _Server(self._config(app))
        sockets = self._listen()
        self._result = asyncio.get_running_loop().create_future()
        self._server = server
        self._serving = asyncio.create_task(self._server.serve(sockets=sockets))
        while not self._server.started:
            if self._serving.done():  # failed to start: its exception, not a hang
                await self._serving
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving

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

    def _listen(self) -> list[socket.socket]:
        """Loopback sockets on the redirect URI's port, or LoginError when the port is taken."""
        error = OSError("not bound")
        for hosts in self._bind:
            sockets: list[socket.socket] = []
            try:
                for host in hosts:
                    family = socket.AF_INET6 if ":" in host else socket.AF_INET
                    sockets.append(socket.create_server((host, self.port), family=family))
                return sockets
            except OSError as exc:
                error = exc
                for sock in sockets:
                    sock.close()
        raise LoginError(
            f"cannot listen on {self.host}:{self.port} for the redirect ({error.strerror}); "
            "is another login running? Free the port or use --no-browser"
        )

    def _config(self, app: Starlette) -> uvicorn.Config:
        # no access log: the redirect's query holds the authorization code
        options: dict[str, Any] = {
            "log_config": None,
            "log_level": "warning",
            "access_log": False,
            "lifespan": "off",
            "server_header": False,
            "timeout_graceful_shutdown": 1,
        }
        if self.scheme == "http":
            config = uvicorn.Config(app, **options)
            config.load()
            return config
        certificate, key, self.fingerprint = self_signed_certificate()
        # uvicorn only loads certificates from files: write them to a private temp dir, load, delete
        with tempfile.TemporaryDirectory(prefix="wrike-mcp-tls-") as directory:
            cert_path, key_path = Path(directory, "cert.pem"), Path(directory, "key.pem")
            cert_path.write_bytes(certificate)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            config = uvicorn.Config(app, ssl_certfile=str(cert_path), ssl_keyfile=str(key_path), **options)
            config.load()
        return config

    async def _callback(self, request: Request) -> Response:
        if not is_loopback_host(request.url.hostname):
            # a page elsewhere that rebound its name to loopback must not end (or forge) the login
            return HTMLResponse(_page("This address is not localhost; wrike-mcp ignored the request."), 400)
        assert self._result is not None
        if self._result.done():
            return HTMLResponse(
                _page("wrike-mcp already received Wrike's answer for this login; this one was ignored."), 409
            )
        query = request.url.query
        self._result.set_result(f"{self.scheme}://{self.netloc}{self.path}{'?' + query if query else ''}")
        error = request.query_params.get("error")
        if error == "access_denied":
            message = "Access was denied in Wrike; nothing was stored."
        elif error or not request.query_params.get("code"):
            message = "Wrike's answer is an error; the terminal says which, and nothing was stored."
        else:
            message = "wrike-mcp received Wrike's answer."
        return HTMLResponse(_page(message + " You can close this tab and return to the terminal."))


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C stops the whole login (KeyboardInterrupt), not only this listener
        yield


def _page(message: str) -> str:
    return f"<!doctype html><meta charset=utf-8><title>wrike-mcp</title><p>{message}</p>"


def self_signed_certificate() -> tuple[bytes, bytes, str]:
    """A fresh one-day certificate for localhost, PEM, its private key, PEM, and its SHA-256 fingerprint."""
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fingerprint = cert.fingerprint(hashes.SHA256()).hex(":").upper()
    return cert.public_bytes(serialization.Encoding.PEM), key_pem, fingerprint


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
