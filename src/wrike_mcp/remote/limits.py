"""Limits on the routes anyone may call without a token: the OAuth endpoints, the consent page, Wrike's callback,
the Connected apps page, and `/metrics` (whose bearer secret would otherwise be guessed at full speed).

- Requests per minute per client address on each route, counted in the store (`Store.hit`), so that every
  replica on the same database shares one count (`/metrics` is counted in each process: `Limits.per_process`).
  The address is the ASGI client host: uvicorn replaces it with the `X-Forwarded-For` client only when the
  connection comes from a trusted proxy (`FORWARDED_ALLOW_IPS`). IPv6 clients are counted per /64, the block one subscriber usually holds.
- Bodies of at most 16 KiB and query strings of at most 8 KiB by default (a registration, an authorization
  request, a token request or a consent form is well under 3 KiB).
- Parameters must be UTF-8 without control characters, form bodies `application/x-www-form-urlencoded`, and
  the OAuth endpoints take each parameter once (RFC 6749 §3.1; `resource` may repeat, RFC 8707): anything
  else is a 400 here rather than an error deeper in.
- Caps on what an anonymous caller can make the server keep: unused registrations and sign-ins in progress.
- Cookies that are not ASCII are dropped from every request: ours always are (RFC 6265 cookie-octets), so a
  non-ASCII one is another application's or forged, and nothing downstream has to cope with it.

Refusals are JSON OAuth errors, or an HTML page on the browser routes: 400, 413 (body), 414 (query),
429 (rate) and 503 (a cap), the last two with `Retry-After`.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import anyio
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from wrike_mcp.config import Settings
from wrike_mcp.remote.account import ACCOUNT_PATH, REVOKE_PATH, SIGN_IN_PATH, SIGN_OUT_PATH
from wrike_mcp.remote.consent import error_page
from wrike_mcp.remote.gate import STORE_RETRY_AFTER, read_body, replay_body
from wrike_mcp.remote.provider import CONSENT_PATH
from wrike_mcp.remote.store import STORE_TIMEOUT, ProcessCounts, Store
from wrike_mcp.remote.upstream import CALLBACK_PATH
from wrike_mcp.wrike.text import has_hidden

WINDOW = 60  # seconds: every per-address limit is a count per minute
# a cap is reached by many callers together, and entries make room within minutes (the oldest unused
# registrations, sign-ins half their life old): asking again in a minute is fair
CAPACITY_RETRY_AFTER = 60
BROWSER_PATHS = frozenset(
    {CONSENT_PATH, CALLBACK_PATH, ACCOUNT_PATH, SIGN_IN_PATH, REVOKE_PATH, SIGN_OUT_PATH}
)
SINGLE_VALUED_PATHS = frozenset({"/authorize", "/token", "/revoke"})
MULTI_VALUED = frozenset({"resource"})  # RFC 8707 §2: a client may name several resources


# seconds over which one address's registrations are counted: as long as an unused one lives by default
REGISTRATIONS_WINDOW = 3600
UNUSED_ROOM_AFTER = 600.0  # seconds: an unused registration this old may make room at the cap


@dataclass(frozen=True)
class Limits:
    per_minute: dict[str, int]  # route path → requests per minute per client address
    # route path → how many of what it stores one client address may make us keep (per `kept_window`)
    kept_per_address: dict[str, int]
    max_unused_registrations: int
    max_pending_authorizations: int
    max_body: int  # bytes
    max_query: int  # bytes; an authorization request's `state` is kept while it is pending
    # seconds a sign-in in progress lives: the provider expires it (its SignInLimits, from the same setting);
    # here it sets how long one address's sign-ins are counted and when an unapproved one may make room
    pending_ttl: int
    # routes of `per_minute` counted in each process, never in the store: /metrics, so that monitoring still
    # sees a replica while its database is away (a shared count would answer 503, or hang, exactly then). A
    # secret of 16+ characters guessed at this limit times the replicas is still out of reach.
    per_process: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        metrics: dict[str, int] = {}
        if settings.metrics_token:  # /metrics exists only then (and its module needs prometheus-client)
            from wrike_mcp.metrics import METRICS_PATH

            metrics[METRICS_PATH] = settings.metrics_rate_limit
        return cls(
            per_minute={
                "/register": settings.register_rate_limit,
                "/authorize": settings.authorize_rate_limit,
                "/token": settings.token_rate_limit,
                "/revoke": settings.revoke_rate_limit,
                CONSENT_PATH: settings.sign_in_rate_limit,
                CALLBACK_PATH: settings.sign_in_rate_limit,
                # the Connected apps page (each view reads the database), its sign-in and forms
                ACCOUNT_PATH: settings.sign_in_rate_limit,
                SIGN_IN_PATH: settings.sign_in_rate_limit,
                REVOKE_PATH: settings.sign_in_rate_limit,
                SIGN_OUT_PATH: settings.sign_in_rate_limit,
                **metrics,
            },
            kept_per_address={
                "/register": settings.registrations_per_address,
                "/authorize": settings.pending_per_address,
            },
            max_unused_registrations=settings.max_unused_registrations,
            max_pending_authorizations=settings.max_pending_authorizations,
            max_body=settings.max_body_bytes,
            max_query=settings.max_query_bytes,
            pending_ttl=settings.pending_authorization_ttl,
            per_process=frozenset(metrics),
        )

    def kept_window(self, path: str) -> int:
        """Seconds over which `kept_per_address` counts: at least as long as what the route makes us keep."""
        return REGISTRATIONS_WINDOW if path == "/register" else self.pending_ttl

    @property
    def unapproved_room_after(self) -> float:
        """Seconds after which a sign-in nobody approved may make room at the cap: half its life, so that
        one a person is reading the consent page of is not taken from them at once."""
        return self.pending_ttl / 2


def client_key(scope: Scope) -> str:
    """Whom a request is counted against: its IPv4 address, or its IPv6 /64."""
    client = scope.get("client")
    host = str(client[0]) if client else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def parameter_problem(text: bytes, *, single_valued: bool) -> str | None:
    """Why a query string or form body is malformed, or None."""
    try:
        pairs = parse_qsl(text.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return "parameters must be UTF-8, percent-encoded"
    names = [name for name, _ in pairs]
    if any(has_hidden(name) or has_hidden(value) for name, value in pairs):
        return "parameters may not hold control characters"
    repeated = [name for name in names if names.count(name) > 1 and name not in MULTI_VALUED]
    if single_valued and repeated:
        return f"parameter {repeated[0][:40]!r} is given more than once"
    return None


def ascii_cookies(scope: Scope) -> Scope:
    headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
    if all(name != b"cookie" or value.isascii() for name, value in headers):
        return scope
    kept_headers = []
    for name, value in headers:
        if name == b"cookie" and not value.isascii():
            value = b"; ".join(part.strip() for part in value.split(b";") if part.isascii())
            if not value:
                continue
        kept_headers.append((name, value))
    return {**scope, "headers": kept_headers}


class AbuseLimits:
    """ASGI middleware in front of the whole remote application (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, store: Store, limits: Limits, clock: Callable[[], float] = time.time
    ) -> None:
        self.app = app
        self.store = store
        self.limits = limits
        self.clock = clock
        self.process_counts = ProcessCounts()  # for `limits.per_process`

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = ascii_cookies(scope)
        path = scope["path"]
        limit = self.limits.per_minute.get(path)
        if limit is None or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        refuse = _Refusal(scope, receive, send, browser=path in BROWSER_PATHS)
        now = self.clock()
        route = path.strip("/").replace("/", "-")
        address = client_key(scope)
        try:
            with anyio.fail_after(STORE_TIMEOUT):
                if path in self.limits.per_process:
                    wait = self.process_counts.hit(f"addr:{route}:{address}", limit, WINDOW, now)
                else:
                    # one transaction per request (claim=1), never slots claimed ahead: a sign-in makes a
                    # handful of these, and this count is the request's first touch of the database, so one
                    # that does not answer is 503 within STORE_TIMEOUT here rather than a hang in the SDK's
                    # handlers, whose reads have no timeout of their own
                    wait = await self.store.hit(f"addr:{route}:{address}", limit, WINDOW, now, claim=1)
                kept = self.limits.kept_per_address.get(path)
                if wait is None and kept is not None and (path != "/register" or scope["method"] == "POST"):
                    # what one address can make us keep: rows live as long as this window, so never more
                    window = self.limits.kept_window(path)
                    wait = await self.store.hit(f"kept:{route}:{address}", kept, window, now)
        except (SQLAlchemyError, OSError):  # OSError includes TimeoutError: a database that does not answer
            await refuse(
                503, "temporarily_unavailable", "the server's database is unreachable", STORE_RETRY_AFTER
            )
            return
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            await refuse(429, "rate_limited", f"too many requests; retry after {seconds} s", seconds)
            return
        query: bytes = scope.get("query_string", b"")
        if len(query) > self.limits.max_query:
            await refuse(
                414, "invalid_request", f"the query string is longer than {size(self.limits.max_query)}"
            )
            return
        body: bytes | None = None
        if scope["method"] == "POST":
            body = await read_body(receive, self.limits.max_body)
            if body is None:
                error = "invalid_client_metadata" if path == "/register" else "invalid_request"
                await refuse(413, error, f"the request body is larger than {size(self.limits.max_body)}")
                return
        problem = parameter_problem(query, single_valued=path in SINGLE_VALUED_PATHS)
        if problem is None and body is not None and path != "/register":  # /register takes JSON
            if _is_form(scope):
                problem = parameter_problem(body, single_valued=path in SINGLE_VALUED_PATHS)
            else:  # RFC 6749's encoding, and all a browser's form sends: no multipart parser to trip up
                problem = "the body must be application/x-www-form-urlencoded"
        if problem is not None:
            await refuse(400, "invalid_request", problem)
            return
        try:
            with anyio.fail_after(STORE_TIMEOUT):
                full = await self._full(path, scope["method"], now)
        except (SQLAlchemyError, OSError):  # outside the app's handlers: answered here, as the counts are
            await refuse(
                503, "temporarily_unavailable", "the server's database is unreachable", STORE_RETRY_AFTER
            )
            return
        if full is not None:
            await refuse(503, "temporarily_unavailable", full, CAPACITY_RETRY_AFTER)
            return
        await self.app(scope, replay_body(body, receive) if body is not None else receive, send)

    async def _full(self, path: str, method: str, now: float) -> str | None:
        """Why the server cannot keep what this request would make it store, or None. At the cap, the oldest
        entries nobody is using any more make room first (a registration never used after 10 minutes, a
        sign-in not approved after half its life), so many addresses together cannot lock everyone out for
        long."""
        if path == "/register" and method == "POST":
            cap = self.limits.max_unused_registrations
            if await self.store.unused_registrations(now) >= cap:
                await self.store.drop_unused_registrations(created_before=now - UNUSED_ROOM_AFTER, count=100)
                if await self.store.unused_registrations(now) >= cap:
                    return f"this server holds {cap} registrations that were never used; try again later"
        if path == "/authorize":
            cap = self.limits.max_pending_authorizations
            if await self.store.live_pending(now) >= cap:
                await self.store.drop_unapproved_pending(
                    started_before=now - self.limits.unapproved_room_after,
                    lifetime=self.limits.pending_ttl,
                    count=100,
                )
                if await self.store.live_pending(now) >= cap:
                    return f"this server has {cap} sign-ins in progress; try again in a minute"
        return None


def size(limit: int) -> str:
    """A byte limit as a person reads it: in KiB when it is whole KiB."""
    return f"{limit // 1024} KiB" if limit % 1024 == 0 else f"{limit} bytes"


def _is_form(scope: Scope) -> bool:
    content_type: bytes = dict(scope.get("headers", [])).get(b"content-type", b"")
    return content_type.startswith(b"application/x-www-form-urlencoded")


@dataclass
class _Refusal:
    scope: Scope
    receive: Receive
    send: Send
    browser: bool

    async def __call__(
        self, status: int, error: str, description: str, retry_after: int | None = None
    ) -> None:
        headers: dict[str, Any] = {"Cache-Control": "no-store"}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        response: Response
        if self.browser:
            response = error_page(status, description[0].upper() + description[1:] + ".")
            response.headers.update(headers)
        else:
            response = JSONResponse({"error": error, "error_description": description}, status, headers)
        await response(self.scope, self.receive, self.send)
