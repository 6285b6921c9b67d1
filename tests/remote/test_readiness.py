"""`/readyz` of a remote replica (remote/health.py), in this process over a real SQLite store: what a load
balancer is told when the database answers, holds another release's schema, fails or hangs. The same answers
through a running replica: test_health.py."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import delete, update
from starlette.applications import Starlette

from wrike_mcp.remote.health import Readiness, health_routes
from wrike_mcp.remote.store import SCHEMA_VERSION, Store, schema_version


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


async def get(store: Store, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=Starlette(routes=health_routes(store)))
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.5:8000") as client:
        return await client.request(method, path)


async def set_version(store: Store, version: int | None) -> None:
    async with store.engine.begin() as conn:
        if version is None:
            await conn.execute(delete(schema_version))
        else:
            await conn.execute(update(schema_version).values(version=version))


async def test_ready_when_the_database_answers_with_this_schema(store: Store) -> None:
    ready = await get(store, "/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ok"})
    assert ready.headers["cache-control"] == "no-store"
    alive = await get(store, "/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (await get(store, "/readyz", "POST")).status_code == 405


@pytest.mark.parametrize(
    ("version", "reason"),
    [
        (
            SCHEMA_VERSION + 1,
            f"the database schema is version {SCHEMA_VERSION + 1}, newer than this wrike-mcp's "
            f"({SCHEMA_VERSION}): upgrade this replica",
        ),
        (
            SCHEMA_VERSION - 1,
            f"the database schema is version {SCHEMA_VERSION - 1}, older than this wrike-mcp's "
            f"({SCHEMA_VERSION}): restart the replica to migrate it",
        ),
        (
            None,  # no version row at all: a database nothing migrated
            f"the database schema is version 0, older than this wrike-mcp's "
            f"({SCHEMA_VERSION}): restart the replica to migrate it",
        ),
    ],
)
async def test_not_ready_with_another_releases_schema(store: Store, version: int | None, reason: str) -> None:
    await set_version(store, version)
    refused = await get(store, "/readyz")
    assert refused.status_code == 503
    assert refused.json() == {"status": "unavailable", "reason": reason}
    assert refused.headers["cache-control"] == "no-store"
    assert (await get(store, "/healthz")).status_code == 200  # alive all the same: nothing to restart


async def test_not_ready_when_the_database_cannot_be_queried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unmigrated = Store.open(f"sqlite:///{tmp_path / 'empty.sqlite3'}")  # no schema_version table
    try:
        refused = await get(unmigrated, "/readyz")
    finally:
        await unmigrated.close()
    assert refused.status_code == 503
    assert refused.json() == {"status": "unavailable", "reason": "the database cannot be reached or queried"}
    assert str(tmp_path) not in refused.text
    # the operator's log says what kind of failure, never the database's own text (it may name the database)
    assert [record.getMessage() for record in caplog.records if record.name == "wrike_mcp.remote.health"] == [
        "not ready: the database cannot be queried (OperationalError)"
    ]


class HangingEngine:
    @contextlib.asynccontextmanager
    async def connect(self) -> AsyncIterator[Any]:
        await anyio.sleep(30)
        yield None


class HangingStore:
    engine = HangingEngine()


async def test_not_ready_within_its_timeout_when_the_database_hangs(caplog: pytest.LogCaptureFixture) -> None:
    readiness = Readiness(HangingStore(), timeout=0.25)  # type: ignore[arg-type]
    with anyio.fail_after(5):
        assert await readiness.problem() == "the database did not answer within 0.25 s"
    assert [record.getMessage() for record in caplog.records if record.name == "wrike_mcp.remote.health"] == [
        "not ready: the database did not answer within 0.25 s"
    ]
