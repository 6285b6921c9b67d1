"""A sign-in in progress, from the client's /authorize to Wrike's callback, and what its code keeps.

The store keeps both as JSON (`pending_authorizations.params`, `authorization_codes.params`) under these field
names; `approval` and `asked` appear only once set, as an older replica sharing the database expects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def _unset(value: Any) -> bool:
    return value is None


class AuthorizationRequest(BaseModel):
    """What an MCP client asked for at /authorize (checked there), as its authorization code keeps it."""

    model_config = ConfigDict(frozen=True)

    redirect_uri: str
    redirect_uri_provided_explicitly: bool
    code_challenge: str
    state: str | None  # the client's own, echoed back to it
    scopes: list[str]  # asked for; at consent, those the person kept; in a code, those granted
    resource: str


class Approval(BaseModel):
    """Who approved a transaction: the user cookie's user at Allow or at the skip (None for a browser that
    has not signed in here before), and whether a remembered consent skipped the page."""

    model_config = ConfigDict(frozen=True)

    approver: str | None
    skipped: bool


# What the callback assumes of a transaction without a recorded approval (every one sent to Wrike has one):
# approved by a browser not signed in here, on the page.
NO_APPROVAL = Approval(approver=None, skipped=False)


class PendingAuthorization(AuthorizationRequest):
    """The request, and once the person allowed it (or a remembered consent skipped the page), the approval;
    `asked` when Wrike was sent the person's stored scopes too, to widen their grant (remote/upstream.py)."""

    approval: Approval | None = Field(default=None, exclude_if=_unset)
    asked: list[str] | None = Field(default=None, exclude_if=_unset)

    def request(self, scopes: list[str]) -> AuthorizationRequest:
        """What the code keeps: the client's request with the scopes granted."""
        kept = self.model_dump(include=set(AuthorizationRequest.model_fields))
        return AuthorizationRequest.model_validate({**kept, "scopes": scopes})
