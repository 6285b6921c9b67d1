"""Errors of the auth package.

They derive from `WrikeError` so that the server turns them into tool errors like any other Wrike failure.
Every message says what to do next and never contains a token, a secret or an authorization code.
"""

from __future__ import annotations

from wrike_mcp.wrike.errors import AuthorizationExpired, WrikeError

__all__ = [
    "AppCredentialsRejected",
    "AuthError",
    "AuthorizationExpired",
    "LoginError",
    "NoCredentialsError",
    "TokenRefreshUnavailable",
    "TokenStoreError",
    "UntrustedHost",
]

LOGIN_HINT = "run `wrike-mcp auth login`"


class AuthError(WrikeError):
    """Base of the auth package's own errors."""


class NoCredentialsError(AuthError):
    """Neither an OAuth login nor a permanent token is configured."""

    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "no Wrike credentials: set WRIKE_ACCESS_TOKEN (a permanent token), "
            f"or {LOGIN_HINT}, or try `--sandbox`"
        )


class TokenRefreshUnavailable(AuthError):
    """The token endpoint could not be reached or answered 5xx/429: nothing was changed, try again."""


class TokenStoreError(AuthError):
    """The token store cannot be read or written (corrupted file, keyring failure)."""


class LoginError(AuthError):
    """The OAuth login did not complete (state mismatch, access denied, bad redirect, rejected code)."""


class AppCredentialsRejected(AuthError):
    """Wrike's token endpoint refused the app's own credentials (`unauthorized_client`, seen live for a client
    secret that does not match the app; `invalid_client`): a configuration error, not an ended grant."""

    def __init__(self, error: str, outcome: str) -> None:
        self.error = error
        super().__init__(
            f"Wrike refused wrike-mcp's app credentials ({error}): check that WRIKE_CLIENT_SECRET and "
            f"WRIKE_CLIENT_ID match the app registered in Wrike (Apps & Integrations → API); {outcome}"
        )


class UntrustedHost(AuthError):
    """The token response named an API host outside the allow-list; no token is sent there.

    Not the client's `wrike.UntrustedHost` (a WrikeError, checked on every request): this one stops a sign-in
    or a refresh before its grant is stored, and is handled where AuthErrors are. One host rule serves both
    (`hosts.wrike_host`)."""
