"""my_work: Wrike requests and sequential round trips per call, cold and warm caches, every request delayed.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_my_work.py [--delay-ms 100]

A sandbox served over loopback HTTP delays every Wrike request by the same amount (a fault with `delay_ms`),
standing for a real account's latency. my_work runs twice on one server: cold (nothing cached), then warm
(me, contacts and workflows cached). For each call: the requests the sandbox logged, the sequential round trips
(the longest chain of requests each sent after the previous one was answered, from the log's received/answered
times) and the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx
from mcp import Client

from bench_client import sandbox_on_loopback
from wrike_mcp.config import Settings
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

TOKEN = "wrike-sandbox-token"


def round_trips(entries: list[dict[str, Any]]) -> int:
    timed = sorted((e["received_ms"], e["answered_ms"]) for e in entries if "answered_ms" in e)
    chain: list[int] = []
    for index, (start, _) in enumerate(timed):
        chain.append(1 + max((chain[i] for i in range(index) if timed[i][1] <= start), default=0))
    return max(chain, default=0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=100)
    delay = parser.parse_args().delay_ms
    with sandbox_on_loopback() as origin:
        async with httpx.AsyncClient(base_url=origin) as http:
            fault = {"path": "/api/v4/*", "times": 1000, "delay_ms": delay}
            (await http.post("/_sandbox/faults", json=fault)).raise_for_status()
            api = f"{origin}/api/v4"
            async with WrikeClient(
                StaticTokenSource(TOKEN), base_url=api, rate_limit_per_minute=1_000_000
            ) as wrike:
                settings = Settings(base_url=api)
                server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
                async with Client(server, mode="legacy") as client:
                    for label in ("cold", "warm"):
                        (await http.delete("/_sandbox/requests")).raise_for_status()
                        started = time.perf_counter()
                        result = await client.call_tool("my_work", {})
                        seconds = time.perf_counter() - started
                        assert not result.is_error, result.content
                        body = (await http.get("/_sandbox/requests")).json()
                        entries = [
                            e
                            for e in (body["requests"] if isinstance(body, dict) else body)
                            if "/api/v4" in str(e["path"])
                        ]
                        print(
                            f"my_work {label}: {len(entries)} Wrike requests, {round_trips(entries)} sequential "
                            f"round trips, {seconds * 1000:.0f} ms with {delay} ms per request"
                        )


if __name__ == "__main__":
    asyncio.run(main())
