"""The limits on the unauthenticated routes (remote/limits.py), in this process: the middleware in front of a
stand-in application that echoes what reached it, over a real SQLite store with a clock the test moves.

What a caller notices: the request that passes at a limit and the one refused after it, the `Retry-After` it
is told, the address its requests are counted against, the size at which a body or query is refused, and the
parameters refused before any handler sees them. The same rules are exercised end to end against a real
replica in test_attacks_abuse.py; these run here so that mutation testing (issue 21) sees them. The last
tests hold docs/REMOTE.md to the code: every limit setting with its default and range, and the fixed limits'
numbers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import String, func, select
from sqlalchemy.exc import OperationalError
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from tests.remote.helpers import DEFAULT_SIGN_IN_LIMITS
from tests.test_readme import env_name
from wrike_mcp.cli import EXIT_USAGE, main
from wrike_mcp.config import Settings
from wrike_mcp.remote import limits as limits_module
from wrike_mcp.remote.app import server_config
from wrike_mcp.remote.limits import (
    CAPACITY_RETRY_AFTER,
    REGISTRATIONS_WINDOW,
    UNUSED_ROOM_AFTER,
    AbuseLimits,
    Limits,
    ascii_cookies,
    client_key,
    parameter_problem,
)
from wrike_mcp.remote.pending import PendingAuthorization
from wrike_mcp.remote.provider import STORED_FIELDS, SignInLimits
from wrike_mcp.remote.store import MAX_RATE_WINDOW, Store, clients, rate_counters

NOW = 1_800_000_000.0  # a multiple of the counters' 10 s step
ADDRESS = "198.51.100.7"
FORM = {"content-type": "application/x-www-form-urlencoded"}
PENDING = PendingAuthorization(
    redirect_uri="http://127.0.0.1:4567/cb",
    redirect_uri_provided_explicitly=True,
    code_challenge="x" * 43,
    state=None,
    scopes=["wsReadWrite"],
    resource="https://mcp.example.com/mcp",
)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The application behind the limits, as plain ASGI: reads the body, answers 200 with what reached it,
    then hears the end of the connection from the server (which must still be there after a replayed body)."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    cookie = dict(scope["headers"]).get(b"cookie")
    reached = {"path": scope["path"], "body": body.decode(), "cookie": cookie.decode() if cookie else None}
    await JSONResponse(reached)(scope, receive, send)
    assert (await receive())["type"] == "http.disconnect"


def limits(**changes: Any) -> Limits:
    settings: dict[str, Any] = {
        "per_minute": {"/register": 3, "/authorize": 3, "/token": 3, "/revoke": 3, "/consent": 2},
        "kept_per_address": {"/register": 100, "/authorize": 100},
        "max_unused_registrations": 1000,
        "max_pending_authorizations": 1000,
        "max_body": 16 * 1024,  # issue 19's figures, which are the defaults
        "max_query": 8 * 1024,
        "pending_ttl": 600,
    }
    return Limits(**{**settings, **changes})


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


class Caller:
    """Requests through the middleware, from a client address of the test's choosing."""

    def __init__(self, middleware: AbuseLimits) -> None:
        self.middleware = middleware

    async def __call__(
        self, method: str, path: str, *, address: str = ADDRESS, **kwargs: Any
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.middleware, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://mcp.example.com") as client:
            return await client.request(method, path, **kwargs)


def caller(store: Store, clock: Clock, **changes: Any) -> Caller:
    return Caller(AbuseLimits(echo, store, limits(**changes), clock))


# ---- whom a request is counted against ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),  # an IPv4 client on a dual-stack socket
        ("testclient", "testclient"),
        ("", "unknown"),
        ("h" * 100, "h" * 64),
    ],
)
def test_client_key(host: str, key: str) -> None:
    assert client_key({"client": (host, 1234)}) == key


def test_a_request_without_a_client_is_counted_as_unknown() -> None:
    assert client_key({"client": None}) == "unknown"
    assert client_key({}) == "unknown"


# ---- parameters -------------------------------------------------------------------------------------


