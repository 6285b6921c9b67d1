"""`GET /readyz` of a remote replica: 200 when its database answers and holds the schema this code expects,
else 503 with a reason (never the database URL or an exception's text). A load balancer drains a replica
that is not ready: its database is down or hangs (answered within READY_TIMEOUT), or the shared schema was
migrated by a newer release during a rolling upgrade, or is older than this one (a restored backup).
"""

from __future__ import annotations

import logging

import anyio
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wrike_mcp.health import HEALTHZ_PATH, NO_STORE, healthz
from wrike_mcp.remote.store import SCHEMA_VERSION, Store, schema_version

log = logging.getLogger(__name__)

READYZ_PATH = "/readyz"
READY_TIMEOUT = 2.0  # seconds: well inside a probe's own timeout


class Readiness:
    def __init__(self, store: Store, timeout: float = READY_TIMEOUT) -> None:
        self.store = store
        self.timeout = timeout

    async def endpoint(self, _: Request) -> Response:
        reason = await self.problem()
        if reason is None:
            return JSONResponse({"status": "ok"}, headers=NO_STORE)
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503, headers=NO_STORE)

    async def problem(self) -> str | None:
        """Why this replica cannot serve now, or None."""
        try:
            with anyio.fail_after(self.timeout):
                async with self.store.engine.connect() as conn:
                    version = (await conn.execute(select(schema_version.c.version))).scalar()
        except TimeoutError:
            log.warning("not ready: the database did not answer within %s s", self.timeout)
            return f"the database did not answer within {self.timeout:g} s"
        except Exception as exc:  # any failure means not ready; its text may name the database
            log.warning("not ready: the database cannot be queried (%s)", type(exc).__name__)
            return "the database cannot be reached or queried"
        if version == SCHEMA_VERSION:
            return None
        if version is None or version < SCHEMA_VERSION:
            return (
                f"the database schema is version {version or 0}, older than this wrike-mcp's "
                f"({SCHEMA_VERSION}): restart the replica to migrate it"
            )
        return (
            f"the database schema is version {version}, newer than this wrike-mcp's ({SCHEMA_VERSION}): "
            "upgrade this replica"
        )


def health_routes(store: Store) -> list[Route]:
    return [
        Route(HEALTHZ_PATH, endpoint=healthz, methods=["GET"]),
        Route(READYZ_PATH, endpoint=Readiness(store).endpoint, methods=["GET"]),
    ]
