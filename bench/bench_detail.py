"""Concise vs full results, and the round trips of whats_changed, on the sandbox's seed data.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_detail.py [--round-trips-only] [--delay-ms 150]

1. Bytes of the tool result (its JSON text block, what the model reads) with `detail="concise"` (the default)
   and `detail="full"`, for the same call on the same data: search_tasks with 50 tasks (account-wide and in a
   project), whats_changed over 30 days, list_audit_log with 100 events. The ids of the items are checked to
   be the same in both.
2. whats_changed on a project with warm caches, every sandbox request delayed by `--delay-ms`: Wrike requests
   made, wall time, and (wall time - undelayed wall time) / delay = sequential round trips. `--round-trips-only`
   measures only this, so the same script runs on a checkout without the `detail` switch (the "before").

The sandbox runs in process (httpx's ASGI transport); its fault control plane adds the delay with an
asyncio sleep, so requests made together wait together, as they would on a real account.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from mcp import Client

from wrike_mcp.config import Settings
from wrike_mcp.sandbox import SandboxConfig, create_app
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

BASE = "http://127.0.0.1:8100"
TOKEN = "wrike-sandbox-token"
PROJECT = "Marketing/Campaigns/Q3 Launch"
WARMING = ["get_me", "list_folders", "find_people", "list_workflows", "list_custom_fields"]


def text_of(result: Any) -> str:
    assert not result.is_error, result.content
    return "".join(block.text for block in result.content if block.type == "text")


def item_ids(data: dict[str, Any]) -> list[str]:
    if "items" in data:
        return [item["id"] for item in data["items"]]
    return [
        item["id"] for value in data.values() if isinstance(value, dict) for item in value.get("items", [])
    ]


async def sizes(mcp: Client, since: str) -> list[tuple[str, int, int, int]]:
    """(call, items, concise bytes, full bytes) for each measured call."""
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("search_tasks, 50 tasks, account-wide", "search_tasks", {"limit": 50}),
        ("search_tasks, 50 tasks in Marketing", "search_tasks", {"folder": "Marketing", "limit": 50}),
        ("whats_changed, account, 30 days", "whats_changed", {"since": since}),
        ("list_audit_log, the seed's whole log", "list_audit_log", {"limit": 100}),
    ]
    rows = []
    for label, tool, arguments in calls:
        concise = text_of(await mcp.call_tool(tool, arguments))
        full = text_of(await mcp.call_tool(tool, {**arguments, "detail": "full"}))
        ids = item_ids(json.loads(concise))
        assert ids == item_ids(json.loads(full)), f"{label}: not the same items"
        rows.append((label, len(ids), len(concise.encode()), len(full.encode())))
    return rows


async def logged(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    body = (await http.get("/_sandbox/requests")).json()
    return list(body["requests"] if isinstance(body, dict) else body)


async def round_trips(mcp: Client, http: httpx.AsyncClient, delay_ms: int, runs: int) -> dict[str, float]:
    arguments = {"place": PROJECT}
    await mcp.call_tool("whats_changed", arguments)  # warm
    plain, delayed, made = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        text_of(await mcp.call_tool("whats_changed", arguments))
        plain.append(time.perf_counter() - started)
        before = len(await logged(http))
        fault = {"path": "/api/v4/*", "times": 1000, "delay_ms": delay_ms}
        (await http.post("/_sandbox/faults", json=fault)).raise_for_status()
        started = time.perf_counter()
        text_of(await mcp.call_tool("whats_changed", arguments))
        delayed.append(time.perf_counter() - started)
        (await http.delete("/_sandbox/faults")).raise_for_status()
        made = len([entry for entry in (await logged(http))[before:] if "/api/v4" in str(entry["path"])])
    wall, undelayed = statistics.median(delayed), statistics.median(plain)
    return {
        "requests": made,
        "wall_ms": wall * 1000,
        "undelayed_ms": undelayed * 1000,
        "round_trips": (wall - undelayed) / (delay_ms / 1000),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips-only", action="store_true")
    parser.add_argument("--delay-ms", type=int, default=150)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    app = create_app(SandboxConfig(rate_limit=1_000_000))
    transport = httpx.ASGITransport(app=app)
    me = app.state.sandbox.contacts[app.state.sandbox.access_tokens[TOKEN].user_id]
    since = (datetime.now(ZoneInfo(me.timezone)).date() - timedelta(days=30)).isoformat()
    async with (
        WrikeClient(StaticTokenSource(TOKEN), base_url=f"{BASE}/api/v4", transport=transport) as wrike,
        httpx.AsyncClient(transport=transport, base_url=BASE) as http,
    ):
        settings = Settings(base_url=f"{BASE}/api/v4")
        server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
        async with Client(server, mode="legacy") as mcp:
            for tool in WARMING:
                text_of(await mcp.call_tool(tool, {}))
            if not options.round_trips_only:
                print("| result | items | concise bytes | full bytes | concise / full | saved |")
                print("|---|---|---|---|---|---|")
                for label, items, concise, full in await sizes(mcp, since):
                    ratio = concise / full
                    print(f"| {label} | {items} | {concise} | {full} | {ratio:.2f} | {1 - ratio:.0%} |")
                print()
            found = await round_trips(mcp, http, options.delay_ms, options.runs)
            print(f"whats_changed place={PROJECT!r}, warm, every request +{options.delay_ms} ms:")
            print(
                f"{found['requests']} Wrike requests; {found['wall_ms']:.0f} ms (undelayed "
                f"{found['undelayed_ms']:.0f} ms); sequential round trips ≈ {found['round_trips']:.1f}"
            )


if __name__ == "__main__":
    asyncio.run(main())
