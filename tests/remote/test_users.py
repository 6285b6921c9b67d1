"""A user's Wrike grant under refusal: a dead refresh token ends the user's sign-in; Wrike refusing the app's
own credentials (`unauthorized_client`, seen live for a wrong client secret) does not. And under a failing
store: a grant Wrike rotated while the store could not record it is kept, served and written later."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from sqlalchemy.exc import SQLAlchemyError

from tests.remote.helpers import SECRET_KEY, sandbox_wrike_tokens
from tests.remote.test_health import FreezableRelay
from wrike_mcp.auth.errors import AuthError, AuthorizationExpired
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.store import STORE_TIMEOUT, Store
from wrike_mcp.remote.users import StoredGrantSource, UserClients, open_grant, seal_grant
from wrike_mcp.sandbox.serve import BackgroundSandbox


async def save_grant(
    store: Store,
    grant: Grant,
    user_id: str = "KUSER1",
    *,
    email: str | None = "u@example.com",
    name: str | None = "U",
) -> None:
    """Store `grant` as the user's Wrike sign-in, sealed with the replicas' key."""
    await store.save_user(
        user_id,
        email=email,
        name=name,
        host=grant.host,
        grant=seal_grant(KeyRing(parse_keys(SECRET_KEY)), grant),
        scopes=["wsReadWrite"],
        now=time.time(),
    )


async def _source_with_expired_grant(
    tmp_path: Path,
    sandbox: BackgroundSandbox,
    *,
    client_secret: str = "sandbox-secret",
    grant: Grant | None = None,
    database_url: str | None = None,
    **source_options: Any,
) -> tuple[Store, StoredGrantSource]:
    keyring = KeyRing(parse_keys(SECRET_KEY))
    store = Store.open(database_url or f"sqlite:///{tmp_path / 'db.sqlite3'}")
    await store.migrate()
    grant = grant or Grant(
        access_token="expired-access",
        refresh_token="refresh-wrike-does-not-know",
        expires_at=time.time() - 10,
        lifetime=3600,
        host=f"127.0.0.1:{sandbox.port}",
        login_url=sandbox.base_url,
    )
    await save_grant(store, grant)
    source = StoredGrantSource(
        store, keyring, _settings(sandbox, client_secret), "KUSER1", grant, **source_options
    )
    return store, source


def _settings(sandbox: BackgroundSandbox, client_secret: str = "sandbox-secret") -> Settings:
    return Settings(
        base_url=sandbox.api_url,
        login_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret=client_secret,
    )


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


# ---- a refresh Wrike answered while the store failed ---------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _due_grant(sandbox: BackgroundSandbox, clock: Clock) -> Grant:
    """A grant the sandbox issued (its refresh token works once), its access token due for a refresh."""
    wrike_tokens = sandbox_wrike_tokens(sandbox.base_url, scope="wsReadWrite")
    return Grant(
        access_token=wrike_tokens["access_token"],
        refresh_token=wrike_tokens["refresh_token"],
        expires_at=clock.now - 10,
        lifetime=3600,
        host=f"127.0.0.1:{sandbox.port}",
        scopes=["wsReadWrite"],
        login_url=sandbox.base_url,
    )


@asynccontextmanager
async def _users_table_away_during(
    tmp_path: Path, sandbox: BackgroundSandbox, refresh: Callable[[], Coroutine[Any, Any, None]]
) -> AsyncIterator[None]:
    """`refresh` runs while the sandbox holds the token refresh for 1.5 s and the store's users table goes
    away (renamed once the store has read the grant); the body runs with the table still away."""
    httpx.post(  # noqa: ASYNC210 - test set-up, nothing else runs
        f"{sandbox.base_url}/_sandbox/faults",
        json={"path": "/oauth2/token", "method": "POST", "delay_ms": 1500, "times": 1},
    ).raise_for_status()
    database = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(refresh)
            await anyio.sleep(0.7)  # the refresh is at the sandbox, the store read the grant
            database.execute("ALTER TABLE users RENAME TO users_away")
            database.commit()
        yield
        database.execute("ALTER TABLE users_away RENAME TO users")
        database.commit()
    finally:
        database.close()


async def _refresh_while_the_store_fails(
    tmp_path: Path, sandbox: BackgroundSandbox, clock: Clock
) -> tuple[Store, StoredGrantSource, list[StoredGrantSource], str, str]:
    """A due grant refreshed at the sandbox while the store's users table is away: (store, source, what
    `on_kept` was told, the stored refresh token, the access token the refresh returned)."""
    due = _due_grant(sandbox, clock)
    kept: list[StoredGrantSource] = []
    store, source = await _source_with_expired_grant(
        tmp_path, sandbox, grant=due, clock=clock, on_kept=kept.append
    )
    answer: list[str] = []

    async def refresh() -> None:
        answer.append((await source.get_token()).value)

    async with _users_table_away_during(tmp_path, sandbox, refresh):
        # the next Wrike request of that call, the store still failing: served from memory, no store needed
        assert (await source.get_token()).value == answer[0]
    assert due.refresh_token is not None
    return store, source, kept, due.refresh_token, answer[0]


async def stored_grant(store: Store) -> Grant:
    user = await store.get_user("KUSER1")
    assert user is not None and not user.revoked, user
    return open_grant(KeyRing(parse_keys(SECRET_KEY)), user.grant)


async def test_a_grant_refreshed_while_the_store_fails_is_kept_then_written(
    tmp_path: Path, sandbox: BackgroundSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    store, source, kept, spent, served = await _refresh_while_the_store_fails(tmp_path, sandbox, Clock())
    try:
        assert kept == [source] and source.holds_unwritten_grant  # Wrike answered, the write failed
        assert (await stored_grant(store)).refresh_token == spent  # the store still has the spent one
        assert served != "" and (await source.get_token()).value == served  # served with what Wrike gave
        await source.write_kept()
        written = await stored_grant(store)
        assert written.access_token == served and written.refresh_token not in (None, spent)
        assert not source.holds_unwritten_grant
        messages = [r.getMessage() for r in caplog.records if r.name == "wrike_mcp.remote.users"]
        assert "the kept Wrike grant of user KUSER1 was written" in messages, messages
    finally:
        await store.close()


async def test_a_kept_grant_is_written_before_the_next_refresh(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    clock = Clock()
    store, source, _, _, served = await _refresh_while_the_store_fails(tmp_path, sandbox, clock)
    try:
        clock.now += 3600  # due again before anything wrote it: the refresh must not use the spent token
        fresh = await source.get_token()
        assert fresh.value != served
        assert (await stored_grant(store)).access_token == fresh.value  # refreshed from the kept one, stored
        assert not source.holds_unwritten_grant
    finally:
        await store.close()


async def test_a_kept_grant_never_overwrites_a_newer_sign_in(
    tmp_path: Path, sandbox: BackgroundSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    store, source, _, _, served = await _refresh_while_the_store_fails(tmp_path, sandbox, Clock())
    try:
        newer = Grant(
            access_token="signed-in-again",
            refresh_token="of-the-new-sign-in",
            expires_at=time.time() + 3600,
            host=f"127.0.0.1:{sandbox.port}",
            login_url=sandbox.base_url,
        )
        await save_grant(store, newer)
        await source.write_kept()
        assert (await stored_grant(store)).refresh_token == "of-the-new-sign-in"
        assert not source.holds_unwritten_grant
        messages = [r.getMessage() for r in caplog.records if r.name == "wrike_mcp.remote.users"]
        assert (
            "the kept Wrike grant of user KUSER1 was dropped: the user's grant changed meanwhile" in messages
        )
        assert served
    finally:
        await store.close()


# ---- a kept grant in a replica's UserClients --------------------------------------------------------------

ANOTHER_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="  # a Fernet key this replica does not have


async def _kept_by_user_clients(
    tmp_path: Path, sandbox: BackgroundSandbox, *, capacity: int
) -> tuple[Store, UserClients, str]:
    """A replica's user clients, whose client of KUSER1 refreshed its due grant while the users table was
    away (so the grant is kept, unwritten): (store, user clients, the access token Wrike gave)."""
    store, _ = await _source_with_expired_grant(tmp_path, sandbox, grant=_due_grant(sandbox, Clock()))
    users = UserClients(store, KeyRing(parse_keys(SECRET_KEY)), _settings(sandbox), capacity=capacity)
    served: list[str] = []

    async def call() -> None:
        async with users.lease("KUSER1", frozenset({"wsReadWrite"})) as context:
            assert (await context.client.get_one("/contacts", {"me": True}))["id"]
            served.append((await context.client._tokens.get_token()).value)

    async with _users_table_away_during(tmp_path, sandbox, call):
        pass
    assert (await stored_grant(store)).access_token != served[0]  # kept, not written yet
    return store, users, served[0]


async def reseal(store: Store, sealed: Callable[[Grant], str]) -> None:
    """Seal KUSER1's stored grant again (as another replica's key rotation does)."""
    async with store.locked("user:KUSER1") as conn:
        user = await store.get_user("KUSER1", conn)
        assert user is not None
        grant = open_grant(KeyRing(parse_keys(f"{SECRET_KEY},{ANOTHER_KEY}")), user.grant)
        await store.update_grant(conn, "KUSER1", sealed(grant), time.time())


async def test_a_kept_grant_this_replica_cannot_open_stops_nothing_else(
    tmp_path: Path, sandbox: BackgroundSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Mid-rotation another replica re-sealed the stored grant with a key this one lacks: writing the kept
    grant fails with SecretKeyError, which must not end the writing loop (nor the task group it shares with
    the purge and the audit trail); the grant stays kept and is written once the stored one opens again."""
    store, users, served = await _kept_by_user_clients(tmp_path, sandbox, capacity=10)
    rotated = KeyRing(parse_keys(ANOTHER_KEY))
    ours = KeyRing(parse_keys(SECRET_KEY))
    try:
        await reseal(store, lambda grant: seal_grant(rotated, grant))
        async with anyio.create_task_group() as background:
            background.start_soon(users.write_kept_grants, 0.05)
            await anyio.sleep(0.5)  # several rounds, each failing on the stored grant
            failures = [r.getMessage() for r in caplog.records if "SecretKeyError" in r.getMessage()]
            assert len(failures) >= 2, failures  # tried again, the loop still running
            await reseal(store, lambda grant: seal_grant(ours, grant))  # this replica got the key
            await anyio.sleep(0.5)  # the next rounds write it
            background.cancel_scope.cancel()
        assert (await stored_grant(store)).access_token == served
        assert served not in caplog.text and "KUSER1, <tokens hidden>" in failures[0]
    finally:
        await users.aclose()
        await store.close()


