"""The upstream fault matrix, end to end at the MCP tool level.

Each fault is injected through the sandbox's control plane (a real loopback socket, so drop and truncate are
real TCP events) under one read tool (`get_task`) and one write tool (`add_comment`). For every row:
the tool call ends as expected (success, or an isError result whose first line is short and says what to
do), reads are retried within their bounds, writes reach the sandbox exactly once and ambiguous failures are
reported as an unknown outcome, the call ends within its deadline, no canary token shows anywhere, and the
server serves the next call normally. docs/RELIABILITY.md lists every row (tests/hardening/test_reliability_doc.py
keeps the two in sync).
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.hardening.helpers import (
    CANARY_TOKEN,
    FIRST_LINE_MAX,
    MAX_RETRIES,
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    READ_DEADLINE,
    TIMEOUT,
    WRITE_DEADLINE,
    Stopwatch,
    add_fault,
    control,
    first_line,
    leaks,
    make_client,
    make_server,
    oauth_grant,
    requests_to,
    text_of,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

TASK_TITLE = "Draft launch announcement"
READ, WRITE = "read", "write"
UNKNOWN = r"^outcome unknown: POST /tasks/\w+/comments may or may not have been applied"
RETRIES = MAX_RETRIES + 1  # attempts of a read that keeps failing


def retry_after_date() -> dict[str, str]:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    return {"Retry-After": when}


@dataclass(frozen=True)
class Row:
    id: str
    fault: dict[str, Any]
    read: str  # regex for the first line of the read tool's error, or "ok"
    write: str  # the same for the write tool
    read_attempts: tuple[int, int]  # how many GETs the read may send (min, max)
    write_applied: int  # comments that exist afterwards: 0 (refused) or 1 (applied once)
    headers: Callable[[], dict[str, str]] | None = field(default=None, compare=False)


MATRIX = [
    Row(
        "F01-429-retry-after-seconds",
        {"status": 429, "headers": {"Retry-After": "1"}},
        r"^rate limited by Wrike: retry after 1 s",
        r"^rate limited by Wrike: retry after 1 s",
        (2, RETRIES),
        0,
    ),
    Row(
        "F02-429-retry-after-http-date",
        {"status": 429},
        r"^rate limited by Wrike: retry after \d+ s",
        r"^rate limited by Wrike: retry after \d+ s",
        (2, RETRIES),
        0,
        headers=retry_after_date,
    ),
    Row(
        "F03-429-no-retry-after",
        {"status": 429},
        r"^rate limited by Wrike: retry after",
        r"^rate limited by Wrike: retry after",
        (RETRIES, RETRIES),
        0,
    ),
    Row(
        "F04-500",
        {"status": 500, "apply": True},
        r"^Wrike had a server error \(500\)",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F05-502",
        {"status": 502, "apply": True},
        r"^Wrike had a server error \(502\)",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row("F06-503", {"status": 503}, r"^Wrike had a server error \(503\)", UNKNOWN, (RETRIES, RETRIES), 0),
    Row(
        "F07-504",
        {"status": 504, "apply": True},
        r"^Wrike had a server error \(504\)",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F08-delay-past-timeout",
        {"delay_ms": int(TIMEOUT * 1000) + 700},
        r"^Wrike did not answer in time",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F09-malformed-json",
        {"malformed": True, "apply": True},
        r"^Wrike's answer was unusable .*not valid JSON",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F10-truncated-body",
        {"truncate": True, "apply": True},
        r"^Wrike's answer was unusable .*cut off",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F11-dropped-connection",
        {"drop": True, "apply": True},
        r"^Wrike's answer was unusable .*connection to Wrike dropped",
        UNKNOWN,
        (RETRIES, RETRIES),
        1,
    ),
    Row(
        "F12-401-permanent-token",
        {"status": 401},
        r"^Wrike rejected the credentials \(401\)",
        r"^Wrike rejected the credentials \(401\)",
        (1, 1),
        0,
    ),
    Row(
        "F13-403",
        {"status": 403, "description": "Access to the task is denied"},
        # Wrike's description first; the token's scopes are unknown, so no scope is blamed
        r"^Access to the task is denied \(Wrike 403 not_allowed\): check the account's Wrike plan(?!.*scope)",
        r"^Access to the task is denied \(Wrike 403 not_allowed\): check the account's Wrike plan(?!.*scope)",
        (1, 1),
        0,
    ),
    Row(
        "F14-404",
        {"status": 404, "description": "Task not found"},
        r"^not found: Task not found",
        r"^not found: Task not found",
        (1, 1),
        0,
    ),
    Row(
        "F15-error-quoting-the-token",
        {"status": 400, "description": f"token {CANARY_TOKEN} is odd"},
        r"^Wrike rejected the request: token <token> is odd",
        r"^Wrike rejected the request: token <token>",
        (1, 1),
        0,
    ),
    Row(
        "F16-503-once-then-ok",
        {"status": 503, "times": 1, "headers": {"Retry-After": "1"}},
        "ok",
        UNKNOWN,
        (2, 2),
        0,
    ),
]


def comments_with(sandbox: BackgroundSandbox, marker: str) -> int:
    return sum(1 for comment in sandbox.app.state.sandbox.comments.values() if marker in comment.text)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> bool:
    """For writes applied after the client gave up (the sandbox finishes a delayed request on its own)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await anyio.sleep(0.05)
    return True


