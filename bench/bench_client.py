"""Client overhead against raw httpx, and the sandbox's latency for a 100-task page, in one run.

Usage: .venv/bin/python bench/bench_client.py [--n 200]

The sandbox runs under uvicorn on a free loopback port in a background thread, so both sides pay the same
real HTTP cost. Client and raw requests are interleaved so machine noise hits both alike; the ratio of the
medians is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import socket
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from wrike_mcp.sandbox import SandboxConfig, create_app
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

TOKEN = "wrike-sandbox-token"
QUERY = {"fields": ["responsibleIds"], "limit": 20}


@contextmanager
def sandbox_on_loopback() -> Iterator[str]:
    """Serve a sandbox (rate limit lifted, so the benchmark measures latency, not throttling)."""
    # IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (without it, Nagle and
    # delayed ACKs add ~40 ms to every reused keep-alive connection)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(SandboxConfig(rate_limit=1_000_000))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(origin: str, n: int) -> dict[str, float]:
    api = f"{origin}/api/v4"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    raw_params = {"fields": '["responsibleIds"]', "limit": "20"}
    async with (
        WrikeClient(StaticTokenSource(TOKEN), base_url=api, rate_limit_per_minute=1_000_000) as client,
        httpx.AsyncClient() as raw,
    ):

        async def via_client() -> None:
            await client.get("/tasks", QUERY)

        async def via_raw() -> None:
            response = await raw.get(f"{api}/tasks", params=raw_params, headers=headers)
            response.raise_for_status()
            response.json()

        async def page_of_100() -> None:
            response = await raw.get(f"{api}/tasks", params={"pageSize": "100"}, headers=headers)
            response.raise_for_status()
            assert len(response.json()["data"]) == 100

        for _ in range(20):  # warm up connections and code paths
            await via_client()
            await via_raw()
            await page_of_100()
        client_ms: list[float] = []
        raw_ms: list[float] = []
        page_ms: list[float] = []
        for i in range(n):
            first, second = (via_client, via_raw) if i % 2 == 0 else (via_raw, via_client)
            a, b = await timed(first), await timed(second)
            client_ms.append(a if first is via_client else b)
            raw_ms.append(b if first is via_client else a)
            page_ms.append(await timed(page_of_100))
        requests_sent = client.request_count
    return {
        "client": statistics.median(client_ms),
        "raw": statistics.median(raw_ms),
        "page100": statistics.median(page_ms),
        "client_requests": requests_sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="samples per measurement")
    args = parser.parse_args()
    with sandbox_on_loopback() as origin:
        figures = asyncio.run(measure(origin, args.n))
    ratio = figures["client"] / figures["raw"]
    print(f"## Wrike client vs raw httpx (sandbox over loopback, N={args.n} each, interleaved)\n")
    print("| measurement | median |")
    print("|---|---|")
    print(f"| `client.get('/tasks', fields+limit=20)` | {figures['client']:.2f} ms |")
    print(f"| raw `httpx.AsyncClient.get` same URL | {figures['raw']:.2f} ms |")
    print(f"| **ratio client / raw** | **{ratio:.2f}×** |")
    print(f"| sandbox `GET /tasks?pageSize=100` (raw) | {figures['page100']:.2f} ms |")
    print(f"\nclient HTTP requests sent (incl. warm-up): {figures['client_requests']:.0f}")
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"command: {' '.join(['.venv/bin/python', 'bench/bench_client.py', *sys.argv[1:]])}")


if __name__ == "__main__":
    main()
