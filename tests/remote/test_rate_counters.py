"""`Store.hit` when callers arrive out of clock order, on SQLite and PostgreSQL.

Every caller reads its clock before it waits for the counter's lock, so under load one that read an earlier
second can count after one that read a later one, into a bucket older than the newest. That used to insert
the older bucket a second time (a duplicate key: HTTP 500 on `/mcp` for the per-user limit, and the shared
Wrike budget falling back to per-replica counting), seen in `bench/bench_remote.py`'s load run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from sqlalchemy import event, select

from wrike_mcp.remote.store import SCHEMA_VERSION, Store, claim_size, rate_counters

NOW = 1_800_000_000.0  # a multiple of the 10 s step of a 60 s window in 6 buckets


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[Store]:
    """PostgreSQL only: there the counts are rows every replica shares (SQLite's live in its one process)."""
    opened = Store.open(postgres_url)
    try:
        assert await opened.migrate() == SCHEMA_VERSION
        yield opened
    finally:
        await opened.close()


async def buckets(store: Store, key: str) -> dict[int, int]:
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(rate_counters.c.bucket, rate_counters.c.hits).where(rate_counters.c.key == key)
            )
        ).all()
    return {row.bucket: row.hits for row in rows}


async def test_a_hit_into_an_older_bucket_after_a_newer_one_is_counted(store: Store) -> None:
    assert await store.hit("k", 10, 60, NOW + 1) is None  # bucket NOW
    assert await store.hit("k", 10, 60, NOW + 11) is None  # bucket NOW + 10
    assert await store.hit("k", 10, 60, NOW + 9) is None  # read its clock before the previous one counted
    assert await buckets(store, "k") == {int(NOW): 2, int(NOW) + 10: 1}


async def test_concurrent_hits_with_interleaved_clocks_count_each_once(store: Store) -> None:
    limit = 30
    answers: list[float | None] = []

    async def one(number: int) -> None:
        answers.append(await store.hit("busy", limit, 60, NOW + (9.5 if number % 2 else 10.5)))

    async with anyio.create_task_group() as group:
        for number in range(40):
            group.start_soon(one, number)
    assert len(answers) == 40
    assert sum(answer is None for answer in answers) == limit
    assert sum((await buckets(store, "busy")).values()) == limit