async def test_a_kept_grant_is_written_before_its_evicted_user_is_served_again(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    """The user's client is evicted (a cache of one) while its source still holds the kept grant, before the
    writing loop's next round: the user's next request builds a client from the store, whose grant Wrike has
    spent. It must be served with the kept grant (written first), not refresh the spent one: Wrike would refuse
    it, and the person's sign-in would end."""
    store, users, served = await _kept_by_user_clients(tmp_path, sandbox, capacity=1)
    try:
        other = Grant(
            access_token="wrike-sandbox-token", host=f"127.0.0.1:{sandbox.port}", login_url=sandbox.base_url
        )
        await save_grant(store, other, "KUBEN", email=None, name=None)
        async with users.lease("KUBEN", frozenset({"wsReadWrite"})) as ben:  # evicts KUSER1's client
            assert (await ben.client.get_one("/contacts", {"me": True}))["id"]
        async with users.lease("KUSER1", frozenset({"wsReadWrite"})) as again:
            assert (await again.client.get_one("/contacts", {"me": True}))["id"]
            assert (await again.client._tokens.get_token()).value == served
        assert (await stored_grant(store)).access_token == served  # written, the person still signed in
    finally:
        await users.aclose()
        await store.close()


# ---- a refresh Wrike answered as the database hangs ---------------------------------------------------


@asynccontextmanager
async def _source_behind_a_relay(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> AsyncIterator[tuple[StoredGrantSource, FreezableRelay, Grant]]:
    """A source of a due grant whose store reaches PostgreSQL through a relay the test can freeze (a
    partition: nothing refused, nothing answered), the sandbox holding its next refresh for 1.5 s: (source,
    relay, the due grant). The relay thaws when the body ends."""
    database = urlsplit(postgres_url)
    relay = FreezableRelay((database.hostname or "127.0.0.1", database.port or 5432))
    via_relay = postgres_url.replace(database.netloc, f"{database.username}@127.0.0.1:{relay.port}", 1)
    due = _due_grant(sandbox, Clock())
    store, source = await _source_with_expired_grant(tmp_path, sandbox, grant=due, database_url=via_relay)
    httpx.post(  # noqa: ASYNC210 - test set-up, nothing else runs
        f"{sandbox.base_url}/_sandbox/faults",
        json={"path": "/oauth2/token", "method": "POST", "delay_ms": 1500, "times": 1},
    ).raise_for_status()
    # a write that waits for the database, shielded from the test's own timeout, would hang the test for good
    unstuck = threading.Timer(1.5 + STORE_TIMEOUT + 8, relay.thaw)
    unstuck.start()
    try:
        yield source, relay, due
    finally:
        unstuck.cancel()
        relay.thaw()
        with anyio.move_on_after(STORE_TIMEOUT + 5):
            await store.close()
        relay.close()


async def _written_once_the_database_answers(source: StoredGrantSource, postgres_url: str) -> Grant:
    with anyio.fail_after(15):
        while source.holds_unwritten_grant:
            try:
                await source.write_kept()
            except (SQLAlchemyError, OSError):  # connections the relay dropped at the thaw
                await anyio.sleep(0.2)
    direct = Store.open(postgres_url)
    try:
        return await stored_grant(direct)
    finally:
        await direct.close()


async def test_a_refresh_answered_as_the_database_hangs_keeps_the_grant_within_the_store_timeout(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """Wrike has rotated the refresh token; the write of the new grant hangs: after the store's timeout the
    grant is kept and served (not a request hanging until the database answers), then written."""
    async with _source_behind_a_relay(tmp_path, sandbox, postgres_url) as (source, relay, _):
        started = time.monotonic()
        answer: list[str] = []

        async def refresh() -> None:
            answer.append((await source.get_token()).value)

        with anyio.fail_after(1.5 + STORE_TIMEOUT + 3):  # without the timeout: until the database answers
            async with anyio.create_task_group() as group:
                group.start_soon(refresh)
                await anyio.sleep(0.7)  # the store read the grant, the refresh is at the sandbox
                relay.freeze()
        assert time.monotonic() - started >= 1.5 + STORE_TIMEOUT - 0.5  # it did wait for the write
        assert source.holds_unwritten_grant and answer[0]
        relay.thaw()
        assert (await _written_once_the_database_answers(source, postgres_url)).access_token == answer[0]


async def test_a_refresh_answered_as_the_database_hangs_is_kept_when_its_request_is_cancelled(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """The same, and the request is cancelled while the write hangs (its client gone): Wrike's answer is the
    only live refresh token, so the write finishes or times out, and the grant is kept, not lost."""
    async with _source_behind_a_relay(tmp_path, sandbox, postgres_url) as (source, relay, due):
        answer: list[str] = []

        async def refresh() -> None:
            answer.append((await source.get_token()).value)

        with anyio.fail_after(1.5 + STORE_TIMEOUT + 3):
            async with anyio.create_task_group() as group:
                group.start_soon(refresh)
                await anyio.sleep(0.7)
                relay.freeze()
                await anyio.sleep(1.5)  # Wrike answered, the write hangs
                group.cancel_scope.cancel()
        assert source.holds_unwritten_grant
        relay.thaw()
        written = await _written_once_the_database_answers(source, postgres_url)
    assert written.access_token != due.access_token and written.refresh_token not in (None, due.refresh_token)
