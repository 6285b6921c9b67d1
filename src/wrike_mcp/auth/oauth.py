"""The OAuth 2.0 token source: Wrike's authorization-code grant, with refresh-token rotation.

Token-endpoint calls go through authlib's `AsyncOAuth2Client` (built on `httpx2`, the fork the MCP SDK
uses; its objects never mix with the Wrike client's `httpx`). Refresh logic is ours, not authlib's
`ensure_active_token`, because the Wrike client also asks for a refresh after a 401, and both paths must
share one single-flight lock keyed on the token that went stale.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from wrike_mcp import scopes as scope_names
from wrike_mcp.auth.errors import (
    AppCredentialsRejected,
    AuthError,
    AuthorizationExpired,
    TokenRefreshUnavailable,
    TokenStoreError,
    UntrustedHost,
)
from wrike_mcp.auth.store import Grant, TokenStore
from wrike_mcp.config import Settings
from wrike_mcp.hosts import is_loopback_host, is_loopback_url, wrike_host
from wrike_mcp.wrike.tokens import Token

log = logging.getLogger(__name__)

AUTHORIZE_PATH = "/oauth2/authorize/v4"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a secret
MAX_REFRESH_MARGIN = 60.0  # refresh this many seconds before expiry (less for very short-lived tokens)
# Token-endpoint errors about the app's own credentials, not about the user's grant: Wrike answers a client
# secret that does not match the app with unauthorized_client (live observation); RFC 6749 says
# invalid_client for a failed client authentication. Neither means the grant is gone.
APP_CREDENTIAL_ERRORS = frozenset({"unauthorized_client", "invalid_client"})
# Refresh-token errors that do mean the grant is gone (revoked, expired, already spent).
REFUSED_GRANT_ERRORS = frozenset({"invalid_grant", "invalid_token"})


def authorize_endpoint(settings: Settings) -> str:
    return settings.login_url.rstrip("/") + AUTHORIZE_PATH


def token_endpoint(settings: Settings) -> str:
    return settings.login_url.rstrip("/") + TOKEN_PATH


def join_scopes(scopes: Iterable[str]) -> str:
    """Wrike wants commas; authlib would join a list with spaces, so it always gets this string."""
    return ",".join(scopes)


def loopback_allowed(settings: Settings) -> bool:
    """A loopback API host is fine only when we were pointed at a local server (the sandbox) on purpose."""
    return is_loopback_url(settings.base_url) and is_loopback_url(settings.login_url)


def check_token_host(host: object, settings: Settings) -> str:
    """The API host from a token response, if it may receive our tokens; else UntrustedHost.

    Allowed: a bare https `*.wrike.com` host name (an `https://` prefix is tolerated); loopback hosts only
    when both WRIKE_BASE_URL and WRIKE_LOGIN_URL point at loopback.
    """
    if host is None or host == "":
        return settings.host
    shown = repr(host)[:80]
    refused = UntrustedHost(
        f"Wrike's token response named API host {shown}, which is not an https *.wrike.com host; "
        "refusing to send tokens there"
    )
    if not isinstance(host, str):
        raise refused
    text = host.strip().lower()
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme != "https":
            raise refused
        text = text.rstrip("/")
    if loopback_allowed(settings) and is_loopback_host(urlsplit(f"//{text}").hostname):
        return text
    name = wrike_host(text)
    if name is None:
        raise refused
    return name


def api_base_url(settings: Settings, host: str) -> str:
    """An explicit WRIKE_BASE_URL wins (the sandbox); otherwise the data-centre host of the grant."""
    if settings.base_url:
        return settings.base_url.rstrip("/")
    return f"https://{host}/api/v4"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Cut known secret values out of text that came from the server, in case it quotes them back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


class TokenEndpointRejected(AuthError):
    """The token endpoint answered with an RFC 6749 error (`invalid_grant`, `invalid_client`, ...)."""

    def __init__(self, error: str, description: str) -> None:
        self.error = error
        self.description = description
        detail = f": {description}" if description else ""
        super().__init__(f"Wrike's login server refused the request ({error}{detail})")


class _RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


def _raise_on_retryable(response: httpx2.Response) -> httpx2.Response:
    # authlib would parse a 429 JSON body as an OAuth error; 5xx/429 is an outage, not a verdict on the grant
    if response.status_code >= 500 or response.status_code == 429:
        raise _RetryableStatus(response.status_code)
    return response


async def post_token_request(
    settings: Settings,
    *,
    grant_type: str,
    params: Mapping[str, str],
    transport: httpx2.AsyncBaseTransport | None = None,
) -> dict[str, Any]:
    """One call to the token endpoint. Raises TokenEndpointRejected or TokenRefreshUnavailable."""
    secret = settings.client_secret.get_secret_value() if settings.client_secret else None
    known_secrets = [secret, *params.values()]
    client = AsyncOAuth2Client(
        client_id=settings.client_id,
        client_secret=secret,
        # Wrike documents the client credentials as form fields, not HTTP Basic
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name, not a secret
        timeout=settings.timeout,
        transport=transport,
    )
    client.register_compliance_hook("access_token_response", _raise_on_retryable)
    client.register_compliance_hook("refresh_token_response", _raise_on_retryable)
    unavailable = "the stored tokens are unchanged; try again shortly"
    try:
        async with client:
            if grant_type == "refresh_token":
                result = await client.refresh_token(
                    token_endpoint(settings), refresh_token=params["refresh_token"]
                )
            else:
                result = await client.fetch_token(token_endpoint(settings), grant_type=grant_type, **params)
    except _RetryableStatus as exc:
        raise TokenRefreshUnavailable(
            f"Wrike's login server answered HTTP {exc.status}; {unavailable}"
        ) from None
    except httpx2.TimeoutException:
        raise TokenRefreshUnavailable(f"Wrike's login server did not answer in time; {unavailable}") from None
    except httpx2.TransportError as exc:
        raise TokenRefreshUnavailable(
            f"could not reach Wrike's login server ({type(exc).__name__}); {unavailable}"
        ) from None
    except OAuthError as exc:
        description = redact(str(exc.description or ""), known_secrets)[:200]
        raise TokenEndpointRejected(str(exc.error), description) from None
    except (httpx2.HTTPStatusError, ValueError):
        raise TokenRefreshUnavailable(
            f"Wrike's login server gave an answer that is not an OAuth token response; {unavailable}"
        ) from None
    return dict(result)


def grant_from_response(
    response: Mapping[str, Any],
    settings: Settings,
    *,
    requested_scopes: list[str] | None,
    previous: Grant | None = None,
    now: float | None = None,
) -> Grant:
    """Turn a token response into a Grant, checking the host and keeping what the response leaves out."""
    now = time.time() if now is None else now
    access = response.get("access_token")
    if not isinstance(access, str) or not access:
        raise TokenRefreshUnavailable("Wrike's token response had no access_token; nothing was stored")
    refresh = response.get("refresh_token")
    if not isinstance(refresh, str) or not refresh:
        # Wrike rotates refresh tokens, but an answer without one means "keep the old one", never "blank it"
        refresh = previous.refresh_token if previous else None
    host = check_token_host(response.get("host"), settings)
    lifetime: float | None = None
    expires_in = response.get("expires_in")
    if isinstance(expires_in, int | float | str) and not isinstance(expires_in, bool):
        try:
            lifetime = float(expires_in)
        except ValueError:
            lifetime = None
    scope = response.get("scope")
    if isinstance(scope, str) and scope.strip():
        granted: list[str] | None = scope_names.parse(scope)
    elif previous is not None:
        granted = previous.scopes
    else:
        granted = requested_scopes
    return Grant(
        access_token=access,
        refresh_token=refresh,
        token_type=str(response.get("token_type") or "bearer"),
        expires_at=now + lifetime if lifetime is not None else None,
        lifetime=lifetime,
        host=host,
        scopes=granted,
        login_url=settings.login_url,
        client_id=settings.client_id,
        user=previous.user if previous else None,
        account=previous.account if previous else None,
        obtained_at=now,
    )


def grant_token(grant: Grant) -> Token:
    """The token a grant gives the Wrike client (value, data-centre host, scopes)."""
    scopes = frozenset(grant.scopes) if grant.scopes is not None else None
    return Token(value=grant.access_token, host=grant.host, scopes=scopes)


def refresh_due(grant: Grant, now: float) -> bool:
    """Whether to refresh before using the grant: within a margin of its expiry.

    The margin is a minute, or a quarter of the lifetime for short-lived tokens, so a 2 s token is not
    refreshed on every call.
    """
    if grant.expires_at is None:
        return False
    margin = min(MAX_REFRESH_MARGIN, grant.lifetime / 4) if grant.lifetime else MAX_REFRESH_MARGIN
    return now >= grant.expires_at - margin


class OAuthTokenSource:
    """A TokenSource over a stored OAuth grant: refreshes before expiry and after a 401, single-flight.

    Concurrent callers holding the same stale token share one refresh: the lock serialises them and each
    compares the token it saw with the current one, so only the first actually calls the token endpoint.
    """

    def __init__(
        self,
        settings: Settings,
        store: TokenStore,
        grant: Grant,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._store = store
        self._grant = grant
        self._transport = transport
        self._clock = clock
        self._lock = anyio.Lock()
        self._revoked: str | None = None  # the refresh token Wrike refused; sticky until a new login
        self._unsaved = False  # a refreshed grant that the store failed to take; retried on the next call

    def __repr__(self) -> str:
        return f"OAuthTokenSource({self._grant.key}, <tokens hidden>)"

    @property
    def grant(self) -> Grant:
        return self._grant

    @property
    def granted_scopes(self) -> frozenset[str] | None:
        return frozenset(self._grant.scopes) if self._grant.scopes is not None else None

    @property
    def host(self) -> str:
        return self._grant.host

    @property
    def api_base_url(self) -> str:
        return api_base_url(self._settings, self._grant.host)

    def _token(self, grant: Grant) -> Token:
        return grant_token(grant)

    def _needs_refresh(self, grant: Grant) -> bool:
        return refresh_due(grant, self._clock())

    def _expired(self, grant: Grant) -> bool:
        return grant.expires_at is not None and self._clock() >= grant.expires_at

    async def get_token(self) -> Token:
        if self._revoked is not None:
            await self._adopt_new_login()
        if self._unsaved:
            await self._save(self._grant)
        grant = self._grant
        if not self._needs_refresh(grant):
            return self._token(grant)
        return await self._refresh(grant.access_token)

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        if self._revoked is not None:
            await self._adopt_new_login()
        return await self._refresh(rejected.value)

    async def _adopt_new_login(self) -> None:
        """After a refused refresh, only a new `auth login` (a different refresh token) brings us back."""
        stored = await anyio.to_thread.run_sync(self._store.current, self._settings.login_url)
        if stored is None or (stored.refresh_token or "") == self._revoked:
            raise AuthorizationExpired()
        log.info("using the new login for %s", stored.key)
        self._grant, self._revoked = stored, None

    async def _save(self, grant: Grant) -> None:
        try:
            await anyio.to_thread.run_sync(self._store.save, grant)
        except TokenStoreError as exc:
            # the old refresh token is already spent: keep the new one in memory and retry the write later
            self._unsaved = True
            log.warning("could not save the refreshed tokens (will retry): %s", exc)
        else:
            self._unsaved = False

    async def _refresh(self, stale: str) -> Token:
        async with self._lock:
            if self._revoked is not None:
                raise AuthorizationExpired()
            current = self._grant
            if current.access_token != stale and not self._expired(current):
                return self._token(current)  # another caller refreshed while we waited for the lock
            if not self._unsaved:
                # another process (the CLI, a second server) may have refreshed and rotated already
                stored = await anyio.to_thread.run_sync(self._store.load, current.key)
                if stored is None:
                    # `auth logout` ran meanwhile: refreshing would write the grant back, undoing it
                    self._revoked = current.refresh_token or ""
                    raise AuthorizationExpired("logged out of Wrike: run `wrike-mcp auth login`")
                if stored.refresh_token != current.refresh_token:
                    current = self._grant = stored
                    if current.access_token != stale and not self._needs_refresh(current):
                        return self._token(current)
            return await self._refresh_locked(current)

    async def _refresh_locked(self, current: Grant) -> Token:
        settings = self._settings
        if not current.refresh_token:
            self._revoked = ""
            raise AuthorizationExpired(
                "the Wrike access token expired and no refresh token is stored: run `wrike-mcp auth login`"
            )
        if not settings.client_id or not settings.client_secret:
            raise AuthError(
                "cannot refresh the Wrike access token: set WRIKE_CLIENT_ID and WRIKE_CLIENT_SECRET "
                "to the app you logged in with"
            )
        log.info("refreshing the Wrike access token for %s", current.key)
        try:
            response = await post_token_request(
                settings,
                grant_type="refresh_token",
                params={"refresh_token": current.refresh_token},
                transport=self._transport,
            )
        except TokenEndpointRejected as exc:
            if exc.error in APP_CREDENTIAL_ERRORS:
                # the configuration is wrong, not the grant: keep it, so fixing the secret is enough
                log.warning(
                    "Wrike refused the app credentials while refreshing %s (%s)", current.key, exc.error
                )
                raise AppCredentialsRejected(exc.error, "the stored login is kept") from None
            if exc.error in REFUSED_GRANT_ERRORS:
                # another process may have spent this refresh token a moment ago and saved the rotated grant
                stored = await anyio.to_thread.run_sync(self._store.load, current.key)
                if stored is not None and stored.refresh_token != current.refresh_token:
                    log.info("another process refreshed %s first; using its tokens", current.key)
                    self._grant = stored
                    return self._token(stored)
                # a positive "no": the grant is gone; say so now and on every later call
                self._revoked = current.refresh_token
                log.warning("Wrike refused the refresh token for %s (%s)", current.key, exc.error)
                raise AuthorizationExpired() from None
            raise
        fresh = grant_from_response(
            response, settings, requested_scopes=None, previous=current, now=self._clock()
        )
        self._grant = fresh
        await self._save(fresh)  # saved before anyone uses it: the previous refresh token is now spent
        log.info("refreshed the Wrike access token for %s (expires in %s s)", fresh.key, fresh.lifetime)
        return self._token(fresh)
