"""The audit trail: every tool call, on whichever replica, in the store; `wrike-mcp admin audit` exports
what was called, by whom, through which client and how it went — and never an argument or a token."""

from __future__ import annotations

import csv
import io
import json
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import (
    Browser,
    admin,
    oauth_provider,
    sign_in_raw,
    start_replica,
    structured,
)
from tests.remote.test_replicas import two_replicas
from wrike_mcp.calls import ToolCall, declared_name
from wrike_mcp.remote.audit import GATHER, AuditTrail
from wrike_mcp.remote.store import SCHEMA_VERSION, Store
from wrike_mcp.sandbox.serve import BackgroundSandbox

CHLOE = "chloe.martin@northwind.example"
BEN = "ben.carter@northwind.example"
MISSING_TASK = "IEAAAAAAKZZZZZZZ"  # an argument: it must never reach the trail


def export(tmp_path: Path, database_url: str, *args: str) -> list[dict[str, Any]]:
    done = admin(tmp_path, database_url, "audit", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


async def export_of(tmp_path: Path, database_url: str, count: int) -> list[dict[str, Any]]:
    """The whole export once `count` calls are in it (each replica writes its calls in the background)."""
    deadline = time.monotonic() + 20
    while True:
        rows = await anyio.to_thread.run_sync(lambda: export(tmp_path, database_url))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        await anyio.sleep(0.3)


@pytest.mark.slow
async def test_export_matches_the_calls_made_across_replicas(
    tmp_path: Path, sandbox: BackgroundSandbox, database_url: str
) -> None:
    # PostgreSQL: two replicas sharing it behind one public URL; SQLite: one process by design
    if database_url.startswith("postgresql"):
        replicas = list(two_replicas(tmp_path, sandbox, database_url))
    else:
        replicas = [start_replica(tmp_path, sandbox.base_url, database_url)]
    first, last = replicas[0], replicas[-1]
    try:
        async with AsyncExitStack() as stack:
            provider, storage = oauth_provider(first.mcp_url, Browser(user=CHLOE), client_name="Audit Client")
            http = await stack.enter_async_context(httpx2.AsyncClient(auth=provider, timeout=30))
            chloe = await stack.enter_async_context(
                Client(streamable_http_client(first.mcp_url, http_client=http))
            )
            structured(await chloe.call_tool("get_me", {}))
            assert (await chloe.call_tool("get_task", {"task": MISSING_TASK})).is_error
            assert storage.tokens is not None and storage.client_info is not None
            chloe_token, chloe_client = storage.tokens.access_token, storage.client_info.client_id or ""
        ben_tokens = await anyio.to_thread.run_sync(lambda: sign_in_raw(first.base_url, BEN))
        for token, tool, arguments in (
            (chloe_token, "search_tasks", {"limit": 2}),  # the same sign-in, on the other replica
            (ben_tokens["access_token"], "get_me", {}),
        ):
            async with (
                httpx2.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as bearer,
                Client(streamable_http_client(last.mcp_url, http_client=bearer)) as client,
            ):
                structured(await client.call_tool(tool, arguments))
        rows = await export_of(tmp_path, database_url, 4)
    finally:
        for replica in replicas:
            replica.stop()
    made = [
        (CHLOE, chloe_client, "Audit Client", "get_me", "ok"),
        (CHLOE, chloe_client, "Audit Client", "get_task", "tool_error"),
        (CHLOE, chloe_client, "Audit Client", "search_tasks", "ok"),
        (BEN, ben_tokens["client_id"], "Bench Client", "get_me", "ok"),
    ]
    assert [
        (r["user_email"], r["client_id"], r["client_name"], r["tool"], r["outcome"]) for r in rows
    ] == made
    assert all(row["wrike_requests"] >= 1 and row["duration_ms"] > 0 for row in rows)
    assert all(row["user_id"] and "/" in row["user_id"] for row in rows)
    times = [datetime.fromisoformat(row["time"]) for row in rows]
    assert times == sorted(times) and all(datetime.now(UTC) - t < timedelta(minutes=5) for t in times)
    text = json.dumps(rows)
    assert MISSING_TASK not in text and chloe_token not in text and ben_tokens["access_token"] not in text

    # the filters, and the CSV holding the same rows
    assert [r["tool"] for r in export(tmp_path, database_url, "--user", BEN)] == ["get_me"]
    assert len(export(tmp_path, database_url, "--client", chloe_client)) == 3
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert export(tmp_path, database_url, "--since", tomorrow) == []
    assert len(export(tmp_path, database_url, "--since", "2026-01-01T00:00:00+00:00")) == 4
    done = admin(tmp_path, database_url, "audit")
    assert done.returncode == 0, done.stderr
    as_csv = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["user_email"], r["tool"], r["outcome"]) for r in as_csv] == [(r[0], r[3], r[4]) for r in made]
    unknown = admin(tmp_path, database_url, "audit", "--user", "nobody@example.com")
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    bad = admin(tmp_path, database_url, "audit", "--since", "last week")
    assert bad.returncode == 2 and "--since" in bad.stderr