def test_parameter_problems() -> None:
    assert parameter_problem(b"a=1&b=&c", single_valued=True) is None
    assert parameter_problem(b"resource=a&resource=b", single_valued=True) is None  # RFC 8707
    assert parameter_problem(b"scope=a&scope=b", single_valued=False) is None
    assert parameter_problem(b"", single_valued=True) is None
    assert parameter_problem(b"state=%FF", single_valued=False) == "parameters must be UTF-8, percent-encoded"
    assert (
        parameter_problem(b"st\xffate=1", single_valued=False) == "parameters must be UTF-8, percent-encoded"
    )
    hidden = "parameters may not hold control characters"
    assert parameter_problem(b"state=a%00b", single_valued=False) == hidden
    assert parameter_problem(b"sta%0Ate=1", single_valued=False) == hidden
    assert parameter_problem(b"a=1&b=%E2%80%AE", single_valued=False) == hidden  # right-to-left override
    assert (
        parameter_problem(b"code=&code=x", single_valued=True) == "parameter 'code' is given more than once"
    )
    repeated = parameter_problem(b"client_id=a&scope=x&client_id=b&scope=y", single_valued=True)
    assert repeated == "parameter 'client_id' is given more than once"
    long_name = "n" * 60
    assert parameter_problem(f"{long_name}=1&{long_name}=2".encode(), single_valued=True) == (
        f"parameter {'n' * 40!r} is given more than once"
    )


def test_non_ascii_cookies_are_dropped_and_others_kept() -> None:
    headers = [
        (b"host", b"mcp.example.com"),
        (b"cookie", b"ours=abc; theirs=\xc3\xa9t\xc3\xa9;  also=1"),
        (b"cookie", b"only=\xff"),
        (b"x-other", b"\xff"),
    ]
    scope = {"type": "http", "headers": headers}
    kept = ascii_cookies(scope)
    assert kept["headers"] == [
        (b"host", b"mcp.example.com"),
        (b"cookie", b"ours=abc; also=1"),
        (b"x-other", b"\xff"),  # not a cookie: not ours to judge
    ]
    assert scope["headers"] == headers  # the caller's scope is not changed
    plain = {"type": "http", "headers": [(b"cookie", b"a=1"), (b"x-other", b"\xff")]}
    assert ascii_cookies(plain) is plain


# ---- what the settings set ----------------------------------------------------------------------------


def test_limits_from_settings() -> None:
    settings = Settings(
        register_rate_limit=11,
        authorize_rate_limit=12,
        token_rate_limit=13,
        revoke_rate_limit=14,
        sign_in_rate_limit=15,
        registrations_per_address=16,
        pending_per_address=17,
        max_unused_registrations=18,
        max_pending_authorizations=19,
        max_body_bytes=2000,
        max_query_bytes=1500,
        pending_authorization_ttl=120,
    )
    assert Limits.from_settings(settings) == Limits(
        per_minute={
            "/register": 11,
            "/authorize": 12,
            "/token": 13,
            "/revoke": 14,
            "/consent": 15,
            "/oauth/wrike/callback": 15,
            "/account": 15,
            "/account/sign-in": 15,
            "/account/revoke": 15,
            "/account/sign-out": 15,
        },
        kept_per_address={"/register": 16, "/authorize": 17},
        max_unused_registrations=18,
        max_pending_authorizations=19,
        max_body=2000,
        max_query=1500,
        pending_ttl=120,
    )
    # /metrics, only when it exists (a metrics token set), under its own limit
    with_metrics = settings.model_copy(update={"metrics_token": "m" * 16, "metrics_rate_limit": 20})
    assert Limits.from_settings(with_metrics).per_minute == {
        **Limits.from_settings(settings).per_minute,
        "/metrics": 20,
    }
    # counted in each process, so that monitoring sees a replica whose database is away
    assert Limits.from_settings(with_metrics).per_process == {"/metrics"}
    assert Limits.from_settings(settings).per_process == set()


def test_sign_in_limits_from_settings() -> None:
    """What the provider bounds, from its settings, and the defaults issue 19 asked for."""
    settings = Settings(
        public_url="https://mcp.example.com",
        max_client_name=21,
        max_redirect_uris=3,
        max_uri_length=150,
        pending_authorization_ttl=90,
        cimd_failure_ttl=7,
    )
    expected = SignInLimits(
        max_client_name=21, max_redirect_uris=3, max_uri_length=150, pending_ttl=90, cimd_failure_ttl=7
    )
    assert SignInLimits.from_settings(settings) == expected
    assert server_config(settings).limits == expected  # and the server hands them to its provider
    assert SignInLimits.from_settings(Settings()) == DEFAULT_SIGN_IN_LIMITS
    defaults = Limits.from_settings(Settings())
    assert (defaults.max_body, defaults.max_query, defaults.pending_ttl) == (16 * 1024, 8 * 1024, 600)


