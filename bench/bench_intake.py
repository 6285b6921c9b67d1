"""Wrike requests and sequential round trips per call of the intake tools (issue 22), warm caches.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_intake.py [--delay-ms 100]

The sandbox runs in process (ASGI); the server's caches are warmed by the usual reads (get_me, list_folders,
find_people, list_workflows, list_custom_fields) and each read tool runs once before it is measured. Requests
are counted from the sandbox's request log. Round trips: every Wrike request is then delayed by `--delay-ms`
(a /_sandbox/faults delay, what a user on a real account waits for per request), and the call's wall time
divided by the delay, rounded down, is the number of requests it waited for one after another.
Also prints each intake tool's `tools/list` entry in bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import httpx
from mcp import Client

from wrike_mcp.config import Settings
from wrike_mcp.sandbox import create_app
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.tools.registry import META_TOOLSET
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

BASE = "http://127.0.0.1:8100"
WARMING: list[tuple[str, dict[str, Any]]] = [
    ("get_me", {}),
    ("list_folders", {}),
    ("find_people", {}),
    ("list_workflows", {}),
    ("list_custom_fields", {}),
]
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_item_types", {}),
    ("list_item_types", {"space": "Engineering"}),
    ("create_from_item_type", {"item_type": "Bug", "parent": "Engineering/Platform", "title": "Bench bug"}),
    (
        "create_from_item_type",
        {"item_type": "Campaign request", "parent": "Marketing/Campaigns", "title": "Bench campaign"},
    ),
    (
        "create_from_item_type",
        {"item_type": "Design review", "parent": "Draft launch announcement", "title": "Bench review"},
    ),
    ("list_request_forms", {}),
    ("get_request_form", {"form": "Bug report"}),
    (
        "submit_request_form",
        {
            "form": "Bug report",
            "answers": {
                "Summary": "Bench bug report",
                "Severity": "Blocker",
                "Fix needed by": "tomorrow",
                "Customer impact": "All users",
                "Incident owner": ["Sam Taylor"],
            },
        },
    ),
    (
        "submit_request_form",
        {
            "form": "Campaign request",
            "answers": {
                "Campaign name": "Bench campaign request",
                "Channel": "Email",
                "Launch date": "2030-11-02",
                "Campaign owner": ["me"],
            },
        },
    ),
    (
        "prefill_request_form",
        {"form": "New hire request", "answers": {"Role title": "Analyst", "Team": "Operations"}},
    ),
]


async def measure(delay_ms: int) -> tuple[list[tuple[str, str, int, int]], dict[str, int]]:
    app = create_app()
    state = app.state.sandbox
    transport = httpx.ASGITransport(app=app)
    rows: list[tuple[str, str, int, int]] = []
    async with (
        httpx.AsyncClient(transport=transport, base_url=BASE) as control,
        WrikeClient(
            StaticTokenSource("wrike-sandbox-token"), base_url=f"{BASE}/api/v4", transport=transport
        ) as wrike,
    ):
        settings = Settings(base_url=f"{BASE}/api/v4", allow_delete=True)
        server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
        async with Client(server, mode="legacy") as mcp:
            listing = {
                tool.name: len(
                    json.dumps(
                        tool.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")
                    )
                )
                for tool in (await mcp.list_tools()).tools
                if (tool.meta or {}).get(META_TOOLSET) == "intake"
            }
            for name, arguments in WARMING:
                await mcp.call_tool(name, arguments)
            for name, arguments in CALLS:
                if name.startswith(("list_", "get_")):
                    await mcp.call_tool(name, arguments)  # warm what this read caches
                before = len(state.requests)
                fault = {"path": "/api/v4/*", "delay_ms": delay_ms, "times": 1000}
                (await control.post("/_sandbox/faults", json=fault)).raise_for_status()
                started = time.perf_counter()
                result = await mcp.call_tool(name, arguments)
                elapsed = time.perf_counter() - started
                (await control.delete("/_sandbox/faults")).raise_for_status()
                if result.is_error:
                    raise RuntimeError(f"{name} failed: {result.content}")
                requests = len(state.requests) - before
                label = ", ".join(f"{k}={v!r}" for k, v in arguments.items() if k != "answers")
                rows.append((name, label, requests, int(elapsed * 1000 // delay_ms)))
    return rows, listing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=int, default=100)
    args = parser.parse_args()
    rows, listing = asyncio.run(measure(args.delay_ms))
    print(f"Command: PYTHONPATH=src .venv/bin/python bench/bench_intake.py --delay-ms {args.delay_ms}\n")
    print("| tool | call | Wrike requests | sequential round trips |")
    print("|---|---|---|---|")
    for name, label, requests, trips in rows:
        print(f"| {name} | {label} | {requests} | {trips} |")
    print("\n| tool | tools/list entry (bytes) |")
    print("|---|---|")
    for name, size in listing.items():
        print(f"| {name} | {size} |")
    print(f"| intake toolset | {sum(listing.values())} bytes ≈ {sum(listing.values()) / 4:.0f} tokens |")


if __name__ == "__main__":
    main()
