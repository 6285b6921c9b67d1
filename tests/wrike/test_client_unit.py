"""Client behaviour that needs exact control of the wire (httpx.MockTransport): encoding, hosts, retries."""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from wrike_mcp.wrike.client import NULL, UntrustedHost, WrikeClient, clean_path, parse_retry_after
from wrike_mcp.wrike.errors import (
    ConnectionFailed,
    MalformedResponse,
    NotAuthorized,
    RateLimited,
    ServerError,
    UnknownOutcome,
    WrikeAPIError,
    WrikeError,
    WrikeTimeout,
)
from wrike_mcp.wrike.governor import RateGovernor
from wrike_mcp.wrike.models import Comment, Task
from wrike_mcp.wrike.tokens import StaticTokenSource, Token

TOKEN = "secret-token-value-123"
Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


def ok(data: list[dict[str, Any]] | None = None, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"kind": "tasks", "data": data or [], **extra})


def wrike_error(status: int, code: str, description: str = "x") -> httpx.Response:
    return httpx.Response(status, json={"error": code, "errorDescription": description})


def make_client(handler: Handler, **kwargs: Any) -> tuple[WrikeClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result = handler(request)
        return await result if isinstance(result, Awaitable) else result

    options: dict[str, Any] = {"backoff_base": 0.01, "retry_budget": 5.0, **kwargs}
    source = options.pop("token_source", StaticTokenSource(TOKEN))
    return WrikeClient(source, transport=httpx.MockTransport(record), **options), seen


async def test_query_values_are_json_encoded_and_none_dropped() -> None:
    client, seen = make_client(lambda r: ok())
    async with client:
        await client.get(
            "/tasks",
            {"fields": ["description"], "dueDate": {"end": "2024-01-01"}, "subTasks": True, "limit": 5}
            | {"x": None},
        )
    params = seen[0].url.params
    assert params["fields"] == '["description"]'
    assert params["dueDate"] == '{"end":"2024-01-01"}'
    assert params["subTasks"] == "true"
    assert params["limit"] == "5"
    assert "x" not in params
    assert seen[0].url.host == "www.wrike.com" and seen[0].url.path == "/api/v4/tasks"
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "access_token" not in str(seen[0].url)


async def test_bodies_are_form_encoded_with_json_lists() -> None:
    client, seen = make_client(lambda r: ok([{"id": "T"}]))
    async with client:
        await client.post(
            "/folders/F/tasks",
            {"title": "A & B", "responsibles": ["KU1"], "dates": {"due": "2024-05-01"}, "x": None, "p": NULL},
        )
    body = httpx.QueryParams(seen[0].content.decode())
    assert seen[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert body["title"] == "A & B"
    assert body["responsibles"] == '["KU1"]'
    assert body["dates"] == '{"due":"2024-05-01"}'
    assert body["p"] == "null"
    assert "x" not in body


@pytest.mark.parametrize(
    "host", ["evil.com", "wrike.com.evil.com", "www.wrike.com:8443", "user@www.wrike.com", ""]
)
def test_only_wrike_hosts_are_accepted(host: str) -> None:
    with pytest.raises(UntrustedHost):
        WrikeClient(StaticTokenSource(TOKEN), host=host)


async def test_token_host_is_used_and_checked() -> None:
    client, seen = make_client(lambda r: ok(), token_source=StaticTokenSource(TOKEN, host="app-eu.wrike.com"))
    async with client:
        await client.get("/account")
        assert client.base_url == "https://app-eu.wrike.com/api/v4"
    assert seen[0].url.host == "app-eu.wrike.com" and seen[0].url.scheme == "https"

    client, seen = make_client(lambda r: ok(), token_source=StaticTokenSource(TOKEN, host="attacker.example"))
    async with client:
        with pytest.raises(UntrustedHost) as caught:
            await client.get("/account")
    assert seen == []
    assert TOKEN not in str(caught.value)


async def test_explicit_base_url_allows_the_sandbox() -> None:
    client, seen = make_client(lambda r: ok(), base_url="http://127.0.0.1:8100/api/v4/")
    async with client:
        await client.get("/contacts")
    assert str(seen[0].url) == "http://127.0.0.1:8100/api/v4/contacts"


async def test_redirects_are_not_followed() -> None:
    client, seen = make_client(lambda r: httpx.Response(302, headers={"Location": "https://evil.example/x"}))
    async with client:
        with pytest.raises(WrikeAPIError) as caught:
            await client.get("/tasks")
    assert len(seen) == 1 and caught.value.status == 302


@pytest.mark.parametrize("path", ["tasks", "/tasks/../account", "/tasks?x=1", "/tasks//x", "/tasks/#"])
def test_bad_paths_are_refused(path: str) -> None:
    with pytest.raises(WrikeError):
        clean_path(path)


def test_path_segments_are_encoded() -> None:
    assert clean_path("/tasks/A,B/comments") == "/tasks/A,B/comments"
    assert clean_path("/tasks/a b") == "/tasks/a%20b"


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    parsed = parse_retry_after(when)
    assert parsed is not None and 8 <= parsed <= 10.5


async def test_retry_after_http_date_is_honoured() -> None:
    responses = [
        httpx.Response(
            429,
            headers={"Retry-After": email.utils.formatdate(time.time(), usegmt=True)},
            json={"error": "rate_limit_exceeded", "errorDescription": "slow down"},
        ),
        ok([{"id": "1"}]),
    ]
    client, seen = make_client(lambda r: responses.pop(0))
    async with client:
        assert await client.get("/tasks") == [{"id": "1"}]
    assert len(seen) == 2


async def test_huge_retry_after_fails_fast_with_the_wait() -> None:
    body = {"error": "too_many_requests", "errorDescription": "IP or access token exceeded limit"}
    client, seen = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "3600"}, json=body))
    started = time.monotonic()
    async with client:
        with pytest.raises(RateLimited) as caught:
            await client.get("/tasks")
    assert time.monotonic() - started < 1
    assert caught.value.retry_after == 3600
    assert len(seen) == 1
    # the governor pauses later requests, but never longer than the cap
    assert client.governor._paused_until - time.monotonic() <= client.retry_after_cap