# Each setting of a size or lifetime with the range it takes: (lowest, highest) accepted.
RANGES = {
    "WRIKE_MCP_MAX_BODY_BYTES": (1024, 1024 * 1024),
    "WRIKE_MCP_MAX_QUERY_BYTES": (1024, 16 * 1024),
    "WRIKE_MCP_MAX_CLIENT_NAME": (1, 1000),
    "WRIKE_MCP_MAX_REDIRECT_URIS": (1, 100),
    "WRIKE_MCP_MAX_URI_LENGTH": (64, 2048),
    "WRIKE_MCP_PENDING_AUTHORIZATION_TTL": (1, 3600),
    "WRIKE_MCP_CIMD_FAILURE_TTL": (1, 3600),
}


@pytest.mark.parametrize(("env", "bounds"), RANGES.items())
def test_a_value_out_of_range_stops_the_server_at_start(
    env: str, bounds: tuple[int, int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lowest, highest = bounds
    for accepted in (lowest, highest):
        monkeypatch.setenv(env, str(accepted))
        assert getattr(Settings(), env.removeprefix("WRIKE_MCP_").lower()) == accepted
    for refused, rule in (
        (lowest - 1, f"greater than or equal to {lowest}"),
        (highest + 1, f"equal to {highest}"),
    ):
        monkeypatch.setenv(env, str(refused))
        assert main(["serve", "--transport", "http", "--auth", "oauth"]) == EXIT_USAGE
        assert f"wrike-mcp: invalid setting {env}: Input should be " in (error := capsys.readouterr().err)
        assert rule in error, error


def test_the_ceilings_are_what_the_server_can_hold() -> None:
    """The longest sign-in is a window the store can count one address's sign-ins over, and the longest client
    id (a client ID metadata URL, bounded by WRIKE_MCP_MAX_URI_LENGTH) fits the database's column."""
    longest = Settings(pending_authorization_ttl=RANGES["WRIKE_MCP_PENDING_AUTHORIZATION_TTL"][1])
    assert Limits.from_settings(longest).kept_window("/authorize") == MAX_RATE_WINDOW
    column = clients.c.client_id.type
    assert isinstance(column, String) and RANGES["WRIKE_MCP_MAX_URI_LENGTH"][1] == column.length


# ---- requests per minute ----------------------------------------------------------------------------


async def test_the_limit_admits_its_count_then_says_when_to_retry(store: Store) -> None:
    clock = Clock()
    call = caller(store, clock)
    clock.now = NOW + 4
    assert [(await call("POST", "/token", data={"n": "1"})).status_code for _ in range(3)] == [200] * 3
    clock.now = NOW + 14.5
    refused = await call("POST", "/token", data={"n": "1"})
    # the three counted in the bucket of NOW leave the one-minute window at NOW + 60: 45.5 s, rounded up
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "46"
    assert refused.headers["cache-control"] == "no-store"
    assert refused.json() == {
        "error": "rate_limited",
        "error_description": "too many requests; retry after 46 s",
    }
    assert (await call("POST", "/token", data={"n": "1"}, address="198.51.100.8")).status_code == 200
    assert (await call("POST", "/revoke", data={"n": "1"})).status_code == 200  # another route's count
    clock.now = NOW + 60
    assert (await call("POST", "/token", data={"n": "1"})).status_code == 200


async def test_retry_after_is_at_least_one_second(store: Store) -> None:
    clock = Clock()
    call = caller(store, clock, per_minute={"/token": 1})
    assert (await call("POST", "/token", data={"n": "1"})).status_code == 200
    clock.now = NOW + 59.8
    refused = await call("POST", "/token", data={"n": "1"})
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "1")


async def test_one_ipv6_subscriber_is_counted_once_for_its_whole_64(store: Store) -> None:
    call = caller(store, Clock(), per_minute={"/token": 2})
    assert (await call("POST", "/token", data={"n": "1"}, address="2001:db8:1:2::1")).status_code == 200
    assert (await call("POST", "/token", data={"n": "1"}, address="2001:db8:1:2::ffff")).status_code == 200
    assert (await call("POST", "/token", data={"n": "1"}, address="2001:db8:1:2:8000::5")).status_code == 429
    assert (await call("POST", "/token", data={"n": "1"}, address="2001:db8:1:3::1")).status_code == 200


async def test_preflights_and_other_routes_are_not_counted(store: Store) -> None:
    call = caller(store, Clock(), per_minute={"/token": 1})
    for _ in range(3):
        assert (await call("OPTIONS", "/token")).status_code != 429
        assert (await call("POST", "/mcp", content=b"x" * 20_000)).status_code == 200
    assert (await call("POST", "/token", data={"n": "1"})).status_code == 200
    assert (await call("POST", "/token", data={"n": "1"})).status_code == 429


async def test_a_browser_route_refuses_with_a_page(store: Store) -> None:
    call = caller(store, Clock())
    assert [(await call("GET", "/consent")).status_code for _ in range(2)] == [200, 200]
    refused = await call("GET", "/consent")
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert refused.headers["retry-after"] == "60"
    assert refused.headers["cache-control"] == "no-store"
    assert "Too many requests; retry after 60 s." in refused.text


async def test_what_one_address_may_make_the_server_keep(store: Store) -> None:
    clock = Clock()
    call = caller(
        store,
        clock,
        per_minute={"/register": 100, "/authorize": 100},
        kept_per_address={
            "/register": 2,
            "/authorize": 2,
        },
    )
    for _ in range(3):  # reading /register keeps nothing
        assert (await call("GET", "/register")).status_code == 200
    assert [(await call("POST", "/register", json={})).status_code for _ in range(3)] == [200, 200, 429]
    assert [(await call("GET", "/authorize")).status_code for _ in range(3)] == [200, 200, 429]
    # a registration is kept for an hour: so is what it counted
    clock.now = NOW + 3000
    assert (await call("POST", "/register", json={})).status_code == 429
    # a sign-in in progress lives 10 minutes
    clock.now = NOW + 600
    assert (await call("GET", "/authorize")).status_code == 200
    clock.now = NOW + 3600
    assert (await call("POST", "/register", json={})).status_code == 200


async def test_one_address_s_sign_ins_are_counted_over_their_lifetime(store: Store) -> None:
    """With WRIKE_MCP_PENDING_AUTHORIZATION_TTL lowered to 2 minutes, what one address keeps open is counted over
    2 minutes, not 10; registrations still over an hour."""
    clock = Clock()
    call = caller(
        store,
        clock,
        per_minute={"/register": 100, "/authorize": 100},
        kept_per_address={"/register": 1, "/authorize": 1},
        pending_ttl=120,
    )
    assert (await call("GET", "/authorize")).status_code == 200
    assert (await call("POST", "/register", json={})).status_code == 200
    refused = await call("GET", "/authorize")
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "120")
    clock.now = NOW + 120
    assert (await call("GET", "/authorize")).status_code == 200
    assert (await call("POST", "/register", json={})).status_code == 429


