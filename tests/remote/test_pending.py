"""The pending authorization and the code's request as typed models, stored as the same JSON as before.

Replicas of two versions may share one database during an upgrade, so a row written by the code before the
models (plain `json.dumps` of a dict) must read back, and a row written now must carry the same field names,
with `approval` and `asked` absent until set (an older callback tells a widening by `"asked" in params`).
Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import AnyUrl, ValidationError
from sqlalchemy import insert, select

from tests.remote.helpers import DEFAULT_SIGN_IN_LIMITS
from wrike_mcp.remote.crypto import KeyRing
from wrike_mcp.remote.pending import Approval, AuthorizationRequest, PendingAuthorization
from wrike_mcp.remote.provider import AuthServerConfig, WrikeMCPAuthProvider
from wrike_mcp.remote.store import Store, codes, digest, pending

NOW = 1_800_000_000.0
RESOURCE = "https://mcp.example.com/mcp"
# What the provider wrote at /authorize before the models, key for key
REQUESTED = {
    "redirect_uri": "http://127.0.0.1:4567/cb",
    "redirect_uri_provided_explicitly": True,
    "code_challenge": "c" * 43,
    "state": None,
    "scopes": ["wsReadWrite"],
    "resource": RESOURCE,
}


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store.open(database_url)
    try:
        await opened.migrate()
        yield opened
    finally:
        await opened.close()


async def stored_params(store: Store, upstream_state: str) -> dict[str, object]:
    async with store.engine.connect() as conn:
        row = (
            await conn.execute(
                select(pending.c.params).where(pending.c.upstream_state == digest(upstream_state))
            )
        ).scalar_one()
    loaded: dict[str, object] = json.loads(row)
    return loaded


async def test_rows_written_before_the_models_are_read(store: Store) -> None:
    widened = {
        **REQUESTED,
        "scopes": ["wsReadOnly"],
        "approval": {"approver": "ACC1/USER1", "skipped": True},
        "asked": ["wsReadOnly", "amReadOnlyAuditLog"],
    }
    async with store.engine.begin() as conn:
        await conn.execute(
            insert(pending).values(
                txn=digest("old-txn"),
                client_id="client-1",
                params=json.dumps(widened),
                browser=digest("binding"),
                upstream_state=digest("old-state"),
                expires_at=NOW + 600,
            )
        )
        code_params = {**REQUESTED, "state": "client-state", "scopes": ["wsReadOnly"]}
        await conn.execute(
            insert(codes).values(
                code=digest("old-code"),
                client_id="client-1",
                user_id="ACC1/USER1",
                params=json.dumps(code_params),
                expires_at=NOW + 300,
                used=False,
            )
        )

    found = await store.take_pending("old-state", NOW)
    assert found is not None
    client_id, taken, browser = found
    assert (client_id, browser) == ("client-1", digest("binding"))
    assert taken.approval == Approval(approver="ACC1/USER1", skipped=True)
    assert taken.asked == ["wsReadOnly", "amReadOnlyAuditLog"]
    assert (taken.scopes, taken.state, taken.redirect_uri) == (
        ["wsReadOnly"],
        None,
        "http://127.0.0.1:4567/cb",
    )

    config = AuthServerConfig(
        issuer="https://mcp.example.com",
        resource=RESOURCE,
        scopes_supported=("wsReadOnly", "wsReadWrite"),
        default_scopes=("wsReadWrite",),
        access_token_ttl=3600,
        refresh_token_ttl=86400,
        refresh_reuse_leeway=10.0,
        registration_ttl=86400,
        limits=DEFAULT_SIGN_IN_LIMITS,
    )
    provider = WrikeMCPAuthProvider(store, KeyRing([Fernet.generate_key()]), config, clock=lambda: NOW)
    client = OAuthClientInformationFull(
        client_id="client-1", redirect_uris=[AnyUrl("http://127.0.0.1:4567/cb")]
    )
    code = await provider.load_authorization_code(client, "old-code")
    assert code is not None
    assert (code.client_id, code.subject, code.scopes, code.resource) == (
        "client-1",
        "ACC1/USER1",
        ["wsReadOnly"],
        RESOURCE,
    )
    assert (str(code.redirect_uri), code.redirect_uri_provided_explicitly, code.code_challenge) == (
        "http://127.0.0.1:4567/cb",
        True,
        "c" * 43,
    )


async def test_rows_written_now_keep_the_field_names(store: Store) -> None:
    request = PendingAuthorization.model_validate(REQUESTED)
    await store.save_pending("txn", "client-1", request, NOW + 600)
    async with store.engine.connect() as conn:
        saved = (
            await conn.execute(select(pending.c.params).where(pending.c.txn == digest("txn")))
        ).scalar_one()
    assert json.loads(saved) == REQUESTED  # no approval and no asked yet

    approval = Approval(approver=None, skipped=False)
    approved = request.model_copy(update={"scopes": ["wsReadOnly"], "approval": approval})
    assert await store.approve_pending("txn", "state-1", approved, binding="binding")
    first = {**REQUESTED, "scopes": ["wsReadOnly"], "approval": {"approver": None, "skipped": False}}
    assert await stored_params(store, "state-1") == first

    found = await store.take_pending("state-1", NOW)
    assert found is not None and found[1] == approved
    asked = ["wsReadOnly", "amReadOnlyAuditLog"]
    await store.save_approved_pending(
        "state-2", "client-1", approved.model_copy(update={"asked": asked}), "b", NOW
    )
    assert await stored_params(store, "state-2") == {**first, "asked": asked}

    # the code keeps the request with the scopes granted, and nothing of the approval or of `asked`
    granted = approved.model_copy(update={"asked": asked}).request(["wsReadOnly"])
    assert type(granted) is AuthorizationRequest
    await store.save_code("code", "client-1", "ACC1/USER1", granted, NOW + 300)
    async with store.engine.connect() as conn:
        kept = (await conn.execute(select(codes.c.params).where(codes.c.code == digest("code")))).scalar_one()
    assert json.loads(kept) == {**REQUESTED, "scopes": ["wsReadOnly"]}


def test_a_code_keeps_the_scopes_granted_not_those_asked() -> None:
    asked = PendingAuthorization.model_validate(
        {**REQUESTED, "scopes": ["wsReadWrite", "amReadOnlyAuditLog"]}
    )
    granted = asked.model_copy(update={"approval": Approval(approver="ACC1/USER1", skipped=False)}).request(
        ["wsReadOnly"]
    )
    assert granted == AuthorizationRequest.model_validate({**REQUESTED, "scopes": ["wsReadOnly"]})


def test_a_pending_authorization_cannot_be_changed_in_place() -> None:
    """Approving makes a new value (model_copy): a request passed around cannot be altered under its reader."""
    request = PendingAuthorization.model_validate(REQUESTED)
    with pytest.raises(ValidationError):
        request.redirect_uri = "https://evil.example/cb"  # type: ignore[misc]
    approval = Approval(approver=None, skipped=False)
    with pytest.raises(ValidationError):
        approval.approver = "ACC1/USER1"  # type: ignore[misc]
