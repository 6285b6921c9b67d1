"""The tool manifest (src/wrike_mcp/tools/manifest.json): `tools/list` without importing the tool modules.

It must say exactly what the declarations say, so that a client sees the same tools/list whether or not a tool
was built yet. Regenerate it with `python -m wrike_mcp.tools.manifest` (or UPDATE_SNAPSHOTS=1, as for the
schema snapshots).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from mcp import Client

from tests.tools.tool_helpers import error_text, own_task_client
from wrike_mcp.sdk_adapter import has_tool
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools import manifest, registry
from wrike_mcp.tools.registry import (
    MANIFEST,
    OFF_BY_DEFAULT,
    TOOL_MODULES,
    all_tools,
    declared_tools,
    same_declaration,
)

UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"


async def test_the_manifest_matches_the_declarations() -> None:
    expected = manifest.render(await manifest.build())
    if UPDATE:
        MANIFEST.write_text(expected, encoding="utf-8")
    assert MANIFEST.read_text(encoding="utf-8") == expected, (
        "src/wrike_mcp/tools/manifest.json is out of date: run `.venv/bin/python -m wrike_mcp.tools.manifest`"
    )
    assert [same_declaration(info) for info in declared_tools()] == [same_declaration(s) for s in all_tools()]


async def listed(server: WrikeMCPServer, mode: str) -> str:
    async with own_task_client(server, mode=mode) as client:
        tools = (await client.list_tools()).tools
    return json.dumps([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])


async def test_tools_list_is_the_same_before_and_after_the_tools_are_built(
    make_server: Callable[..., WrikeMCPServer],
) -> None:
    server = make_server(allow_delete=True)
    assert not any(has_tool(server, info.name) for info in declared_tools())
    before = {mode: await listed(server, mode) for mode in ("auto", "legacy")}
    for info in declared_tools():
        server.build_tool(info.name)
    after = {mode: await listed(server, mode) for mode in ("auto", "legacy")}
    assert after == before
    assert len(json.loads(before["auto"])) == len(all_tools())


async def test_a_tool_whose_code_no_longer_matches_the_manifest_does_not_run(
    server: WrikeMCPServer, monkeypatch: pytest.MonkeyPatch, sandbox_state: Any
) -> None:
    # As if create_task were listed as read-only by a stale manifest: `--read-only` would have let it through.
    listed = registry.declared_tool("create_task")
    monkeypatch.setattr(registry, "declared_tool", lambda name: replace(listed, kind="read"))
    tasks_before = len(sandbox_state.tasks)
    async with Client(server) as client:
        result = await client.call_tool("create_task", {"title": "Stale", "folder": "Marketing"})
    assert result.is_error
    assert "tool manifest does not match its code" in error_text(result)
    assert len(sandbox_state.tasks) == tasks_before


async def test_a_tool_is_built_at_its_first_call(server: WrikeMCPServer) -> None:
    async with Client(server) as client:
        result = await client.call_tool("get_me", {})
    assert not result.is_error
    assert has_tool(server, "get_me")
    assert not has_tool(server, "search_tasks")


# Imported at the first tool call, not to answer initialize and the lists: the tool modules, the resolver and
# Wrike's models (together most of a cold start's own cost; see bench/RESULTS.md).
FIRST_CALL_MODULES = [
    *TOOL_MODULES,
    "wrike_mcp.tools.inputs",
    "wrike_mcp.wrike.resolve",
    "wrike_mcp.wrike.models",
]


def test_listing_the_tools_imports_no_tool_module_and_no_wrike_model() -> None:
    # In a fresh interpreter: this one imported every module long ago.
    script = """
import sys, anyio
from mcp import Client
from wrike_mcp.config import Settings
from wrike_mcp.server import create_server
from wrike_mcp.tools.deps import StaticContext, WrikeContext
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.tokens import StaticTokenSource

async def main():
    client = WrikeClient(StaticTokenSource("t"), base_url="http://127.0.0.1:9/api/v4")
    settings = Settings(base_url="http://127.0.0.1:9/api/v4")
    server = create_server(settings, StaticContext(WrikeContext(settings, client)))
    async with Client(server) as mcp:
        tools = (await mcp.list_tools()).tools
        await mcp.list_resources()
        await mcp.list_resource_templates()
        await mcp.list_prompts()
    print(len(tools), sorted(set(sys.argv[1:]) & set(sys.modules)))

anyio.run(main)
"""
    done = subprocess.run(
        [sys.executable, "-c", script, *FIRST_CALL_MODULES], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the default offer: no destructive tool (no --allow-delete, a client without elicitation), no toolset off
    offered = [i for i in declared_tools() if i.kind != "destructive" and i.toolset not in OFF_BY_DEFAULT]
    assert done.stdout.split() == [str(len(offered)), "[]"]
