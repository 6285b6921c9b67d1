"""The per-replica cache of verified access tokens (remote/token_cache.py): a revocation through a replica
takes effect there at once, even for a token it has just cached; on another replica within the cache's TTL.

The provider tests run in-process over a real store (SQLite and PostgreSQL); a write by "another replica" is a
plain SQL update that bypasses this store object, as another process's would. The HTTP tests run real
replicas: one for the revocation paths of its own process and for `wrike-mcp admin revoke` from another
process, two on one PostgreSQL for the bound across them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from mcp.server.auth.provider import AccessToken
from sqlalchemy import update

from tests.remote.helpers import (
    DEFAULT_SIGN_IN_LIMITS,
    REDIRECT_URI,
    SECRET_KEY,
    Browser,
    Replica,
    admin,
    free_port,
    start_replica,
)
from wrike_mcp.remote.crypto import KeyRing, parse_keys
from wrike_mcp.remote.provider import ACCESS_PREFIX, AuthServerConfig, WrikeMCPAuthProvider
from wrike_mcp.remote.store import SCHEMA_VERSION, Store, digest, tokens
from wrike_mcp.remote.token_cache import TTL, TokenCache
from wrike_mcp.sandbox.serve import BackgroundSandbox

ANN = "ann.lee@northwind.example"
RESOURCE = "https://mcp.example.com/mcp"
CONFIG = AuthServerConfig(
    issuer="https://mcp.example.com",
    resource=RESOURCE,
    scopes_supported=("wsReadWrite",),
    default_scopes=("wsReadWrite",),
    access_token_ttl=3600,
    refresh_token_ttl=86400,
    refresh_reuse_leeway=10.0,
    registration_ttl=3600,
    limits=DEFAULT_SIGN_IN_LIMITS,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store.open(database_url)
    try:
        assert await opened.migrate() == SCHEMA_VERSION
        yield opened
    finally:
        await opened.close()


def provider_with_clock(store: Store, clock: Clock, *, capacity: int = 100) -> WrikeMCPAuthProvider:
    provider = WrikeMCPAuthProvider(store, KeyRing(parse_keys(SECRET_KEY)), CONFIG)
    provider.access_tokens = TokenCache(store, clock=clock, capacity=capacity)
    return provider


async def new_token(store: Store, family: str = "fam-1") -> str:
    value = ACCESS_PREFIX + secrets.token_urlsafe(32)
    now = time.time()
    row: dict[str, Any] = {
        "token": value,
        "kind": "access",
        "family": family,
        "client_id": "client-1",
        "user_id": "U1",
        "scopes": "wsReadWrite",
        "resource": RESOURCE,
        "expires_at": now + 3600,
        "used": False,
        "revoked": False,
        "created_at": now,
    }
    assert await store.save_tokens([row])
    return value


async def revoke_elsewhere(store: Store, value: str) -> None:
    """What another replica's revocation does to the shared database (this store object does not see it)."""
    async with store.engine.begin() as conn:
        await conn.execute(update(tokens).where(tokens.c.token == digest(value)).values(revoked=True))


# ---- the provider over a real store -----------------------------------------------------------------


async def test_a_token_revoked_elsewhere_lives_here_at_most_the_ttl(store: Store) -> None:
    clock = Clock()
    provider = provider_with_clock(store, clock)
    value = await new_token(store)
    first = await provider.load_access_token(value)
    assert first is not None and first.subject == "U1" and first.resource == RESOURCE
    await revoke_elsewhere(store, value)
    clock.now += TTL - 0.01
    assert await provider.load_access_token(value) == first  # from the cache: the store was not asked
    clock.now += 0.02
    assert await provider.load_access_token(value) is None  # TTL over: the store says revoked


async def test_a_revocation_through_this_store_empties_the_cache(store: Store) -> None:
    provider = provider_with_clock(store, Clock())
    kept, revoked = await new_token(store, "fam-kept"), await new_token(store, "fam-revoked")
    assert await provider.load_access_token(kept) is not None
    assert await provider.load_access_token(revoked) is not None
    await store.revoke_family("fam-revoked")
    assert await provider.load_access_token(revoked) is None
    assert await provider.load_access_token(kept) is not None  # read again from the store, still valid

    async def wrike_refused_the_grant() -> None:  # as users.py does when Wrike refuses a refresh
        async with store.locked("user:U1") as conn:
            await store.revoke_grant(conn, "U1", time.time())

    # then what `wrike-mcp admin revoke` does, should it run in a replica's process
    for revoke in (
        wrike_refused_the_grant,
        lambda: store.delete_client("client-1"),
        lambda: store.forget_user("U1"),
    ):
        again = await new_token(store, "fam-again")
        assert await provider.load_access_token(again) is not None
        await revoke()
        assert await provider.load_access_token(again) is None


