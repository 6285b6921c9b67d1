"""A user's Wrike grant under refusal: a dead refresh token ends the user's sign-in; Wrike refusing the app's
own credentials (`unauthorized_client`, seen live for a wrong client secret) does not."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.remote.helpers import SECRET_KEY, sandbox_wrike_tokens
from wrike_mcp.auth.errors import AuthError, AuthorizationExpired
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.store import Store
from wrike_mcp.remote.users import StoredGrantSource, open_grant, seal_grant
from wrike_mcp.sandbox.serve import BackgroundSandbox


async def _source_with_expired_grant(
    tmp_path: Path,
    sandbox: BackgroundSandbox,
    *,
    client_secret: str = "sandbox-secret",
    grant: Grant | None = None,
) -> tuple[Store, StoredGrantSource]:
    settings = Settings(
        base_url=sandbox.api_url,
        login_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret=client_secret,
    )
    keyring = KeyRing(parse_keys(SECRET_KEY))
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    await store.migrate()
    grant = grant or Grant(
        access_token="expired-access",
        refresh_token="refresh-wrike-does-not-know",
        expires_at=time.time() - 10,
        lifetime=3600,
        host=f"127.0.0.1:{sandbox.port}",
        login_url=sandbox.base_url,
    )
    await store.save_user(
        "KUSER1",
        email="u@example.com",
        name="U",
        host=grant.host,
        grant=seal_grant(keyring, grant),
        scopes=["wsReadWrite"],
        now=time.time(),
    )
    return store, StoredGrantSource(store, keyring, settings, "KUSER1", grant)


async def test_refused_refresh_token_ends_the_sign_in(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    store, source = await _source_with_expired_grant(tmp_path, sandbox)
    try:
        with pytest.raises(AuthorizationExpired):
            await source.get_token()  # the sandbox answers invalid_grant for an unknown refresh token
        user = await store.get_user("KUSER1")
        assert user is not None and user.revoked
    finally:
        await store.close()


async def test_app_credentials_refused_keeps_the_users_grant(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    # the sandbox answers a secret that does not match the app as live Wrike does: unauthorized_client
    store, source = await _source_with_expired_grant(tmp_path, sandbox, client_secret="not-the-apps-secret")
    try:
        with pytest.raises(AuthError) as raised:
            await source.get_token()
        assert not isinstance(raised.value, AuthorizationExpired)
        assert "WRIKE_CLIENT_SECRET" in str(raised.value)
        user = await store.get_user("KUSER1")
        assert user is not None and not user.revoked
    finally:
        await store.close()


async def test_refresh_answer_without_scope_or_refresh_token_keeps_both(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    wrike_tokens = sandbox_wrike_tokens(sandbox.base_url, scope="wsReadOnly")
    expired = Grant(
        access_token=wrike_tokens["access_token"],
        refresh_token=wrike_tokens["refresh_token"],
        expires_at=time.time() - 10,
        lifetime=3600,
        host=f"127.0.0.1:{sandbox.port}",
        scopes=["wsReadOnly"],
        login_url=sandbox.base_url,
    )
    store, source = await _source_with_expired_grant(tmp_path, sandbox, grant=expired)
    httpx.post(  # noqa: ASYNC210 - test set-up, nothing else runs
        f"{sandbox.base_url}/_sandbox/oauth", json={"refresh_omits": ["scope", "refresh_token"]}
    ).raise_for_status()
    try:
        token = await source.get_token()
        assert token.value != expired.access_token and token.scopes == frozenset({"wsReadOnly"})
        user = await store.get_user("KUSER1")
        assert user is not None and not user.revoked
        kept = open_grant(KeyRing(parse_keys(SECRET_KEY)), user.grant)
        assert kept.refresh_token == expired.refresh_token and kept.scopes == ["wsReadOnly"]
    finally:
        await store.close()