async def test_get_retries_server_errors_within_max_retries() -> None:
    client, seen = make_client(lambda r: wrike_error(500, "server_error"))
    async with client:
        with pytest.raises(ServerError):
            await client.get("/tasks")
    assert len(seen) == 4  # 1 + max_retries
    assert client.request_count == 4


async def test_get_retry_budget_bounds_total_time() -> None:
    client, seen = make_client(
        lambda r: httpx.Response(503, headers={"Retry-After": "0.4"}), max_retries=10, retry_budget=1.0
    )
    started = time.monotonic()
    async with client:
        with pytest.raises(ServerError):
            await client.get("/tasks")
    assert time.monotonic() - started < 1.2
    assert 2 <= len(seen) <= 3


async def test_html_error_page_is_not_forwarded() -> None:
    page = "<html>Bad gateway from proxy</html>"
    client, _ = make_client(lambda r: httpx.Response(502, text=page), max_retries=0)
    async with client:
        with pytest.raises(ServerError) as caught:
            await client.get("/tasks")
    assert "html" not in str(caught.value).lower()


async def test_wrong_envelope_is_malformed() -> None:
    wrong = {"kind": "tasks", "data": {"id": 1}}
    client, seen = make_client(lambda r: httpx.Response(200, json=wrong), max_retries=1)
    async with client:
        with pytest.raises(MalformedResponse):
            await client.get("/tasks")
    assert len(seen) == 2


async def test_writes_are_never_retried() -> None:
    client, seen = make_client(lambda r: wrike_error(500, "server_error"))
    async with client:
        with pytest.raises(UnknownOutcome) as caught:
            await client.post("/tasks/T/comments", {"text": "hi"})
    assert len(seen) == 1
    assert "may or may not" in str(caught.value)

    client, seen = make_client(lambda r: httpx.Response(429, headers={"Retry-After": "0"}))
    async with client:
        with pytest.raises(RateLimited):
            await client.put("/tasks/T", {"title": "x"})
    assert len(seen) == 1


