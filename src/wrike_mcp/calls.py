"""Each finished tool call as one record, handed to whoever keeps it: the access log, the audit trail in the
store, the metrics. One server middleware measures the call; the sinks never see arguments, results or tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.types import CallToolResult

from wrike_mcp.tools.deps import REQUEST_CONTEXT
from wrike_mcp.tools.registry import declared_tool

Outcome = str  # "ok", "tool_error" (a result with isError) or "error" (the call raised)


@dataclass(frozen=True)
class ToolCall:
    at: float  # epoch seconds the call started
    user: str | None  # the remote user key ("{account}/{contact}"); None on a one-user server
    client: str | None  # the MCP client id (remote mode)
    tool: str  # as the client named it, at most 100 characters
    outcome: Outcome
    seconds: float
    wrike_requests: int


ToolCallSink = Callable[[ToolCall], None]


def observe_tool_calls(sinks: Sequence[ToolCallSink]) -> ServerMiddleware[Any]:
    """A server middleware that times each `tools/call`, counts its Wrike requests (a request hook on the
    call's own view of the Wrike client) and hands the record to each sink."""

    async def observe(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
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
        at = time.time()
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
            call = ToolCall(
                at=at,
                user=token.subject if token else None,
                client=token.client_id if token else None,  # server-checked, at most a client-id URL's 2000
                tool=declared_name(tool),
                outcome=outcome,
                seconds=time.perf_counter() - started,
                wrike_requests=requests,
            )
            for sink in sinks:
                sink(call)

    return observe


def declared_name(name: str | None) -> str:
    """The tool's declared name, or "unknown": a name a client sends is never recorded as it came (it would
    become a metrics series, or a value the audit table refuses, such as one with a NUL)."""
    try:
        return declared_tool(name or "").name
    except KeyError:
        return "unknown"
