"""Two `--stateless` replicas on one PostgreSQL agree: signed state made on one is good on the other, one
Wrike budget per grant and one MCP limit per user hold across both, a person's grants are per Wrike account,
a later sign-in never narrows earlier clients, and a new grant is served by every replica at once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from cryptography.fernet import Fernet
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import func, select

from tests.remote.helpers import (
    SECRET_KEY,
    Browser,
    Replica,
    free_port,
    oauth_provider,
    sign_in_raw,
    start_replica,
    structured,
)
from tests.remote.test_replicas import two_replicas
from wrike_mcp.remote.store import Store, claim_size, rate_counters
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.ids import ACCOUNT_ID, SECOND_ACCOUNT_ID
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

DIEGO = "diego.alvarez@northwind.example"
ANN = "ann.lee@northwind.example"  # an account admin: the audit log is hers to read
ACCEPT = "application/json, text/event-stream"


async def sign_in(replica: Replica, browser: Browser) -> str:
    provider, storage = oauth_provider(replica.mcp_url, browser)
    async with (
        httpx2.AsyncClient(auth=provider, timeout=30) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http)) as client,
    ):
        await client.list_tools()
    assert storage.tokens is not None
    return storage.tokens.access_token


async def call(
    replica: Replica, token: str, tool: str, arguments: dict[str, Any], *, seconds: float = 30
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=seconds) as http,
        Client(streamable_http_client(replica.mcp_url, http_client=http), mode="legacy") as client,
    ):
        return structured(await client.call_tool(tool, arguments))


def raw_call(replica: Replica, token: str, tool: str, arguments: dict[str, Any]) -> httpx.Response:
    """One JSON-RPC tools/call, no SDK client: its step-up would sign in again on a 403."""
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return httpx.post(
        replica.mcp_url, json=message, headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT}
    )


def sandbox_log(sandbox: BackgroundSandbox) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sandbox.base_url}/_sandbox/requests").json()
    return entries


@pytest.fixture
def replicas(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> Iterator[tuple[Replica, Replica]]:
    a, b = two_replicas(
        tmp_path,
        sandbox,
        postgres_url,
        {"WRIKE_SCOPES": "wsReadWrite,amReadOnlyAuditLog", "WRIKE_MCP_USER_RATE_LIMIT": "1000"},
    )
    yield a, b
    a.stop()
    b.stop()


async def test_a_preview_made_on_a_applies_on_b(
    replicas: tuple[Replica, Replica], sandbox: BackgroundSandbox
) -> None:
    a, b = replicas
    token = await sign_in(a, Browser(user=DIEGO))
    arguments = {"where": {"folder": "Spring Campaign"}, "importance": "Low"}
    preview = await call(a, token, "bulk_update_tasks", arguments)
    assert preview["applied"] is False and preview["count"] > 0
    applied = await call(
        b,
        token,
        "bulk_update_tasks",
        {**arguments, "dry_run": False, "preview_token": preview["preview_token"]},
    )
    assert applied["applied"] is True and applied["count"] == preview["count"]
    puts = [
        e for e in sandbox_log(sandbox) if e["method"] == "PUT" and e["path"].startswith("/api/v4/tasks/")
    ]
    assert puts and all(e["status"] == 200 for e in puts)


async def test_previews_apply_across_replicas_during_a_key_rotation(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """WRIKE_MCP_SECRET_KEY rotated one replica at a time (docs/REMOTE.md "Rotating the secret key"): A still
    has only the old key, B the new one in front (`new,old`), C, once the old key is dropped, the new one
    alone. A preview A signed applies on B, which verifies with every key; one B signed applies on C, so B
    signed with the newest."""
    new = Fernet.generate_key().decode()
    port_a = free_port()
    public = f"http://127.0.0.1:{port_a}"  # as behind one proxy: every replica serves the same public URL
    started: list[Replica] = []

    def replica(name: str, secret_key: str, port: int | None = None) -> Replica:
        started.append(
            start_replica(
                tmp_path,
                sandbox.base_url,
                postgres_url,
                public_url=public,
                port=port,
                name=name,
                extra_env={"WRIKE_MCP_SECRET_KEY": secret_key},
            )
        )
        return started[-1]

    async def preview_then_apply(signer: Replica, applier: Replica, token: str, importance: str) -> None:
        arguments = {"where": {"folder": "Spring Campaign"}, "importance": importance}
        preview = await call(signer, token, "bulk_update_tasks", arguments)
        assert preview["applied"] is False and preview["count"] > 0
        applied = await call(
            applier,
            token,
            "bulk_update_tasks",
            {**arguments, "dry_run": False, "preview_token": preview["preview_token"]},
        )
        assert applied["applied"] is True and applied["count"] == preview["count"]

    try:
        a = replica("a", SECRET_KEY, port_a)
        b = replica("b", f"{new},{SECRET_KEY}")
        token = await sign_in(a, Browser(user=DIEGO))
        await preview_then_apply(a, b, token, "Low")
        c = replica("c", new)  # B re-encrypted the user's grant with the new key when it read it
        await preview_then_apply(b, c, token, "High")
    finally:
        for running in started:
            running.stop()


async def test_a_person_in_two_accounts_keeps_both(replicas: tuple[Replica, Replica]) -> None:
    a, b = replicas
    first = await sign_in(a, Browser(user=DIEGO, account=ACCOUNT_ID))
    assert (await call(b, first, "get_me", {}))["account"]["id"] == ACCOUNT_ID  # cached on B
    second = await sign_in(a, Browser(user=DIEGO, account=SECOND_ACCOUNT_ID))
    for replica in (a, b):
        assert (await call(replica, second, "get_me", {}))["account"]["id"] == SECOND_ACCOUNT_ID
        assert (await call(replica, first, "get_me", {}))["account"]["id"] == ACCOUNT_ID


async def test_a_person_adds_their_second_account_from_the_same_browser(
    replicas: tuple[Replica, Replica],
) -> None:
    """The browser remembers Diego in the first account; approving an app there and then choosing the second
    account at Wrike's sign-in is still Diego's own consent: he gets his code (it was refused as "someone
    else")."""
    a, _ = replicas
    browser = Browser(user=DIEGO, account=ACCOUNT_ID)
    first = await sign_in(a, browser)
    browser.account = SECOND_ACCOUNT_ID
    second = await sign_in(a, browser)  # the same cookie jar: its user cookie names the first account
    assert len(browser.pages) == 2  # a new client each time: both consent pages were shown and approved
    assert (await call(a, second, "get_me", {}))["account"]["id"] == SECOND_ACCOUNT_ID
    assert (await call(a, first, "get_me", {}))["account"]["id"] == ACCOUNT_ID


async def test_a_narrower_sign_in_leaves_earlier_clients_their_scopes(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    writer = await sign_in(a, Browser(user=DIEGO, untick=("amReadOnlyAuditLog",)))  # wsReadWrite
    reader = await sign_in(a, Browser(user=DIEGO, untick=("wsReadWrite", "amReadOnlyAuditLog")))  # wsReadOnly
    for replica in (a, b):
        created = await call(
            replica,
            writer,
            "create_task",
            {"title": f"still writes via {replica.port}", "folder": "Marketing"},
        )
        assert created["title"] == f"still writes via {replica.port}"
        assert (await call(replica, reader, "search_tasks", {"limit": 1}))["items"]
        refused = raw_call(replica, reader, "create_task", {"title": "x", "folder": "Marketing"})
        assert refused.status_code == 403
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]


async def test_sign_ins_that_neither_cover_ask_wrike_for_the_union(
    replicas: tuple[Replica, Replica], sandbox: BackgroundSandbox
) -> None:
    a, b = replicas
    auditor = await sign_in(a, Browser(user=ANN, untick=("wsReadWrite",)))  # wsReadOnly + audit log
    assert await call(b, auditor, "list_audit_log", {})  # B caches the grant
    writer = await sign_in(a, Browser(user=ANN, untick=("amReadOnlyAuditLog",)))  # wsReadWrite
    asked = [e["query"].get("scope", "") for e in sandbox_log(sandbox) if e["path"] == "/oauth2/authorize/v4"]
    assert len(asked) == 3  # the auditor, the writer, the writer again for the union of both
    assert set(asked[2].split(",")) == {"wsReadWrite", "wsReadOnly", "amReadOnlyAuditLog"}
    for replica in (a, b):
        assert await call(replica, auditor, "list_audit_log", {})
        created = await call(replica, writer, "create_task", {"title": "union", "folder": "Marketing"})
        assert created["title"] == "union"


async def test_a_new_grant_is_served_by_every_replica_at_once(
    replicas: tuple[Replica, Replica], sandbox: BackgroundSandbox
) -> None:
    a, b = replicas
    reader = await sign_in(a, Browser(user=DIEGO, untick=("wsReadWrite", "amReadOnlyAuditLog")))
    assert (await call(b, reader, "get_me", {}))["user"]["name"] == "Diego Alvarez"  # B caches the grant
    old = {e["token"] for e in sandbox_log(sandbox) if e["path"].startswith("/api/v4/")}
    # the same person signs in with write access through A: the stored grant is replaced by a wider one
    writer = await sign_in(a, Browser(user=DIEGO, untick=("amReadOnlyAuditLog",)))
    mark = len(sandbox_log(sandbox))
    created = await call(b, writer, "create_task", {"title": "seen at once", "folder": "Marketing"})
    assert created["title"] == "seen at once"
    used = {e["token"] for e in sandbox_log(sandbox)[mark:] if e["path"].startswith("/api/v4/")}
    assert used and not used & old  # B sent the new grant's Wrike token, not its cached one


async def test_the_per_user_limit_is_one_across_replicas(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    limit = 12
    a, b = two_replicas(tmp_path, sandbox, postgres_url, {"WRIKE_MCP_USER_RATE_LIMIT": str(limit)})
    try:
        token = await sign_in(a, Browser(user=DIEGO))  # a few MCP requests of the limit
        statuses: dict[int, list[int]] = {a.port: [], b.port: []}
        for replica in itertools.islice(itertools.cycle([a, b]), 2 * limit):
            statuses[replica.port].append(raw_call(replica, token, "get_me", {}).status_code)
        admitted = sum(status != 429 for codes in statuses.values() for status in codes)
        assert 0 < admitted < limit  # per replica, each would have admitted up to `limit`
        assert 429 in statuses[a.port] and 429 in statuses[b.port]
    finally:
        a.stop()
        b.stop()


async def test_the_per_user_limit_claimed_in_batches_is_still_one_count(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    """A limit of 100: each replica claims 5 slots at a time from the store. Alternating between two
    replicas, a user gets at most the limit (not twice it) and at most 2 × 4 fewer (the slots each replica
    may hold unspent). Slots claimed and not spent are given back when the replicas stop, so the store's
    count is then exactly the requests that went ahead."""
    limit = 100
    unspent_at_most = 2 * (claim_size(limit) - 1)
    a, b = two_replicas(tmp_path, sandbox, postgres_url, {"WRIKE_MCP_USER_RATE_LIMIT": str(limit)})
    try:
        # OAuth only (no MCP request): every request this user makes is one of ours
        diego = sign_in_raw(a.base_url, DIEGO)["access_token"]
        light = [raw_call(replica, diego, "get_me", {}).status_code for replica in [a, b, a, b, a, b, a]]
        assert light == [200] * 7
        # a claimed 5 for its 4 requests, b 5 for its 3 (more if a 10 s step began meanwhile): some unspent
        claimed = await user_counts(postgres_url)
        assert len(claimed) == 1 and sum(claimed.values()) >= 7 + 2
        ann = sign_in_raw(a.base_url, ANN)["access_token"]
        statuses = [
            raw_call(replica, ann, "get_me", {}).status_code
            for replica in itertools.islice(itertools.cycle([a, b]), limit + 20)
        ]
        admitted = sum(status == 200 for status in statuses)
        assert set(statuses) == {200, 429}
        assert 429 in statuses[0::2] and 429 in statuses[1::2]  # refused by both replicas
        assert limit - unspent_at_most <= admitted <= limit
        assert sum((await user_counts(postgres_url)).values()) - sum(claimed.values()) <= limit
    finally:
        a.stop()
        b.stop()
    assert sum((await user_counts(postgres_url)).values()) == 7 + admitted  # the unspent slots given back


async def user_counts(postgres_url: str) -> dict[str, int]:
    """The store's count of MCP requests per user, over every bucket."""
    store = Store.open(postgres_url)
    try:
        async with store.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(rate_counters.c.key, func.sum(rate_counters.c.hits))
                    .where(rate_counters.c.key.like("user:%"))
                    .group_by(rate_counters.c.key)
                )
            ).all()
        return {key: int(total) for key, total in rows}
    finally:
        await store.close()


# 30: each replica claims its slots one at a time; 100: five at a time (store.claim_size)
@pytest.mark.parametrize("budget", [30, 100])
async def test_one_wrike_budget_per_grant_across_replicas(
    tmp_path: Path, postgres_url: str, budget: int
) -> None:
    calls = budget + 10
    with BackgroundSandbox(SandboxConfig(rate_limit=budget)) as sandbox:
        env = {
            "WRIKE_RATE_LIMIT_PER_MINUTE": str(budget),
            "WRIKE_MAX_QUEUE_WAIT": "150",  # wait for the budget rather than fail
            "WRIKE_MCP_USER_RATE_LIMIT": "1000",
        }
        a, b = two_replicas(tmp_path, sandbox, postgres_url, env)
        try:
            token = await sign_in(a, Browser(user=DIEGO))
            started = time.monotonic()
            done: list[dict[str, Any]] = []

            async def one(replica: Replica, number: int) -> None:
                done.append(await call(replica, token, "search_tasks", {"limit": 1}, seconds=200))

            async with anyio.create_task_group() as group:
                for number, replica in enumerate(itertools.islice(itertools.cycle([a, b]), calls)):
                    group.start_soon(one, replica, number)
            elapsed = time.monotonic() - started
            api = [e for e in sandbox_log(sandbox) if e["path"].startswith("/api/v4/")]
            assert len(done) == calls
            assert [e for e in api if e["status"] == 429] == []  # Wrike never had to refuse
            assert len(api) > budget and elapsed > 55  # more than one minute's budget: some calls waited
        finally:
            a.stop()
            b.stop()
