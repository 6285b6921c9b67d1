"""The access log's `wrike_requests`: counted through a request hook on the call's own view of the user's
Wrike client, so it is what the sandbox received for that call, even while the same user runs other calls on
the same client at the same time."""

from __future__ import annotations

import json
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.remote.helpers import Browser, oauth_provider, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow


async def api_requests(sandbox: BackgroundSandbox) -> int:
    """Wrike API requests the sandbox has received (the sign-in's own OAuth requests are not API ones)."""
    async with httpx.AsyncClient() as control:
        body = (await control.get(f"{sandbox.base_url}/_sandbox/requests")).json()
    entries = body["requests"] if isinstance(body, dict) else body
    return sum(1 for entry in entries if "/api/v4" in str(entry.get("path")))


def logged(lines: list[str], tool: str) -> list[dict[str, Any]]:
    return [entry for entry in map(json.loads, lines) if entry["tool"] == tool]


async def test_each_call_counts_its_own_wrike_requests(tmp_path: Path, sandbox: BackgroundSandbox) -> None:
    replica = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with AsyncExitStack() as stack:
            # three sessions of one user: the replica serves them with the same cached Wrike client
            sessions: list[Client] = []
            for _ in range(3):
                provider, _ = oauth_provider(replica.mcp_url, Browser(user="chloe.martin@northwind.example"))
                http = await stack.enter_async_context(httpx2.AsyncClient(auth=provider, timeout=30))
                sessions.append(
                    await stack.enter_async_context(
                        Client(streamable_http_client(replica.mcp_url, http_client=http))
                    )
                )
            client = sessions[0]
            cold = await api_requests(sandbox)
            found = structured(await client.call_tool("search_tasks", {"limit": 2}))
            searched = await api_requests(sandbox) - cold
            task_id = found["items"][0]["id"]
            structured(await client.call_tool("get_task", {"task": task_id}))  # the resolver's caches fill
            warming = await api_requests(sandbox) - cold - searched
            before = await api_requests(sandbox)
            structured(await client.call_tool("get_task", {"task": task_id}))
            alone = await api_requests(sandbox) - before
            assert 1 <= alone < warming

            # three calls at once, one per session: each one's read of the task is held back half a second,
            # so that all three are under way together
            fault = {"method": "GET", "path": f"/api/v4/tasks/{task_id}", "times": 3, "delay_ms": 500}
            async with httpx.AsyncClient() as control:
                (await control.post(f"{sandbox.base_url}/_sandbox/faults", json=fault)).raise_for_status()
            started = time.monotonic()
            async with anyio.create_task_group() as calls:
                for session in sessions:
                    calls.start_soon(session.call_tool, "get_task", {"task": task_id})
            assert time.monotonic() - started < 1.4  # they did overlap
            together = await api_requests(sandbox) - before - alone
        assert together == 3 * alone

        counts = [entry["wrike_requests"] for entry in logged(replica.access_log(), "get_task")]
        # each call its own requests, the resolver's among them, and not its neighbours'
        assert counts == [warming, alone, alone, alone, alone]
        assert [entry["wrike_requests"] for entry in logged(replica.access_log(), "search_tasks")] == [
            searched
        ]
    finally:
        replica.stop()
