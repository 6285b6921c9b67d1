"""The gate in front of `/mcp`: bearer check, per-user rate limit, scope step-up, the user's Wrike context.

Every request is authenticated on its own (sessions are never credentials). A missing token gets a bare
`Bearer` challenge naming the resource metadata; a bad, expired, revoked or foreign-audience token gets
`invalid_token`; a `tools/call` for a tool the token's scopes do not cover gets 403 `insufficient_scope`
with every scope the call needs, so the client can ask the person for more (step-up).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import anyio
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from sqlalchemy.exc import SQLAlchemyError
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wrike_mcp import scopes as scope_rules
from wrike_mcp.remote.provider import GRANT_VERSION_CLAIM, WrikeMCPAuthProvider, canonical_resource
from wrike_mcp.remote.store import STORE_TIMEOUT, Store
from wrike_mcp.remote.users import UserClients
from wrike_mcp.tools.deps import REQUEST_CONTEXT_KEY
from wrike_mcp.tools.registry import ToolFilter, declared_tool
from wrike_mcp.wrike.errors import AuthorizationExpired

MAX_BODY = 4 * 1024 * 1024  # the SDK's own limit for /mcp
STORE_RETRY_AFTER = 5  # seconds: a database restart or failover

log = logging.getLogger(__name__)


class UserRateLimit:
    """A sliding one-minute window of MCP requests per user, counted in the store: one limit across every
    replica sharing it (this process keeps only its own part of the count, bounded: `ProcessCounts`)."""

    def __init__(self, store: Store, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.per_minute = per_minute
        self.clock = clock

    async def retry_after(self, user_id: str) -> int | None:
        """None when the request may go ahead (and is counted); else seconds to wait."""
        wait = await self.store.hit(f"user:{user_id}", self.per_minute, 60, self.clock())
        return None if wait is None else max(1, math.ceil(wait))


class McpGate:
    def __init__(
        self,
        app: ASGIApp,
        provider: WrikeMCPAuthProvider,
        users: UserClients,
        rate_limit: UserRateLimit,
        tool_policy: ToolFilter,
    ) -> None:
        # The SDK's own middleware puts `scope["user"]` into its authenticated-user context, which binds
        # sealed request state (multi-round-trip tool calls) to the user and client that started it.
        self.app = AuthContextMiddleware(app)
        self.provider = provider
        self.users = users
        self.rate_limit = rate_limit
        self.tool_policy = tool_policy  # the deployment's tool filters, whatever the user granted
        config = provider.config
        self.metadata_url = f"{config.issuer}/.well-known/oauth-protected-resource/mcp"
        self.default_scope = " ".join(config.default_scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        authorization = headers.getlist("authorization")
        if not authorization:
            await self._challenge(
                send, 401, f'Bearer resource_metadata="{self.metadata_url}", scope="{self.default_scope}"'
            )
            return
        try:
            with anyio.fail_after(STORE_TIMEOUT):
                token = await self._verify(authorization)
                wait = await self.rate_limit.retry_after(token.subject or "") if token is not None else None
        except (SQLAlchemyError, OSError):  # OSError includes TimeoutError
            # the store is unreachable: the client should come back, not see a server fault
            log.warning("the store did not answer while checking a bearer token; answering 503")
            await self._respond(
                send,
                503,
                {
                    "error": "temporarily_unavailable",
                    "error_description": "the server's database is unreachable",
                },
                [(b"retry-after", str(STORE_RETRY_AFTER).encode())],
            )
            return
        if token is None:
            await self._invalid_token(
                send, "the access token is missing, malformed, expired, revoked or not for this server"
            )
            return
        user_id = token.subject or ""
        if wait is not None:
            await self._respond(
                send,
                429,
                {"error": "rate_limited", "error_description": f"too many requests; retry after {wait} s"},
                [(b"retry-after", str(wait).encode())],
            )
            return
        body: bytes | None = None
        if scope["method"] == "POST":
            body = await read_body(receive, MAX_BODY)
            if body is None:
                await self._respond(send, 413, {"error": "request_too_large"}, [])
                return
            needed = _missing_scopes(body, token.scopes, self.tool_policy)
            if needed:
                await self._challenge(
                    send,
                    403,
                    f'Bearer error="insufficient_scope", scope="{" ".join(needed)}", '
                    f'resource_metadata="{self.metadata_url}", '
                    'error_description="this tool needs more Wrike permissions than this sign-in granted"',
                )
                return
        leased = False
        try:
            # the lease keeps the user's Wrike client open until the request is done with it
            version = (token.claims or {}).get(GRANT_VERSION_CLAIM)
            async with self.users.lease(user_id, frozenset(token.scopes), version) as context:
                leased = True
                scope["user"] = AuthenticatedUser(token)
                scope["auth"] = AuthCredentials(token.scopes)
                scope[REQUEST_CONTEXT_KEY] = context
                await self.app(scope, replay_body(body, receive) if body is not None else receive, send)
        except AuthorizationExpired:
            if leased:
                raise  # from the request itself, whose response may have started
            await self._invalid_token(send, "the Wrike authorization behind this token ended; sign in again")

    async def _verify(self, authorization: list[str]) -> AccessToken | None:
        if len(authorization) != 1:
            return None
        kind, _, value = authorization[0].partition(" ")
        value = value.strip()
        if kind.lower() != "bearer" or not value or " " in value:
            return None
        token = await self.provider.load_access_token(value)
        if token is None or canonical_resource(token.resource or "") != self.provider.config.resource:
            return None  # audience: only tokens issued for this server's /mcp
        return token

    async def _invalid_token(self, send: Send, description: str) -> None:
        await self._challenge(
            send,
            401,
            f'Bearer error="invalid_token", error_description="{description}", '
            f'resource_metadata="{self.metadata_url}"',
        )

    async def _challenge(self, send: Send, status: int, challenge: str) -> None:
        error = "invalid_token" if status == 401 else "insufficient_scope"
        await self._respond(
            send,
            status,
            {"error": error if "error=" in challenge else "unauthorized"},
            [(b"www-authenticate", challenge.encode())],
        )

    async def _respond(
        self, send: Send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]]
    ) -> None:
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"cache-control", b"no-store"),
                    *extra,
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _missing_scopes(body: bytes, granted: list[str], policy: ToolFilter) -> list[str]:
    """For a `tools/call` of a tool the token does not cover: all scopes the call needs; else []. A tool the
    deployment does not offer asks for no scopes: granting them would not make it callable."""
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):  # too deeply nested for the parser: malformed all the same
        return []  # the transport answers malformed JSON itself
    if not isinstance(message, dict) or message.get("method") != "tools/call":
        return []
    params = message.get("params")
    name = params.get("name") if isinstance(params, dict) else None
    if not isinstance(name, str):
        return []
    try:
        info = declared_tool(name)
    except KeyError:
        return []  # an unknown tool: the server answers it
    if not policy.allows(info):
        return []  # the server answers it as unknown
    needed = info.scopes
    if scope_rules.satisfies(granted, needed):
        return []
    return sorted(set(granted) | set(needed))


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body to the next app, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