async def test_a_key_this_replica_alone_filled_is_refused_without_the_database(store: Store) -> None:
    """A flood of one key (one address hammering /token) costs no connection or lock once this replica's own
    admissions reach the limit; what other replicas admitted is still counted by the database."""
    statements: list[str] = []
    event.listen(store.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert [await store.hit("flood", 3, 60, NOW + i) for i in range(3)] == [None, None, None]
    assert statements  # admissions go through the shared count
    statements.clear()
    assert await store.hit("flood", 3, 60, NOW + 4) is not None
    assert statements == []
    # another replica's admissions are seen only in the database: this replica asks it while under its part
    other = Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        assert await other.hit("shared", 2, 60, NOW) is None
        assert await other.hit("shared", 2, 60, NOW) is None
        assert await store.hit("shared", 2, 60, NOW + 1) is not None
        assert statements  # asked the database, which knew
    finally:
        await other.close()


# ---- claims: a replica takes a shared count's slots several at a time --------------------------------


def test_a_claim_is_a_twentieth_of_the_limit() -> None:
    assert [claim_size(limit) for limit in (1, 19, 40, 120, 400, 100_000)] == [1, 1, 2, 6, 20, 5000]


async def test_claimed_slots_are_spent_without_the_database(store: Store) -> None:
    """One transaction claims 5 of a limit of 100; the next four events spend them in this process."""
    statements: list[str] = []
    event.listen(store.engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert await store.hit("calm", 100, 60, NOW) is None
    assert await buckets(store, "calm") == {int(NOW): 5}  # claimed, the first spent
    claimed = len(statements)
    assert [await store.hit("calm", 100, 60, NOW + 1 + i) for i in range(4)] == [None] * 4
    assert len(statements) == claimed
    assert await store.hit("calm", 100, 60, NOW + 6) is None  # the sixth claims again
    assert len(statements) > claimed
    assert await buckets(store, "calm") == {int(NOW): 10}


async def test_callers_waiting_for_a_claim_spend_it_rather_than_claim_again(store: Store) -> None:
    """50 events at once in one replica, claims of 5: ten claims, every slot spent, none left over."""
    upserts: list[str] = []
    event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda *args: upserts.append(args[2]) if args[2].startswith("INSERT INTO rate_counters") else None,
    )
    admitted: list[float | None] = []

    async def one() -> None:
        admitted.append(await store.hit("burst", 1000, 60, NOW, claim=5))

    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(one)
    assert admitted == [None] * 50
    assert len(upserts) == 10
    assert await buckets(store, "burst") == {int(NOW): 50}


async def test_replicas_claiming_at_once_never_exceed_the_limit(postgres_url: str) -> None:
    """Two replicas, a limit of 103 claimed 5 at a time (the last claim must be cut to what is left), 300
    events at once over three buckets: the table never holds more than the limit, nor are more admitted;
    each replica may leave at most 4 claimed slots unspent."""
    limit, claim = 103, claim_size(103)
    first, second = Store.open(postgres_url), Store.open(postgres_url)
    try:
        await first.migrate()
        admitted: list[bool] = []

        async def one(replica: Store, moment: float) -> None:
            admitted.append(await replica.hit("wrike:shared", limit, 70, moment, buckets=14) is None)

        async with anyio.create_task_group() as group:
            for number in range(300):
                group.start_soon(one, first if number % 2 else second, NOW + number / 20)  # 3 buckets
        counted = sum((await buckets(first, "wrike:shared")).values())
        assert counted <= limit
        assert limit - 2 * (claim - 1) <= admitted.count(True) <= counted
    finally:
        await first.close()
        await second.close()


async def test_a_claim_is_spent_only_in_its_own_bucket_and_the_next_gives_back_the_rest(store: Store) -> None:
    """A slot claimed in one bucket and spent in the next would leave the window before the event it
    admitted; so the next bucket claims anew, returning the previous bucket's unspent slots."""
    assert await store.hit("steps", 100, 60, NOW + 9) is None  # bucket NOW: 5 claimed, 1 spent
    assert await store.hit("steps", 100, 60, NOW + 10) is None  # bucket NOW + 10
    assert await buckets(store, "steps") == {int(NOW): 1, int(NOW) + 10: 5}
    # a caller whose clock read the older bucket spends the newer one's slot: kept in the window longer
    assert await store.hit("steps", 100, 60, NOW + 9.9) is None
    assert await buckets(store, "steps") == {int(NOW): 1, int(NOW) + 10: 5}


async def test_unspent_slots_of_a_stopped_replica_make_others_wait_then_expire(postgres_url: str) -> None:
    """A replica that claimed and stopped without giving back (killed) leaves its slots counted: the others
    are refused early, never admitted beyond the limit, until the bucket leaves the window."""
    killed, survivor = Store.open(postgres_url), Store.open(postgres_url)
    try:
        await killed.migrate()
        assert await killed.hit("user:u", 10, 60, NOW, claim=6) is None  # 5 of 6 unspent
        await killed.engine.dispose()  # no give-back: as if the process was killed
        # claims of 3 then of the 1 left: 4 admitted
        assert [await survivor.hit("user:u", 10, 60, NOW + 1, claim=3) for _ in range(4)] == [None] * 4
        wait = await survivor.hit("user:u", 10, 60, NOW + 2, claim=3)
        assert wait == pytest.approx(60 - 2)  # when the killed replica's bucket leaves the window
        assert sum((await buckets(survivor, "user:u")).values()) == 10
        assert await survivor.hit("user:u", 10, 60, NOW + 60, claim=3) is None
    finally:
        await survivor.close()


async def test_closing_gives_back_unspent_slots(postgres_url: str) -> None:
    replica = Store.open(postgres_url)
    await replica.migrate()
    assert await replica.hit("user:v", 100, 60, NOW) is None
    assert await replica.hit("wrike:v", 400, 70, NOW, buckets=14) is None
    assert await replica.hit("wrike:v", 400, 70, NOW + 1, buckets=14) is None
    await replica.close()
    other = Store.open(postgres_url)
    try:
        assert await buckets(other, "user:v") == {int(NOW): 1}
        assert await buckets(other, "wrike:v") == {int(NOW): 2}
    finally:
        await other.close()
