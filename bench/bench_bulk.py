"""bulk_update_tasks vs update_task, the same change to the same 100 tasks, measured in one run.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_bulk.py [--tasks 100]

For each change (add an assignee: one bulk PUT; importance: one PUT per task, Wrike's bulk PUT refuses it),
each contender gets a fresh sandbox served over loopback HTTP and a fresh server (cold caches alike):
- bulk: bulk_update_tasks preview, then apply with its token (two tool calls);
- single: update_task once per task.
It reports the Wrike requests each made (the sandbox's request log) and the wall time, and their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
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
CHANGES: dict[str, dict[str, Any]] = {
    "add_assignees": {"add_assignees": ["Hana Sato"]},
    "importance": {"importance": "High"},
}

Run = Callable[[Client, list[str], dict[str, Any]], Awaitable[None]]


async def bulk(client: Client, ids: list[str], change: dict[str, Any]) -> None:
    preview = await checked(client, "bulk_update_tasks", tasks=ids, **change)
    applied = await checked(
        client,
        "bulk_update_tasks",
        tasks=ids,
        **change,
        dry_run=False,
        preview_token=preview["preview_token"],
    )
    assert applied["applied"] and not applied.get("failed"), applied


async def single(client: Client, ids: list[str], change: dict[str, Any]) -> None:
    for ident in ids:
        await checked(client, "update_task", task=ident, **change)


async def checked(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error and result.structured_content is not None, result.content
    return dict(result.structured_content)


async def measure(run: Run, change: dict[str, Any], count: int) -> tuple[int, int, float]:
    """(Wrike requests, of which writes, wall seconds) of one contender on a fresh sandbox and server."""
    with sandbox_on_loopback() as origin:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=origin, headers=headers) as http:
            page = (await http.get("/api/v4/tasks", params={"pageSize": count})).json()
            ids = [task["id"] for task in page["data"]][:count]
            assert len(ids) == count, len(ids)
            (await http.delete("/_sandbox/requests")).raise_for_status()
            api = f"{origin}/api/v4"
            async with WrikeClient(
                StaticTokenSource(TOKEN), base_url=api, rate_limit_per_minute=1_000_000
            ) as wrike:
                settings = Settings(base_url=api)
                server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
                async with Client(server, mode="legacy") as client:
                    started = time.perf_counter()
                    await run(client, ids, change)
                    seconds = time.perf_counter() - started
            log = (await http.get("/_sandbox/requests")).json()
    entries = log["requests"] if isinstance(log, dict) else log
    calls = [entry for entry in entries if "/api/v4" in str(entry["path"])]
    return len(calls), sum(1 for entry in calls if entry["method"] != "GET"), seconds


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100)
    count = parser.parse_args().tasks
    print(f"{count} tasks, sandbox over loopback HTTP, fresh sandbox and server per contender")
    for name, change in CHANGES.items():
        b_requests, b_writes, b_seconds = await measure(bulk, change, count)
        s_requests, s_writes, s_seconds = await measure(single, change, count)
        print(
            f"{name}: bulk_update_tasks (preview + apply) {b_requests} Wrike requests ({b_writes} writes), "
            f"{b_seconds:.2f} s | {count} x update_task {s_requests} requests ({s_writes} writes), "
            f"{s_seconds:.2f} s | requests ratio {s_requests / b_requests:.1f}x, "
            f"time ratio {s_seconds / b_seconds:.1f}x"
        )


if __name__ == "__main__":
    asyncio.run(main())
