"""The remote store on both databases it supports: an SQLite file and a real PostgreSQL (replicas).

Every test runs twice through the `database_url` fixture. What matters here is what replicas rely on: the
schema migrates once and idempotently, single-use things (consent transactions, codes, refresh tokens) work
exactly once, secrets are never stored as given, and `locked()` serialises work on one name.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from cryptography.fernet import Fernet
from mcp.shared.auth import OAuthClientInformationFull
from sqlalchemy import inspect, select, text, update

from tests.remote.helpers import DEFAULT_SIGN_IN_LIMITS
from wrike_mcp.remote.crypto import KEY_FILE, KeyRing, SecretKeyError, load_keyring
from wrike_mcp.remote.pending import PendingAuthorization
from wrike_mcp.remote.provider import AuthServerConfig, WrikeMCPAuthProvider
from wrike_mcp.remote.store import (
    SCHEMA_VERSION,
    Consent,
    Store,
    clients,
    codes,
    consents,
    digest,
    engine_url,
    metadata,
    pending,
    schema_version,
    sqlite_path,
    tokens,
    users,
)

NOW = 1_800_000_000.0
PARAMS = PendingAuthorization(
    redirect_uri="http://127.0.0.1:4567/cb",
    redirect_uri_provided_explicitly=True,
    code_challenge="x" * 43,
    state="client-state",
    scopes=["wsReadWrite"],
    resource="https://mcp.example.com/mcp",
)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = Store.open(database_url)
    try:
        assert await opened.migrate() == SCHEMA_VERSION
        yield opened
    finally:
        await opened.close()


def token_row(
    value: str, *, kind: str = "access", family: str = "fam-1", user_id: str = "U1"
) -> dict[str, Any]:
    return {
        "token": value,
        "kind": kind,
        "family": family,
        "client_id": "client-1",
        "user_id": user_id,
        "scopes": "wsReadWrite amReadOnlyAuditLog",
        "resource": "https://mcp.example.com/mcp",
        "expires_at": NOW + 3600,
        "used": False,
        "revoked": False,
        "created_at": NOW,
    }


# ---- schema -------------------------------------------------------------------------------------------


async def test_migrate_is_idempotent_and_shared_by_a_second_store(database_url: str) -> None:
    first = Store.open(database_url)
    second = Store.open(database_url)
    try:
        assert await first.migrate() == SCHEMA_VERSION
        await first.save_client("kept", {"client_name": "Kept"}, None, "dcr", NOW, NOW + 60)
        assert await first.migrate() == SCHEMA_VERSION
        assert await second.migrate() == SCHEMA_VERSION  # a replica starting later on the same database
        async with second.engine.connect() as conn:
            versions = (await conn.execute(select(schema_version.c.version))).scalars().all()
        assert versions == [SCHEMA_VERSION]
        kept = await second.get_client("kept")  # migrating again kept the data
        assert kept is not None and kept.info == {"client_name": "Kept"}
    finally:
        await first.close()
        await second.close()


async def test_replicas_migrating_at_once_on_postgresql(postgres_url: str) -> None:
    stores = [Store.open(postgres_url) for _ in range(4)]
    results: list[int] = []
    try:

        async def migrate(store: Store) -> None:
            results.append(await store.migrate())

        async with anyio.create_task_group() as group:
            for store in stores:
                group.start_soon(migrate, store)
        assert results == [SCHEMA_VERSION] * 4
        async with stores[0].engine.connect() as conn:
            versions = (await conn.execute(select(schema_version.c.version))).scalars().all()
        assert versions == [SCHEMA_VERSION]
    finally:
        for store in stores:
            await store.close()


async def test_a_newer_schema_is_refused(store: Store) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(update(schema_version).values(version=SCHEMA_VERSION + 1))
    with pytest.raises(RuntimeError, match="newer than this wrike-mcp"):
        await store.migrate()


# ---- clients ------------------------------------------------------------------------------------------


async def test_clients_save_get_and_expire(store: Store) -> None:
    info = {"client_name": "App", "redirect_uris": ["http://127.0.0.1:4567/cb"]}
    await store.save_client("dcr-unused", info, "ENCRYPTED", "dcr", NOW, NOW + 60)
    await store.save_client("dcr-used", info, None, "dcr", NOW, NOW + 60)
    await store.save_client("https://app.example/cimd.json", info, None, "cimd", NOW, NOW + 60)

    row = await store.get_client("dcr-unused")
    assert row is not None
    assert (row.info, row.secret, row.kind, row.created_at, row.expires_at, row.used_at) == (
        info,
        "ENCRYPTED",
        "dcr",
        NOW,
        NOW + 60,
        None,
    )
    assert await store.get_client("nobody") is None
    assert await store.all_client_secrets() == [("dcr-unused", "ENCRYPTED")]

    # a registration that obtained a token is kept; a CIMD document stays a cache entry with its expiry
    await store.mark_client_used("dcr-used", NOW + 10)
    await store.mark_client_used("https://app.example/cimd.json", NOW + 10)
    used = await store.get_client("dcr-used")
    assert used is not None and used.used_at == NOW + 10 and used.expires_at is None
    cimd = await store.get_client("https://app.example/cimd.json")
    assert cimd is not None and cimd.expires_at == NOW + 60

    await store.purge_expired(NOW + 30)  # nothing expired yet
    assert len(await store.list_clients()) == 3
    await store.purge_expired(NOW + 61)
    assert [c.client_id for c in await store.list_clients()] == ["dcr-used"]

    # saving again replaces (a re-fetched CIMD document)
    await store.save_client("dcr-used", {"client_name": "Renamed"}, None, "dcr", NOW + 70, NOW + 200)
    again = await store.get_client("dcr-used")
    assert again is not None and again.info == {"client_name": "Renamed"} and again.expires_at == NOW + 200

    assert await store.delete_client("dcr-used") is True
    assert await store.delete_client("dcr-used") is False
    assert await store.get_client("dcr-used") is None


async def test_a_stale_cimd_record_stays_while_its_client_holds_a_live_grant(store: Store) -> None:
    """/token looks clients up without fetching (provider.get_client): the record /authorize stored stays past
    the cached document's hour while a sign-in, a code or an unrevoked token of the client is live."""
    info = {"client_name": "Doc", "redirect_uris": ["https://app.example/cb"]}
    urls = {
        name: f"https://{name}.example/c.json" for name in ("pending", "code", "token", "revoked", "idle")
    }
    for url in urls.values():
        await store.save_client(url, info, None, "cimd", NOW, NOW + 60)
    await store.save_client("dcr-unused", info, None, "dcr", NOW, NOW + 60)
    await store.save_pending("txn-1", urls["pending"], PARAMS, NOW + 600)
    await store.save_code("code-1", urls["code"], "U1", PARAMS, NOW + 300)
    await store.save_tokens(
        [
            {**token_row("rt-1", kind="refresh"), "client_id": urls["token"], "expires_at": NOW + 86400},
            {**token_row("at-2", family="fam-2"), "client_id": urls["revoked"]},
            {**token_row("at-3", family="fam-3"), "client_id": "dcr-unused"},
        ]
    )
    await store.revoke_family("fam-2")

    await store.purge_expired(NOW + 61)
    kept = {c.client_id for c in await store.list_clients()}
    assert kept == {urls["pending"], urls["code"], urls["token"]}  # not the revoked, idle or DCR one
    await store.purge_expired(NOW + 601)  # the sign-in and the code expired; the refresh token lives on
    assert {c.client_id for c in await store.list_clients()} == {urls["token"]}
    await store.purge_expired(NOW + 86401)
    assert await store.list_clients() == []


