"""Refresh-token reuse against real replicas: a race is not a theft, a late reuse is.

A client that sends one refresh token twice at once (two tabs, a retry after a timeout) must not lose its grant:
within `WRIKE_MCP_REFRESH_REUSE_LEEWAY` seconds of the rotation the second request is refused and the first
one's tokens keep working. After the leeway, or from another client, a reuse revokes the family as before
(RFC 9700 §4.14.2). Two `--stateless` replicas of one public URL share a throwaway PostgreSQL database, so the
two requests of a race are served by different processes. docs/RELIABILITY.md rows OA77-OA79.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.remote.helpers import Replica, free_port, start_replica
from tests.remote.test_attacks import (
    Tokens,
    assert_invalid_grant,
    assert_invalid_token,
    assert_works,
    mcp,
    new_client,
    refresh,
    sign_in,
)
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

ROUNDS = 6  # races in a row, each on the pair the previous one's winner got


@contextlib.contextmanager
def two_replicas(
    tmp_path: Path, sandbox: BackgroundSandbox, database_url: str, leeway: str | None = None
) -> Iterator[tuple[Replica, Replica]]:
    """Two stateless replicas of one public URL on one database, logging at INFO (the leeway's log line)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    env = {"WRIKE_LOG_LEVEL": "INFO"}
    if leeway is not None:
        env["WRIKE_MCP_REFRESH_REUSE_LEEWAY"] = leeway

    def start(name: str, port: int | None = None) -> Replica:
        return start_replica(
            tmp_path,
            sandbox.base_url,
            database_url,
            public_url=public,
            port=port,
            name=name,
            extra_args=("--stateless",),
            extra_env=env,
        )

    a = start("a", port)
    try:
        b = start("b")
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


def race(tokens: Tokens, replicas: tuple[Replica, Replica]) -> list[httpx.Response]:
    """The same refresh token sent to both replicas at the same moment, one request each."""
    barrier = threading.Barrier(len(replicas))
    answers: list[httpx.Response | None] = [None] * len(replicas)

    def send(index: int) -> None:
        barrier.wait()
        answers[index] = refresh(replicas[index].base_url, tokens.client, tokens.refresh)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(replicas))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers), answers
    return [answer for answer in answers if answer is not None]


def log_of(*replicas: Replica) -> str:
    return "".join(replica.log.read_text() for replica in replicas)


def test_racing_refreshes_on_two_replicas_keep_the_winners_tokens(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    with two_replicas(tmp_path, sandbox, postgres_url) as replicas:
        tokens = sign_in(replicas[0].base_url)
        for round_ in range(ROUNDS):
            answers = race(tokens, replicas)
            statuses = sorted(answer.status_code for answer in answers)
            assert statuses == [200, 400], (round_, [answer.text for answer in answers])
            (won,) = [answer for answer in answers if answer.status_code == 200]
            (lost,) = [answer for answer in answers if answer.status_code == 400]
            assert_invalid_grant(lost)
            tokens = Tokens(won.json()["access_token"], won.json()["refresh_token"], tokens.client)
            for replica in replicas:  # the winner's access token, on both replicas
                assert_works(replica, tokens.access)
        # the last winner's refresh token still rotates: the family was never revoked
        last = refresh(replicas[1].base_url, tokens.client, tokens.refresh)
        assert last.status_code == 200, last.text
        assert_works(replicas[0], last.json()["access_token"])
        log = log_of(*replicas)
    assert log.count("after its rotation: refused, grant kept") == ROUNDS, log[-3000:]
    assert "revoking its grant" not in log, log[-3000:]


def test_a_reuse_after_the_leeway_revokes_the_family(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    with two_replicas(tmp_path, sandbox, postgres_url, leeway="1") as (a, b):
        tokens = sign_in(a.base_url)
        rotated = refresh(a.base_url, tokens.client, tokens.refresh)
        assert rotated.status_code == 200, rotated.text
        rotated_at = time.monotonic()
        new_access, new_refresh = rotated.json()["access_token"], rotated.json()["refresh_token"]
        assert_works(b, new_access)  # verified (and cached) on b only
        time.sleep(max(0.0, rotated_at + 1.5 - time.monotonic()))
        assert_invalid_grant(refresh(b.base_url, tokens.client, tokens.refresh))  # the old one, too late
        assert_invalid_token(mcp(b, new_access))  # revoked where the reuse was seen, at once
        assert_invalid_token(mcp(a, new_access))  # never cached on a: refused there at once too
        assert_invalid_grant(refresh(a.base_url, tokens.client, new_refresh))
        log = log_of(a, b)
    assert "refresh token reused for client" in log and "revoking its grant" in log, log[-3000:]
    assert "refused, grant kept" not in log, log[-3000:]


def test_a_spent_refresh_token_from_another_client_revokes_within_the_leeway(
    tmp_path: Path, sandbox: BackgroundSandbox, postgres_url: str
) -> None:
    with two_replicas(tmp_path, sandbox, postgres_url) as (a, b):
        tokens = sign_in(a.base_url)
        rotated = refresh(a.base_url, tokens.client, tokens.refresh)
        assert rotated.status_code == 200, rotated.text
        thief = new_client(b.base_url)
        # at once, well within the 10 s leeway, but not the client the token was issued to
        assert_invalid_grant(refresh(b.base_url, thief, tokens.refresh))
        assert_invalid_token(mcp(b, rotated.json()["access_token"]))
        assert_invalid_grant(refresh(a.base_url, tokens.client, rotated.json()["refresh_token"]))
