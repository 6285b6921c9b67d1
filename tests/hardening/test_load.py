"""The rate governor under concurrent MCP clients: five clients call at once, the governor holds the Wrike
requests to its limit, and the sandbox's request log shows it. (bench/bench_load.py does the same at full size
over HTTP with Wrike's 400 requests per minute; this is the quick version with a 1-second window.)"""

from __future__ import annotations

from collections import Counter

import anyio
from mcp import Client

from tests.hardening.helpers import Stopwatch, control, make_client, make_server, text_of
from wrike_mcp.sandbox.serve import BackgroundSandbox
from wrike_mcp.wrike.governor import RateGovernor

LIMIT, WINDOW = 10, 1.0
CLIENTS, CALLS = 5, 8


async def test_governor_keeps_concurrent_clients_under_the_limit(sandbox: BackgroundSandbox) -> None:
    errors: list[str] = []
    governor = RateGovernor(LIMIT, window=WINDOW)
    async with make_client(sandbox, governor=governor, timeout=5.0) as wrike:
        server = make_server(wrike)

        async def one_client(index: int) -> None:
            async with Client(server) as client:
                for n in range(CALLS):
                    result = await client.call_tool(
                        "search_tasks", {"text": f"launch {index}-{n}"[:6], "limit": 5}
                    )
                    if result.is_error:
                        errors.append(text_of(result))

        control(sandbox, "DELETE", "requests")
        with Stopwatch() as watch:
            async with anyio.create_task_group() as group:
                for index in range(CLIENTS):
                    group.start_soon(one_client, index)
    log = [entry for entry in control(sandbox, "GET", "requests") if entry["path"].startswith("/api/")]
    assert not errors, errors[:3]
    assert len(log) >= CLIENTS * CALLS  # one per search, plus the first lookups that fill the caches
    assert all(entry["status"] == 200 for entry in log)
    # Stamps have 1 s resolution and the window is 1 s: requests stamped with the same second arrived within
    # one window, so no second may hold more than the limit.
    per_second = Counter(entry["time"] for entry in log)
    assert max(per_second.values()) <= LIMIT, per_second
    # 40+ requests at 10 per window need at least three more windows after the first ten.
    assert watch.elapsed >= (len(log) / LIMIT - 1) * WINDOW - 0.1