async def test_ending_account_sessions_moves_the_generation_for_that_person_only(store: Store) -> None:
    assert await store.account_session_generation("acct/ann") == 0  # never signed out: no row
    await store.end_account_sessions("acct/ann")
    await store.end_account_sessions("acct/ann")
    await store.end_account_sessions("acct/ben")
    assert await store.account_session_generation("acct/ann") == 2
    assert await store.account_session_generation("acct/ben") == 1
    assert await store.account_session_generation("acct/chloe") == 0


# ---- consent transactions -----------------------------------------------------------------------------


async def test_pending_transaction_lifecycle(store: Store) -> None:
    await store.save_pending("txn-1", "client-1", PARAMS, NOW + 600)
    assert await store.get_pending("txn-1", NOW) == ("client-1", PARAMS, None)
    assert await store.get_pending("txn-unknown", NOW) is None
    assert await store.get_pending("txn-1", NOW + 601) is None  # expired

    # the first browser to open the consent page owns the transaction
    assert await store.bind_pending("txn-1", "browser-a") is True
    assert await store.bind_pending("txn-1", "browser-a") is True  # reloading the page
    assert await store.bind_pending("txn-1", "browser-b") is False
    assert await store.get_pending("txn-1", NOW) == ("client-1", PARAMS, digest("browser-a"))

    # approved once, with the scopes the person kept: the Wrike state is recorded, and the transaction
    # no longer shows a consent page
    approved = PARAMS.model_copy(update={"scopes": ["wsReadOnly"]})
    # with the binding issued at Allow, which replaces the page view's browser
    assert await store.approve_pending("txn-1", "upstream-state", approved, binding="binding-1") is True
    assert await store.approve_pending("txn-1", "another-state", PARAMS, binding="binding-2") is False
    assert await store.get_pending("txn-1", NOW) is None

    # Wrike's callback takes it exactly once, and only by the state that was sent
    assert await store.take_pending("another-state", NOW) is None
    assert await store.take_pending("upstream-state", NOW) == ("client-1", approved, digest("binding-1"))
    assert await store.take_pending("upstream-state", NOW) is None


