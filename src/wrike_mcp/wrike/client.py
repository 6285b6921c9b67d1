"""The Wrike API v4 client: envelopes, typed errors, the rate governor, retries for reads, none for writes.

Reads (GET) are retried on 429, 5xx, timeouts, dropped connections and malformed answers, with full-jitter
exponential backoff that honours `Retry-After`, bounded by `max_retries` and `retry_budget` seconds. Writes
(POST/PUT/DELETE) are sent exactly once: when the request may have reached Wrike and no clean answer came
back, the caller gets `UnknownOutcome` instead of a blind retry that could create a second task or comment.
The one replay for every method is after a 401, which means Wrike applied nothing.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, NoReturn, TypeVar, overload
from urllib.parse import quote, urlsplit

import anyio
import httpx
from pydantic import ValidationError

from wrike_mcp import __version__
from wrike_mcp.hosts import DEFAULT_HOST, wrike_host
from wrike_mcp.wrike.errors import (
    ConnectionFailed,
    MalformedResponse,
    NotAuthorized,
    RateLimited,
    ResourceNotFound,
    UnknownOutcome,
    WrikeAPIError,
    WrikeError,
    WrikeTimeout,
    api_error,
)
from wrike_mcp.wrike.governor import RateGovernor, SharedBudget
from wrike_mcp.wrike.pagination import MAX_PAGE_SIZE, Page, iterate_pages
from wrike_mcp.wrike.tokens import Token, TokenSource

if TYPE_CHECKING:  # the models are imported by whoever parses with them, not at a cold start
    from wrike_mcp.wrike.models import WrikeModel

logger = logging.getLogger("wrike_mcp.wrike")

Method = Literal["GET", "POST", "PUT", "DELETE"]
MULTI_ID_BATCH = 100  # Wrike's limit for /tasks/{id},{id},...
M = TypeVar("M", bound="WrikeModel")
T = TypeVar("T")

# httpx errors raised before any byte of the request left this machine: safe to report as "not applied".
_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class UntrustedHost(WrikeError):
    """The API host is not an https `*.wrike.com` host, so the token is not sent there.

    The client's last line: it guards every request, whatever its configuration or token says. The login's
    `auth.UntrustedHost` (an AuthError) is an earlier, different refusal: a token response naming a foreign
    host, so that no grant holding it is stored. Both ask `hosts.wrike_host`; they are separate classes
    because their callers differ (a tool call's WrikeError handling, the sign-in flow's AuthError handling).
    """


@dataclass(frozen=True)
class Written:
    """A write Wrike answered, as the client's write hooks receive it.

    `kind` is Wrike's name of the entities (`folders`, `tasks`, ...: the answer's `kind`); `entities` its
    `data` as parsed JSON, or None when the outcome is unknown (no clean answer: it may have been applied).
    """

    method: Method
    path: str
    kind: str | None
    entities: list[dict[str, Any]] | None


@dataclass(frozen=True)
class Exchanged:
    """One attempt at a request, as the client's event hooks receive it once it ended (metrics, traces).

    `status` is Wrike's HTTP status, None when no answer came (timeout, dropped connection); `retry` says
    whether the client tries again after it (a GET after a 429, a 5xx or no answer, within its budget);
    `attempt` counts the tries before this one; `waited` is the time the rate governor held it back first.
    """

    method: Method
    path: str
    status: int | None
    seconds: float
    retry: bool = False
    attempt: int = 0
    waited: float = 0.0


# Called with (method, path) as each request is sent, retries included.
RequestHook = Callable[[str, str], None]
# Called as each attempt ends, and again (with `retry=True`) when a GET is to be retried after it.
EventHook = Callable[[Exchanged], None]
# Called after each write (POST, PUT, DELETE) that Wrike answered, and after one whose outcome is unknown.
WriteHook = Callable[[Written], None]


class _JsonNull:
    """Sends an explicit JSON `null` in a body (e.g. `project=null` turns a project back into a folder)."""

    def __repr__(self) -> str:
        return "NULL"


NULL: Final = _JsonNull()


@dataclass(frozen=True)
class RawBody:
    """A request body sent as is (a file upload) with the headers that describe it, e.g. `X-File-Name`."""

    content: bytes
    headers: Mapping[str, str]


# What goes in a request body: form fields, raw bytes, or nothing.
Body = dict[str, str] | RawBody | None


def encode_value(value: Any) -> str:
    """One query or form value the way Wrike reads it: lists, dicts and booleans as JSON, the rest as text."""
    if isinstance(value, _JsonNull):
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return str(value)


def encode_fields(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Query parameters or form fields, `None` dropped."""
    return {key: encode_value(value) for key, value in (values or {}).items() if value is not None}