async def test_a_read_that_raced_a_revocation_is_not_cached(store: Store) -> None:
    cache = TokenCache(store, clock=Clock())
    provider = provider_with_clock(store, Clock())
    value = await new_token(store)
    verified = await provider.load_access_token(value)
    assert verified is not None
    before = cache.revocations()  # a lookup started ...
    await store.revoke_family("fam-1")  # ... a revocation committed meanwhile ...
    cache.put(value, verified, before)  # ... and the lookup's answer (read before it) arrives
    assert cache.get(value) is None
    cache.put(value, verified, cache.revocations())
    assert cache.get(value) == verified


async def test_the_cache_keeps_at_most_its_capacity(store: Store) -> None:
    clock = Clock()
    provider = provider_with_clock(store, clock, capacity=2)
    values = [await new_token(store, f"fam-{n}") for n in range(3)]
    for value in values:
        assert await provider.load_access_token(value) is not None
        clock.now += 0.1
    for value in values:
        await revoke_elsewhere(store, value)
    # the oldest was dropped to make room: it is read from the store again; the two newest are cached
    assert [await provider.load_access_token(v) is not None for v in values] == [False, True, True]


async def test_an_expired_token_is_refused_even_from_the_cache(store: Store) -> None:
    clock = Clock()
    wall = [time.time()]
    provider = provider_with_clock(store, clock)
    provider.clock = lambda: wall[0]
    value = await new_token(store)
    assert await provider.load_access_token(value) is not None
    wall[0] += 3601  # the token's own expiry (1 h) passes while it sits in the cache
    assert await provider.load_access_token(value) is None


async def verified_token(store: Store) -> tuple[str, AccessToken]:
    value = await new_token(store)
    verified = await provider_with_clock(store, Clock()).load_access_token(value)
    assert verified is not None
    return value, verified


async def test_a_token_put_before_any_lookup_is_cached(store: Store) -> None:
    value, verified = await verified_token(store)
    cache = TokenCache(store, clock=Clock())
    cache.put(value, verified, cache.revocations())
    assert cache.get(value) == verified


async def test_a_read_that_raced_a_revocation_is_not_cached_even_after_another_lookup(store: Store) -> None:
    value, verified = await verified_token(store)
    cache = TokenCache(store, clock=Clock())
    before = cache.revocations()  # a lookup started ...
    await store.revoke_family("other-family")  # ... a revocation committed meanwhile ...
    assert cache.get("another request's token") is None  # ... another request looked a token up ...
    cache.put(value, verified, before)  # ... and the first lookup's answer (read before it) arrives
    assert cache.get(value) is None


async def test_an_entry_lives_exactly_the_ttl(store: Store) -> None:
    value, verified = await verified_token(store)
    clock = Clock()
    cache = TokenCache(store, ttl=0.5, clock=clock)
    cache.put(value, verified, cache.revocations())
    clock.now += 0.4
    assert cache.get(value) == verified
    clock.now += 0.1
    assert cache.get(value) is None
    off = TokenCache(store, ttl=0, clock=clock)  # a ttl of 0 turns the cache off
    off.put(value, verified, off.revocations())
    assert off.get(value) is None


async def test_a_token_verified_again_is_the_newest_entry(store: Store) -> None:
    """Entries leave in the order they expire: one verified again moves behind the others."""
    (first, verified), (second, _) = await verified_token(store), await verified_token(store)
    clock = Clock()
    cache = TokenCache(store, capacity=2, clock=clock)
    cache.put(first, verified, cache.revocations())
    cache.put(second, verified, cache.revocations())
    clock.now += 1
    cache.put(first, verified, cache.revocations())  # its entry expired or not: verified again now
    cache.put("third", verified, cache.revocations())  # no room: the oldest entry goes, the second's
    assert [cache.get(first), cache.get(second), cache.get("third")] == [verified, None, verified]
    clock.now += TTL - 0.5
    assert cache.get(first) == verified  # the renewed entry counts its TTL from the second verification


async def test_verifying_a_cached_token_again_evicts_no_other(store: Store) -> None:
    (first, verified), (second, _) = await verified_token(store), await verified_token(store)
    cache = TokenCache(store, capacity=2, clock=Clock())
    cache.put(first, verified, cache.revocations())
    cache.put(second, verified, cache.revocations())
    cache.put(second, verified, cache.revocations())  # full, but the token is already one of the two
    assert [cache.get(first), cache.get(second)] == [verified, verified]


# ---- real replicas ------------------------------------------------------------------------------------


