"""The /api/v4 dispatcher: route table, token check, rate limit, scope check, envelopes.

Routes are declared per entity module with the scopes and parameter names of the matching method in
Wrike's reference data; tests/sandbox/test_fidelity.py checks both against the reference JSON.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wrike_mcp.sandbox import plans
from wrike_mcp.sandbox.entities import Contact
from wrike_mcp.sandbox.errors import SandboxError, invalid_parameter, wrike_error
from wrike_mcp.sandbox.params import Params
from wrike_mcp.sandbox.state import SandboxState
from wrike_mcp.sandbox.tokens import AccessToken

T = TypeVar("T")

log = logging.getLogger("wrike_mcp.sandbox")

# Accepted-scope sets as listed by the method groups of Wrike's reference data.
READ = frozenset({"Default", "wsReadOnly", "wsReadWrite"})
WRITE = frozenset({"Default", "wsReadWrite"})
WORKFLOW_READ = frozenset(
    {"Default", "amReadOnlyWorkflow", "amReadWriteWorkflow", "wsReadOnly", "wsReadWrite"}
)
AUDIT_READ = frozenset({"amReadOnlyAuditLog"})

MAX_IDS = 100  # multi-id paths take up to 100 ids


@dataclass(frozen=True)
class FileBody:
    """A handler's answer that is a file, not Wrike's JSON envelope (attachment downloads)."""

    content: bytes
    content_type: str
    name: str


# A handler answers entities, or ids where Wrike's description gives a DELETE `data: list<string>`.
Handler = Callable[["Ctx"], list[dict[str, Any]] | list[str] | FileBody]


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str  # relative to /api/v4, placeholders as in the reference: /tasks/{taskId}
    handler: Handler
    kind: str
    scopes: frozenset[str] | None  # None: callable with no token (GET /version)
    params: frozenset[str] = frozenset()
    raw_body: bool = False
    # Documented in Wrike's 2026 description, taken without effect: listed in docs/FIDELITY.md as
    # "accepted, not modelled", so a client sending them gets Wrike's answer minus that filter, not a 400.
    accepted: frozenset[str] = frozenset()  # the body is the payload itself (an upload), not parameters
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def route(
    method: str,
    path: str,
    kind: str,
    scopes: frozenset[str] | None,
    params: Iterable[str] = (),
    *,
    raw_body: bool = False,
    accepted: Iterable[str] = (),
) -> Callable[[Handler], ApiRoute]:
    def wrap(handler: Handler) -> ApiRoute:
        return ApiRoute(method, path, handler, kind, scopes, frozenset(params), raw_body, frozenset(accepted))

    return wrap


@dataclass
class Ctx:
    """Everything a handler needs for one request."""

    state: SandboxState
    params: Params
    path: dict[str, str]
    user: Contact
    token: AccessToken | None
    method: str
    extra: dict[str, Any] = field(default_factory=dict)  # top-level keys beside kind/data (paging)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""  # the raw body of a raw_body route
    base_url: str = ""  # scheme://host:port of the request, for links the sandbox hands out

    def ids(self, name: str) -> list[str]:
        """A multi-id path segment: comma-separated, up to 100 ids."""
        values = [part for part in self.path[name].split(",")]
        if any(not part.strip() for part in values):
            raise invalid_parameter(name, "contains an empty id")
        if len(values) > MAX_IDS:
            raise invalid_parameter(name, f"accepts up to {MAX_IDS} IDs, got {len(values)}")
        return [part.strip() for part in values]

    def entities(self, name: str, table: Mapping[str, T], label: str) -> list[T]:
        """The entities a multi-id path segment names, in its order; 404 naming the first unknown id."""
        found = []
        for ident in self.ids(name):
            entity = table.get(ident)
            if entity is None:
                raise wrike_error("resource_not_found", f"{label} '{ident}' not found")
            found.append(entity)
        return found

    def one_id(self, name: str) -> str:
        value = self.path[name]
        if "," in value:
            raise invalid_parameter(name, "takes a single ID for this method")
        return value


def timestamp(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def task_datetime(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else None


def find_route(routes: list[ApiRoute], method: str, path: str) -> tuple[ApiRoute, dict[str, str]]:
    for candidate in routes:
        if candidate.method == method:
            match = candidate.pattern.match(path)
            if match:
                return candidate, match.groupdict()
    raise wrike_error("method_not_found", f"Method {method} {path} not found")


def bearer_token(request: Request, query: dict[str, str]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query.get("access_token")


def authenticate(state: SandboxState, value: str | None) -> tuple[AccessToken, Contact]:
    if not value:
        raise wrike_error("not_authorized", "Authorization is required: send 'Authorization: Bearer <token>'")
    token = state.tokens.access.get(value)
    if token is None:
        raise wrike_error("not_authorized", "Access token is invalid")
    if token.expires_at is not None and state.clock() >= token.expires_at:
        raise wrike_error("not_authorized", "Access token has expired")
    user = state.contacts.get(token.user_id)
    if user is None or user.deleted:
        raise wrike_error("not_authorized", "The user of this token is deactivated")
    return token, user


def enforce_rate_limit(state: SandboxState, token_value: str) -> None:
    """A sliding 60-second window per token; over the limit answers 429, with Retry-After and the error
    code the control plane chose."""
    retry_after = state.tokens.hit(token_value, state.clock(), state.rate_limit)
    if retry_after is not None:
        raise wrike_error(
            state.rate_limit_code,
            f"Rate limit exceeded: {state.rate_limit} requests per minute, try again later",
            headers={"Retry-After": str(retry_after)} if state.rate_limit_retry_after else None,
        )


def check_scopes(api_route: ApiRoute, token: AccessToken) -> None:
    if api_route.scopes is None or token.scopes & api_route.scopes:
        return
    accepted = ", ".join(sorted(api_route.scopes))
    raise wrike_error(
        "not_allowed",
        f"The access token has none of the scopes this method accepts ({accepted})",
    )


def parse_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], bool]:
    """Form and JSON bodies, both as Wrike accepts them; returns (values, is_json)."""
    if not raw.strip():
        return {}, False
    if "application/json" in content_type:
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise wrike_error("invalid_request", "Request body is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise wrike_error("invalid_request", "Request body must be a JSON object")
        return decoded, True
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise wrike_error("invalid_request", "Request body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True)), False


def error_response(error: SandboxError, echo_state: str | None = None) -> JSONResponse:
    body: dict[str, Any] = error.body()
    if echo_state is not None:
        body["state"] = echo_state
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def file_response(file: FileBody) -> Response:
    disposition = f"attachment; filename*=UTF-8''{quote(file.name, safe='')}"
    return Response(file.content, media_type=file.content_type, headers={"Content-Disposition": disposition})


async def dispatch(request: Request, routes: list[ApiRoute]) -> Response:
    state: SandboxState = request.app.state.sandbox
    query = dict(request.query_params)
    echo_state = query.get("state")
    subpath = request.url.path.removeprefix("/api/v4") or "/"
    try:
        api_route, path_params = find_route(routes, request.method, subpath)
        raw_body = await request.body()
        body, is_json = (
            ({}, False)
            if api_route.raw_body
            else parse_body(request.headers.get("content-type", ""), raw_body)
        )
        token_value = bearer_token(request, query) or (body.get("access_token") if not is_json else None)
        token: AccessToken | None = None
        user: Contact | None = None
        if api_route.scopes is not None or token_value:
            token, user = authenticate(state, token_value)
            enforce_rate_limit(state, token.value)
            check_scopes(api_route, token)
        params = Params(query, body, is_json)
        params.reject_unknown(api_route.params | api_route.accepted)
        plans.check_route(state.config.plan, api_route.method, api_route.path)
        ctx = Ctx(
            state=state,
            params=params,
            path=path_params,
            user=user or state.contacts[next(iter(state.contacts))],
            token=token,
            method=request.method,
            headers=request.headers,
            body=raw_body if api_route.raw_body else b"",
            base_url=str(request.base_url).rstrip("/"),
        )
        data = api_route.handler(ctx)
    except SandboxError as error:
        return error_response(error, echo_state)
    except Exception:
        # Never a traceback on the wire: the sandbox answers like Wrike's generic server_error.
        log.exception("sandbox handler failed for %s %s", request.method, request.url.path)
        return error_response(wrike_error("server_error", "Internal server error"), echo_state)
    if isinstance(data, FileBody):
        return file_response(data)
    result: dict[str, Any] = {"kind": api_route.kind, "data": data, **ctx.extra}
    if echo_state is not None:
        result["state"] = echo_state
    return JSONResponse(result)