def check_api_host(host: str) -> str:
    """The host, normalised, if Wrike's token may be sent to it; `UntrustedHost` otherwise."""
    normalised = wrike_host(host)
    if normalised is None:
        raise UntrustedHost(
            f"refusing to send the Wrike token to {host!r}: only https *.wrike.com hosts are accepted "
            "(set WRIKE_BASE_URL explicitly to use another server such as the sandbox)"
        )
    return normalised


def clean_path(path: str) -> str:
    """The API path with each segment percent-encoded; refuses queries, fragments and dot segments."""
    if not path.startswith("/") or "?" in path or "#" in path:
        raise WrikeError(f"invalid Wrike API path {path!r}: it must start with '/' and carry no query")
    segments = path[1:].split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise WrikeError(f"invalid Wrike API path {path!r}: empty or dot segment")
    return "/" + "/".join(quote(segment, safe="-_:.=,~!$'()*+;@") for segment in segments)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` in seconds (delay-seconds or HTTP-date form); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


LOCAL_RATE_LIMIT = "local_rate_limit"  # the error code of a request our own governor held back too long


class _Failure(Exception):
    """One attempt failed; carries the typed error and what the failure tells about retrying."""

    def __init__(
        self, error: WrikeError, *, retryable: bool, maybe_applied: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(error.message)
        self.error = error
        self.retryable = retryable  # worth another GET
        self.maybe_applied = maybe_applied  # a write may have reached Wrike
        self.retry_after = retry_after


class WrikeClient:
    """Async client for Wrike API v4; one per server (it pools connections). An async context manager."""

    def __init__(
        self,
        token_source: TokenSource,
        *,
        base_url: str | None = None,
        host: str = DEFAULT_HOST,
        timeout: float = 30.0,
        rate_limit_per_minute: int = 400,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        retry_after_cap: float = 30.0,
        governor: RateGovernor | None = None,
        max_response_bytes: int = 64 * 1024 * 1024,
        max_queue_wait: float = 45.0,
        shared_budget: SharedBudget | None = None,
    ) -> None:
        self._tokens = token_source
        self._base_url = _check_base_url(base_url) if base_url else None
        # With an explicit base URL (the sandbox) the host plays no part; otherwise it must be Wrike's.
        self._host = host if self._base_url else check_api_host(host)
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = retry_after_cap
        self.max_response_bytes = max_response_bytes
        # How long a call may wait for the rate governor: past it, the call fails fast with "retry after N s"
        # instead of outlasting the MCP client's own timeout (commonly 60 s) in a queue.
        self.max_queue_wait = max_queue_wait
        # One governor per client, i.e. per token source: Wrike counts requests per token (and per IP), and a
        # refreshed token belongs to the same user and the same budget. Other processes using the same grant
        # (remote-mode replicas) count in `shared_budget` as well.
        self.governor = governor or RateGovernor(rate_limit_per_minute, shared_budget=shared_budget)
        self.request_count = 0
        # Event hooks, like httpx's: whoever keeps something derived from Wrike's data (the resolver's caches)
        # registers a write hook; whoever counts requests (the access log) a request hook on a `hooked` view.
        self.request_hooks: list[RequestHook] = []
        self.write_hooks: list[WriteHook] = []
        # whoever observes the exchanges themselves (the metrics of an HTTP server): status, time, retries
        self.event_hooks: list[EventHook] = []
        self.server_date: str | None = None  # the Date header of the latest answer (doctor's clock check)
        self._last_token: Token | None = None
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # a redirect could carry the Authorization header to another host
            headers={"Accept": "application/json", "User-Agent": f"wrike-mcp/{__version__}"},
        )

    async def __aenter__(self) -> WrikeClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def hooked(self, on_request: RequestHook) -> WrikeClient:
        """This client with one more request hook, for one caller (a tool call): it shares the connections,
        the token source, the rate governor and the write hooks, so closing stays the original's job."""
        view = copy.copy(self)
        view.request_hooks = [*self.request_hooks, on_request]
        return view

    @property
    def base_url(self) -> str:
        """The API base URL of the latest request (the token's host may differ from the configured one)."""
        return self.api_base_url(self._last_token)

    def api_base_url(self, token: Token | None = None) -> str:
        """Where requests go: the explicit base URL, else `https://{host}/api/v4` with the token's host."""
        if self._base_url:
            return self._base_url
        host = check_api_host(token.host) if token and token.host else self._host
        return f"https://{host}/api/v4"

    # ---- public API -------------------------------------------------------------------------------------

    @overload
    async def get(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...
    @overload
    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, model: type[M]) -> list[M]: ...
    async def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, model: type[M] | None = None
    ) -> list[dict[str, Any]] | list[M]:
        """GET and return the envelope's `data`, parsed into `model` when one is given."""
        return _parsed(model, "GET", path, _data(await self.request("GET", path, params=params)))

    @overload
    async def get_one(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]: ...
    @overload
    async def get_one(self, path: str, params: Mapping[str, Any] | None = None, *, model: type[M]) -> M: ...
    async def get_one(
        self, path: str, params: Mapping[str, Any] | None = None, *, model: type[M] | None = None
    ) -> dict[str, Any] | M:
        """GET and return `data[0]`; `ResourceNotFound` when Wrike returns no entity."""
        data = await self.get(path, params)
        if not data:
            raise ResourceNotFound(
                404, "resource_not_found", "Wrike returned nothing", method="GET", path=path
            )
        return _parsed(model, "GET", path, data[:1])[0]

    @overload
    async def get_many(
        self, path_template: str, ids: Sequence[str], params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]: ...
    @overload
    async def get_many(
        self,
        path_template: str,
        ids: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        model: type[M],
    ) -> list[M]: ...
    async def get_many(
        self,
        path_template: str,
        ids: Sequence[str],
        params: Mapping[str, Any] | None = None,
        *,
        model: type[M] | None = None,
    ) -> list[dict[str, Any]] | list[M]:
        """GET entities by id through a multi-id path such as `/tasks/{ids}`, 100 ids per request.

        Returns them in the order of `ids` (duplicates once); ids Wrike did not return are left out.
        """
        if "{ids}" not in path_template:
            raise ValueError("path_template must contain '{ids}', e.g. '/tasks/{ids}'")
        unique = list(dict.fromkeys(ids))
        by_id: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), MULTI_ID_BATCH):
            batch = unique[start : start + MULTI_ID_BATCH]
            for item in await self.get(path_template.replace("{ids}", ",".join(batch)), params):
                by_id[str(item.get("id"))] = item
        return _parsed(model, "GET", path_template, [by_id[ident] for ident in unique if ident in by_id])

    @overload
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int,
        page_token: str | None = None,
    ) -> Page[dict[str, Any]]: ...
    @overload
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int,
        page_token: str | None = None,
        model: type[M],
    ) -> Page[M]: ...
    async def get_page(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int,
        page_token: str | None = None,
        model: type[M] | None = None,
    ) -> Page[dict[str, Any]] | Page[M]:
        """One page of a paged list (`pageSize`, `nextPageToken`), its items parsed into `model` when given."""
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        query = {**(params or {}), "pageSize": page_size, "nextPageToken": page_token}
        envelope = await self.request("GET", path, params=query)
        token = envelope.get("nextPageToken")
        size = envelope.get("responseSize")
        items: list[Any] = _parsed(model, "GET", path, _data(envelope))
        return Page(
            items=items,
            next_page_token=str(token) if token else None,
            response_size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )

    @overload
    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int = 500
    ) -> AsyncIterator[Page[dict[str, Any]]]: ...
    @overload
    def iter_pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, page_size: int = 500, model: type[M]
    ) -> AsyncIterator[Page[M]]: ...
    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = 500,
        model: type[M] | None = None,
    ) -> AsyncIterator[Page[dict[str, Any]]] | AsyncIterator[Page[M]]:
        """Every page, following `nextPageToken` to the end (or to an empty page)."""
        if model is None:
            return iterate_pages(
                lambda token: self.get_page(path, params, page_size=page_size, page_token=token)
            )
        return iterate_pages(
            lambda token: self.get_page(path, params, page_size=page_size, page_token=token, model=model)
        )

    @overload
    async def post(self, path: str, data: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...
    @overload
    async def post(self, path: str, data: Mapping[str, Any] | None = None, *, model: type[M]) -> list[M]: ...
    async def post(
        self, path: str, data: Mapping[str, Any] | None = None, *, model: type[M] | None = None
    ) -> list[dict[str, Any]] | list[M]:
        return _parsed(model, "POST", path, _data(await self.request("POST", path, data=data)))

    @overload
    async def put(self, path: str, data: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...
    @overload
    async def put(self, path: str, data: Mapping[str, Any] | None = None, *, model: type[M]) -> list[M]: ...
    async def put(
        self, path: str, data: Mapping[str, Any] | None = None, *, model: type[M] | None = None
    ) -> list[dict[str, Any]] | list[M]:
        return _parsed(model, "PUT", path, _data(await self.request("PUT", path, data=data)))

    async def delete(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return _data(await self.request("DELETE", path, params=params))

    async def post_raw(self, path: str, body: RawBody, *, model: type[M]) -> list[M]:
        """POST a raw body (an upload), sent once like every write; Wrike's answer parsed into `model`."""
        path = clean_path(path)
        envelope = await self._announced("POST", path, self._send("POST", path, {}, body, self._envelope))
        return _parsed(model, "POST", path, _data(envelope))

    async def download(self, path: str, *, max_bytes: int) -> bytes:
        """GET a file's bytes (retried like every read); more than `max_bytes` is refused, not read."""
        path = clean_path(path)
        return await self._send("GET", path, {}, None, lambda method, path, body: body, max_bytes=max_bytes)

    async def request(
        self,
        method: Method,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send one API call; return the whole envelope (`kind`, `data`, `nextPageToken` when paged)."""
        form = encode_fields(data) if method in ("POST", "PUT") else None
        path = clean_path(path)
        if method == "GET":
            return await self._send(method, path, encode_fields(params), form, self._envelope)
        return await self._announced(
            method, path, self._send(method, path, encode_fields(params), form, self._envelope)
        )

    async def _announced(
        self, method: Method, path: str, sending: Awaitable[dict[str, Any]]
    ) -> dict[str, Any]:
        """A write's envelope, after telling the write hooks what Wrike answered (or that nobody knows)."""
        try:
            envelope = await sending
        except (UnknownOutcome, anyio.get_cancelled_exc_class()):
            self._tell_write_hooks(Written(method, path, None, None))  # it may have been applied
            raise
        kind = envelope.get("kind")
        self._tell_write_hooks(
            Written(method, path, kind if isinstance(kind, str) else None, _data(envelope))
        )
        return envelope

    def _tell_event_hooks(self, event: Exchanged) -> None:
        for hook in self.event_hooks:
            hook(event)

    def _tell_write_hooks(self, written: Written) -> None:
        for hook in self.write_hooks:
            hook(written)

    async def _send(
        self,
        method: Method,
        path: str,
        query: dict[str, str],
        body: Body,
        decode: Callable[[Method, str, bytes], T],
        *,
        max_bytes: int | None = None,
    ) -> T:
        """One call, its answer's body decoded by `decode` (inside the retries, so a malformed read is retried)."""
        exchange = _Exchange(method, path, query, body, decode, max_bytes or self.max_response_bytes)
        token = await self._tokens.get_token()
        self._last_token = token
        replayed = False
        while True:
            try:
                if method == "GET":
                    return await self._read(exchange, token)
                return await self._write(exchange, token)
            except NotAuthorized:
                # A 401 means Wrike applied nothing: one replay with a refreshed token is safe for any method.
                if replayed:
                    raise
                fresh = await self._tokens.refresh_after_401(token)
                if fresh is None or fresh.value == token.value:
                    raise
                token, replayed = fresh, True
                self._last_token = token

    # ---- retries ----------------------------------------------------------------------------------------

    async def _read(self, exchange: _Exchange[T], token: Token) -> T:
        deadline = time.monotonic() + self.retry_budget
        attempt = 0
        while True:
            try:
                return await self._attempt(exchange, token, attempt)
            except _Failure as failure:
                if not failure.retryable or attempt >= self.max_retries:
                    raise failure.error from None
                delay = failure.retry_after if failure.retry_after is not None else self._backoff(attempt)
                if time.monotonic() + delay > deadline:
                    raise failure.error from None
                status = failure.error.status if isinstance(failure.error, WrikeAPIError) else None
                self._tell_event_hooks(
                    Exchanged("GET", exchange.path, status, 0.0, retry=True, attempt=attempt)
                )
                logger.debug(
                    "retrying GET %s in %.2f s (%s)", exchange.path, delay, type(failure.error).__name__
                )
                await anyio.sleep(delay)
                attempt += 1

    async def _write(self, exchange: _Exchange[T], token: Token) -> T:
        try:
            return await self._attempt(exchange, token)
        except _Failure as failure:
            if failure.maybe_applied:
                raise UnknownOutcome(exchange.method, exchange.path, failure.error.message) from None
            raise failure.error from None

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform between 0 and the exponential ceiling, so concurrent retries spread out."""
        ceiling = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography

    # ---- one HTTP exchange ------------------------------------------------------------------------------

    async def _attempt(self, exchange: _Exchange[T], token: Token, attempt: int = 0) -> T:
        method, path = exchange.method, exchange.path
        url = self.api_base_url(token) + path
        queued = time.perf_counter()
        try:
            with anyio.fail_after(self.max_queue_wait):
                slot = await self.governor.acquire()
        except TimeoutError:
            wait = max(1.0, self.governor.wait_estimate())
            limited = RateLimited(
                429,
                LOCAL_RATE_LIMIT,
                f"wrike-mcp held this request back for {self.max_queue_wait:g} s to stay under "
                f"{self.governor.limit} requests per {self.governor.window:g} s; retry after {wait:.0f} s",
                method=method,
                path=path,
            )
            limited.retry_after = wait
            raise _Failure(limited, retryable=False, maybe_applied=False) from None
        self.request_count += 1
        for hook in self.request_hooks:
            hook(method, path)
        started = time.perf_counter()
        waited = started - queued
        status: int | str = "no answer"
        try:
            # One deadline over the whole exchange, body included: httpx's timeouts are per read, so a server
            # dripping bytes could otherwise outlast them.
            with anyio.fail_after(self.timeout):
                request = self._build_request(exchange, url, token)
                try:
                    response = await self._http.send(request, stream=True)
                except httpx.HTTPError as exc:
                    self._transport_failure(method, path, exc)
                status = response.status_code
                self.server_date = response.headers.get("date")
                try:
                    body = await self._read_body(method, path, response, exchange.max_bytes)
                except httpx.HTTPError as exc:
                    if isinstance(exc, httpx.TimeoutException):
                        self._transport_failure(method, path, exc)
                    raise _Failure(
                        MalformedResponse(
                            f"Wrike's answer to {method} {path} was cut off ({type(exc).__name__})"
                        ),
                        retryable=True,
                        maybe_applied=True,
                    ) from None
                finally:
                    with anyio.CancelScope(shield=True):  # release the connection even when timed out
                        await response.aclose()
        except TimeoutError:
            raise _Failure(
                WrikeTimeout(f"no answer from Wrike within {self.timeout:g} s ({method} {path})"),
                retryable=True,
                maybe_applied=True,
            ) from None
        finally:
            self.governor.release(slot)
            elapsed = time.perf_counter() - started
            logger.debug("%s %s -> %s in %.0f ms", method, path, status, elapsed * 1000)
            self._tell_event_hooks(
                Exchanged(
                    method,
                    path,
                    status if isinstance(status, int) else None,
                    elapsed,
                    attempt=attempt,
                    waited=waited,
                )
            )
        self._check_status(method, path, response, body, token)
        return exchange.decode(method, path, body)

    def _build_request(self, exchange: _Exchange[Any], url: str, token: Token) -> httpx.Request:
        headers = {"Authorization": f"Bearer {token.value}"}
        if isinstance(exchange.body, RawBody):
            return self._http.build_request(
                exchange.method,
                url,
                params=exchange.query,
                content=exchange.body.content,
                headers={**exchange.body.headers, **headers},
            )
        return self._http.build_request(
            exchange.method, url, params=exchange.query, data=exchange.body, headers=headers
        )

    async def _read_body(self, method: Method, path: str, response: httpx.Response, limit: int) -> bytes:
        """The body, refusing more than `limit` bytes so a runaway answer cannot exhaust memory."""
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _Failure(
                    MalformedResponse(f"Wrike's answer to {method} {path} exceeded {limit} bytes"),
                    retryable=False,
                    maybe_applied=True,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _transport_failure(self, method: Method, path: str, exc: httpx.HTTPError) -> NoReturn:
        # Messages are built here, never from the exception text, which may quote the request.
        sent = not isinstance(exc, _NOT_SENT)
        error: WrikeError
        if isinstance(exc, httpx.TimeoutException):
            error = WrikeTimeout(f"no answer from Wrike within {self.timeout:g} s ({method} {path})")
        elif sent:
            error = ConnectionFailed(f"the connection to Wrike dropped during {method} {path}")
        else:
            error = ConnectionFailed(f"could not connect to Wrike for {method} {path} ({type(exc).__name__})")
        raise _Failure(error, retryable=True, maybe_applied=sent) from None

    def _check_status(
        self, method: Method, path: str, response: httpx.Response, body: bytes, token: Token
    ) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        error = self._api_error(method, path, status, body, token)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            limited = (
                error
                if isinstance(error, RateLimited)
                else RateLimited(status, error.code, error.description, method=method, path=path)
            )
            limited.retry_after = retry_after
            if retry_after is not None:
                self.governor.pause_for(min(retry_after, self.retry_after_cap))
            raise _Failure(limited, retryable=True, maybe_applied=False, retry_after=retry_after)
        if status >= 500:
            raise _Failure(error, retryable=True, maybe_applied=True, retry_after=retry_after)
        raise error  # 3xx and 4xx: Wrike refused the request as sent; repeating it changes nothing

    @staticmethod
    def _envelope(method: Method, path: str, body: bytes) -> dict[str, Any]:
        try:
            envelope = json.loads(body)
        except ValueError:
            raise _Failure(
                MalformedResponse(
                    f"Wrike's answer to {method} {path} was not valid JSON (malformed or cut off)"
                ),
                retryable=True,
                maybe_applied=True,
            ) from None
        data = envelope.get("data") if isinstance(envelope, dict) else None
        if method == "DELETE" and isinstance(data, list) and all(isinstance(item, str) for item in data):
            # The 2026 description gives DELETE of a comment, time log or space `data: list<string>`: ids,
            # read as entities that carry only their id, so every caller and write hook sees one shape.
            data = [{"id": item} for item in data]
            envelope = {**envelope, "data": data}
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise _Failure(
                MalformedResponse(f"Wrike's answer to {method} {path} has no `data` list of entities"),
                retryable=True,
                maybe_applied=True,
            )
        assert isinstance(envelope, dict)
        return envelope

    @staticmethod
    def _api_error(method: Method, path: str, status: int, body: bytes, token: Token) -> WrikeAPIError:
        code, description = "", ""
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            code = str(parsed.get("error") or "")
            description = str(parsed.get("errorDescription") or "")
        if not description:
            if 300 <= status < 400:
                code = code or "redirect"
                description = "Wrike answered with a redirect, which usually means the wrong data-centre host"
            else:
                description = f"Wrike answered HTTP {status} without its error details"
        # Never let a token back out through an error message, even if an upstream echoes it.
        description = description.replace(token.value, "<token>")[:500]
        error = api_error(status, code, description, method=method, path=path)
        error.granted_scopes = token.scopes  # lets a 403 name a scope only when the grant really lacks it
        return error


@dataclass(frozen=True)
class _Exchange(Generic[T]):
    """One API call as every attempt sends it, and how its answer's body is read."""

    method: Method
    path: str
    query: dict[str, str]
    body: Body
    decode: Callable[[Method, str, bytes], T]
    max_bytes: int


def _check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise WrikeError(f"invalid Wrike base URL {base_url!r}: expected e.g. http://127.0.0.1:8100/api/v4")
    return base_url.rstrip("/")


def _data(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    data = envelope["data"]  # checked by _envelope: a list of dicts
    assert isinstance(data, list)
    return data


@overload
def _parsed(model: None, method: Method, path: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]: ...
@overload
def _parsed(model: type[M], method: Method, path: str, items: list[dict[str, Any]]) -> list[M]: ...
def _parsed(
    model: type[M] | None, method: Method, path: str, items: list[dict[str, Any]]
) -> list[dict[str, Any]] | list[M]:
    """Wrike's entities as `model`s: where Wrike data enters, so the type checker guards every field after it.

    An entity that does not fit (a missing id, a list where a text belongs) is a malformed answer, never a
    traceback; after a write the message says the write was applied, so nobody repeats it.
    """
    if model is None:
        return items
    try:
        return [model.model_validate(item) for item in items]
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the entity"
        applied = " (the change was applied; do not repeat it)" if method != "GET" else ""
        raise MalformedResponse(
            f"Wrike's answer to {method} {path} is not a valid {model.__name__}{applied}: "
            f"{where}: {problem['msg']}"
        ) from None