# ---- sizes and encodings ----------------------------------------------------------------------------


async def test_query_strings_up_to_8_kib(store: Store) -> None:
    call = caller(store, Clock(), per_minute={"/authorize": 10})
    prefix = "state="
    fits = await call("GET", "/authorize?" + prefix + "q" * (8 * 1024 - len(prefix)))
    assert fits.status_code == 200
    refused = await call("GET", "/authorize?" + prefix + "q" * (8 * 1024 - len(prefix) + 1))
    assert refused.status_code == 414
    assert "retry-after" not in refused.headers  # asking again will not help
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": "the query string is longer than 8 KiB",
    }


async def test_bodies_up_to_16_kib(store: Store) -> None:
    call = caller(store, Clock(), per_minute={"/token": 10, "/register": 10})
    prefix = "code="
    body = prefix + "c" * (16 * 1024 - len(prefix))
    fits = await call("POST", "/token", content=body, headers=FORM)
    assert (fits.status_code, fits.json()["body"]) == (200, body)  # and the body reaches the application
    refused = await call("POST", "/token", content=body + "c", headers=FORM)
    assert refused.status_code == 413
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": "the request body is larger than 16 KiB",
    }
    registration = await call("POST", "/register", content=b"[" + b" " * 16 * 1024 + b"]")
    assert registration.status_code == 413
    assert registration.json()["error"] == "invalid_client_metadata"


