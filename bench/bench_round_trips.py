"""Sequential round trips to Wrike of every tool, warm caches: what a user waits for on a real account.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_round_trips.py [--delay-ms 150] [--json out.json]
       [--compare main.json]

A sandbox served over loopback HTTP, a server with every toolset on (`--toolsets all`, deletes allowed as
`--allow-delete` does, since a benchmark cannot confirm). Each tool of the full tool list runs its call from
bench/tool_calls.py three times: once to warm the caches, once as is, once with every Wrike request delayed by
`--delay-ms` (a sandbox fault with `delay_ms`, standing for a real account's 100-300 ms). The extra wall time
divided by the delay is the number of round trips on the call's critical path; the sandbox's request log gives
the requests and, from each request's received/answered times, the longest chain of requests each sent after
the one before it was answered (the same count, read from the log).

`--json` writes the figures; `--compare` reads figures written so (by this script run on main) and flags every
tool above its target: the issue-20 targets (get_task 2, log_time 1, whats_changed 3), for every other tool
its figure in the compared run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
from mcp import Client

from bench_client import sandbox_on_loopback
from tool_calls import MORE_CALLS, TYPICAL_CALLS, CallTool, Prepare, task_to_delete
from wrike_mcp.config import Settings
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

TOKEN = "wrike-sandbox-token"
TARGETS = {"get_task": 2, "log_time": 1, "whats_changed": 3}  # issue 20; log_time: 2 at most


def chain(entries: list[dict[str, Any]]) -> int:
    """The longest chain of requests each sent after the one before it was answered."""
    timed = sorted((e["received_ms"], e["answered_ms"]) for e in entries if "answered_ms" in e)
    links: list[int] = []
    for index, (start, _) in enumerate(timed):
        links.append(1 + max((links[i] for i in range(index) if timed[i][1] <= start), default=0))
    return max(links, default=0)


def label(tool: str, arguments: dict[str, Any] | Prepare) -> str:
    if callable(arguments):
        return tool
    shown = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    return f"{tool}({shown})" if len(shown) <= 48 else f"{tool}({shown[:45]}...)"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=int, default=150)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--only", nargs="*", default=[], help="these tools only")
    parser.add_argument("--trace", nargs="*", default=[], help="print these tools' delayed requests")
    args = parser.parse_args()
    delay = args.delay_ms
    before = json.loads(args.compare.read_text()) if args.compare else {}
    rows: dict[str, dict[str, Any]] = {}
    with sandbox_on_loopback() as origin:
        async with httpx.AsyncClient(base_url=origin) as http:
            api = f"{origin}/api/v4"
            # the governor's budget lifted, as the sandbox's: this measures waiting on Wrike, not throttling
            async with WrikeClient(
                StaticTokenSource(TOKEN), base_url=api, rate_limit_per_minute=1_000_000
            ) as wrike:
                settings = Settings(base_url=api, toolsets=["all"], allow_delete=True)
                server = create_server(settings, StaticContext(WrikeContext(settings, wrike, mode="sandbox")))
                async with Client(server, mode="legacy") as client:
                    listed = {tool.name for tool in (await client.list_tools()).tools}

                    async def call(tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
                        result = await client.call_tool(tool, arguments)
                        if result.is_error:
                            raise RuntimeError(f"{tool}: {result.content}")
                        return dict(result.structured_content or {})

                    async def arguments_of(given: dict[str, Any] | Prepare, call: CallTool) -> dict[str, Any]:
                        return await given(call) if callable(given) else dict(given)

                    async def run(
                        tool: str, arguments: dict[str, Any], delayed: bool
                    ) -> tuple[float, list[Any]]:
                        (await http.delete("/_sandbox/requests")).raise_for_status()
                        if delayed:
                            fault = {"path": "/api/v4/*", "times": 1000, "delay_ms": delay}
                            (await http.post("/_sandbox/faults", json=fault)).raise_for_status()
                        started = time.perf_counter()
                        try:
                            await call(tool, arguments)
                        finally:
                            seconds = time.perf_counter() - started
                            (await http.delete("/_sandbox/faults")).raise_for_status()
                        body = (await http.get("/_sandbox/requests")).json()
                        entries = body["requests"] if isinstance(body, dict) else body
                        return seconds * 1000, [e for e in entries if "/api/v4" in str(e["path"])]

                    # a call run three times: what it deletes is made for each run, what it creates is named
                    # apart after the first run (later calls name the first by its title)
                    calls: list[tuple[str, dict[str, Any] | Prepare]] = [
                        (t, task_to_delete if t == "delete_task" else a) for t, a in TYPICAL_CALLS
                    ]
                    calls += MORE_CALLS
                    for tool, given in calls:
                        if args.only and tool not in args.only:
                            continue
                        runs = []
                        for run_number in range(3):
                            arguments = await arguments_of(given, call)
                            if (
                                run_number
                                and "title" in arguments
                                and tool not in ("update_task", "update_project")
                            ):
                                arguments["title"] = f"{arguments['title']} {run_number}"
                            runs.append(arguments)
                        await call(tool, runs[0])  # warms the caches
                        plain_ms, _ = await run(tool, runs[1], delayed=False)
                        slow_ms, log = await run(tool, runs[2], delayed=True)
                        if tool in args.trace:
                            start = min((e["received_ms"] for e in log), default=0)
                            print(f"{tool}: {slow_ms:.0f} ms delayed, {plain_ms:.0f} ms not")
                            for e in log:
                                print(
                                    f"  {e['method']} {e['path']} {e['received_ms'] - start:.0f}"
                                    f"-{e.get('answered_ms', 0) - start:.0f} ms"
                                )
                        rows[label(tool, given)] = {
                            "tool": tool,
                            "requests": len(log),
                            "round_trips": round((slow_ms - plain_ms) / delay),
                            "extra": round((slow_ms - plain_ms) / delay, 2),
                            "chain": chain(log),
                            "ms": round(slow_ms),
                        }
                    missing = [] if args.only else sorted(listed - {tool for tool, _ in calls})

    print(f"Every Wrike request delayed by {delay} ms, warm caches, all toolsets on.\n")
    print("| tool call | Wrike requests | sequential round trips (wall) | (request log) | target | main |")
    print("|---|---:|---:|---:|---:|---:|")
    flagged = []
    for name, row in rows.items():
        was = before.get(name, {}).get("round_trips")
        target = TARGETS.get(row["tool"], was)
        over = target is not None and row["round_trips"] > target
        if over or (was is not None and row["round_trips"] > was):
            flagged.append(name)
        print(
            f"| {name} | {row['requests']} | {row['round_trips']}{' **over**' if over else ''} | {row['chain']} | "
            f"{'' if target is None else target} | {'' if was is None else was} |"
        )
    if missing:
        print(f"\nNo call for: {', '.join(missing)}")
    print(f"\nAbove target or worse than main: {', '.join(flagged) if flagged else 'none'}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
