"""The `time` toolset's cost: Wrike requests and round trips per call, cold and warm, and result sizes of
list_timelogs concise vs full. The sandbox on loopback HTTP (so concurrent requests overlap), an in-memory MCP
client.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_time.py

A round trip is a wave of requests: one starts a new round trip when no other request is in flight, so
concurrent requests count once. Cold: a fresh server (nothing cached); warm: the same call again.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from mcp import Client

from bench_client import sandbox_on_loopback
from wrike_mcp.config import Settings
from wrike_mcp.sandbox import create_app
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

PROJECT = "Engineering/Platform/API Revamp"


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests and round trips (waves of requests in flight together)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0
        self.round_trips = 0
        self.in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.in_flight == 0:
            self.round_trips += 1
        self.in_flight += 1
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.in_flight -= 1

    def reset(self) -> None:
        self.requests = self.round_trips = 0


async def measure(
    base: str, calls: list[tuple[str, dict[str, Any]]]
) -> list[tuple[str, int, int, int, int, int, int | None]]:
    rows = []
    url = f"{base}/api/v4"
    for tool, arguments in calls:
        transport = CountingTransport(httpx.AsyncHTTPTransport())
        token = StaticTokenSource("wrike-sandbox-token")
        async with WrikeClient(token, base_url=url, transport=transport) as wrike_client:
            settings = Settings(base_url=url)
            context = WrikeContext(settings, wrike_client, mode="sandbox")
            server = create_server(settings, StaticContext(context))
            async with Client(server, mode="legacy") as client:
                cold = await client.call_tool(tool, arguments)
                assert not cold.is_error, cold.content
                cold_counts = transport.requests, transport.round_trips
                transport.reset()
                warm = await client.call_tool(tool, arguments)
                assert not warm.is_error, warm.content
                result = warm.structured_content or {}
                items = size_of(result["items"]) if "items" in result else None
                warm_counts = transport.requests, transport.round_trips
                rows.append((label(tool, arguments), *cold_counts, *warm_counts, size_of(result), items))
    return rows


def size_of(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())


def label(tool: str, arguments: dict[str, Any]) -> str:
    return f"{tool}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"


async def main() -> None:
    state = create_app().state.sandbox
    me = state.access_tokens["wrike-sandbox-token"].user_id
    today = datetime.now(ZoneInfo(state.contacts[me].timezone)).date()
    quarter = (today - timedelta(days=90)).isoformat()
    calls: list[tuple[str, dict[str, Any]]] = [
        ("list_timelogs", {"folder": PROJECT}),
        ("list_timelogs", {"folder": PROJECT, "detail": "full"}),
        ("list_timelogs", {"folder": "Engineering", "limit": 50}),
        ("list_timelogs", {"folder": "Engineering", "limit": 50, "detail": "full"}),
        ("list_timelogs", {"limit": 100}),
        ("list_timelogs", {"limit": 100, "detail": "full"}),
        ("time_report", {"since": quarter, "until": "today"}),
        ("time_report", {"since": quarter, "until": "today", "group_by": ["project", "category"]}),
        ("time_report", {"since": quarter, "until": "today", "group_by": ["task"], "place": PROJECT}),
        (
            "time_report",
            {"since": "2020-01-01", "until": "today", "group_by": ["week", "billable"], "person": "me"},
        ),
    ]
    print(
        "| call | requests cold | round trips cold | requests warm | round trips warm | result bytes | items bytes |"
    )
    print("|---|---|---|---|---|---|---|")
    with sandbox_on_loopback() as base:
        rows = await measure(base, calls)
    for row in rows:
        items = f"{row[6]:,}" if row[6] is not None else "–"
        print(f"| `{row[0]}` | {row[1]} | {row[2]} | {row[3]} | {row[4]} | {row[5]:,} | {items} |")


if __name__ == "__main__":
    asyncio.run(main())
