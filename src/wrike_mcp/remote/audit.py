"""The audit trail: each tool call's record (calls.ToolCall, the access log's line) also written to the
store, so it holds across replicas and outlives them (`wrike-mcp admin audit` exports it). Kept
WRIKE_MCP_AUDIT_DAYS days (the periodic purge). Never arguments, results or tokens: the record has none.

A call never waits for the database: records queue in memory and one background task writes them in
batches, at most every GATHER seconds (a burst of calls is one insert, written after the calls' answers rather
than beside them). While the database is away they wait (at most MAX_QUEUED, the oldest dropped first, with a
warning) and are written once it answers again. A normal shutdown writes what is queued (`close`); a crash
loses it: the last GATHER seconds of calls, more if the database was away.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import anyio
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from wrike_mcp.calls import ToolCall
from wrike_mcp.remote.store import Store

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
MAX_BATCH = 500
RETRY_EVERY = 5.0  # seconds between attempts while the database does not answer
GATHER = 0.5  # seconds the writer lets records gather before it writes them (unless a full batch is waiting)


class AuditTrail:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: deque[dict[str, Any]] = deque()
        self._arrived = anyio.Event()
        self.dropped = 0

    def record(self, call: ToolCall) -> None:
        """The tool-call sink: queue the row, wake the writer."""
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("audit trail: %d entries dropped while the database was away", self.dropped)
        self._queue.append(
            {
                "at": call.at,
                "user_id": call.user,
                "client_id": call.client,
                "tool": call.tool,
                "outcome": call.outcome,
                "duration_ms": round(call.seconds * 1000, 1),
                "wrike_requests": call.wrike_requests,
            }
        )
        self._arrived.set()

    async def run(self) -> None:
        """Write what arrives until cancelled (the replica's lifespan)."""
        while True:
            await self._arrived.wait()
            with anyio.move_on_after(GATHER):
                while len(self._queue) < MAX_BATCH:
                    self._arrived = anyio.Event()
                    await self._arrived.wait()
            self._arrived = anyio.Event()
            while self._queue:
                if not await self.flush():
                    await anyio.sleep(RETRY_EVERY)

    async def flush(self) -> bool:
        """Write one batch; False when the database refused it (the batch stays queued, in order)."""
        batch = [self._queue.popleft() for _ in range(min(MAX_BATCH, len(self._queue)))]
        try:
            await self.store.add_audit(batch)
        except DBAPIError as exc:
            if isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated:
                return self._keep(batch, exc)
            # the database refused these rows themselves: kept, they would block every later one for good
            self.dropped += len(batch)
            log.warning(
                "audit trail: %d entries refused by the database (%s), dropped",
                len(batch),
                type(exc.orig).__name__,
            )
            return True
        except Exception as exc:  # the database is away: keep the rows for the next attempt
            return self._keep(batch, exc)
        return True

    def _keep(self, batch: list[dict[str, Any]], exc: Exception) -> bool:
        """Back at the head of the queue, in order, for the next attempt; the oldest go past MAX_QUEUED."""
        self._queue.extendleft(reversed(batch))
        while len(self._queue) > MAX_QUEUED:
            self._queue.popleft()
            self.dropped += 1
        log.warning("audit trail: writing failed (%s); trying again in %g s", type(exc).__name__, RETRY_EVERY)
        return False

    async def close(self) -> None:
        """At shutdown: one last attempt for what is still queued."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            while self._queue and await self.flush():
                pass
