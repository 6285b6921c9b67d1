"""Remote mode: the cost of `--auth oauth` per call, and a multi-user load over two replicas on PostgreSQL.

    .venv/bin/python bench/bench_remote.py [--calls 300] [--users 50] [--per-user 20] [--only overhead|load]
        [--overhead-database sqlite|postgresql]

The sandbox runs in its own process (`wrike-mcp sandbox`), so the benchmark's process is only the clients and
the figures are the servers'.

Overhead: the same `search_tasks` call, interleaved, against `serve --transport http --stateless` with a
permanent token and against `serve --transport http --stateless --auth oauth` (SQLite store, or a throwaway
PostgreSQL database with `--overhead-database postgresql`: what each replica of several pays), both over real
HTTP to one sandbox; p50 and p90 of each and their ratio. Load: `--users` sign-ins (spread over the sandbox's
seed people) make `--per-user` calls each, all at once, spread round-robin over `--replicas` stateless
replicas sharing a throwaway PostgreSQL database. The sandbox limits each Wrike token to `--wrike-limit`
requests a minute, as Wrike does, and the replicas share one Wrike budget of that size per grant through the
store (`WRIKE_RATE_LIMIT_PER_MINUTE`); errors, Wrike 429s, p50/p99, refreshes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.remote.conftest import throwaway_postgres  # noqa: E402  (WRIKE_MCP_TEST_POSTGRES, as the tests)
from tests.remote.helpers import (  # noqa: E402
    WRIKE_MCP,
    base_env,
    free_port,
    sign_in_raw,
    start_replica,
    wait_for_port,
)

from wrike_mcp.sandbox.seed import EMAIL_DOMAIN, PEOPLE  # noqa: E402
from wrike_mcp.sandbox.state import DEMO_TOKEN  # noqa: E402

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
    if response.status_code != 200 or response.json().get("result", {}).get("isError"):
        raise RuntimeError(f"call failed: {response.status_code} {response.text[:300]}")
    return elapsed


@contextmanager
def sandbox_process(tmp: Path, *, rate_limit: int, token_ttl: int = 3600) -> Iterator[str]:
    """`wrike-mcp sandbox` in its own process; yields its base URL."""
    port = free_port()
    log = tmp / "sandbox.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [
                str(WRIKE_MCP),
                "sandbox",
                "--port",
                str(port),
                "--rate-limit",
                str(rate_limit),
                "--token-ttl",
                str(token_ttl),
            ],
            env=base_env(tmp),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def start_plain(tmp: Path, sandbox_url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = base_env(tmp)
    env.update(
        WRIKE_BASE_URL=f"{sandbox_url}/api/v4",
        WRIKE_ACCESS_TOKEN=DEMO_TOKEN,
        WRIKE_RATE_LIMIT_PER_MINUTE="10000",
    )
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


async def overhead(calls: int, database: str) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        sandbox_url = stack.enter_context(sandbox_process(tmp, rate_limit=100_000))
        if database == "postgresql":
            database_url = await stack.enter_async_context(throwaway_postgres())
        else:
            database_url = f"sqlite:///{tmp / 'db.sqlite3'}"
        plain, plain_port = start_plain(tmp, sandbox_url)
        remote = start_replica(
            tmp,
            sandbox_url,
            database_url,
            extra_args=("--stateless",),
            extra_env={"WRIKE_MCP_USER_RATE_LIMIT": "100000", "WRIKE_RATE_LIMIT_PER_MINUTE": "10000"},
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
            plain.wait(timeout=10)
            remote.stop()
    return {
        "calls": calls,
        "database": database,
        "plain_p50_ms": round(statistics.median(plain_times), 2),
        "oauth_p50_ms": round(statistics.median(remote_times), 2),
        "plain_p90_ms": round(percentile(plain_times, 0.9), 2),
        "oauth_p90_ms": round(percentile(remote_times, 0.9), 2),
        "ratio_p50": round(statistics.median(remote_times) / statistics.median(plain_times), 3),
    }


async def load(users: int, per_user: int, replicas: int, wrike_limit: int) -> dict[str, Any]:
    people = [f"{first.lower()}.{last.lower()}@{EMAIL_DOMAIN}" for first, last, _, _ in PEOPLE]
    async with throwaway_postgres() as database:
        with (
            tempfile.TemporaryDirectory() as directory,
            sandbox_process(Path(directory), rate_limit=wrike_limit) as sandbox_url,
        ):
            tmp = Path(directory)
            port_a = free_port()
            public = f"http://127.0.0.1:{port_a}"  # one public URL, as behind one proxy
            # one Wrike budget per grant, counted in the store by every replica: Wrike's limit itself
            env = {"WRIKE_MCP_USER_RATE_LIMIT": "10000", "WRIKE_RATE_LIMIT_PER_MINUTE": str(wrike_limit)}
            running = [
                start_replica(
                    tmp,
                    sandbox_url,
                    database,
                    public_url=public,
                    port=port_a if n == 0 else None,
                    name=chr(ord("a") + n),
                    extra_args=("--stateless",),
                    extra_env=env,
                )
                for n in range(replicas)
            ]
            try:
                tokens = [
                    sign_in_raw(running[0].base_url, people[n % len(people)])["access_token"]
                    for n in range(users)
                ]
                httpx.delete(f"{sandbox_url}/_sandbox/requests")  # noqa: ASYNC210 - outside the timed part
                times: list[float] = []
                failures: Counter[str] = Counter()

                async def user(number: int, http: httpx.AsyncClient) -> None:
                    for call in range(per_user):
                        target = running[(number + call) % replicas]
                        try:
                            times.append(await timed_call(http, target.mcp_url, tokens[number]))
                        except Exception as exc:
                            failures[f"{type(exc).__name__}: {str(exc)[:160]}"] += 1

                started = time.perf_counter()
                # idle connections expire here before uvicorn's 5 s keep-alive closes them: reusing one the
                # server is closing at that moment fails the request (httpx's own default is also 5 s)
                limits = httpx.Limits(max_connections=100, keepalive_expiry=2.0)
                async with httpx.AsyncClient(timeout=60, limits=limits) as http:
                    await asyncio.gather(*(user(n, http) for n in range(users)))
                wall = time.perf_counter() - started
                log = httpx.get(f"{sandbox_url}/_sandbox/requests").json()  # noqa: ASYNC210 - outside the timed part
            finally:
                for replica in running:
                    replica.stop()
    api = [e for e in log if str(e["path"]).startswith("/api/v4/")]
    per_token = Counter(str(e.get("token")) for e in api)
    refreshes = sum(
        1
        for e in log
        if e["path"] == "/oauth2/token" and (e.get("body") or {}).get("grant_type") == "refresh_token"
    )
    return {
        "sign_ins": users,
        "wrike_users": min(users, len(people)),
        "replicas": replicas,
        "calls": users * per_user,
        "errors": sum(failures.values()),
        "error_kinds": dict(failures),
        "wrike_429s": sum(1 for e in api if e.get("status") == 429),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p99_ms": round(percentile(times, 0.99), 1) if times else None,
        "calls_per_s": round(len(times) / wall, 1),
        "wall_s": round(wall, 1),
        "wrike_requests": len(api),
        "busiest_wrike_token_requests": max(per_token.values(), default=0),
        "wrike_limit_per_token_per_min": wrike_limit,
        "shared_budget_per_grant_per_min": wrike_limit,
        "wrike_refreshes": refreshes,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--wrike-limit", type=int, default=400, help="the sandbox's requests/min per token")
    parser.add_argument("--only", choices=["overhead", "load"])
    parser.add_argument(
        "--overhead-database",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="the store of the `--auth oauth` server in the overhead run",
    )
    args = parser.parse_args()
    print("command: .venv/bin/python bench/bench_remote.py " + shlex.join(sys.argv[1:]), flush=True)
    if args.only != "load":
        print(
            json.dumps({"overhead": asyncio.run(overhead(args.calls, args.overhead_database))}, indent=2),
            flush=True,
        )
    if args.only != "overhead":
        figures = asyncio.run(load(args.users, args.per_user, args.replicas, args.wrike_limit))
        print(json.dumps({"load": figures}, indent=2), flush=True)


if __name__ == "__main__":
    main()
