"""The per-user Wrike clients of one replica: a client is closed only once no request is using it, a new
grant version replaces it, and preview keys are derived from the secret key (the same on every replica)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from tests.remote.helpers import SECRET_KEY
from wrike_mcp.auth.errors import AuthorizationExpired
from wrike_mcp.auth.store import Grant
from wrike_mcp.config import Settings
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.gate import UserRateLimit
from wrike_mcp.remote.store import Store, user_key
from wrike_mcp.remote.upstream import wrike_scopes
from wrike_mcp.remote.users import UserClients, seal_grant
from wrike_mcp.sandbox.serve import BackgroundSandbox

SCOPES = frozenset({"wsReadWrite"})
ANN = user_key("IEAAB2CD", "KUANN")
BEN = user_key("IEAAB2CD", "KUBEN")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    await opened.migrate()
    yield opened
    await opened.close()


def keyring() -> KeyRing:
    return KeyRing(parse_keys(SECRET_KEY))


async def save(store: Store, sandbox: BackgroundSandbox, user_id: str, token: str) -> None:
    grant = Grant(
        access_token=token,
        host=f"127.0.0.1:{sandbox.port}",
        login_url=sandbox.base_url,
        scopes=["wsReadWrite"],
    )
    await store.save_user(
        user_id,
        email=None,
        name=None,
        host=grant.host,
        grant=seal_grant(keyring(), grant),
        scopes=["wsReadWrite"],
        now=time.time(),
    )


def user_clients(store: Store, sandbox: BackgroundSandbox, capacity: int) -> UserClients:
    settings = Settings(
        base_url=sandbox.api_url,
        login_url=sandbox.base_url,
        client_id="sandbox-client",
        client_secret="sandbox-secret",
    )
    return UserClients(store, keyring(), settings, capacity=capacity)


def closed(context_client: object) -> bool:
    http: httpx.AsyncClient = context_client._http  # type: ignore[attr-defined]
    return http.is_closed


async def test_eviction_waits_for_the_running_call(store: Store, sandbox: BackgroundSandbox) -> None:
    await save(store, sandbox, ANN, "wrike-sandbox-token")
    await save(store, sandbox, BEN, "wrike-sandbox-readonly")
    users = user_clients(store, sandbox, capacity=1)
    # Ann's call is slow: Wrike answers after 1.5 s, while Ben's request evicts her client (capacity 1)
    httpx.post(  # noqa: ASYNC210 - test set-up, nothing else runs yet
        f"{sandbox.base_url}/_sandbox/faults", json={"path": "/api/v4/contacts", "delay_ms": 1500}
    ).raise_for_status()
    answers: list[str] = []
    evicted = anyio.Event()

    async def ann_call() -> None:
        async with users.lease(ANN, SCOPES) as context:
            me = await context.client.get_one("/contacts", {"me": True})
            answers.append(me["firstName"])
            await evicted.wait()
            assert not closed(context.client)  # evicted meanwhile, still usable by this request
            me = await context.client.get_one("/contacts", {"me": True})
            answers.append(me["firstName"])
        assert closed(context.client)  # the last lease ended: closed now

    async with anyio.create_task_group() as group:
        group.start_soon(ann_call)
        await anyio.sleep(0.5)  # Ann's request is in flight
        async with users.lease(BEN, SCOPES) as ben:
            assert not closed(ben.client)
        evicted.set()
    assert answers == ["Ann", "Ann"]
    await users.aclose()


async def test_a_new_grant_version_replaces_the_cached_client(
    store: Store, sandbox: BackgroundSandbox
) -> None:
    await save(store, sandbox, ANN, "wrike-sandbox-readonly")
    users = user_clients(store, sandbox, capacity=10)
    async with users.lease(ANN, SCOPES) as first:
        assert await first.client.get_one("/contacts", {"me": True})
    await save(store, sandbox, ANN, "wrike-sandbox-token")  # signed in again (on any replica)
    async with users.lease(ANN, SCOPES) as second:
        assert second.client is not first.client
        assert closed(first.client)
        token = await second.client._tokens.get_token()
        assert token.value == "wrike-sandbox-token"
    await store.forget_user(ANN)  # `admin revoke`: no replica serves the grant any more
    with pytest.raises(AuthorizationExpired):
        async with users.lease(ANN, SCOPES):
            pass
    assert closed(second.client)
    await users.aclose()


async def test_preview_keys_are_per_user_and_the_same_on_every_replica(
    store: Store, sandbox: BackgroundSandbox
) -> None:
    await save(store, sandbox, ANN, "wrike-sandbox-token")
    await save(store, sandbox, BEN, "wrike-sandbox-token")
    one, two = user_clients(store, sandbox, 10), user_clients(store, sandbox, 10)
    async with one.lease(ANN, SCOPES) as a1, two.lease(ANN, SCOPES) as a2, one.lease(BEN, SCOPES) as b1:
        assert a1.preview_keys == a2.preview_keys != b1.preview_keys
        other = KeyRing(parse_keys("Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="))
        assert other.derive("bulk preview", ANN) not in a1.preview_keys
    await one.aclose()
    await two.aclose()


def test_wrike_is_asked_for_the_stored_scopes_and_the_new_ones() -> None:
    assert wrike_scopes(["wsReadOnly", "amReadOnlyAuditLog"], ["wsReadWrite"]) == [
        "wsReadWrite",
        "wsReadOnly",
        "amReadOnlyAuditLog",
    ]
    assert wrike_scopes(None, ["wsReadOnly"]) == ["wsReadOnly"]


async def test_the_per_user_limit_keeps_no_lock_per_user(store: Store) -> None:
    limit = UserRateLimit(store, per_minute=2)
    for number in range(50):
        assert await limit.retry_after(f"acct/user{number}") is None
    assert await limit.retry_after("acct/user7") is None
    wait = await limit.retry_after("acct/user7")  # the third in a minute
    assert wait is not None and 1 <= wait <= 60
    assert not store._process_locks  # no lock outlives its use
