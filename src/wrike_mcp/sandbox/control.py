"""The /_sandbox control plane (loopback only; the middleware refuses other clients)."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wrike_mcp.sandbox.faults import Fault
from wrike_mcp.sandbox.state import SandboxState

FAULT_KEYS = {f.name for f in fields(Fault)}


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _bad(description: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_parameter", "errorDescription": description}, status_code=400)


async def _json(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        decoded = json.loads(raw)
    except ValueError:
        return None
    return decoded if isinstance(decoded, dict) else None


async def health(request: Request) -> Response:
    state = _state(request)
    return JSONResponse(
        {"status": "ok", "plan": state.config.plan, "tasks": len(state.tasks), "faults": len(state.faults)}
    )


async def reset(request: Request) -> Response:
    _state(request).reset()
    return JSONResponse({"ok": True})


def _fault_from(body: dict[str, Any]) -> Fault | str:
    unknown = set(body) - FAULT_KEYS
    if unknown:
        return f"unknown fault keys: {', '.join(sorted(unknown))}"
    if not isinstance(body.get("path"), str) or not body["path"]:
        return "'path' (a glob over the request path) is required"
    checks: dict[str, type | tuple[type, ...]] = {
        "method": str,
        "times": int,
        "status": int,
        "error": str,
        "description": str,
        "headers": dict,
        "delay_ms": int,
        "malformed": bool,
        "truncate": bool,
        "drop": bool,
        "apply": bool,
    }
    for key, expected in checks.items():
        if body.get(key) is not None and (
            not isinstance(body[key], expected) or (expected is int and isinstance(body[key], bool))
        ):
            return f"'{key}' has the wrong type"
    if body.get("times", 1) < 1 or body.get("delay_ms", 0) < 0:
        return "'times' must be >= 1 and 'delay_ms' >= 0"
    if body.get("status") is not None and not 100 <= body["status"] <= 599:
        return "'status' must be an HTTP status code"
    values = {k: v for k, v in body.items() if v is not None}
    values["headers"] = {str(k): str(v) for k, v in values.get("headers", {}).items()}
    return Fault(**values)


async def faults(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.faults.clear()
        return JSONResponse({"ok": True})
    if request.method == "GET":
        return JSONResponse([asdict(f) for f in state.faults])
    body = await _json(request)
    if body is None:
        return _bad("the body must be a JSON object")
    fault = _fault_from(body)
    if isinstance(fault, str):
        return _bad(fault)
    state.faults.add(fault)
    return JSONResponse({"ok": True, "fault": asdict(fault)})


async def requests(request: Request) -> Response:
    state = _state(request)
    if request.method == "DELETE":
        state.requests.clear()
        return JSONResponse({"ok": True})
    return JSONResponse(state.requests.entries)


async def revoke(request: Request) -> Response:
    state = _state(request)
    body = await _json(request)
    if body is None:
        return _bad("the body must be a JSON object")
    revoked = 0
    if body.get("all") is True:
        grants = {(t.grant_id, t.user_id, t.client_id) for t in state.tokens.refresh.values()}
        grants |= {
            (t.grant_id, t.user_id, t.client_id or "") for t in state.tokens.access.values() if t.grant_id
        }
        for grant_id, user_id, client_id in grants:
            if grant_id:
                state.revoke_grant(grant_id, user_id, client_id)
                revoked += 1
    elif isinstance(body.get("refresh_token"), str):
        refresh = state.tokens.refresh.get(body["refresh_token"])
        if refresh is None:
            return _bad("unknown refresh_token")
        state.revoke_grant(refresh.grant_id, refresh.user_id, refresh.client_id)
        revoked = 1
    elif isinstance(body.get("access_token"), str):
        if state.revoke_access_token(body["access_token"]) is None:
            return _bad("unknown access_token")
        revoked = 1
    else:
        return _bad('send {"refresh_token": ...}, {"access_token": ...} or {"all": true}')
    return JSONResponse({"ok": True, "revoked": revoked})


REFRESH_OMITTABLE = frozenset({"scope", "refresh_token"})


async def oauth_settings(request: Request) -> Response:
    """How the token endpoint answers refreshes: `{"refresh_omits": ["scope", "refresh_token"]}` makes it
    leave those out, as RFC 6749 §6 allows and Wrike may (the client must keep its previous values)."""
    state = _state(request)
    if request.method == "POST":
        body = await _json(request)
        omits = (body or {}).get("refresh_omits")
        if not isinstance(omits, list) or not set(omits) <= REFRESH_OMITTABLE:
            return _bad("'refresh_omits' must be a list of: " + ", ".join(sorted(REFRESH_OMITTABLE)))
        state.tokens.refresh_omits = frozenset(omits)
    return JSONResponse({"refresh_omits": sorted(state.tokens.refresh_omits)})


async def clock(request: Request) -> Response:
    """Move the sandbox clock forward, so tests can expire tokens and codes without sleeping."""
    state = _state(request)
    body = await _json(request)
    advance = (body or {}).get("advance")
    if not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0:
        return _bad("'advance' must be a non-negative number of seconds")
    state.clock_offset += float(advance)
    return JSONResponse({"ok": True, "now": state.now().strftime("%Y-%m-%dT%H:%M:%SZ")})


async def async_jobs(request: Request) -> Response:
    """How blueprint launches run: `{"polls": N}` makes a new job answer N reads of GET /async_job as still
    in progress before it completes (default 2; 0 completes on the first read), and `{"fail_next": "why"}`
    makes the next job fail with that errorMessage instead of creating anything; `{"result_ids": false}` makes
    completed jobs answer an empty `result` (Wrike documents no keys in it), true (default) the sandbox's
    `folderId`/`taskId`/`folderIds`/`taskIds`."""
    state = _state(request)
    if request.method == "POST":
        body = await _json(request)
        if body is None or set(body) - {"polls", "fail_next", "result_ids"}:
            return _bad("send a JSON object with 'polls', 'fail_next' and/or 'result_ids'")
        result_ids = body.get("result_ids", state.async_job_result_ids)
        if not isinstance(result_ids, bool):
            return _bad("'result_ids' must be true or false")
        polls = body.get("polls", state.async_job_polls)
        if not isinstance(polls, int) or isinstance(polls, bool) or not 0 <= polls <= 1000:
            return _bad("'polls' must be an integer from 0 to 1000")
        fail_next = body.get("fail_next")
        if fail_next is not None and (not isinstance(fail_next, str) or not fail_next):
            return _bad("'fail_next' must be a non-empty error message")
        state.configure_async_jobs(polls, fail_next, set_failure="fail_next" in body, result_ids=result_ids)
    return JSONResponse(
        {
            "polls": state.async_job_polls,
            "fail_next": state.async_job_failure,
            "result_ids": state.async_job_result_ids,
        }
    )


RATE_LIMIT_CODES = ("rate_limit_exceeded", "too_many_requests")


async def rate_limit(request: Request) -> Response:
    """How the rate limit answers: `{"limit": N}` requests per token per minute, `{"code": ...}` one of
    RATE_LIMIT_CODES, `{"retry_after": false}` leaves Retry-After out of the 429."""
    state = _state(request)
    if request.method == "POST":
        body = await _json(request)
        if body is None or not body or set(body) - {"limit", "code", "retry_after"}:
            return _bad("send a JSON object with 'limit', 'code' and/or 'retry_after'")
        limit = body.get("limit", state.rate_limit)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100000:
            return _bad("'limit' must be an integer from 1 to 100000")
        code = body.get("code", state.rate_limit_code)
        if code not in RATE_LIMIT_CODES:
            return _bad("'code' must be one of: " + ", ".join(RATE_LIMIT_CODES))
        retry_after = body.get("retry_after", state.rate_limit_retry_after)
        if not isinstance(retry_after, bool):
            return _bad("'retry_after' must be true or false")
        state.rate_limit, state.rate_limit_code, state.rate_limit_retry_after = limit, code, retry_after
    return JSONResponse(
        {
            "limit": state.rate_limit,
            "code": state.rate_limit_code,
            "retry_after": state.rate_limit_retry_after,
        }
    )


async def deletes(request: Request) -> Response:
    """What a DELETE of a comment or time log answers: `{"list_ids": true}` the deleted id in `data` (the
    2026 description's `list<string>`), false the empty list a live account gave."""
    state = _state(request)
    if request.method == "POST":
        body = await _json(request)
        if body is None or set(body) != {"list_ids"} or not isinstance(body["list_ids"], bool):
            return _bad('send {"list_ids": true} or {"list_ids": false}')
        state.deletes_list_ids = body["list_ids"]
    return JSONResponse({"list_ids": state.deletes_list_ids})


async def audit_log(request: Request) -> Response:
    """`{"max_page_size": N}`: GET /audit_log refuses a larger `pageSize` with 400 invalid_parameter (the 2026
    description gives the audit log no range; the default is 1000, as its other paged lists)."""
    state = _state(request)
    if request.method == "POST":
        body = await _json(request)
        size = (body or {}).get("max_page_size")
        if set(body or {}) != {"max_page_size"} or not isinstance(size, int) or isinstance(size, bool):
            return _bad('send {"max_page_size": N}, N from 1 to 1000')
        if not 1 <= size <= 1000:
            return _bad("'max_page_size' must be from 1 to 1000")
        state.audit_max_page_size = size
    return JSONResponse({"max_page_size": state.audit_max_page_size})


ROUTES = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/reset", reset, methods=["POST"]),
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/requests", requests, methods=["GET", "DELETE"]),
    Route("/_sandbox/revoke", revoke, methods=["POST"]),
    Route("/_sandbox/clock", clock, methods=["POST"]),
    Route("/_sandbox/oauth", oauth_settings, methods=["GET", "POST"]),
    Route("/_sandbox/async_jobs", async_jobs, methods=["GET", "POST"]),
    Route("/_sandbox/rate_limit", rate_limit, methods=["GET", "POST"]),
    Route("/_sandbox/deletes", deletes, methods=["GET", "POST"]),
    Route("/_sandbox/audit_log", audit_log, methods=["GET", "POST"]),
]