async def test_pending_transactions_stored_hashed_expire_and_can_be_deleted(store: Store) -> None:
    await store.save_pending("txn-late", "client-1", PARAMS, NOW + 600)
    await store.approve_pending("txn-late", "late-state", PARAMS, binding="binding")
    assert await store.take_pending("late-state", NOW + 601) is None  # too late: gone and refused
    assert await store.take_pending("late-state", NOW) is None

    await store.save_pending("txn-deny", "client-1", PARAMS, NOW + 600)
    await store.delete_pending("txn-deny")
    assert await store.get_pending("txn-deny", NOW) is None

    await store.save_pending("txn-old", "client-1", PARAMS, NOW + 600)
    await store.save_pending("txn-new", "client-1", PARAMS, NOW + 1200)
    await store.purge_expired(NOW + 900)
    assert await store.get_pending("txn-old", NOW) is None
    assert await store.get_pending("txn-new", NOW) is not None

    async with store.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT txn FROM pending_authorizations"))).scalars().all()
    assert stored == [digest("txn-new")]


async def test_two_browsers_racing_for_one_transaction(store: Store) -> None:
    await store.save_pending("txn-race", "client-1", PARAMS, NOW + 600)
    outcomes: dict[str, bool] = {}

    async def bind(browser: str) -> None:
        outcomes[browser] = await store.bind_pending("txn-race", browser)

    async with anyio.create_task_group() as group:
        for browser in ("browser-a", "browser-b", "browser-c"):
            group.start_soon(bind, browser)
    assert sorted(outcomes.values()) == [False, False, True]
    winner = next(browser for browser, won in outcomes.items() if won)
    assert await store.get_pending("txn-race", NOW) == ("client-1", PARAMS, digest(winner))


async def test_racing_approvals_and_callbacks_win_once(store: Store) -> None:
    await store.save_pending("txn-race", "client-1", PARAMS, NOW + 600)
    approvals: list[bool] = []
    taken: list[object] = []

    async def approve(n: int) -> None:
        approvals.append(await store.approve_pending("txn-race", f"state-{n}", PARAMS, binding=f"b-{n}"))

    async with anyio.create_task_group() as group:
        for n in range(3):
            group.start_soon(approve, n)
    assert sorted(approvals) == [False, False, True]

    async def take(n: int) -> None:
        taken.append(await store.take_pending(f"state-{n}", NOW))

    async with anyio.create_task_group() as group:
        for n in (0, 1, 2, 0, 1, 2):
            group.start_soon(take, n)
    winners = [found for found in taken if found is not None]
    assert len(winners) == 1 and winners[0] in [("client-1", PARAMS, digest(f"b-{n}")) for n in range(3)]


# ---- authorization codes ------------------------------------------------------------------------------


async def test_codes_are_hashed_and_spend_once(store: Store) -> None:
    await store.save_code("code-1", "client-1", "U1", PARAMS.request(["wsReadOnly"]), NOW + 300)
    assert await store.get_code("code-1") == (
        "client-1",
        "U1",
        PARAMS.request(["wsReadOnly"]),
        NOW + 300,
        False,
    )
    assert await store.get_code("code-2") is None

    results: list[bool] = []

    async def spend() -> None:
        results.append(await store.spend_code("code-1"))

    async with anyio.create_task_group() as group:
        for _ in range(3):
            group.start_soon(spend)
    assert sorted(results) == [False, False, True]
    assert await store.spend_code("code-1") is False
    found = await store.get_code("code-1")
    assert found is not None and found[4] is True
    assert await store.spend_code("never-issued") is False

    async with store.engine.connect() as conn:
        stored = (await conn.execute(select(codes.c.code))).scalars().all()
    assert stored == [digest("code-1")]


# ---- tokens -------------------------------------------------------------------------------------------


async def test_tokens_are_hashed_and_refresh_rotation_spends_once(store: Store) -> None:
    assert await store.save_tokens([token_row("at-1"), token_row("rt-1", kind="refresh")]) is True
    access = await store.get_token("at-1")
    assert access is not None
    assert (access.kind, access.family, access.client_id, access.user_id) == (
        "access",
        "fam-1",
        "client-1",
        "U1",
    )
    assert access.scopes == ["wsReadWrite", "amReadOnlyAuditLog"]
    assert (access.used, access.revoked, access.expires_at) == (False, False, NOW + 3600)
    assert await store.get_token("at-unknown") is None

    async with store.engine.connect() as conn:
        stored = set((await conn.execute(select(tokens.c.token))).scalars().all())
    assert stored == {digest("at-1"), digest("rt-1")}

    # rotation: the refresh token buys one new pair
    rotated = [token_row("at-2"), token_row("rt-2", kind="refresh")]
    assert await store.save_tokens(rotated, spend_refresh="rt-1") is True
    spent = await store.get_token("rt-1")
    assert spent is not None and spent.used is True
    # a second spend of the same refresh token is refused and stores nothing
    replay = [token_row("at-3"), token_row("rt-3", kind="refresh")]
    assert await store.save_tokens(replay, spend_refresh="rt-1") is False
    assert await store.get_token("at-3") is None and await store.get_token("rt-3") is None
    # a revoked refresh token cannot be spent either
    await store.revoke_family("fam-1")
    assert await store.save_tokens(replay, spend_refresh="rt-2") is False