def task_id(sandbox: BackgroundSandbox, title: str = TASK_TITLE) -> str:
    state = sandbox.app.state.sandbox
    return str(next(task.id for task in state.tasks.values() if task.title == title))


async def call_once(
    client: Client, tool: str, arguments: dict[str, Any], deadline: float
) -> tuple[Any, float]:
    with Stopwatch() as watch:
        result = await client.call_tool(tool, arguments)
    assert watch.elapsed < deadline, (
        f"{tool} took {watch.elapsed:.2f} s, over its deadline of {deadline:.2f} s"
    )
    outcome = first_line(result) if result.is_error else "ok"
    print(f"observed: {tool} in {watch.elapsed:.2f} s (deadline {deadline:.1f} s): {outcome}")  # -s shows it
    return result, watch.elapsed


def check_outcome(result: Any, expected: str, secrets: set[str]) -> None:
    text = text_of(result)
    assert not leaks(secrets, text, str(result.structured_content)), "a canary secret in the result"
    if expected == "ok":
        assert not result.is_error, text
        return
    assert result.is_error, f"expected an error, got {text[:300]}"
    line = first_line(result)
    assert len(line) < FIRST_LINE_MAX, f"first line is {len(line)} characters: {line}"
    assert "failed unexpectedly" not in line and "Traceback" not in text
    message = re.sub(r"^Error executing tool \w+: ", "", line)
    assert re.search(expected, message), f"{line!r} does not match {expected!r}"


