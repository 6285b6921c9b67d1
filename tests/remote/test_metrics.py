"""`/metrics` (Prometheus text) on both HTTP servers: behind WRIKE_MCP_METRICS_TOKEN, absent without it, and
moving after real calls through real server processes: tool calls by outcome, Wrike requests by status, 429s
and retries, token refreshes, sign-ins, consent denials, rate-limit refusals, active users. No user, client
id or token ever appears in it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from tests.remote.helpers import (
    WRIKE_MCP,
    Browser,
    base_env,
    free_port,
    oauth_provider,
    sign_in_raw,
    start_replica,
    structured,
    wait_for_port,
)
from tests.remote.test_health import FreezableRelay
from wrike_mcp.config import Settings
from wrike_mcp.remote.store import STORE_TIMEOUT
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

METRICS_TOKEN = "metrics-secret-for-tests-0123456789"
USER = "chloe.martin@northwind.example"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, token: str | None = METRICS_TOKEN) -> httpx.Response:
    headers = {b"Authorization": f"Bearer {token}".encode()} if token is not None else {}
    return httpx.get(f"{base_url}/metrics", headers=headers, timeout=30)


def samples(base_url: str) -> Samples:
    response = scrape(base_url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in found.items() if n == name and wanted <= have)


def assert_guarded(base_url: str) -> None:
    assert scrape(base_url, token=None).status_code == 401
    wrong = scrape(base_url, token="metrics-secret-for-tests-0123456788")
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert "wrike_mcp" not in wrong.text
    assert scrape(base_url, token="ä-not-ascii").status_code == 401  # compared as bytes, no 500


async def fault(sandbox: BackgroundSandbox, **spec: object) -> None:
    async with httpx.AsyncClient() as control:
        (await control.post(f"{sandbox.base_url}/_sandbox/faults", json=spec)).raise_for_status()


@contextmanager
def plain_server(
    tmp_path: Path, sandbox: BackgroundSandbox, *, metrics: bool, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """`wrike-mcp serve --transport http` with a permanent token against the sandbox."""
    port = free_port()
    env = base_env(tmp_path)
    env.update(WRIKE_BASE_URL=sandbox.api_url, WRIKE_ACCESS_TOKEN="wrike-sandbox-token", **(extra_env or {}))
    if metrics:
        env["WRIKE_MCP_METRICS_TOKEN"] = METRICS_TOKEN
    log = tmp_path / f"plain-{port}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(WRIKE_MCP), "serve", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_single_user_http_server_counts_calls_and_wrike_requests(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    with plain_server(tmp_path, sandbox, metrics=False) as base:
        assert scrape(base).status_code == 404  # no token configured: no endpoint at all
    with plain_server(tmp_path, sandbox, metrics=True) as base:
        assert_guarded(base)
        before = samples(base)
        assert value(before, "wrike_mcp_tool_calls_total", tool="get_me", outcome="ok") == 0
        await fault(
            sandbox, method="GET", path="/api/v4/tasks*", status=429, times=1, headers={"Retry-After": "1"}
        )
        async with (
            httpx2.AsyncClient(timeout=30) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            structured(await client.call_tool("get_me", {}))
            structured(await client.call_tool("search_tasks", {"limit": 2}))  # a 429 first, then retried
            failed = await client.call_tool("get_task", {"task": "IEAAAAAAKZZZZZZZ"})
            assert failed.is_error
        after = samples(base)
    assert value(after, "wrike_mcp_tool_calls_total", tool="get_me", outcome="ok") == 1
    assert value(after, "wrike_mcp_tool_calls_total", tool="search_tasks", outcome="ok") == 1
    assert value(after, "wrike_mcp_tool_calls_total", tool="get_task", outcome="error") == 1  # isError
    assert value(after, "wrike_mcp_tool_call_duration_seconds_count", tool="search_tasks") == 1
    assert value(after, "wrike_mcp_wrike_requests_total", method="GET", status="429") == 1
    assert value(after, "wrike_mcp_wrike_rate_limited_total") == 1
    assert value(after, "wrike_mcp_wrike_retries_total") == 1
    assert total(after, "wrike_mcp_wrike_requests_total", status="200") >= 2
    assert total(after, "wrike_mcp_wrike_requests_total", status="404") >= 1
    # the multi-user families belong to remote mode only
    assert not any(name.startswith("wrike_mcp_sign_ins") for name, _ in after)


async def test_remote_replica_counts_sign_ins_denials_refusals_refreshes_and_users(
    tmp_path: Path, sandbox: BackgroundSandbox
) -> None:
    replica = start_replica(
        tmp_path,
        sandbox.base_url,
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        extra_env={"WRIKE_MCP_METRICS_TOKEN": METRICS_TOKEN, "WRIKE_MCP_REVOKE_RATE_LIMIT": "1"},
    )
    try:
        assert_guarded(replica.base_url)
        start = samples(replica.base_url)
        assert value(start, "wrike_mcp_sign_ins_total", outcome="completed") == 0
        assert value(start, "wrike_mcp_active_users", window="5m") == 0

        # one person declines on the consent page
        with pytest.raises(Exception):  # noqa: B017 - the SDK's client gives up after the refusal
            async with AsyncExitStack() as stack:
                provider, _ = oauth_provider(replica.mcp_url, Browser(user=USER, decision="deny"))
                http = await stack.enter_async_context(httpx2.AsyncClient(auth=provider, timeout=30))
                await stack.enter_async_context(
                    Client(streamable_http_client(replica.mcp_url, http_client=http))
                )

        # another signs in and calls tools; one of Wrike's answers is a 401, so the user's token is refreshed
        tokens = sign_in_raw(replica.base_url, "ben.carter@northwind.example")
        async with AsyncExitStack() as stack:
            provider, storage = oauth_provider(replica.mcp_url, Browser(user=USER))
            http = await stack.enter_async_context(httpx2.AsyncClient(auth=provider, timeout=30))
            client = await stack.enter_async_context(
                Client(streamable_http_client(replica.mcp_url, http_client=http))
            )
            structured(await client.call_tool("get_me", {}))
            await fault(
                sandbox, method="GET", path="/api/v4/tasks*", status=401, error="not_authorized", times=1
            )
            structured(await client.call_tool("search_tasks", {"limit": 2}))
            assert (await client.call_tool("get_task", {"task": "IEAAAAAAKZZZZZZZ"})).is_error
        # the shared per-address limit on /revoke (1 a minute here): the second is refused
        async with httpx.AsyncClient(timeout=30) as web:
            for _ in range(2):
                await web.post(f"{replica.base_url}/revoke", data={"token": "x", "client_id": "y"})
        response = scrape(replica.base_url)
        after = samples(replica.base_url)
    finally:
        replica.stop()
    assert value(after, "wrike_mcp_sign_ins_total", outcome="completed") == 2
    assert value(after, "wrike_mcp_consent_denials_total", where="consent_page") == 1
    assert value(after, "wrike_mcp_rate_limit_refusals_total", route="revoke") == 1
    assert value(after, "wrike_mcp_token_refreshes_total", outcome="ok") == 1
    assert value(after, "wrike_mcp_token_refreshes_total", outcome="failed") == 0
    assert value(after, "wrike_mcp_tool_calls_total", tool="get_me", outcome="ok") == 1
    assert value(after, "wrike_mcp_tool_calls_total", tool="search_tasks", outcome="ok") == 1
    assert value(after, "wrike_mcp_tool_calls_total", tool="get_task", outcome="error") == 1
    assert value(after, "wrike_mcp_wrike_requests_total", method="GET", status="401") == 1
    assert value(after, "wrike_mcp_active_users", window="5m") == 1  # ben signed in, never called a tool
    # counts only: nobody's identity, client or token
    text = response.text
    assert storage.client_info is not None and storage.tokens is not None
    for secret in (
        USER,
        "ben.carter",
        storage.client_info.client_id or "",
        storage.tokens.access_token,
        tokens["access_token"],
        METRICS_TOKEN,
    ):
        assert secret not in text


async def test_metrics_answers_and_limits_while_the_database_hangs(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """Monitoring sees a replica whose database does not answer (a partition: the worst case, where a store
    call waits its whole timeout): `/metrics` is counted per process, so the right token gets the metrics at
    once, and a flood from one address is still refused 429, while a route that needs the database is 503."""
    database = urlsplit(postgres_url)
    relay = FreezableRelay((database.hostname or "127.0.0.1", database.port or 5432))
    via_relay = postgres_url.replace(database.netloc, f"{database.username}@127.0.0.1:{relay.port}", 1)
    replica = start_replica(
        tmp_path,
        sandbox.base_url,
        via_relay,
        extra_env={"WRIKE_MCP_METRICS_TOKEN": METRICS_TOKEN, "WRIKE_MCP_METRICS_RATE_LIMIT": "3"},
    )
    try:
        relay.freeze()
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=30) as http:
            denied = await http.post(f"{replica.base_url}/token", data={"grant_type": "refresh_token"})
        assert denied.status_code == 503, denied.text  # the database is really away: the store timeout
        assert time.monotonic() - started >= STORE_TIMEOUT - 0.5
        started = time.monotonic()
        assert scrape(replica.base_url, token="metrics-secret-for-tests-0123456788").status_code == 401
        assert any(name.startswith("wrike_mcp_") for name, _ in samples(replica.base_url))
        assert scrape(replica.base_url).status_code == 200
        assert time.monotonic() - started < 2, "/metrics waited for the database"
        flooded = scrape(replica.base_url)  # the 4th of a minute from this address, right token or not
        assert flooded.status_code == 429, flooded.text
        assert int(flooded.headers["retry-after"]) >= 1
    finally:
        replica.stop()
        relay.close()


def test_a_short_metrics_token_is_refused_at_start(tmp_path: Path) -> None:
    """A bearer secret on a public URL must be one made to be secret: a short one stops the server at start,
    saying how to make one, and is never echoed."""
    env = {**os.environ, "WRIKE_MCP_METRICS_TOKEN": "hunter2-metrics", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "wrike_mcp", "serve", "--sandbox", "--transport", "http"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "WRIKE_MCP_METRICS_TOKEN must be at least 16 characters" in done.stderr, done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert Settings(metrics_token=METRICS_TOKEN).metrics_token is not None