async def test_write_connect_error_is_typed_but_read_error_is_unknown() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client, seen = make_client(refuse)
    async with client:
        with pytest.raises(ConnectionFailed):
            await client.delete("/tasks/T")
    assert len(seen) == 1

    def drop(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected", request=request)

    client, seen = make_client(drop)
    async with client:
        with pytest.raises(UnknownOutcome):
            await client.post("/folders/F/tasks", {"title": "x"})
        with pytest.raises(ConnectionFailed):
            await client.get("/tasks")
    assert len(seen) == 1 + 4


async def test_timeouts_are_bounded_and_typed() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(10)
        return ok()

    client, seen = make_client(hang, timeout=0.2, max_retries=1)
    started = time.monotonic()
    async with client:
        with pytest.raises(WrikeTimeout):
            await client.get("/tasks")
        with pytest.raises(UnknownOutcome):
            await client.post("/folders/F/tasks", {"title": "x"})
    assert time.monotonic() - started < 1.5
    assert len(seen) == 3


class RefreshingSource:
    """A token source whose first token is rejected; counts refreshes."""

    def __init__(self, fresh: str | None = "fresh-token") -> None:
        self.fresh = fresh
        self.refreshes = 0

    async def get_token(self) -> Token:
        return Token("stale-token")

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        self.refreshes += 1
        return Token(self.fresh) if self.fresh else None


def accept_only(token: str) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == f"Bearer {token}":
            return ok([{"id": "T1"}])
        return wrike_error(401, "not_authorized", "Access token is invalid")

    return handler


async def test_401_refreshes_once_and_replays_even_a_write() -> None:
    source = RefreshingSource()
    client, seen = make_client(accept_only("fresh-token"), token_source=source)
    async with client:
        assert await client.post("/folders/F/tasks", {"title": "x"}) == [{"id": "T1"}]
    assert source.refreshes == 1
    assert [r.headers["Authorization"] for r in seen] == ["Bearer stale-token", "Bearer fresh-token"]


async def test_401_without_new_token_raises_not_authorized() -> None:
    source = RefreshingSource(fresh=None)
    client, seen = make_client(accept_only("never"), token_source=source)
    async with client:
        with pytest.raises(NotAuthorized):
            await client.get("/tasks")
    assert source.refreshes == 1 and len(seen) == 1

    source = RefreshingSource()
    client, seen = make_client(accept_only("never"), token_source=source)
    async with client:
        with pytest.raises(NotAuthorized):
            await client.get("/tasks")
    assert source.refreshes == 1 and len(seen) == 2  # replayed once, then given up


async def test_token_never_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echo = {"error": "invalid_parameter", "errorDescription": f"bad token {TOKEN}"}
    client, _ = make_client(lambda r: httpx.Response(400, json=echo))
    caplog.set_level(logging.DEBUG)
    async with client:
        with pytest.raises(WrikeAPIError) as caught:
            await client.get("/tasks", {"title": "x"})
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text
    assert "GET /tasks -> 400" in caplog.text


async def test_get_many_batches_by_100_and_keeps_order() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        ids = request.url.path.rsplit("/", 1)[1].split(",")
        return ok([{"id": ident} for ident in reversed(ids) if ident != "missing"])

    ids = [f"T{n}" for n in range(250)] + ["missing", "T3"]
    client, seen = make_client(handler)
    async with client:
        found = await client.get_many("/tasks/{ids}", ids)
        assert await client.get_many("/tasks/{ids}", []) == []
    assert [item["id"] for item in found] == [f"T{n}" for n in range(250)]
    assert len(seen) == 3


async def test_pages_stop_on_missing_token_empty_page_or_repeat() -> None:
    pages = [
        ok([{"id": "1"}], nextPageToken="A"),
        ok([{"id": "2"}], nextPageToken="B"),
        ok([], nextPageToken="C"),
    ]
    client, seen = make_client(lambda r: pages.pop(0))
    async with client:
        got = [page async for page in client.iter_pages("/tasks", page_size=1)]
    assert [len(page.items) for page in got] == [1, 1, 0]
    assert seen[1].url.params["nextPageToken"] == "A"

    client, seen = make_client(lambda r: ok([{"id": "1"}], nextPageToken="SAME"))
    async with client:
        got = [page async for page in client.iter_pages("/tasks", page_size=1)]
    assert len(got) == 2


async def test_governor_keeps_under_its_limit_and_is_fair() -> None:
    governor = RateGovernor(5, window=0.3)
    granted: list[tuple[int, float]] = []

    async def take(n: int) -> None:
        await anyio.sleep(n * 0.001)  # arrive in order
        slot = await governor.acquire()
        granted.append((n, time.monotonic()))
        governor.release(slot)

    async with anyio.create_task_group() as tasks:
        for n in range(12):
            tasks.start_soon(take, n)
    order = [n for n, _ in granted]
    times = [t for _, t in granted]
    assert order == sorted(order)  # first come, first served
    for i, start in enumerate(times):
        assert sum(1 for t in times[i:] if t < start + 0.3 - 0.01) <= 5
    assert times[-1] - times[0] >= 0.6 - 0.05  # 12 requests at 5 per 0.3 s need two full windows


async def test_governor_pause_holds_later_requests() -> None:
    governor = RateGovernor(100)
    governor.pause_for(0.2)
    started = time.monotonic()
    governor.release(await governor.acquire())
    assert time.monotonic() - started >= 0.19


async def test_governor_counts_a_request_until_a_window_after_it_finished() -> None:
    governor = RateGovernor(1, window=0.2)
    first = await governor.acquire()
    waiting = anyio.Event()
    second_at: list[float] = []

    async def second() -> None:
        waiting.set()
        governor.release(await governor.acquire())
        second_at.append(time.monotonic())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(second)
        await waiting.wait()
        await anyio.sleep(0.3)  # the first request is slow; the second must wait for it, then a window
        finished = time.monotonic()
        governor.release(first)
    assert second_at[0] - finished >= 0.19


async def test_oversized_answers_are_refused() -> None:
    client, seen = make_client(lambda r: ok([{"id": "x" * 5000}]), max_response_bytes=1000)
    async with client:
        with pytest.raises(MalformedResponse) as caught:
            await client.get("/tasks")
    assert "exceeded" in str(caught.value) and len(seen) == 1


async def test_entities_parse_into_models_where_they_enter() -> None:
    raw = {"id": "T1", "title": "Brief", "responsibleIds": ["U1"], "newField2027": {"x": 1}}
    client, _ = make_client(lambda r: ok([raw], nextPageToken="N"))
    async with client:
        task = await client.get_one("/tasks/T1", model=Task)
        page = await client.get_page("/tasks", page_size=10, model=Task)
        many = await client.get_many("/tasks/{ids}", ["T1"], model=Task)
    assert (task.id, task.title, task.responsible_ids) == ("T1", "Brief", ["U1"])
    assert task.model_extra == {"newField2027": {"x": 1}}  # what Wrike adds later is kept, not refused
    assert [item.title for item in page.items] == ["Brief"] and page.next_page_token == "N"
    assert [item.id for item in many] == ["T1"]


async def test_an_entity_that_is_not_a_model_is_a_malformed_answer_not_a_traceback() -> None:
    client, seen = make_client(lambda r: ok([{"title": "no id"}]), max_retries=0)
    async with client:
        with pytest.raises(MalformedResponse) as caught:
            await client.get("/tasks", model=Task)
    assert str(caught.value) == "Wrike's answer to GET /tasks is not a valid Task: id: Field required"
    assert len(seen) == 1


async def test_an_unreadable_answer_to_a_write_says_the_write_was_applied() -> None:
    client, seen = make_client(lambda r: ok([{"id": "C1", "text": ["not", "text"]}]))
    async with client:
        with pytest.raises(MalformedResponse) as caught:
            await client.post("/tasks/T1/comments", {"text": "hi"}, model=Comment)
    assert "(the change was applied; do not repeat it)" in str(caught.value)
    assert "text: Input should be a valid string" in str(caught.value)
    assert len(seen) == 1