async def test_concurrent_refreshes_with_one_token_only_one_wins(store: Store) -> None:
    await store.save_tokens([token_row("rt-race", kind="refresh")])
    results: list[bool] = []

    async def refresh(n: int) -> None:
        rows = [token_row(f"at-r{n}"), token_row(f"rt-r{n}", kind="refresh")]
        results.append(await store.save_tokens(rows, spend_refresh="rt-race"))

    async with anyio.create_task_group() as group:
        for n in range(4):
            group.start_soon(refresh, n)
    assert sorted(results) == [False, False, False, True]
    issued = [n for n in range(4) if await store.get_token(f"at-r{n}") is not None]
    assert len(issued) == 1


async def test_revoke_family_and_user(store: Store) -> None:
    await store.save_tokens(
        [
            token_row("u1-a1", family="fam-a"),
            token_row("u1-r1", kind="refresh", family="fam-a"),
            token_row("u1-a2", family="fam-b"),
            token_row("u2-a1", family="fam-c", user_id="U2"),
        ]
    )

    async def revoked(value: str) -> bool:
        row = await store.get_token(value)
        assert row is not None
        return row.revoked

    await store.revoke_family("fam-a")
    assert [await revoked(v) for v in ("u1-a1", "u1-r1", "u1-a2", "u2-a1")] == [True, True, False, False]


async def test_purge_keeps_recent_codes_and_tokens(store: Store) -> None:
    await store.save_code("code-old", "client-1", "U1", PARAMS.request(["wsReadWrite"]), NOW)
    await store.save_tokens([{**token_row("at-old"), "expires_at": NOW}])
    await store.purge_expired(NOW + 60)  # expired, but kept a while so a replay is still recognised
    assert await store.get_code("code-old") is not None and await store.get_token("at-old") is not None
    await store.purge_expired(NOW + 86400 + 1)
    assert await store.get_code("code-old") is None and await store.get_token("at-old") is None


# ---- users and their encrypted Wrike grants -----------------------------------------------------------


async def test_users_grants_are_stored_as_the_caller_encrypted_them(store: Store) -> None:
    keyring = KeyRing([Fernet.generate_key()])
    secret = {"access_token": "wrike-access-SECRET", "refresh_token": "wrike-refresh-SECRET", "expires_at": 1}
    plaintext = json.dumps(secret)
    await store.save_user(
        "U1",
        email="ann.lee@northwind.example",
        name="Ann Lee",
        host="www.wrike.com",
        grant=keyring.encrypt(plaintext),
        scopes=["wsReadWrite", "amReadOnlyAuditLog"],
        now=NOW,
    )
    async with store.engine.connect() as conn:
        raw = (await conn.execute(select(users.c.grant).where(users.c.user_id == "U1"))).scalar_one()
        dumped = " ".join(str(v) for row in (await conn.execute(select(users))).all() for v in row)
    assert raw != plaintext
    assert "wrike-access-SECRET" not in dumped and "wrike-refresh-SECRET" not in dumped
    assert keyring.decrypt(raw) == plaintext

    user = await store.get_user("U1")
    assert user is not None
    assert (user.email, user.name, user.host, user.scopes, user.revoked) == (
        "ann.lee@northwind.example",
        "Ann Lee",
        "www.wrike.com",
        ["wsReadWrite", "amReadOnlyAuditLog"],
        False,
    )
    assert json.loads(keyring.decrypt(user.grant)) == secret
    assert await store.all_grants() == [("U1", raw)]

    # signing in again updates the same row (a previous revocation is lifted)
    async with store.engine.begin() as conn:
        await store.revoke_grant(conn, "U1", NOW + 5)
    revoked = await store.get_user("U1")
    assert revoked is not None and revoked.revoked is True
    await store.save_user(
        "U1",
        email="ann.lee@northwind.example",
        name="Ann B. Lee",
        host="app-eu.wrike.com",
        grant=keyring.encrypt("{}"),
        scopes=["wsReadOnly"],
        now=NOW + 10,
    )
    again = await store.get_user("U1")
    assert again is not None
    assert (again.name, again.host, again.scopes, again.revoked, again.updated_at) == (
        "Ann B. Lee",
        "app-eu.wrike.com",
        ["wsReadOnly"],
        False,
        NOW + 10,
    )
    async with store.engine.connect() as conn:
        created = (await conn.execute(select(users.c.created_at))).scalars().all()
    assert created == [NOW]

    # a refreshed grant, written under the user's lock
    async with store.locked("user:U1") as conn:
        current = await store.get_user("U1", conn)
        assert current is not None
        await store.update_grant(conn, "U1", keyring.encrypt('{"v": 2}'), NOW + 20)
    updated = await store.get_user("U1")
    assert (
        updated is not None
        and keyring.decrypt(updated.grant) == '{"v": 2}'
        and updated.updated_at == NOW + 20
    )
    assert [u.user_id for u in await store.find_users("ANN.LEE@northwind.example")] == ["U1"]
    assert [u.user_id for u in await store.find_users("U1")] == ["U1"]
    assert await store.find_users("nobody") == []
    assert await store.get_user("U2") is None


