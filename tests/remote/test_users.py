"""A user's Wrike grant under refusal: a dead refresh token ends the user's sign-in; Wrike refusing the app's
own credentials (`unauthorized_client`, seen live for a wrong client secret) does not."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.remote.helpers import SECRET_KEY
from wrike_mcp.auth.errors import AuthError, AuthorizationExpired
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.store import Store
from wrike_mcp.remote.users import StoredGrantSource, seal_grant
from wrike_mcp.sandbox.serve import BackgroundSandbox


async def _source_with_expired_grant(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> tuple[Store, StoredGrantSource]:
    settings = Settings(
        base_url=sandbox.api_url,
        login_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret="sandbox-secret",  # type: ignore[arg-type]
    )
    keyring = KeyRing(parse_keys(SECRET_KEY))
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    await store.migrate()
    grant = Grant(
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
    store, source = await _source_with_expired_grant(tmp_path, sandbox)
    httpx.post(  # noqa: ASYNC210 - test set-up, nothing else runs
        f"{sandbox.base_url}/_sandbox/faults",
        json={"method": "POST", "path": "/oauth2/token", "status": 400, "error": "unauthorized_client"},
    ).raise_for_status()
    try:
        with pytest.raises(AuthError) as raised:
            await source.get_token()
        assert not isinstance(raised.value, AuthorizationExpired)
        assert "WRIKE_CLIENT_SECRET" in str(raised.value)
        user = await store.get_user("KUSER1")
        assert user is not None and not user.revoked
    finally:
        await store.close()
