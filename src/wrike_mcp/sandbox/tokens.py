"""OAuth and API token bookkeeping: the tokens, codes and per-token rate windows the sandbox has issued.

It knows nothing of the account: who a token's user is, and what an audit log records, is the state's business.
"""

from __future__ import annotations

import math
import secrets
from collections import deque
from dataclasses import dataclass, field

from wrike_mcp.sandbox import ids

# Every scope name Wrike documents; the all-scopes demo token holds them all.
ALL_SCOPES = frozenset(
    {
        "Default",
        "wsReadOnly",
        "wsReadWrite",
        "amReadOnlyWorkflow",
        "amReadWriteWorkflow",
        "amReadOnlyInvitation",
        "amReadWriteInvitation",
        "amReadOnlyGroup",
        "amReadWriteGroup",
        "amReadOnlyUser",
        "amReadWriteUser",
        "amReadOnlyTimelogCategory",
        "amReadWriteTimelogCategory",
        "amReadOnlyAuditLog",
        "amReadOnlyAccessRole",
        "amReadOnlyWorkSchedule",
        "amReadWriteWorkSchedule",
        "dataExportFull",
    }
)

# Documented demo credentials of a local emulator, not secrets.
DEMO_TOKEN = "wrike-sandbox-token"  # noqa: S105
READONLY_TOKEN = "wrike-sandbox-readonly"  # noqa: S105
NOAUDIT_TOKEN = "wrike-sandbox-noaudit"  # noqa: S105
DEMO_CLIENT_ID = "sandbox-client"
DEMO_CLIENT_SECRET = "sandbox-secret"  # noqa: S105
DEMO_APP_NAME = "Sandbox Demo App"


@dataclass
class AccessToken:
    value: str
    user_id: str
    scopes: frozenset[str]
    expires_at: float | None  # None: a permanent token
    client_id: str | None = None
    grant_id: str | None = None  # the OAuth grant (one authorization) this token belongs to
    account_id: str = ids.ACCOUNT_ID  # the Wrike account the grant is for (one per token in API v4)


@dataclass
class RefreshToken:
    value: str
    user_id: str
    scopes: frozenset[str]
    client_id: str
    grant_id: str
    account_id: str = ids.ACCOUNT_ID  # the Wrike account the grant is for (one per token in API v4)


@dataclass
class AuthCode:
    value: str
    client_id: str
    user_id: str
    redirect_uri: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False
    account_id: str = ids.ACCOUNT_ID  # the Wrike account the grant is for (one per token in API v4)


@dataclass
class TokenStore:
    """Every token and code issued since the last reset, and how the token endpoint answers refreshes."""

    access: dict[str, AccessToken] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    codes: dict[str, AuthCode] = field(default_factory=dict)
    rate_windows: dict[str, deque[float]] = field(default_factory=dict)  # token: its requests' times
    refresh_omits: frozenset[str] = frozenset()  # fields refresh answers leave out (/_sandbox/oauth)

    def add_demo_tokens(self, owner_id: str) -> None:
        """The documented permanent tokens, all of the account owner."""
        for value, scopes in (
            (DEMO_TOKEN, ALL_SCOPES),
            (READONLY_TOKEN, frozenset({"wsReadOnly"})),
            (NOAUDIT_TOKEN, frozenset({"Default"})),
        ):
            self.access[value] = AccessToken(value=value, user_id=owner_id, scopes=scopes, expires_at=None)

    def issue_code(
        self,
        client_id: str,
        user_id: str,
        redirect_uri: str,
        scopes: frozenset[str],
        expires_at: float,
        account_id: str,
    ) -> AuthCode:
        code = AuthCode(
            value=secrets.token_urlsafe(24),
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            expires_at=expires_at,
            account_id=account_id,
        )
        self.codes[code.value] = code
        return code

    def redeem_code(self, code: AuthCode) -> None:
        """A code works once; a second use revokes what the first produced (the caller's business)."""
        code.used = True

    def issue(
        self,
        user_id: str,
        scopes: frozenset[str],
        client_id: str,
        grant_id: str,
        *,
        account_id: str,
        expires_at: float,
        with_refresh_token: bool,
    ) -> tuple[AccessToken, RefreshToken | None]:
        """A new access token of a grant, and a refresh token with it unless the old one stays in use."""
        access = AccessToken(
            value=secrets.token_urlsafe(32),
            user_id=user_id,
            scopes=scopes,
            expires_at=expires_at,
            client_id=client_id,
            grant_id=grant_id,
            account_id=account_id,
        )
        self.access[access.value] = access
        if not with_refresh_token:
            return access, None
        refresh = RefreshToken(
            value=secrets.token_urlsafe(32),
            user_id=user_id,
            scopes=scopes,
            client_id=client_id,
            grant_id=grant_id,
            account_id=account_id,
        )
        self.refresh[refresh.value] = refresh
        return access, refresh

    def spend_refresh_token(self, value: str) -> None:
        """Rotation: a refresh token works once."""
        del self.refresh[value]

    def hit(self, token_value: str, now: float, limit: int) -> int | None:
        """Count a request in the token's sliding 60-second window; over `limit`: the seconds to wait
        (the request is not counted), else None."""
        window = self.rate_windows.setdefault(token_value, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + 60 - now))
        window.append(now)
        return None

    def drop_grant(self, grant_id: str) -> None:
        """Forget every access and refresh token of one OAuth grant."""
        for value in [v for v, t in self.access.items() if t.grant_id == grant_id]:
            del self.access[value]
        for value in [v for v, t in self.refresh.items() if t.grant_id == grant_id]:
            del self.refresh[value]
