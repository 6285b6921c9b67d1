"""Token sources for the Wrike client: a permanent token, or OAuth 2.0 (login, stored grant, refresh).

Public API:
- `token_source_from_settings(settings)`: the source to hand to `WrikeClient`.
- `granted_scopes(source)`: the scopes a source was granted, or None when unknown.
- `OAuthTokenSource`, `PermanentTokenSource`, `TokenStore`, and the errors below.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from wrike_mcp.auth.errors import (
    AppCredentialsRejected,
    AuthError,
    AuthorizationExpired,
    LoginError,
    NoCredentialsError,
    TokenRefreshUnavailable,
    TokenStoreError,
    UntrustedHost,
)
from wrike_mcp.auth.permanent import PermanentTokenSource
from wrike_mcp.config import Settings
from wrike_mcp.wrike.tokens import TokenSource

if TYPE_CHECKING:
    from wrike_mcp.auth.oauth import OAuthTokenSource
    from wrike_mcp.auth.store import Grant, TokenStore

# OAuth and the token store pull in authlib and keyring: imported on first use, so a server started with a
# permanent token does not pay for them at start-up.
_LAZY = {
    "OAuthTokenSource": "wrike_mcp.auth.oauth",
    "Grant": "wrike_mcp.auth.store",
    "TokenStore": "wrike_mcp.auth.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


log = logging.getLogger(__name__)

__all__ = [
    "AppCredentialsRejected",
    "AuthError",
    "AuthorizationExpired",
    "Grant",
    "LoginError",
    "NoCredentialsError",
    "OAuthTokenSource",
    "PermanentTokenSource",
    "TokenRefreshUnavailable",
    "TokenStore",
    "TokenStoreError",
    "UntrustedHost",
    "granted_scopes",
    "token_source_from_settings",
]


def token_source_from_settings(settings: Settings, *, store: TokenStore | None = None) -> TokenSource:
    """The OAuth grant stored by `wrike-mcp auth login` for this login server, else WRIKE_ACCESS_TOKEN.

    A stored grant can only be refreshed with the app's WRIKE_CLIENT_ID and secret, so with a permanent token
    and no client id configured the store is not consulted at all.
    Raises NoCredentialsError when there is neither; TokenStoreError when the store cannot be read.
    """
    permanent = PermanentTokenSource.from_settings(settings)
    if permanent is not None and not settings.client_id and store is None:
        return permanent
    from wrike_mcp.auth.oauth import OAuthTokenSource
    from wrike_mcp.auth.store import TokenStore

    try:
        store = store or TokenStore.from_settings(settings)
        grant = store.current(settings.login_url)
    except TokenStoreError as exc:
        if permanent is None:
            raise
        # an unreadable store must not lock out someone who also configured a permanent token
        log.warning("ignoring the OAuth token store (%s); using WRIKE_ACCESS_TOKEN", exc)
        return permanent
    if grant is not None:
        return OAuthTokenSource(settings, store, grant)
    if permanent is not None:
        return permanent
    if settings.client_id:
        raise NoCredentialsError("not logged in: run `wrike-mcp auth login` (or set WRIKE_ACCESS_TOKEN)")
    raise NoCredentialsError()


def granted_scopes(source: object) -> frozenset[str] | None:
    """The scopes a token source was granted; None when unknown (then every tool is offered)."""
    scopes = getattr(source, "granted_scopes", None)
    return frozenset(scopes) if scopes is not None else None
