"""Remote mode: the cost of `--auth oauth` per call, and a multi-user load over two replicas on PostgreSQL.

    .venv/bin/python bench/bench_remote.py [--calls 300] [--users 50] [--per-user 20]

Overhead: the same `search_tasks` call, interleaved, against `serve --transport http --stateless` with a
permanent token and against `serve --transport http --stateless --auth oauth` (SQLite store), both over real
HTTP to one sandbox; p50 and p90 of each and their ratio. Load: `--users` sign-ins (spread over the sandbox's
seed people; Wrike tokens live 5 s so refreshes happen under load) make `--per-user` calls each, spread
round-robin over two replicas sharing a throwaway PostgreSQL database; errors, p50/p99, Wrike refreshes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.remote.conftest import POSTGRES_ADMIN_URL  # noqa: E402  (WRIKE_MCP_TEST_POSTGRES, as the tests)
from tests.remote.helpers import (  # noqa: E402
    WRIKE_MCP,
    base_env,
    free_port,
    sign_in_raw,
    start_replica,
    wait_for_port,
)

from wrike_mcp.sandbox.config import SandboxConfig  # noqa: E402
from wrike_mcp.sandbox.seed import EMAIL_DOMAIN, PEOPLE  # noqa: E402
from wrike_mcp.sandbox.serve import BackgroundSandbox  # noqa: E402

HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25"}
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "search_tasks", "arguments": {"limit": 5}},
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def timed_call(http: httpx.AsyncClient, url: str, token: str | None) -> float:
    headers = {**HEADERS, **({"Authorization": f"Bearer {token}"} if token else {})}
    started = time.perf_counter()
    response = await http.post(url, json=CALL, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json()
    if response.status_code != 200 or body.get("result", {}).get("isError"):
        raise RuntimeError(f"call failed: {response.status_code} {response.text[:300]}")
    return elapsed


def start_plain(tmp: Path, sandbox: BackgroundSandbox) -> tuple[Any, int]:
    import subprocess

    port = free_port()
    env = base_env(tmp)
    env.update(WRIKE_BASE_URL=sandbox.api_url, WRIKE_ACCESS_TOKEN="wrike-sandbox-token")
    log = tmp / "plain.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(WRIKE_MCP), "serve", "--transport", "http", "--stateless", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process, port


async def overhead(calls: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory() as directory,
        BackgroundSandbox(SandboxConfig(rate_limit=100_000)) as sandbox,
    ):
        tmp = Path(directory)
        plain, plain_port = start_plain(tmp, sandbox)
        remote = start_replica(
            tmp,
            sandbox.base_url,
            f"sqlite:///{tmp / 'db.sqlite3'}",
            extra_args=("--stateless",),
            extra_env={"WRIKE_MCP_USER_RATE_LIMIT": "100000"},
        )
        try:
            token = sign_in_raw(remote.base_url, f"ann.lee@{EMAIL_DOMAIN}")["access_token"]
            plain_times: list[float] = []
            remote_times: list[float] = []
            async with httpx.AsyncClient(timeout=30) as http:
                for _ in range(20):  # warm both
                    await timed_call(http, f"http://127.0.0.1:{plain_port}/mcp", None)
                    await timed_call(http, remote.mcp_url, token)
                for _ in range(calls):
                    plain_times.append(await timed_call(http, f"http://127.0.0.1:{plain_port}/mcp", None))
                    remote_times.append(await timed_call(http, remote.mcp_url, token))
        finally:
            plain.terminate()
            remote.stop()
    return {
        "calls": calls,
        "plain_p50_ms": round(statistics.median(plain_times), 2),
        "oauth_p50_ms": round(statistics.median(remote_times), 2),
        "plain_p90_ms": round(percentile(plain_times, 0.9), 2),
        "oauth_p90_ms": round(percentile(remote_times, 0.9), 2),
        "ratio_p50": round(statistics.median(remote_times) / statistics.median(plain_times), 3),
    }


async def load(users: int, per_user: int) -> dict[str, Any]:
    import asyncpg

    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    name = f"wrike_mcp_bench_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    people = [f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}" for first, last, _, _ in PEOPLE]
    try:
        with (
            tempfile.TemporaryDirectory() as directory,
            BackgroundSandbox(SandboxConfig(token_ttl=5, rate_limit=100_000)) as sandbox,
        ):
            tmp = Path(directory)
            database = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
            port_a = free_port()
            public = f"http://127.0.0.1:{port_a}"
            a = start_replica(
                tmp,
                sandbox.base_url,
                database,
                public_url=public,
                port=port_a,
                name="a",
                extra_args=("--stateless",),
                extra_env={"WRIKE_MCP_USER_RATE_LIMIT": "10000"},
            )
            b = start_replica(
                tmp,
                sandbox.base_url,
                database,
                public_url=public,
                name="b",
                extra_args=("--stateless",),
                extra_env={"WRIKE_MCP_USER_RATE_LIMIT": "10000"},
            )
            try:
                tokens = [
                    sign_in_raw(a.base_url, people[n % len(people)])["access_token"] for n in range(users)
                ]
                httpx.delete(f"{sandbox.base_url}/_sandbox/requests")  # noqa: ASYNC210 - outside the timed part
                times: list[float] = []
                errors = 0

                async def user(number: int, http: httpx.AsyncClient) -> None:
                    nonlocal errors
                    for call in range(per_user):
                        target = a if (number + call) % 2 == 0 else b
                        try:
                            times.append(await timed_call(http, target.mcp_url, tokens[number]))
                        except Exception:
                            errors += 1

                started = time.perf_counter()
                async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=100)) as http:
                    await asyncio.gather(*(user(n, http) for n in range(users)))
                wall = time.perf_counter() - started
                log = httpx.get(f"{sandbox.base_url}/_sandbox/requests").json()  # noqa: ASYNC210 - outside the timed part
                refreshes = sum(
                    1
                    for e in log
                    if e["path"] == "/oauth2/token"
                    and (e.get("body") or {}).get("grant_type") == "refresh_token"
                )
            finally:
                a.stop()
                b.stop()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    distinct = min(users, len(people))
    return {
        "sign_ins": users,
        "wrike_users": distinct,
        "calls": users * per_user,
        "errors": errors,
        "p50_ms": round(statistics.median(times), 1),
        "p99_ms": round(percentile(times, 0.99), 1),
        "calls_per_s": round(len(times) / wall, 1),
        "wall_s": round(wall, 1),
        "wrike_refreshes": refreshes,
        "refreshes_per_wrike_user_per_5s_token": round(refreshes / distinct / max(1.0, wall / 5), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=20)
    args = parser.parse_args()
    print(json.dumps({"overhead": asyncio.run(overhead(args.calls))}, indent=2), flush=True)
    print(json.dumps({"load": asyncio.run(load(args.users, args.per_user))}, indent=2), flush=True)


if __name__ == "__main__":
    main()
