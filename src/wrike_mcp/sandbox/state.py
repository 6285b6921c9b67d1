"""Everything the sandbox knows: the emulated account, seeded, and what the API and the control plane keep
beside it (tokens, paging tokens, injected faults, the request log). The app holds one `SandboxState`."""

from __future__ import annotations

from wrike_mcp.sandbox.backend import WrikeBackend
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.entities import Folder, Task
from wrike_mcp.sandbox.faults import FaultPlan
from wrike_mcp.sandbox.paging import PageTokens
from wrike_mcp.sandbox.request_log import RequestLog
from wrike_mcp.sandbox.seed import seed
from wrike_mcp.sandbox.tokens import (
    ALL_SCOPES,
    DEMO_APP_NAME,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    AccessToken,
    RefreshToken,
    TokenStore,
)

# Older callers import these from here; they live in entities.py and tokens.py.
__all__ = [
    "ALL_SCOPES",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_TOKEN",
    "Folder",
    "SandboxState",
    "Task",
]


class SandboxState(WrikeBackend):
    """The seeded account plus the sandbox's own bookkeeping. `reset()` restores the deterministic seed."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        super().__init__(config or SandboxConfig())
        self.reset()

    def reset(self) -> None:
        self.clear()
        self.tokens = TokenStore()
        self.page_tokens = PageTokens()
        self.faults = FaultPlan()
        self.requests = RequestLog()
        # How a 429 of the rate limit reads (the control plane's /_sandbox/rate_limit): Wrike documents
        # `too_many_requests`, the sandbox has long answered `rate_limit_exceeded`; nothing documents that
        # Retry-After is always sent.
        self.rate_limit = self.config.rate_limit
        self.rate_limit_code = "rate_limit_exceeded"
        self.rate_limit_retry_after = True
        # DELETE of a comment or time log: `data: list<string>` in the 2026 description, empty on a live
        # account (comments); true makes it list the deleted id (/_sandbox/deletes).
        self.deletes_list_ids = False
        seed(self)
        self.tokens.add_demo_tokens(self.demo_user().id)

    # -- tokens -------------------------------------------------------------------------------------------
    # Test suites plant and inspect tokens through these two names; the sandbox itself uses `tokens`.
    @property
    def access_tokens(self) -> dict[str, AccessToken]:
        return self.tokens.access

    @property
    def refresh_tokens(self) -> dict[str, RefreshToken]:
        return self.tokens.refresh

    def revoke_grant(self, grant_id: str, user_id: str, client_id: str) -> None:
        self.tokens.drop_grant(grant_id)
        user = self.contacts.get(user_id)
        if user is not None:
            self.record_audit("Oauth2AccessRevoked", user, "Oauth2Client", DEMO_APP_NAME, client_id)

    def revoke_access_token(self, value: str) -> AccessToken | None:
        """Forget one access token (its grant's other tokens stay); None: no such token."""
        access = self.tokens.access.pop(value, None)
        user = self.contacts.get(access.user_id) if access is not None else None
        if access is not None and user is not None and access.client_id:
            self.record_audit("Oauth2AccessRevoked", user, "Oauth2Client", DEMO_APP_NAME, access.client_id)
        return access