async def test_revoke_grant_and_forget_user_end_their_tokens(store: Store) -> None:
    for user_id in ("U1", "U2"):
        await store.save_user(
            user_id, email=None, name=None, host="www.wrike.com", grant="sealed", scopes=[], now=NOW
        )
    await store.save_tokens([token_row("u1-at"), token_row("u2-at", user_id="U2", family="fam-2")])
    await store.save_consent("U1", "client-1", ["wsReadWrite"], "http://127.0.0.1:5000/cb", NOW)
    # replaced, not duplicated: the scopes and the redirect URI of the latest approval
    await store.save_consent("U1", "client-1", ["wsReadOnly"], "http://127.0.0.1:6000/cb", NOW + 1)
    assert await store.consents_of("U1") == [("client-1", ["wsReadOnly"])]
    assert await store.consent_of("U1", "client-1") == Consent(["wsReadOnly"], "http://127.0.0.1:6000/cb")
    assert await store.consent_of("U1", "client-2") is None
    assert await store.consent_of("U2", "client-1") is None

    async with store.engine.begin() as conn:
        await store.revoke_grant(conn, "U2", NOW)
    u2_token = await store.get_token("u2-at")
    assert u2_token is not None and u2_token.revoked

    await store.forget_user("U1")
    u1 = await store.get_user("U1")
    u1_token = await store.get_token("u1-at")
    assert u1 is not None and u1.revoked and u1_token is not None and u1_token.revoked
    assert await store.consents_of("U1") == []
    assert await store.consent_of("U1", "client-1") is None


# ---- locks --------------------------------------------------------------------------------------------


async def _hold_in_turn(stores: list[Store], name: str, holders: int) -> list[tuple[str, int, float]]:
    """`holders` tasks (spread over `stores`) each take `name`, record entry and exit, and do a
    read-modify-write of a counter that loses updates if two of them ever overlap."""
    events: list[tuple[str, int, float]] = []
    await stores[0].save_user("counter", email=None, name=None, host="h", grant="0", scopes=[], now=NOW)

    async def hold(n: int) -> None:
        store = stores[n % len(stores)]
        async with store.locked(name) as conn:
            events.append(("enter", n, time.monotonic()))
            row = await store.get_user("counter", conn)
            assert row is not None
            await anyio.sleep(0.05)
            await store.update_grant(conn, "counter", str(int(row.grant) + 1), NOW)
            events.append(("exit", n, time.monotonic()))

    async with anyio.create_task_group() as group:
        for n in range(holders):
            group.start_soon(hold, n)
    final = await stores[-1].get_user("counter")
    assert final is not None and final.grant == str(holders), "an update was lost: holders overlapped"
    return events


def assert_no_overlap(events: list[tuple[str, int, float]], holders: int) -> None:
    assert len(events) == 2 * holders
    for position in range(0, len(events), 2):
        (enter, who, entered), (leave, same, left) = events[position], events[position + 1]
        assert (enter, leave, who) == ("enter", "exit", same), f"holders overlapped: {events}"
        assert left >= entered
    assert {who for _, who, _ in events} == set(range(holders))


async def test_locked_excludes_concurrent_holders(store: Store) -> None:
    events = await _hold_in_turn([store], "user:x", 5)
    assert_no_overlap(events, 5)


async def test_locked_excludes_across_replicas_on_postgresql(postgres_url: str) -> None:
    replicas = [
        Store.open(postgres_url),
        Store.open(postgres_url),
    ]  # two engines, as two processes would have
    try:
        await replicas[0].migrate()
        await replicas[1].migrate()
        events = await _hold_in_turn(replicas, "user:x", 6)
        assert_no_overlap(events, 6)
        assert {n % 2 for _, n, _ in events} == {0, 1}  # both replicas took part
    finally:
        for replica in replicas:
            await replica.close()


async def test_locked_on_different_names_do_not_wait_for_each_other(store: Store) -> None:
    inside_y = anyio.Event()

    async def hold_x() -> None:
        async with store.locked("user:x"):
            with anyio.fail_after(10):
                await inside_y.wait()  # would never come if "user:y" waited for "user:x"

    async def hold_y() -> None:
        async with store.locked("user:y"):
            inside_y.set()

    async with anyio.create_task_group() as group:
        group.start_soon(hold_x)
        await anyio.sleep(0.05)
        group.start_soon(hold_y)


