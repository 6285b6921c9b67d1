"""What metrics and traces cost (issue 23): stdio cold start with them off and with traces on, and the time of a
tool call with nothing, with metrics, and with traces (spans exported by OTLP/HTTP to a local sink).

Usage: .venv/bin/python bench/bench_observe.py [--runs 9] [--calls 300] [--baseline-src PATH]

--baseline-src: also time the cold start of another checkout's `src` (e.g. the release before these features),
interleaved with the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mcp import Client

from bench_client import sandbox_on_loopback
from bench_server import PROJECT, TOKEN, WRIKE_MCP, server_state, start_and_list
from wrike_mcp.calls import observe_tool_calls
from wrike_mcp.config import Settings
from wrike_mcp.metrics import Metrics
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.tracing import start_tracing
from wrike_mcp.wrike.client import EventHook, WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource


@contextmanager
def otlp_sink() -> Iterator[str]:
    """An OTLP/HTTP endpoint that accepts and drops every export."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def cold_starts(runs: int, endpoint: str, baseline: str | None) -> dict[str, float]:
    command = [WRIKE_MCP, "serve", "--sandbox"]
    here = os.environ.get("PYTHONPATH", "")
    variants = {
        "off": {},
        "traces on": {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint},
        **({"baseline": {"PYTHONPATH": baseline}} if baseline else {}),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs + 1):
        for name, extra in variants.items():
            previous = dict(os.environ)
            os.environ.update({"PYTHONPATH": here, **extra})
            try:
                seconds, _, _ = start_and_list(command)
            finally:
                os.environ.clear()
                os.environ.update(previous)
            times[name].append(seconds)
    return {name: statistics.median(values[1:]) * 1000 for name, values in times.items()}  # first: warm-up


async def call_times(base: str, calls: int, hooks: list[EventHook], middleware: list[Any]) -> float:
    async with WrikeClient(StaticTokenSource(TOKEN), base_url=f"{base}/api/v4") as wrike:
        wrike.event_hooks.extend(hooks)
        settings = Settings(base_url=f"{base}/api/v4")
        context = StaticContext(WrikeContext(settings, wrike, mode="sandbox"))
        server = create_server(settings, context, middleware=middleware)
        async with Client(server, mode="legacy") as mcp:
            await server_state(server).resolver.folder_id(PROJECT)
            arguments = {"folder": PROJECT, "limit": 20}
            await mcp.call_tool("search_tasks", arguments)  # warm caches
            times = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await mcp.call_tool("search_tasks", arguments)
                times.append(time.perf_counter() - started)
                assert not result.is_error
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--baseline-src")
    args = parser.parse_args()
    with otlp_sink() as endpoint:
        starts = cold_starts(args.runs, endpoint, args.baseline_src)
        with sandbox_on_loopback() as base:
            metrics = Metrics("bench", remote=False)
            rounds: dict[str, list[float]] = {"nothing": [], "metrics": []}
            for _ in range(3):  # interleaved rounds: machine noise falls on both
                rounds["nothing"].append(asyncio.run(call_times(base, args.calls, [], [])))
                rounds["metrics"].append(
                    asyncio.run(
                        call_times(
                            base, args.calls, metrics.event_hooks, [observe_tool_calls([metrics.tool_call])]
                        )
                    )
                )
            # a tracer provider cannot be taken back: traces are measured last
            os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            tracing = start_tracing()
            assert tracing is not None
            traced = [asyncio.run(call_times(base, args.calls, tracing.event_hooks, [])) for _ in range(3)]
            tracing.shutdown()
    print(f"Command: .venv/bin/python bench/bench_observe.py --runs {args.runs} --calls {args.calls}")
    for name, ms in starts.items():
        print(f"stdio cold start to tools/list, {name}: {ms:.0f} ms")
    plain = statistics.median(rounds["nothing"])
    for name, ms in (("nothing", plain), ("metrics", statistics.median(rounds["metrics"]))):
        print(f"search_tasks call, {name}: {ms:.2f} ms ({ms - plain:+.2f} ms)")
    ms = statistics.median(traced)
    print(f"search_tasks call, traces on: {ms:.2f} ms ({ms - plain:+.2f} ms)")


if __name__ == "__main__":
    main()