async def test_lowered_size_limits_are_the_ones_applied(store: Store) -> None:
    """WRIKE_MCP_MAX_BODY_BYTES and WRIKE_MCP_MAX_QUERY_BYTES, set to sizes that are not whole KiB: the
    refusal says the size in bytes."""
    call = caller(store, Clock(), per_minute={"/token": 10, "/authorize": 10}, max_body=2000, max_query=1500)
    body = "code=" + "c" * (2000 - len("code="))
    assert (await call("POST", "/token", content=body, headers=FORM)).status_code == 200
    refused = await call("POST", "/token", content=body + "c", headers=FORM)
    assert (refused.status_code, refused.json()["error_description"]) == (
        413,
        "the request body is larger than 2000 bytes",
    )
    query = "state=" + "q" * (1500 - len("state="))
    assert (await call("GET", "/authorize?" + query)).status_code == 200
    refused = await call("GET", "/authorize?" + query + "q")
    assert (refused.status_code, refused.json()["error_description"]) == (
        414,
        "the query string is longer than 1500 bytes",
    )


async def test_form_bodies_only_and_each_parameter_once(store: Store) -> None:
    call = caller(store, Clock(), per_minute={"/token": 10, "/register": 10, "/consent": 10})
    not_form = await call(
        "POST", "/token", content=b'{"code": "x"}', headers={"content-type": "application/json"}
    )
    assert not_form.status_code == 400
    assert not_form.json()["error_description"] == "the body must be application/x-www-form-urlencoded"
    untyped = await call("POST", "/token", content=b"code=a")  # no Content-Type at all
    assert untyped.json()["error_description"] == "the body must be application/x-www-form-urlencoded"
    twice = await call("POST", "/token", content=b"code=a&code=b", headers=FORM)
    assert twice.status_code == 400
    assert twice.json() == {
        "error": "invalid_request",
        "error_description": "parameter 'code' is given more than once",
    }
    query_twice = await call("POST", "/token?code=a&code=b", content=b"grant_type=x", headers=FORM)
    assert query_twice.status_code == 400
    # the consent form is not an OAuth endpoint: a repeated field is its own business
    assert (await call("POST", "/consent", content=b"scope=a&scope=b", headers=FORM)).status_code == 200
    hidden = await call("POST", "/consent", content=b"scope=a%07", headers=FORM)
    assert hidden.status_code == 400
    assert "Parameters may not hold control characters." in hidden.text
    registration = await call("POST", "/register", json={"client_name": "a", "redirect_uris": ["x"]})
    assert registration.status_code == 200  # /register takes JSON
    assert json.loads(registration.json()["body"]) == {"client_name": "a", "redirect_uris": ["x"]}


async def test_cookies_that_are_not_ascii_never_reach_the_application(store: Store) -> None:
    call = caller(store, Clock())
    for path in ("/consent", "/mcp"):
        reached = await call("GET", path, headers={"cookie": "ours=abc; theirs=é".encode()})
        assert reached.json()["cookie"] == "ours=abc"


# ---- when the database fails, and caps ----------------------------------------------------------------


class UnreachableStore:
    async def hit(self, *args: Any, **options: Any) -> float | None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))


async def test_an_unreachable_database_is_a_503_to_retry_soon() -> None:
    middleware = AbuseLimits(echo, UnreachableStore(), limits(), Clock())  # type: ignore[arg-type]
    refused = await Caller(middleware)("POST", "/token")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "5"
    assert refused.json() == {
        "error": "temporarily_unavailable",
        "error_description": "the server's database is unreachable",
    }


async def register(store: Store, client_id: str, created: float) -> None:
    await store.save_client(client_id, {"redirect_uris": ["x"]}, None, "dcr", created, created + 86400)


async def test_unused_registrations_are_capped_and_the_old_make_room(store: Store) -> None:
    clock = Clock()
    call = caller(store, clock, max_unused_registrations=2)
    await register(store, "recent-1", NOW - 599)
    await register(store, "recent-2", NOW - 10)
    refused = await call("POST", "/register", json={})
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {
        "error": "temporarily_unavailable",
        "error_description": "this server holds 2 registrations that were never used; try again later",
    }
    assert (await call("GET", "/register")).status_code == 200  # reading costs nothing to keep
    clock.now = NOW + 1.5  # recent-1 is now older than 10 minutes: it makes room
    assert (await call("POST", "/register", json={})).status_code == 200
    assert await store.get_client("recent-1") is None
    assert await store.get_client("recent-2") is not None


