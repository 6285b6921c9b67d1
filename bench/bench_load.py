"""Load: concurrent MCP clients over streamable HTTP against the real `wrike-mcp serve --transport http`,
backed by the sandbox on loopback.

Usage: .venv/bin/python bench/bench_load.py [--clients 20] [--calls 50] [--rate-limit 400]
                                            [--phase both|capacity|governed] [--results bench/RESULTS.md]

Two phases, each `clients` SDK clients (own HTTP connection and MCP session each) making `calls` tool calls
concurrently, a fixed mix of read tools on warm caches:

- capacity: the governor's limit and the sandbox's rate limit set far above what the run can reach, so the
  figures are the server's own: p50/p99 latency per tool call and tool calls per second.
- governed: both set to `--rate-limit` requests per minute (Wrike's 400 by default). The sandbox answers 429
  over its limit, exactly as Wrike does; zero errors means the governor waited instead. From the sandbox's
  request log: the most Wrike requests seen in any 60 s window, against the limit.

Every call must succeed (no isError result, no exception). With --results the `## Load` section of that file is
replaced (or appended) with the figures and the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from wrike_mcp.sandbox import SandboxConfig
from wrike_mcp.sandbox.serve import BackgroundSandbox

ROOT = Path(__file__).resolve().parent.parent
WRIKE_MCP = Path(sys.executable).parent / "wrike-mcp"
TOKEN = "wrike-sandbox-token"  # the sandbox's documented demo token
TASK = "IEAAB2CDKQAAAAAE"  # "Draft launch announcement"
MIX: list[tuple[str, dict[str, Any]]] = [
    ("search_tasks", {"folder": "Marketing/Campaigns/Q3 Launch", "limit": 20}),
    ("get_task", {"task": TASK}),
    ("get_task", {"task": TASK, "include_comments": 5}),
    ("find_people", {"query": "Sam"}),
    ("search_tasks", {"text": "launch", "limit": 10}),
]
UNLIMITED = 10_000  # the highest WRIKE_RATE_LIMIT_PER_MINUTE accepts; out of reach of the capacity run


@dataclass
class Phase:
    name: str
    limit: int
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    wrike_requests: int = 0
    max_per_minute: int = 0
    refused_429: int = 0

    @property
    def calls(self) -> int:
        return len(self.latencies) + len(self.errors)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000 if ordered else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(sandbox: BackgroundSandbox, limit: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("WRIKE_")}
    env.update(
        WRIKE_BASE_URL=sandbox.api_url,
        WRIKE_ACCESS_TOKEN=TOKEN,
        WRIKE_RATE_LIMIT_PER_MINUTE=str(limit),
        WRIKE_MAX_QUEUE_WAIT="600",  # the governed phase queues 20 clients for minutes on purpose
        WRIKE_MCP_KEYRING="0",
        WRIKE_MCP_TOKEN_STORE="/nonexistent/tokens.json",
    )
    process = subprocess.Popen(
        [str(WRIKE_MCP), "serve", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


async def one_client(url: str, index: int, calls: int, mode: str, phase: Phase) -> None:
    async with (
        httpx2.AsyncClient(timeout=600) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        for n in range(calls):
            tool, arguments = MIX[(index + n) % len(MIX)]
            started = time.perf_counter()
            try:
                result = await client.call_tool(tool, arguments)
            except Exception as exc:  # an error of any kind counts; the run goes on
                phase.errors.append(f"{tool}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            if result.is_error:
                text = " ".join(block.text for block in result.content if block.type == "text")
                phase.errors.append(f"{tool}: {text[:200]}")
            else:
                phase.latencies.append(time.perf_counter() - started)


def max_in_any_minute(times: list[float]) -> int:
    """The most requests with arrival times inside any half-open 60-second interval."""
    ordered = sorted(times)
    return max((bisect.bisect_left(ordered, start + 60) - i for i, start in enumerate(ordered)), default=0)


def run_phase(name: str, limit: int, clients: int, calls: int, mode: str) -> Phase:
    phase = Phase(name, limit)
    with BackgroundSandbox(SandboxConfig(rate_limit=limit)) as sandbox:
        control = f"{sandbox.base_url}/_sandbox"
        process, url = start_server(sandbox, limit)
        try:
            warm = Phase("warm-up", limit)
            asyncio.run(one_client(url, 0, len(MIX), mode, warm))  # fill the server's lookup caches
            if warm.errors:
                raise RuntimeError(f"warm-up failed: {warm.errors[:3]}")
            httpx.delete(f"{control}/requests").raise_for_status()

            async def everyone() -> None:
                await asyncio.gather(*(one_client(url, i, calls, mode, phase) for i in range(clients)))

            started = time.perf_counter()
            asyncio.run(everyone())
            phase.wall = time.perf_counter() - started
            log = [
                entry
                for entry in httpx.get(f"{control}/requests").json()
                if entry["path"].startswith("/api/")
            ]
        finally:
            process.terminate()
            process.wait(timeout=10)
    phase.wrike_requests = len(log)
    phase.refused_429 = sum(1 for entry in log if entry["status"] == 429)
    arrivals = [datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ").timestamp() for entry in log]
    # The log has 1 s resolution: an entry stamped s arrived in [s, s+1), so count stamps in [s, s+59] (a
    # 60 s window can hold at most those); the real maximum is at most this.
    phase.max_per_minute = max_in_any_minute([t + 1 for t in arrivals]) if arrivals else 0
    return phase


def report(phases: list[Phase], args: argparse.Namespace) -> str:
    command = (
        f".venv/bin/python bench/bench_load.py --clients {args.clients} --calls {args.calls} "
        f"--rate-limit {args.rate_limit} --mode {args.mode} --phase {args.phase}"
    )
    lines = [
        "## Load",
        "",
        f"`{command}` — {datetime.now().astimezone():%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs. {args.clients} concurrent MCP clients (SDK, streamable HTTP, {args.mode} era, one "
        f"session each) × {args.calls} tool calls against `wrike-mcp serve --transport http` and the sandbox on "
        "loopback; the mix: " + ", ".join(sorted({tool for tool, _ in MIX})) + " on warm caches.",
        "",
        "| phase | governor limit (req/min) | tool calls | errors | p50 ms | p99 ms | calls/s | Wrike requests "
        "| requests/call | max requests in any 60 s | 429s from the sandbox |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for phase in phases:
        limit = f"{phase.limit} (out of reach)" if phase.limit == UNLIMITED else str(phase.limit)
        per_call = phase.wrike_requests / phase.calls if phase.calls else 0
        lines.append(
            f"| {phase.name} | {limit} | {phase.calls} | {len(phase.errors)} | {phase.percentile(0.5):.1f} | "
            f"{phase.percentile(0.99):.1f} | {phase.calls / phase.wall:.1f} | {phase.wrike_requests} | "
            f"{per_call:.2f} | {phase.max_per_minute} | {phase.refused_429} |"
        )
    lines += [
        "",
        "capacity: the server's own throughput (limits out of reach). governed: the governor at the limit; the "
        "sandbox refuses anything over it with 429, so zero errors and zero 429s mean the governor held every "
        "request back in time, and the 60 s maximum (from the sandbox's request log, 1 s resolution, counted "
        "conservatively) stays at or under the limit. Latency in the governed phase is mostly waiting for a slot.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else ""
    start = text.find("## Load")
    if start == -1:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end != -1 else "")
    path.write_text(text.rstrip() + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls", type=int, default=50, help="tool calls per client")
    parser.add_argument(
        "--rate-limit", type=int, default=400, help="requests per minute in the governed phase"
    )
    parser.add_argument(
        "--mode", choices=["legacy", "auto"], default="legacy", help="protocol era of the clients"
    )
    parser.add_argument("--phase", choices=["both", "capacity", "governed"], default="both")
    parser.add_argument("--results", type=Path, help="write the `## Load` section of this markdown file")
    args = parser.parse_args()
    phases = []
    if args.phase in ("both", "capacity"):
        phases.append(run_phase("capacity", UNLIMITED, args.clients, args.calls, args.mode))
    if args.phase in ("both", "governed"):
        phases.append(run_phase("governed", args.rate_limit, args.clients, args.calls, args.mode))
    section = report(phases, args)
    print(section)
    for phase in phases:
        for error in phase.errors[:5]:
            print(f"{phase.name} error: {error}", file=sys.stderr)
    if args.results:
        write_section(args.results, section)
    failed = any(phase.errors or phase.refused_429 or phase.max_per_minute > phase.limit for phase in phases)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