@pytest.mark.parametrize("kind", [READ, WRITE])
@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
async def test_fault_matrix(row: Row, kind: str, sandbox: BackgroundSandbox, secrets: set[str]) -> None:
    task = task_id(sandbox)
    marker = f"hardening {row.id} {kind}"
    async with make_client(sandbox) as wrike, Client(make_server(wrike)) as client:
        warm = await client.call_tool(
            "get_task", {"task": task}
        )  # resolver caches warm: one request per call
        assert not warm.is_error, text_of(warm)
        control(sandbox, "DELETE", "requests")
        fault = {
            **row.fault,
            "headers": {**row.fault.get("headers", {}), **(row.headers() if row.headers else {})},
        }
        fault.setdefault("times", 10)
        if kind == READ:
            fault.pop("apply", None)
            add_fault(sandbox, method="GET", path=f"/api/v4/tasks/{task}", **fault)
            result, _ = await call_once(client, "get_task", {"task": task}, READ_DEADLINE)
            check_outcome(result, row.read, secrets)
            sent = len(requests_to(sandbox, "GET", f"/api/v4/tasks/{task}"))
            print(f"observed: {sent} GETs")
            low, high = row.read_attempts
            assert low <= sent <= high, f"{sent} GETs, expected {low}..{high}"
        else:
            path = f"/api/v4/tasks/{task}/comments"
            add_fault(sandbox, method="POST", path=path, **fault)
            result, _ = await call_once(client, "add_comment", {"task": task, "text": marker}, WRITE_DEADLINE)
            check_outcome(result, row.write, secrets)
            assert len(requests_to(sandbox, "POST", path)) == 1, "a write must reach Wrike exactly once"
            if row.write_applied:
                assert await eventually(lambda: comments_with(sandbox, marker) == 1)
            else:
                await anyio.sleep(0.05)
            assert comments_with(sandbox, marker) == row.write_applied
        # The server keeps serving: the fault is used up or cleared, and the next call is normal.
        control(sandbox, "DELETE", "faults")
        after = await client.call_tool("get_task", {"task": task})
        assert not after.is_error, text_of(after)
        assert after.structured_content and after.structured_content["title"] == TASK_TITLE


# ---- 401 in the middle of an OAuth session: refresh once, replay once --------------------------------------