async def test_sign_ins_in_progress_are_capped_and_the_unapproved_old_make_room(store: Store) -> None:
    clock = Clock()
    call = caller(store, clock, max_pending_authorizations=2)
    await store.save_pending("older", "client-1", PENDING, NOW - 299 + 600)  # started 299 s ago
    await store.save_pending("newer", "client-1", PENDING, NOW - 10 + 600)
    refused = await call("GET", "/authorize")
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "60"
    assert refused.json() == {
        "error": "temporarily_unavailable",
        "error_description": "this server has 2 sign-ins in progress; try again in a minute",
    }
    clock.now = NOW + 1.5  # the older one has waited more than 5 minutes unapproved: it makes room
    assert (await call("GET", "/authorize")).status_code == 200
    assert await store.get_pending("older", clock.now) is None
    assert await store.get_pending("newer", clock.now) is not None


async def test_with_a_shorter_sign_in_life_the_unapproved_make_room_at_half_of_it(store: Store) -> None:
    """WRIKE_MCP_PENDING_AUTHORIZATION_TTL at 2 minutes: a sign-in unapproved for over a minute makes room."""
    clock = Clock()
    call = caller(store, clock, max_pending_authorizations=2, pending_ttl=120)
    await store.save_pending("older", "client-1", PENDING, NOW - 59 + 120)  # started 59 s ago
    await store.save_pending("newer", "client-1", PENDING, NOW - 10 + 120)
    assert (await call("GET", "/authorize")).status_code == 503
    clock.now = NOW + 1.5
    assert (await call("GET", "/authorize")).status_code == 200
    assert await store.get_pending("older", clock.now) is None
    assert await store.get_pending("newer", clock.now) is not None


async def test_lifespan_passes_through_untouched(store: Store) -> None:
    """Only HTTP requests are limited: the server's start-up and shutdown messages reach the application."""
    sent: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        message = await receive()
        await send({"type": message["type"] + ".complete"})

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        sent.append(message)

    await AbuseLimits(app, store, limits(), Clock())({"type": "lifespan"}, receive, send)
    assert sent == [{"type": "lifespan.startup.complete"}]


class HangingStore:
    async def hit(self, *args: Any, **options: Any) -> float | None:
        await anyio.sleep(30)
        return None


async def test_a_database_that_hangs_is_a_503_within_the_store_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits_module, "STORE_TIMEOUT", 0.2)
    middleware = AbuseLimits(echo, HangingStore(), limits(), Clock())  # type: ignore[arg-type]
    with anyio.fail_after(5):
        refused = await Caller(middleware)("POST", "/token", data={"n": "1"})
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "5")


async def test_at_most_100_old_entries_make_room_per_request(store: Store) -> None:
    """Making room is bounded work: one request drops at most the 100 oldest unused entries."""
    call = caller(store, Clock(), max_unused_registrations=1, max_pending_authorizations=1)
    for n in range(101):
        await register(store, f"old-{n:03}", NOW - 3000 + n)
        await store.save_pending(f"old-{n:03}", "client-1", PENDING, NOW - 500 + n + 600)  # 400-500 s old
    assert (await call("POST", "/register", json={})).status_code == 503  # one is left: still full
    assert [await store.get_client(f"old-{n:03}") is None for n in (0, 99, 100)] == [True, True, False]
    assert (await call("GET", "/authorize")).status_code == 503
    assert await store.live_pending(NOW) == 1
    assert (await call("POST", "/register", json={})).status_code == 200  # the next request drops the last
    assert (await call("GET", "/authorize")).status_code == 200


# ---- docs/REMOTE.md tells the code's names and numbers ----------------------------------------------------

REMOTE_DOC = Path(__file__).parents[2] / "docs" / "REMOTE.md"


def all_limits(settings: Settings) -> tuple[Limits, SignInLimits]:
    return Limits.from_settings(settings), SignInLimits.from_settings(settings)


def limit_fields() -> set[str]:
    """The settings Limits.from_settings and SignInLimits.from_settings read, found by changing each number
    setting and seeing the limits change (so a new limit setting is found without this test naming it). A
    metrics token is set: /metrics, and so its limit, exists only then."""
    base: dict[str, Any] = {"metrics_token": "m" * 16}
    default = all_limits(Settings(**base))
    found = set()
    for name, field in Settings.model_fields.items():
        if field.annotation is int and all_limits(Settings(**base, **{name: field.default + 1})) != default:
            found.add(name)
    return found