async def test_locked_rolls_back_on_error(store: Store) -> None:
    await store.save_user("U1", email=None, name=None, host="h", grant="before", scopes=[], now=NOW)
    with pytest.raises(RuntimeError, match="boom"):
        async with store.locked("user:U1") as conn:
            await store.update_grant(conn, "U1", "after", NOW + 1)
            raise RuntimeError("boom")
    user = await store.get_user("U1")
    assert user is not None and user.grant == "before"
    async with store.locked("user:U1"):  # and the lock was released
        pass


# ---- database URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://wrike@db.internal:5432/wrike", "postgresql+asyncpg://wrike@db.internal:5432/wrike"),
        ("postgres://wrike@db/wrike", "postgresql+asyncpg://wrike@db/wrike"),
        ("postgresql+psycopg://wrike@db/wrike", "postgresql+asyncpg://wrike@db/wrike"),
        ("sqlite:///x", "sqlite+aiosqlite:///x"),
        (
            "sqlite:////var/lib/wrike-mcp/remote.sqlite3",
            "sqlite+aiosqlite:////var/lib/wrike-mcp/remote.sqlite3",
        ),
        ("sqlite+aiosqlite:///x", "sqlite+aiosqlite:///x"),
    ],
)
def test_engine_url_maps_schemes_to_async_drivers(given: str, expected: str) -> None:
    assert engine_url(given) == expected


@pytest.mark.parametrize("bad", ["mysql://root@db/wrike", "http://example.com/db", "just-a-path.sqlite3"])
def test_engine_url_refuses_other_databases(bad: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite:///"):
        engine_url(bad)


def test_engine_url_defaults_to_sqlite_in_the_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = engine_url(None)
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'wrike-mcp' / 'remote.sqlite3'}"
    assert (tmp_path / "data" / "wrike-mcp").is_dir()


def test_sqlite_path() -> None:
    assert sqlite_path("sqlite:////srv/db.sqlite3") == Path("/srv/db.sqlite3")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("sqlite://") is None  # in-memory too (was an IndexError)
    assert sqlite_path("postgresql://db/wrike") is None


async def test_open_creates_the_sqlite_directory(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'remote.sqlite3'}")
    try:
        assert not store.is_postgres
        await store.migrate()
        assert (tmp_path / "nested" / "dir" / "remote.sqlite3").is_file()
    finally:
        await store.close()


# ---- encryption at rest -------------------------------------------------------------------------------


def test_keyring_with_a_new_key_in_front_reads_old_ciphertexts_and_rotates() -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    old = KeyRing([old_key])
    written_before = old.encrypt("wrike grant")

    both = KeyRing([new_key, old_key])  # the new key first: it encrypts, both decrypt
    assert both.decrypt(written_before) == "wrike grant"
    assert both.is_current(written_before) is False
    written_after = both.encrypt("new grant")
    assert both.is_current(written_after) is True
    with pytest.raises(SecretKeyError):
        old.decrypt(written_after)  # the old ring alone cannot read the new key's work

    rotated = both.rotate(written_before)
    assert rotated != written_before
    assert both.is_current(rotated) is True
    assert both.decrypt(rotated) == "wrike grant"
    assert KeyRing([new_key]).decrypt(rotated) == "wrike grant"  # the old key can now be dropped


def test_keyring_refuses_bad_keys_and_hides_them() -> None:
    with pytest.raises(SecretKeyError, match="no secret key"):
        KeyRing([])
    with pytest.raises(SecretKeyError, match="Fernet keys"):
        KeyRing([b"not-a-fernet-key"])
    key = Fernet.generate_key()
    ring = KeyRing([key])
    assert key.decode() not in repr(ring) and "1 key(s)" in repr(ring)
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        ring.decrypt(KeyRing([Fernet.generate_key()]).encrypt("x"))
    assert ring.verify("value", ring.sign("value")) and not ring.verify("value", ring.sign("other"))
    assert ring.signing_key != key  # cookies are signed with a derived key, not the encryption key


def test_load_keyring_takes_comma_separated_keys_newest_first(tmp_path: Path) -> None:
    old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
    written = KeyRing([old_key]).encrypt("grant")
    ring = load_keyring(
        f" {new_key.decode()} , {old_key.decode()} ", sqlite_file=tmp_path / "db.sqlite3", is_postgres=False
    )
    assert ring.decrypt(written) == "grant" and not ring.is_current(written)
    assert not (tmp_path / KEY_FILE).exists()  # a configured key means no generated file
    assert (
        load_keyring(new_key.decode(), sqlite_file=None, is_postgres=True).decrypt(
            KeyRing([new_key]).encrypt("pg")
        )
        == "pg"
    )