@pytest.mark.parametrize("kind", [READ, WRITE])
async def test_401_mid_session_oauth_refreshes_and_replays(
    kind: str,
    sandbox: BackgroundSandbox,
    secrets: set[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wrike_mcp.auth import OAuthTokenSource, TokenStore
    from wrike_mcp.auth.store import Grant
    from wrike_mcp.config import Settings

    monkeypatch.setenv("WRIKE_MCP_KEYRING", "0")
    monkeypatch.setenv("WRIKE_MCP_TOKEN_STORE", str(tmp_path / "tokens.json"))
    issued = oauth_grant(sandbox)
    secrets.update({issued["access_token"], issued["refresh_token"], OAUTH_CLIENT_SECRET})
    settings = Settings(
        client_id=OAUTH_CLIENT_ID,
        client_secret=OAUTH_CLIENT_SECRET,
        login_url=sandbox.base_url,
        base_url=sandbox.api_url,
    )
    grant = Grant(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at=time.time() + issued["expires_in"],
        lifetime=issued["expires_in"],
        host=issued["host"],
        scopes=issued["scope"].split(","),
        login_url=sandbox.base_url,
        client_id=OAUTH_CLIENT_ID,
    )
    store = TokenStore.from_settings(settings)
    store.save(grant)
    source = OAuthTokenSource(settings, store, grant)
    task = task_id(sandbox)
    async with make_client(sandbox, source) as wrike, Client(make_server(wrike)) as client:
        assert not (await client.call_tool("get_task", {"task": task})).is_error
        control(sandbox, "DELETE", "requests")
        control(sandbox, "POST", "revoke", {"access_token": issued["access_token"]})  # mid-session
        if kind == READ:
            method, path = "GET", f"/api/v4/tasks/{task}"
            result, _ = await call_once(client, "get_task", {"task": task}, READ_DEADLINE)
        else:
            method, path = "POST", f"/api/v4/tasks/{task}/comments"
            result, _ = await call_once(
                client, "add_comment", {"task": task, "text": "after a 401"}, WRITE_DEADLINE + TIMEOUT
            )
        check_outcome(result, "ok", secrets)
        statuses = [entry["status"] for entry in requests_to(sandbox, method, path)]
        assert statuses == [401, 200]  # refused, then replayed once with the refreshed token
        refreshes = [
            entry
            for entry in requests_to(sandbox, "POST", "/oauth2/token")
            if (entry.get("body") or {}).get("grant_type") == "refresh_token"
        ]
        assert len(refreshes) == 1
        if kind == WRITE:
            assert comments_with(sandbox, "after a 401") == 1
        rotated = store.current(settings.login_url)
        assert rotated is not None and rotated.refresh_token != issued["refresh_token"]
        secrets.update({rotated.access_token, rotated.refresh_token or ""} - {""})
        assert not (await client.call_tool("get_task", {"task": task})).is_error


# ---- a 10 MB answer ----------------------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024


def make_huge(sandbox: BackgroundSandbox, task: str) -> None:
    """The task's description becomes 10 MB of HTML, so every answer that carries the task is over 10 MB."""
    paragraph = "<p>" + "lorem ipsum dolor sit amet " * 37 + "</p>"
    sandbox.app.state.sandbox.tasks[task].description = paragraph * (TEN_MB // len(paragraph) + 1)


@pytest.mark.parametrize("kind", [READ, WRITE])
async def test_ten_megabyte_answer_is_cut_for_the_model(
    kind: str, sandbox: BackgroundSandbox, secrets: set[str]
) -> None:
    """Under the client's default 64 MB limit a 10 MB answer is read, and the result stays small."""
    task = task_id(sandbox)
    async with make_client(sandbox, timeout=10.0) as wrike, Client(make_server(wrike)) as client:
        assert not (await client.call_tool("get_task", {"task": task})).is_error
        make_huge(sandbox, task)
        control(sandbox, "DELETE", "requests")
        if kind == READ:
            result, _ = await call_once(client, "get_task", {"task": task}, 15.0)
            path, method = f"/api/v4/tasks/{task}", "GET"
        else:
            result, _ = await call_once(client, "update_task", {"task": task, "importance": "High"}, 15.0)
            path, method = f"/api/v4/tasks/{task}", "PUT"
        check_outcome(result, "ok", secrets)
        assert len(text_of(result)) < 200_000, "the result must be cut to a size a model can take"
        assert len(requests_to(sandbox, method, path)) == 1
        assert not (await client.call_tool("get_me", {})).is_error


@pytest.mark.parametrize("kind", [READ, WRITE])
async def test_answer_over_the_size_limit_is_refused(
    kind: str, sandbox: BackgroundSandbox, secrets: set[str]
) -> None:
    """Over `max_response_bytes` (here 4 MB) the read stops with a clear error, the write is an unknown outcome."""
    task = task_id(sandbox)
    async with (
        make_client(sandbox, timeout=2.0, max_response_bytes=4 * 1024 * 1024) as wrike,
        Client(make_server(wrike)) as client,
    ):
        assert not (await client.call_tool("get_task", {"task": task})).is_error
        make_huge(sandbox, task)
        control(sandbox, "DELETE", "requests")
        if kind == READ:
            result, _ = await call_once(client, "get_task", {"task": task}, READ_DEADLINE)
            check_outcome(result, r"^Wrike's answer was unusable .*exceeded \d+ bytes", secrets)
            assert len(requests_to(sandbox, "GET", f"/api/v4/tasks/{task}")) == 1  # not retried
        else:
            # update_task reads the task before it writes, so the task turns huge only while the PUT is on its
            # way (held 0.6 s by a delay fault): the read passes, the write's answer is the one over the limit.
            sandbox.app.state.sandbox.tasks[task].description = "<p>small again</p>"
            add_fault(sandbox, method="PUT", path=f"/api/v4/tasks/{task}", delay_ms=600)
            threading.Timer(0.3, make_huge, (sandbox, task)).start()
            result, _ = await call_once(
                client, "update_task", {"task": task, "importance": "High"}, WRITE_DEADLINE + 0.6
            )
            check_outcome(
                result, r"^outcome unknown: PUT /tasks/\w+ may or may not have been applied", secrets
            )
            assert len(requests_to(sandbox, "PUT", f"/api/v4/tasks/{task}")) == 1
            assert sandbox.app.state.sandbox.tasks[task].importance == "High"  # it was applied, once
        assert not (await client.call_tool("get_me", {})).is_error
