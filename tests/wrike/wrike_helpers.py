"""Constants and control-plane helpers shared by the client tests (a module, as conftest is not one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.errors import (
    AccessForbidden,
    InvalidParameter,
    InvalidRequest,
    MethodNotFound,
    NotAllowed,
    NotAuthorized,
    ParameterRequired,
    RateLimited,
    ResourceNotFound,
    ServerError,
    WrikeAPIError,
)

SANDBOX_ORIGIN = "http://127.0.0.1:8100"
SANDBOX_BASE_URL = f"{SANDBOX_ORIGIN}/api/v4"
DEMO_TOKEN = "wrike-sandbox-token"
READONLY_TOKEN = "wrike-sandbox-readonly"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "retry_budget": 3.0}  # keeps retry tests quick

MakeClient = Callable[..., WrikeClient]

# Wrike's documented error codes, each with its HTTP status and the class the client raises for it.
ERROR_CODES: list[tuple[int, str, type[WrikeAPIError]]] = [
    (400, "invalid_request", InvalidRequest),
    (400, "invalid_parameter", InvalidParameter),
    (400, "parameter_required", ParameterRequired),
    (401, "not_authorized", NotAuthorized),
    (403, "access_forbidden", AccessForbidden),
    (403, "not_allowed", NotAllowed),
    (404, "resource_not_found", ResourceNotFound),
    (404, "method_not_found", MethodNotFound),
    (429, "too_many_requests", RateLimited),
    (429, "rate_limit_exceeded", RateLimited),
    (500, "server_error", ServerError),
]


class FakeClock:
    """A monotonic clock the test moves by hand (`clock.now += 61`): cache lifetimes without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def add_fault(control: httpx.AsyncClient, **fault: Any) -> None:
    response = await control.post("/_sandbox/faults", json=fault)
    assert response.status_code < 300, response.text


async def request_log(control: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await control.get("/_sandbox/requests")
    response.raise_for_status()
    body = response.json()
    return list(body["requests"] if isinstance(body, dict) else body)


async def api_requests(control: httpx.AsyncClient, method: str, path_prefix: str) -> list[dict[str, Any]]:
    """Logged API requests (not control-plane ones) with this method whose path starts with the prefix."""
    return [
        entry
        for entry in await request_log(control)
        if entry.get("method") == method and str(entry.get("path", "")).startswith(path_prefix)
    ]
