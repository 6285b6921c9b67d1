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

from wrike_mcp.remote.store import SCHEMA_VERSION, Store, rate_counters

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