def documented_defaults(text: str) -> dict[str, dict[str, str]]:
    """For each table section of REMOTE.md: environment variable -> its default cell, for rows that name one
    variable alone (the tables whose header has "environment variable" and "default" columns)."""
    tables: dict[str, dict[str, str]] = {}
    section, column = "", None
    for line in text.splitlines():
        if line.startswith("#"):
            section, column = line.lstrip("# "), None
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells[:1] == ["environment variable"] and "default" in cells:
            column = cells.index("default")
        elif column is not None and cells and re.fullmatch(r"`WRIKE_[A-Z_]+`", cells[0]):
            tables.setdefault(section, {})[cells[0].strip("`")] = cells[column]
    return tables


def test_remote_doc_lists_every_limit_with_the_codes_default() -> None:
    tables = documented_defaults(REMOTE_DOC.read_text(encoding="utf-8"))
    expected = {env_name(name): str(Settings.model_fields[name].default) for name in limit_fields()}
    # five per-minute limits, two per-address keeps, two caps, five sizes, two lifetimes
    assert len(expected) == 17
    assert tables["Limits"] == expected


def test_remote_doc_gives_the_range_of_each_size_and_lifetime() -> None:
    """Each row of a setting with a ceiling says "(LOWEST to HIGHEST)" (or "(LOWEST to HIGHEST: why)"), as the
    code accepts them."""
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in REMOTE_DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `WRIKE_MCP_")
    }
    bounded = {
        env_name(name): (bound(field.metadata, "ge"), bound(field.metadata, "le"))
        for name, field in Settings.model_fields.items()
        if name in limit_fields() and bound(field.metadata, "le") is not None
    }
    assert bounded == RANGES  # the ranges the start-up test tries are the code's
    for env, (lowest, highest) in bounded.items():
        assert re.search(rf"\({lowest} to {highest}[):]", rows[env]), rows[env]


def bound(metadata: list[Any], name: str) -> int | None:
    return next((getattr(item, name) for item in metadata if hasattr(item, name)), None)


def test_remote_doc_number_defaults_are_the_codes() -> None:
    """Every default REMOTE.md gives as a number, in any of its settings tables, is the code's default."""
    by_env = {env_name(name): field for name, field in Settings.model_fields.items()}
    checked = 0
    for rows in documented_defaults(REMOTE_DOC.read_text(encoding="utf-8")).values():
        for env, cell in rows.items():
            number = re.match(r"\d+(\.\d+)?", cell)
            if env in by_env and number:
                assert float(number.group()) == by_env[env].default, (env, cell)
                checked += 1
    assert checked >= 15, checked


def test_remote_doc_states_the_fixed_limits_of_the_code() -> None:
    text = REMOTE_DOC.read_text(encoding="utf-8").split("### Limits", 1)[1].split("\n## ", 1)[0]
    hours = {3600: "hour"}  # REGISTRATIONS_WINDOW in words
    for stated in (
        f"unused ones over {UNUSED_ROOM_AFTER / 60:g} minutes old make room",
        f"dynamic registrations per {hours[REGISTRATIONS_WINDOW]} per client address",
        "approved ones over half that age make room",  # test_with_a_shorter_sign_in_life_…: at half
        f"`Retry-After: {CAPACITY_RETRY_AFTER}`",
    ):
        assert stated in text, stated
    kept = re.search(r"Only the fields the server\s+uses or shows are kept \(([^)]*)\)", text)
    assert kept is not None
    assert set(re.findall(r"`(\w+)`", kept.group(1))) == set(STORED_FIELDS)


async def test_each_sign_in_request_is_counted_in_the_database_itself(postgres_url: str) -> None:
    """On PostgreSQL the per-address count of a sign-in route takes one slot per request, never slots ahead:
    with slots held in memory a request would skip the database here, and a database that hangs would then
    hold it in the SDK's handler (whose reads have no timeout) instead of answering 503 within STORE_TIMEOUT."""
    store = Store.open(postgres_url)
    try:
        await store.migrate()
        call = caller(store, Clock(), per_minute={"/token": 300})
        for _ in range(2):
            assert (await call("POST", "/token", content=b"grant_type=x", headers=FORM)).status_code == 200
        async with store.engine.connect() as conn:
            counted = (await conn.execute(select(func.sum(rate_counters.c.hits)))).scalar()
        assert counted == 2  # with claims of 300 // 20 slots it would be 15
    finally:
        await store.close()