async def test_retention_keeps_the_last_days_and_export_output_is_escaped(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = Store.open(database_url)
    now = time.time()
    try:
        assert await store.migrate() == SCHEMA_VERSION
        trail = AuditTrail(store)
        for days_ago, tool, client in (
            (40, "get_me", "old-client"),
            (1, '=HYPERLINK("http://evil.example")', "\x1b[31mred\u202eclient"),
        ):
            trail.record(ToolCall(now - days_ago * 86400, None, client, tool, "error", 0.01, 0))
        assert await trail.flush()
        await store.purge_expired(now, audit_kept=30 * 86400)
        kept = await store.audit()
    finally:
        await store.close()
    assert [row.client_id for row in kept] == ["\x1b[31mred\u202eclient"]
    done = admin(tmp_path, database_url, "audit")
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\u202e" not in done.stdout
    (row,) = list(csv.DictReader(io.StringIO(done.stdout)))
    assert row["tool"].startswith("'=")  # a spreadsheet shows it, never evaluates it
    assert row["client_id"] == "\\x1b[31mred\\u202eclient"
    as_json = admin(tmp_path, database_url, "audit", "--format", "json").stdout
    assert as_json.isascii() and json.loads(as_json)[0]["client_id"] == "\x1b[31mred\u202eclient"


async def test_calls_wait_in_memory_while_the_database_is_away(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        await store.migrate()
        trail = AuditTrail(store)
        call = ToolCall(time.time(), "acc/user", "client", "get_me", "ok", 0.02, 1)
        trail.record(call)
        healthy = store.add_audit

        async def away(rows: Any) -> None:
            raise OSError("connection refused")

        store.add_audit = away  # type: ignore[method-assign]
        assert not await trail.flush()
        store.add_audit = healthy  # type: ignore[method-assign]
        trail.record(call)
        assert await trail.flush()
        assert [row.tool for row in await store.audit()] == ["get_me", "get_me"]
    finally:
        await store.close()


async def test_rows_the_database_refuses_are_dropped_and_never_block_later_ones(database_url: str) -> None:
    """PostgreSQL refuses a NUL in text: such a batch, kept at the head of the queue, would stop the audit
    trail for everyone. A tool name a client sends is recorded as a declared name or "unknown"; a row refused
    anyway is dropped with a warning and the next ones are written."""
    assert declared_name("get_me") == "get_me" and declared_name("get\x00me") == "unknown"
    store = Store.open(database_url)
    try:
        await store.migrate()
        trail = AuditTrail(store)
        now = time.time()
        trail.record(ToolCall(now, "acc/user\x00", "client", "get_me", "ok", 0.01, 1))
        refused = not database_url.startswith("sqlite")  # SQLite stores a NUL
        assert await trail.flush()
        trail.record(ToolCall(now, "acc/user", "client", "search_tasks", "ok", 0.01, 1))
        assert await trail.flush()
        tools = [row.tool for row in await store.audit()]
        assert tools == (["search_tasks"] if refused else ["get_me", "search_tasks"])
        assert trail.dropped == (1 if refused else 0)
    finally:
        await store.close()


async def test_a_burst_of_calls_is_one_write_and_shutdown_writes_what_is_gathering(tmp_path: Path) -> None:
    """The writer lets records gather for GATHER seconds, so a burst costs one insert written after the
    calls' answers, not one beside each; a normal shutdown (the lifespan cancels the writer, then closes the
    trail) still writes what was gathering."""
    store = Store.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        await store.migrate()
        trail = AuditTrail(store)
        writes: list[int] = []
        write = store.add_audit
        ten_written = anyio.Event()

        async def counted(rows: Any) -> None:
            writes.append(len(rows))
            await write(rows)
            if sum(writes) >= 10:
                ten_written.set()

        store.add_audit = counted  # type: ignore[method-assign]
        call = ToolCall(time.time(), "acc/user", "client", "get_me", "ok", 0.02, 1)
        async with anyio.create_task_group() as group:
            group.start_soon(trail.run)
            for _ in range(10):  # 10 calls over 0.2 s, well within one GATHER
                trail.record(call)
                await anyio.sleep(0.02)
            with anyio.fail_after(GATHER + 5):
                await ten_written.wait()
            assert len(writes) <= 2  # one, or two if this machine stalled for GATHER meanwhile
            for _ in range(3):
                trail.record(call)
            group.cancel_scope.cancel()  # shutting down while those three gather
        await trail.close()
        assert sum(writes) == 13
        assert len(await store.audit()) == 13
    finally:
        await store.close()
