"""`GET /healthz`: the process is alive and serving HTTP. No authentication, no database, no detail.

Health routes answer whatever the Host header (a load balancer probes with the container's address) and
say nothing but their status, so answering them everywhere reveals nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

HEALTHZ_PATH = "/healthz"
NO_STORE = {"Cache-Control": "no-store"}


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)
