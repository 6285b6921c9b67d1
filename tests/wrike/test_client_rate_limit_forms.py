"""Every form of Wrike's 429 the client may meet: `rate_limit_exceeded` (what the sandbox long answered) or
`too_many_requests` (what Wrike documents), with or without Retry-After (nothing documents that it is
always sent). The sandbox's own rate limiter answers them, set through /_sandbox/rate_limit."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.wrike.wrike_helpers import MakeClient, api_requests
from wrike_mcp.tools.errors import tool_error_message
from wrike_mcp.wrike.errors import RateLimited

CODES = ["rate_limit_exceeded", "too_many_requests"]


async def _limit(control: httpx.AsyncClient, **settings: Any) -> None:
    response = await control.post("/_sandbox/rate_limit", json=settings)
    assert response.status_code == 200, response.text
    assert response.json() == {"limit": 2, **{k: v for k, v in settings.items() if k != "limit"}}


async def _raw_429(sandbox_app: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8100") as http:
        headers = {"Authorization": "bearer wrike-sandbox-token"}
        for _ in range(2):
            assert (await http.get("/api/v4/version", headers=headers)).status_code == 200
        return await http.get("/api/v4/version", headers=headers)


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("retry_after", [True, False])
async def test_the_sandbox_answers_each_form(
    control: httpx.AsyncClient, sandbox_app: Any, code: str, retry_after: bool
) -> None:
    await _limit(control, limit=2, code=code, retry_after=retry_after)
    response = await _raw_429(sandbox_app)
    assert response.status_code == 429
    assert response.json()["error"] == code
    assert ("retry-after" in response.headers) is retry_after


async def test_the_switch_refuses_nonsense(control: httpx.AsyncClient) -> None:
    for body in ({"code": "slow_down"}, {"retry_after": "no"}, {"limit": 0}, {"colour": 1}, {}):
        response = await control.post("/_sandbox/rate_limit", json=body)
        assert response.status_code == 400, body
    defaults = (await control.get("/_sandbox/rate_limit")).json()
    assert defaults == {"limit": 400, "code": "rate_limit_exceeded", "retry_after": True}


@pytest.mark.parametrize("code", CODES)
async def test_retry_after_is_waited_then_the_read_succeeds(
    make_client: MakeClient, control: httpx.AsyncClient, sandbox_app: Any, code: str
) -> None:
    await _limit(control, limit=2, code=code, retry_after=True)
    client = make_client(rate_limit_per_minute=1000)  # our governor would not stop us: the sandbox does
    for _ in range(2):
        await client.get("/account")
    sandbox_app.state.sandbox.clock_offset += 59  # Retry-After: 1 rather than a minute
    started = time.monotonic()
    assert await client.get("/account")
    assert 0.9 <= time.monotonic() - started < 2.5
    statuses = [entry["status"] for entry in await api_requests(control, "GET", "/api/v4/account")]
    assert statuses == [200, 200, 429, 200]


@pytest.mark.parametrize("code", CODES)
async def test_without_retry_after_the_read_is_retried_with_backoff(
    make_client: MakeClient, control: httpx.AsyncClient, sandbox_app: Any, code: str
) -> None:
    await _limit(control, limit=2, code=code, retry_after=False)
    sent: list[float] = []

    def on_request(method: str, path: str) -> None:
        sent.append(time.monotonic())
        if len(sent) == 5:  # the window passes while the client backs off
            sandbox_app.state.sandbox.clock_offset += 61

    client = make_client(rate_limit_per_minute=1000, backoff_base=0.05, backoff_max=0.2).hooked(on_request)
    for _ in range(2):
        await client.get("/account")
    assert await client.get("/account")
    statuses = [entry["status"] for entry in await api_requests(control, "GET", "/api/v4/account")]
    assert statuses == [200, 200, 429, 429, 200]
    assert sent[-1] - sent[2] < 2.0  # backoff, not a guessed minute


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize("retry_after", [True, False])
async def test_a_lasting_limit_ends_in_a_message_that_says_when(
    make_client: MakeClient, control: httpx.AsyncClient, code: str, retry_after: bool
) -> None:
    await _limit(control, limit=2, code=code, retry_after=retry_after)
    client = make_client(rate_limit_per_minute=1000, max_retries=2)
    for _ in range(2):
        await client.get("/account")
    with pytest.raises(RateLimited) as caught:
        await client.get("/account")
    assert caught.value.code == code
    # A minute's Retry-After is beyond the retry budget: given up at once, the wait left to the caller;
    # without one, backed off and retried max_retries times.
    retries = 0 if retry_after else 2
    assert len(await api_requests(control, "GET", "/api/v4/account")) == 2 + 1 + retries
    message = tool_error_message(caught.value, "get_account", [])
    assert message is not None
    if retry_after:
        assert caught.value.retry_after is not None and caught.value.retry_after > 50
        assert message.startswith("rate limited by Wrike: retry after ") and message.endswith(" s")
    else:
        assert caught.value.retry_after is None
        assert message == "rate limited by Wrike: retry after a minute"