def test_load_keyring_generates_an_owner_only_key_file_beside_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "state" / "remote.sqlite3"
    first = load_keyring(None, sqlite_file=database, is_postgres=False)
    key_file = database.parent / KEY_FILE
    assert key_file.is_file()
    assert key_file.stat().st_mode & 0o777 == 0o600
    written = first.encrypt("grant")
    second = load_keyring(None, sqlite_file=database, is_postgres=False)  # the next start reuses it
    assert second.decrypt(written) == "grant"
    assert key_file.read_bytes().strip() and len(list(database.parent.iterdir())) == 1


def test_load_keyring_requires_a_key_with_postgresql(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="required with PostgreSQL"):
        load_keyring(None, sqlite_file=None, is_postgres=True)
    with pytest.raises(SecretKeyError, match="required with PostgreSQL"):
        load_keyring("", sqlite_file=tmp_path / "db.sqlite3", is_postgres=True)
    with pytest.raises(SecretKeyError):
        load_keyring(None, sqlite_file=None, is_postgres=False)  # in-memory SQLite: nowhere to keep a key
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_load_keyring_refuses_a_readable_key_file(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / KEY_FILE
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(mode)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        load_keyring(None, sqlite_file=tmp_path / "remote.sqlite3", is_postgres=False)
    key_file.chmod(0o600)
    assert load_keyring(None, sqlite_file=tmp_path / "remote.sqlite3", is_postgres=False)


async def test_open_store_and_keyring_as_the_server_does(database_url: str, tmp_path: Path) -> None:
    """The pair build_remote_server makes: SQLite gets a generated key, PostgreSQL needs one given."""
    store = Store.open(database_url)
    try:
        if store.is_postgres:
            with pytest.raises(SecretKeyError):
                load_keyring(None, sqlite_file=sqlite_path(database_url), is_postgres=True)
        else:
            ring = load_keyring(None, sqlite_file=sqlite_path(database_url), is_postgres=False)
            assert ring.decrypt(ring.encrypt("x")) == "x"
            assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    finally:
        await store.close()


async def test_registered_client_secret_is_stored_encrypted(store: Store) -> None:
    keyring = KeyRing([Fernet.generate_key()])
    config = AuthServerConfig(
        issuer="https://mcp.example.com",
        resource="https://mcp.example.com/mcp",
        scopes_supported=("wsReadOnly", "wsReadWrite"),
        default_scopes=("wsReadWrite",),
        access_token_ttl=3600,
        refresh_token_ttl=86400,
        refresh_reuse_leeway=10.0,
        registration_ttl=3600,
        limits=DEFAULT_SIGN_IN_LIMITS,
    )
    provider = WrikeMCPAuthProvider(store, keyring, config, clock=lambda: NOW)
    client = OAuthClientInformationFull(
        client_id="confidential-1",
        client_secret="client-SECRET-value",
        client_name="Confidential App",
        redirect_uris=["https://app.example/cb"],
        token_endpoint_auth_method="client_secret_post",
    )
    await provider.register_client(client)
    async with store.engine.connect() as conn:
        row = (await conn.execute(select(clients).where(clients.c.client_id == "confidential-1"))).one()
    assert "client-SECRET-value" not in row.info and "client-SECRET-value" not in row.secret
    assert keyring.decrypt(row.secret) == "client-SECRET-value"
    loaded = await provider.get_client("confidential-1")
    assert loaded is not None and loaded.client_secret == "client-SECRET-value"


async def test_a_version_1_database_is_migrated_and_keeps_its_users(database_url: str) -> None:
    """A database written by an older release: v2 adds the shared counters and grant versions, v3 the audit
    trail, v4 the Connected apps page's session generations, v5 the consents' redirect URI."""
    opened = Store.open(database_url)
    try:
        async with opened.engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE users (user_id VARCHAR(64) PRIMARY KEY, email VARCHAR(320), name VARCHAR(255), "
                    'host VARCHAR(255) NOT NULL, "grant" TEXT NOT NULL, scopes TEXT NOT NULL, '
                    "revoked BOOLEAN NOT NULL, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL)"
                )
            )
            # the other v1 tables as v1 made them: today's, less what v2 and v5 added to them
            await conn.run_sync(
                lambda sync: metadata.create_all(sync, tables=[clients, codes, tokens, consents, pending])
            )
            await conn.execute(text("DROP INDEX tokens_expiry"))
            await conn.execute(text("ALTER TABLE consents DROP COLUMN redirect_uri"))
            await conn.execute(text("CREATE TABLE schema_version (version INTEGER NOT NULL)"))
            await conn.execute(text("INSERT INTO schema_version (version) VALUES (1)"))
            await conn.execute(
                text(
                    "INSERT INTO users VALUES ('KUAAOLD', 'old@example.com', 'Old', 'www.wrike.com', 'sealed', "
                    "'wsReadOnly', false, 1.0, 1.0)"
                )
            )
        assert await opened.migrate() == SCHEMA_VERSION
        async with opened.engine.connect() as conn:
            row = (await conn.execute(select(users.c.user_id, users.c.grant_version))).one()
        assert (row.user_id, row.grant_version) == ("KUAAOLD", 0)
        async with opened.engine.connect() as conn:
            indexes = await conn.run_sync(lambda sync: inspect(sync).get_indexes("tokens"))
        assert "tokens_expiry" in {index["name"] for index in indexes}
        assert await opened.hit("k", 1, 60, NOW) is None
        assert await opened.audit() == []  # v3's audit trail
        assert await opened.account_session_generation("KUAAOLD") == 0  # v4's account sessions
        await opened.save_consent(
            "KUAAOLD", "c", ["wsReadOnly"], "https://app.example/cb", NOW
        )  # v5's column
        assert await opened.consent_of("KUAAOLD", "c") == Consent(["wsReadOnly"], "https://app.example/cb")
    finally:
        await opened.close()


