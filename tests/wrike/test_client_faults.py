"""Errors, faults, retries and the rate limit, against the sandbox (in process and over loopback)."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from tests.wrike.wrike_helpers import (
    DEMO_TOKEN,
    ERROR_CODES,
    READONLY_TOKEN,
    SANDBOX_BASE_URL,
    MakeClient,
    add_fault,
    api_requests,
)
from wrike_mcp.sandbox import SandboxConfig
from wrike_mcp.wrike.client import LOCAL_RATE_LIMIT, WrikeClient
from wrike_mcp.wrike.errors import (
    AccessForbidden,
    ConnectionFailed,
    InvalidParameter,
    MalformedResponse,
    MethodNotFound,
    NotAllowed,
    NotAuthorized,
    ParameterRequired,
    RateLimited,
    ResourceNotFound,
    UnknownOutcome,
    WrikeAPIError,
)
from wrike_mcp.wrike.governor import RateGovernor
from wrike_mcp.wrike.tokens import StaticTokenSource, Token


async def q3_launch_id(client: WrikeClient) -> str:
    ident: str = next(f["id"] for f in await client.get("/folders") if f["title"] == "Q3 Launch")
    return ident


@pytest.mark.parametrize(("status", "code", "error_class"), ERROR_CODES)
async def test_every_error_code_maps_to_its_type(
    make_client: MakeClient,
    control: httpx.AsyncClient,
    status: int,
    code: str,
    error_class: type[WrikeAPIError],
) -> None:
    client = make_client(max_retries=0)
    await add_fault(
        control, method="GET", path="/api/v4/tasks", status=status, error=code, description="injected"
    )
    with pytest.raises(error_class) as caught:
        await client.get("/tasks")
    assert caught.value.status == status and caught.value.code == code
    assert "(GET /tasks)" in str(caught.value)


async def test_natural_errors(client: WrikeClient) -> None:
    with pytest.raises(ResourceNotFound):
        await client.get("/tasks/IEAAB2CDKQZZZZZZ")
    with pytest.raises(MethodNotFound):
        await client.get("/no_such_endpoint")
    with pytest.raises(InvalidParameter):
        await client.get("/tasks", {"pageSize": 5000})
    folder = await q3_launch_id(client)
    with pytest.raises((ParameterRequired, InvalidParameter)):
        await client.post(f"/folders/{folder}/tasks", {"description": "no title"})


async def test_bad_token_is_not_authorized(make_client: MakeClient) -> None:
    with pytest.raises(NotAuthorized) as caught:
        await make_client("not-a-real-token").get("/contacts")
    assert "not-a-real-token" not in str(caught.value)


async def test_readonly_token_cannot_write(make_client: MakeClient, control: httpx.AsyncClient) -> None:
    client = make_client(READONLY_TOKEN)
    folder = await q3_launch_id(client)
    with pytest.raises((AccessForbidden, NotAllowed)) as caught:
        await client.post(f"/folders/{folder}/tasks", {"title": "should not exist"})
    assert caught.value.status == 403 and caught.value.description
    assert len(await api_requests(control, "POST", "/api/v4/folders")) == 1
    assert not await client.get("/tasks", {"title": "should not exist"})


class SwappingSource:
    """First hands out a token Wrike rejects; the refresh returns the good one. Counts refreshes."""

    def __init__(self, good: str) -> None:
        self.good = good
        self.refreshes = 0

    async def get_token(self) -> Token:
        return Token("expired-token")

    async def refresh_after_401(self, rejected: Token) -> Token | None:
        self.refreshes += 1
        return Token(self.good)


async def test_401_refreshes_once_and_replays(make_client: MakeClient, control: httpx.AsyncClient) -> None:
    source = SwappingSource("wrike-sandbox-token")
    client = make_client(source)
    folder = await q3_launch_id(client)
    created = await client.post(f"/folders/{folder}/tasks", {"title": "After refresh"})
    assert created[0]["title"] == "After refresh"
    assert source.refreshes == 2  # once for the GET, once for the POST: each call starts with get_token()
    posts = await api_requests(control, "POST", "/api/v4/folders")
    assert [p["status"] for p in posts] == [401, 200]


async def test_injected_503_on_get_is_retried(client: WrikeClient, control: httpx.AsyncClient) -> None:
    await add_fault(
        control, method="GET", path="/api/v4/contacts*", status=503, times=1, error="server_error"
    )
    assert await client.get("/contacts")
    gets = await api_requests(control, "GET", "/api/v4/contacts")
    assert [g["status"] for g in gets] == [503, 200]


async def test_injected_500_on_task_post_is_unknown_outcome(
    client: WrikeClient, control: httpx.AsyncClient
) -> None:
    folder = await q3_launch_id(client)
    await add_fault(control, method="POST", path="/api/v4/folders/*/tasks", status=500, error="server_error")
    with pytest.raises(UnknownOutcome) as caught:
        await client.post(f"/folders/{folder}/tasks", {"title": "Maybe created"})
    assert "not retried" in str(caught.value)
    assert len(await api_requests(control, "POST", "/api/v4/folders")) == 1


async def test_applied_500_is_still_unknown(client: WrikeClient, control: httpx.AsyncClient) -> None:
    """The sandbox can apply the write and then fail, as Wrike may: the client must not claim failure."""
    folder = await q3_launch_id(client)
    await add_fault(control, method="POST", path="/api/v4/folders/*/tasks", status=500, apply=True)
    with pytest.raises(UnknownOutcome):
        await client.post(f"/folders/{folder}/tasks", {"title": "Created despite 500"})
    assert len(await client.get("/tasks", {"title": "Created despite 500"})) == 1


async def test_malformed_json_on_get_is_retried_then_typed(
    make_client: MakeClient, control: httpx.AsyncClient
) -> None:
    client = make_client(max_retries=2, retry_budget=2.0)
    await add_fault(control, method="GET", path="/api/v4/contacts", times=1, malformed=True)
    assert await client.get("/contacts")  # one bad answer, then a good one

    await add_fault(control, method="GET", path="/api/v4/account", times=10, malformed=True)
    started = time.monotonic()
    with pytest.raises(MalformedResponse):
        await client.get("/account")
    assert time.monotonic() - started < 2.5
    assert len(await api_requests(control, "GET", "/api/v4/account")) == 3


async def test_malformed_json_on_post_is_unknown_outcome(
    client: WrikeClient, control: httpx.AsyncClient
) -> None:
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    await add_fault(control, method="POST", path="/api/v4/tasks/*/comments", times=5, malformed=True)
    with pytest.raises(UnknownOutcome):
        await client.post(f"/tasks/{task['id']}/comments", {"text": "once"})
    assert len(await api_requests(control, "POST", "/api/v4/tasks")) == 1


@pytest.mark.parametrize(
    ("fault", "read_error"), [({"truncate": True}, MalformedResponse), ({"drop": True}, ConnectionFailed)]
)
async def test_cut_and_dropped_answers_over_loopback(
    live_sandbox: str, control: httpx.AsyncClient, fault: dict[str, Any], read_error: type[Exception]
) -> None:
    """Real sockets: a body cut mid-way, or a connection closed before any answer."""
    async with WrikeClient(
        StaticTokenSource(DEMO_TOKEN),
        base_url=f"{live_sandbox}/api/v4",
        max_retries=2,
        retry_budget=2.0,
        backoff_base=0.01,
    ) as client:
        task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]

        await add_fault(control, method="GET", path="/api/v4/contacts", times=1, **fault)
        assert await client.get("/contacts")  # spoiled once, retried

        await add_fault(control, method="GET", path="/api/v4/account", times=10, **fault)
        started = time.monotonic()
        with pytest.raises(read_error):
            await client.get("/account")
        assert time.monotonic() - started < 2.5

        await add_fault(control, method="POST", path="/api/v4/tasks/*/comments", times=5, **fault)
        with pytest.raises(UnknownOutcome):
            await client.post(f"/tasks/{task['id']}/comments", {"text": "cut"})
    assert len(await api_requests(control, "GET", "/api/v4/contacts")) == 2
    assert len(await api_requests(control, "GET", "/api/v4/account")) == 3
    assert len(await api_requests(control, "POST", "/api/v4/tasks")) == 1


async def test_connection_refused_on_write_is_typed() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with WrikeClient(
        StaticTokenSource(DEMO_TOKEN), base_url=f"http://127.0.0.1:{port}/api/v4"
    ) as client:
        with pytest.raises(ConnectionFailed):
            await client.post("/folders/X/tasks", {"title": "never sent"})


class VirtualTime:
    """One clock for the governor and the sandbox: sleeping moves both forward instantly."""

    def __init__(self, sandbox_state: Any) -> None:
        self.state = sandbox_state
        self.offset = 0.0

    def clock(self) -> float:
        return time.monotonic() + self.offset

    async def sleep(self, seconds: float) -> None:
        self.offset += seconds
        self.state.clock_offset += seconds


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(rate_limit=5)])
async def test_governor_alone_keeps_under_the_limit(
    make_client: MakeClient, control: httpx.AsyncClient, sandbox_app: Any
) -> None:
    virtual = VirtualTime(sandbox_app.state.sandbox)
    governor = RateGovernor(5, clock=virtual.clock, sleep=virtual.sleep)
    client = make_client(governor=governor, max_retries=0)
    for _ in range(12):
        await client.get("/account")
    statuses = [entry["status"] for entry in await api_requests(control, "GET", "/api/v4/account")]
    assert statuses == [200] * 12  # never refused: the governor waited instead
    assert virtual.offset >= 119  # 12 requests at 5 a minute need two more windows


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(rate_limit=3)])
async def test_rate_limited_get_waits_retry_after_then_succeeds(
    make_client: MakeClient, control: httpx.AsyncClient, sandbox_app: Any
) -> None:
    client = make_client(rate_limit_per_minute=1000)  # our governor would not stop us: the sandbox does
    for _ in range(3):
        await client.get("/account")
    # Age the sandbox's window by 59 s so its Retry-After is 1 s rather than a minute.
    sandbox_app.state.sandbox.clock_offset += 59
    started = time.monotonic()
    assert await client.get("/account")
    waited = time.monotonic() - started
    statuses = [entry["status"] for entry in await api_requests(control, "GET", "/api/v4/account")]
    assert statuses == [200, 200, 200, 429, 200]
    assert 0.9 <= waited < 2.5


@pytest.mark.parametrize("sandbox_config", [SandboxConfig(rate_limit=2)])
async def test_rate_limited_write_is_not_retried(make_client: MakeClient, control: httpx.AsyncClient) -> None:
    client = make_client(rate_limit_per_minute=1000)
    task = (await client.get("/tasks", {"title": "Draft launch announcement"}))[0]
    await client.get("/account")
    with pytest.raises(RateLimited) as caught:
        await client.post(f"/tasks/{task['id']}/comments", {"text": "too fast"})
    assert caught.value.retry_after is not None and caught.value.retry_after > 1
    assert len(await api_requests(control, "POST", "/api/v4/tasks")) == 1


async def test_a_call_waits_for_the_governor_only_so_long(sandbox_app: Any) -> None:
    """Past max_queue_wait a call fails fast with a retry hint instead of outlasting the MCP client's timeout."""
    client = WrikeClient(
        StaticTokenSource(DEMO_TOKEN),
        base_url=SANDBOX_BASE_URL,
        transport=httpx.ASGITransport(app=sandbox_app),
        governor=RateGovernor(2, window=30.0),
        max_queue_wait=0.2,
    )
    async with client:
        await client.get("/contacts", {"me": True})
        await client.get("/contacts", {"me": True})
        started = time.monotonic()
        with pytest.raises(RateLimited) as refused:
            await client.get("/contacts", {"me": True})
        assert time.monotonic() - started < 2
        assert refused.value.code == LOCAL_RATE_LIMIT
        assert refused.value.retry_after is not None and 25 <= refused.value.retry_after <= 30
        assert client.request_count == 2  # the held-back request never went out
