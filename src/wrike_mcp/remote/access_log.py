"""The access log of tool calls: one JSON line each (time, user, client, tool, outcome, duration, Wrike
requests). Never arguments, results or tokens."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult

from wrike_mcp.tools.deps import REQUEST_CONTEXT

access_logger = logging.getLogger("wrike_mcp.access")


def configure_access_log(path: Path | None) -> None:
    """JSON lines to `path`, or to stderr; the lines are the message, nothing else."""
    handler: logging.Handler = (
        logging.FileHandler(path, encoding="utf-8") if path else logging.StreamHandler()
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_logger.handlers[:] = [handler]
    access_logger.setLevel(logging.INFO)
    access_logger.propagate = False


async def log_tool_calls(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    if ctx.method != "tools/call":
        return await call_next(ctx)
    params = ctx.params if isinstance(ctx.params, dict) else {}
    tool = params.get("name") if isinstance(params.get("name"), str) else None
    scope = getattr(ctx.request, "scope", None)
    user = scope.get("user") if isinstance(scope, dict) else None
    token = user.access_token if isinstance(user, AuthenticatedUser) else None
    requests = 0

    def count(method: str, path: str) -> None:
        nonlocal requests
        requests += 1

    # The user's context for this call only, its Wrike client telling `count` of each request it sends.
    state = REQUEST_CONTEXT.get()
    counting = REQUEST_CONTEXT.set(state.hooked(count)) if state is not None else None
    started = time.perf_counter()
    outcome = "error"
    try:
        result = await call_next(ctx)
        outcome = "tool_error" if isinstance(result, CallToolResult) and result.is_error else "ok"
        if isinstance(result, dict) and result.get("isError"):
            outcome = "tool_error"
        return result
    finally:
        if counting is not None:
            REQUEST_CONTEXT.reset(counting)
        access_logger.info(
            json.dumps(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "user": token.subject if token else None,
                    "client": token.client_id[:200] if token else None,
                    "tool": (tool or "")[:100],
                    "outcome": outcome,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "wrike_requests": requests,
                }
            )
        )