async def test_shared_counter_admits_the_limit_then_says_when_to_retry(store: Store) -> None:
    assert [await store.hit("addr:register:198.51.100.7", 3, 60, NOW + i) for i in range(3)] == [None] * 3
    wait = await store.hit("addr:register:198.51.100.7", 3, 60, NOW + 3)
    # the first hit's 10-second bucket leaves the window 60 s after it started
    bucket_start = int(NOW // 10) * 10
    assert wait == pytest.approx(bucket_start + 60 - (NOW + 3))
    assert await store.hit("addr:register:198.51.100.8", 3, 60, NOW + 3) is None  # another key counts apart
    assert await store.hit("addr:register:198.51.100.7", 3, 60, bucket_start + 60) is None  # window moved


async def test_shared_counter_holds_under_concurrent_replicas(postgres_url: str) -> None:
    """Two stores on one database (two replicas) hitting one key at once never admit more than the limit."""
    first, second = Store.open(postgres_url), Store.open(postgres_url)
    try:
        await first.migrate()
        admitted: list[bool] = []

        async def one(store: Store) -> None:
            admitted.append(await store.hit("wrike:token", 25, 60, NOW) is None)

        async with anyio.create_task_group() as group:
            for number in range(60):
                group.start_soon(one, first if number % 2 else second)
        assert admitted.count(True) == 25
    finally:
        await first.close()
        await second.close()


async def test_sqlite_counts_in_the_process_and_keeps_them_bounded(tmp_path: Path) -> None:
    """SQLite is one process by design: its counts live there (no transaction per request), with the same
    window rule as the table, and no more keys than the capacity."""
    store = Store.open(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    try:
        await store.migrate()
        assert [await store.hit("user:a", 2, 60, NOW + i) for i in range(2)] == [None, None]
        assert await store.hit("user:a", 2, 60, NOW + 2) == pytest.approx(int(NOW // 10) * 10 + 60 - NOW - 2)
        store._process_counts.capacity = 3
        for number in range(10):
            assert await store.hit(f"addr:{number}", 1, 60, NOW) is None
        assert len(store._process_counts) == 3
        async with store.engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM rate_counters"))).scalar() == 0
    finally:
        await store.close()


async def test_saving_one_client_or_consent_at_once_from_two_replicas_succeeds(database_url: str) -> None:
    """ChatGPT's client ID is one URL for everyone: two replicas caching its document at the same moment, or
    saving the same person's consent, both succeed and one row remains (a delete then insert raced into a
    duplicate key, a 500 at /authorize)."""
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        await first.migrate()
        url = "https://chatgpt.example/oauth/client.json"

        async def cache(store: Store, number: int) -> None:
            await store.save_client(url, {"client_name": f"v{number}"}, None, "cimd", NOW, NOW + 3600)
            await store.save_consent("A/U1", url, ["wsReadOnly"], "https://chatgpt.example/cb", NOW + number)

        for _ in range(5):
            async with anyio.create_task_group() as group:
                for number in range(8):
                    group.start_soon(cache, first if number % 2 else second, number)
        row = await first.get_client(url)
        assert row is not None and row.kind == "cimd" and row.info["client_name"].startswith("v")
        assert await first.consent_of("A/U1", url) == Consent(["wsReadOnly"], "https://chatgpt.example/cb")
    finally:
        await first.close()
        await second.close()


def test_a_signature_made_before_a_key_rotation_still_verifies() -> None:
    """During a rotation some replicas run `old`, others `new,old`: each accepts what the other signed."""
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before, during, after = KeyRing([old]), KeyRing([new, old]), KeyRing([new])
    assert during.verify("user:x", before.sign("user:x"))
    assert before.verify("user:x", during.sign("user:x")) is False  # signed with the new key: old config
    assert after.verify("user:x", during.sign("user:x"))
    assert not after.verify("user:x", before.sign("user:x"))  # the old key dropped: its signatures go
    assert not during.verify("user:y", before.sign("user:x"))