TIMEOUT = 15.0
PROMISED = 2.0  # docs/REMOTE.md: a revocation reaches every replica within 2 s
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
INITIALIZE = {  # answered without a session, so each call stands alone
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "cache", "version": "0"},
    },
}


def status(replica: Replica, token: str) -> int:
    response = httpx.post(
        replica.mcp_url,
        json=INITIALIZE,
        headers={**HEADERS, "Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
    return response.status_code


def sign_in_with_client(base: str) -> tuple[dict[str, Any], str]:
    """A complete sign-in through a client registered here: (tokens, client id)."""
    client_id = httpx.post(
        f"{base}/register",
        json={"client_name": "Cache", "redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
        timeout=TIMEOUT,
    ).json()["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    query = urlencode(
        {
            "client_id": client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    code = Browser(user=ANN).authorize(f"{base}/authorize?{query}")["code"]
    response = httpx.post(
        f"{base}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return json.loads(response.text), client_id


@pytest.fixture
def replica_database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite3'}"


@pytest.fixture
def replica(tmp_path: Path, sandbox: BackgroundSandbox, replica_database: str) -> Iterator[Replica]:
    running = start_replica(
        tmp_path,
        sandbox.base_url,
        replica_database,
        # a reuse right after the rotation revokes (no leeway for a racing double refresh)
        extra_env={"WRIKE_MCP_REFRESH_REUSE_LEEWAY": "0"},
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_revoke_on_the_same_replica_refuses_a_just_cached_token_at_once(replica: Replica) -> None:
    tokens, client_id = sign_in_with_client(replica.base_url)
    access = tokens["access_token"]
    assert [status(replica, access) for _ in range(3)] == [200, 200, 200]  # verified once, then cached
    response = httpx.post(
        f"{replica.base_url}/revoke", data={"token": access, "client_id": client_id}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert status(replica, access) == 401


@pytest.mark.slow
def test_refresh_token_reuse_on_the_same_replica_refuses_cached_tokens_at_once(replica: Replica) -> None:
    tokens, client_id = sign_in_with_client(replica.base_url)

    def refresh(refresh_token: str) -> httpx.Response:
        return httpx.post(
            f"{replica.base_url}/token",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
            timeout=TIMEOUT,
        )

    rotated = refresh(tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    new_access = rotated.json()["access_token"]
    assert status(replica, tokens["access_token"]) == 200
    assert status(replica, new_access) == 200  # both cached now
    assert refresh(tokens["refresh_token"]).status_code == 400  # reuse: the whole family is revoked
    assert [status(replica, tokens["access_token"]), status(replica, new_access)] == [401, 401]


@pytest.mark.slow
def test_a_token_revoked_on_one_replica_is_refused_on_the_other_within_the_ttl(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    port_a = free_port()
    public = f"http://127.0.0.1:{port_a}"
    a = start_replica(tmp_path, sandbox.base_url, postgres_url, public_url=public, port=port_a, name="a")
    b = start_replica(tmp_path, sandbox.base_url, postgres_url, public_url=public, name="b")
    try:
        tokens, client_id = sign_in_with_client(a.base_url)
        access = tokens["access_token"]
        assert [status(a, access), status(b, access)] == [200, 200]  # cached on both
        response = httpx.post(
            f"{a.base_url}/revoke", data={"token": access, "client_id": client_id}, timeout=TIMEOUT
        )
        revoked_at = time.monotonic()
        assert response.status_code == 200, response.text
        assert status(a, access) == 401  # the replica that revoked: at once
        while status(b, access) == 200:
            assert time.monotonic() - revoked_at < PROMISED + 0.5, "B still accepts the revoked token"
            time.sleep(0.05)
        assert status(b, access) == 401  # and it stays refused
    finally:
        a.stop()
        b.stop()


@pytest.mark.slow
def test_admin_revoke_of_a_user_is_refused_by_a_running_replica_within_the_ttl(
    tmp_path: Path, replica: Replica, replica_database: str
) -> None:
    """`wrike-mcp admin revoke --user` runs in its own process, like another replica: the replica that has the
    token cached refuses it within the promised 2 s (docs/REMOTE.md, "When a revocation takes effect")."""
    tokens, _ = sign_in_with_client(replica.base_url)
    access = tokens["access_token"]
    assert [status(replica, access) for _ in range(2)] == [200, 200]  # verified, then cached
    revoked = admin(tmp_path, replica_database, "revoke", "--user", ANN)
    revoked_at = time.monotonic()
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    while status(replica, access) == 200:
        assert time.monotonic() - revoked_at < PROMISED + 0.5, "the replica still accepts the revoked token"
        time.sleep(0.05)
    assert status(replica, access) == 401  # and it stays refused
