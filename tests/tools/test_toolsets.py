"""Toolsets off by default, one switch away (docs/TOOLSETS.md): the default list, `--toolsets`, and
enable_toolsets turning a toolset on for one session only, with `notifications/tools/list_changed`, in both
protocol eras. Over real stdio and HTTP: tests/e2e/test_toolsets_transports.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.tools.tool_helpers import api_calls, call, call_error, error_text
from wrike_mcp.server import WrikeMCPServer
from wrike_mcp.tools.registry import OFF_BY_DEFAULT, all_tools

OFF = "app_activity"
OFF_TOOLS = {spec.name for spec in all_tools() if spec.toolset == OFF}


async def names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


class Heard:
    """The notifications a client received."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def __call__(self, message: Any) -> None:
        method = getattr(getattr(message, "root", message), "method", None)
        if isinstance(method, str):
            self.methods.append(method)


@pytest.fixture
def default_server(make_server: Callable[..., WrikeMCPServer]) -> WrikeMCPServer:
    """As `wrike-mcp serve` starts without --toolsets (delete_task offered)."""
    return make_server(allow_delete=True, toolsets=None)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_default_list_leaves_out_the_toolsets_off_by_default_and_reaches_every_tool(
    default_server: WrikeMCPServer, mode: str
) -> None:
    async with Client(default_server, mode=mode) as client:
        listed = await names(client)
        overview = await call(client, "enable_toolsets")
    every = {spec.name for spec in all_tools()}
    off = {spec.name for spec in all_tools() if spec.toolset in OFF_BY_DEFAULT}
    assert OFF_TOOLS and off >= OFF_TOOLS
    assert listed == every - off
    shown = {item["name"]: item for item in overview["items"]}
    assert shown[OFF]["on"] is False and set(shown[OFF]["tools"]) == OFF_TOOLS
    assert shown["tasks"]["on"] is True and "tools" not in shown["tasks"]  # its tools are listed already
    reachable = listed | {tool for item in overview["items"] if not item["on"] for tool in item["tools"]}
    assert reachable == every


async def test_enabling_in_one_session_does_not_enable_in_another(
    default_server: WrikeMCPServer, sandbox_http: httpx.AsyncClient
) -> None:
    heard_one, heard_two = Heard(), Heard()
    async with (
        Client(default_server, mode="legacy", message_handler=heard_one) as one,
        Client(default_server, mode="legacy", message_handler=heard_two) as two,
    ):
        caps = one.server_capabilities.tools
        assert caps is not None and caps.list_changed is True
        assert OFF_TOOLS.isdisjoint(await names(one) | await names(two))

        result = await call(one, "enable_toolsets", toolsets=[OFF])
        assert result["turned_on"] == [OFF]
        assert next(item for item in result["items"] if item["name"] == OFF)["on"] is True

        assert await names(one) >= OFF_TOOLS
        assert heard_one.methods == ["notifications/tools/list_changed"]
        audit = await call(one, "list_audit_log", limit=1)
        assert audit["items"] and ("GET", "/api/v4/audit_log") in await api_calls(sandbox_http)

        assert OFF_TOOLS.isdisjoint(await names(two))  # the other session: unchanged, told nothing
        assert heard_two.methods == []
        refused = await call_error(two, "list_audit_log", limit=1)
        assert "app_activity toolset, which is off" in refused and "enable_toolsets" in refused

        again = await call(one, "enable_toolsets", toolsets=[OFF])  # already on: nothing to do, no notice
        assert "turned_on" not in again and heard_one.methods == ["notifications/tools/list_changed"]


async def test_a_sessionless_connection_says_which_setting_turns_a_toolset_on(
    default_server: WrikeMCPServer, sandbox_http: httpx.AsyncClient
) -> None:
    # the 2026-07-28 protocol in memory (as over HTTP): every request stands alone, so nothing is kept
    async with Client(default_server, mode="auto") as client:
        before = await names(client)
        overview = await call(client, "enable_toolsets")
        assert "--toolsets default,app_activity" in overview["note"]
        result = await client.call_tool("enable_toolsets", {"toolsets": [OFF]})
        assert result.is_error
        assert "no session" in error_text(result) and "--toolsets default,app_activity" in error_text(result)
        assert await names(client) == before
        calls_before = len(await api_calls(sandbox_http))
        refused = await call_error(client, "list_audit_log")
        assert "--toolsets default,app_activity" in refused and "WRIKE_TOOLSETS" in refused
        assert len(await api_calls(sandbox_http)) == calls_before  # refused before any Wrike request


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_toolsets_setting_turns_them_on_from_the_start(
    make_server: Callable[..., WrikeMCPServer], mode: str
) -> None:
    async with Client(make_server(toolsets=["default", OFF]), mode=mode) as client:
        listed = await names(client)
        overview = await call(client, "enable_toolsets")
    assert listed >= OFF_TOOLS and "search_tasks" in listed
    assert next(item for item in overview["items"] if item["name"] == OFF)["on"] is True


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_deployment_that_names_its_toolsets_cannot_be_widened(
    make_server: Callable[..., WrikeMCPServer], mode: str
) -> None:
    async with Client(make_server(toolsets=["context", "tasks"]), mode=mode) as client:
        assert "enable_toolsets" in await names(client)
        overview = await call(client, "enable_toolsets")
        assert {item["name"] for item in overview["items"]} == {"context", "tasks"}
        refused = await call_error(client, "enable_toolsets", toolsets=[OFF])
        assert "cannot turn on 'app_activity'" in refused and "none" in refused
        assert (await client.call_tool("list_audit_log", {})).content[0].text == (  # type: ignore[union-attr]
            "Unknown tool: list_audit_log"
        )
    async with Client(make_server(toolsets=["tasks"]), mode=mode) as client:
        assert "enable_toolsets" not in await names(client)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_enable_toolsets_refuses_unknown_names(default_server: WrikeMCPServer, mode: str) -> None:
    async with Client(default_server, mode=mode) as client:
        refused = await call_error(client, "enable_toolsets", toolsets=["app_activty"])
    assert "cannot turn on 'app_activty'" in refused and "app_activity" in refused


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_enabling_never_widens_a_grant(make_server: Callable[..., WrikeMCPServer], mode: str) -> None:
    server = make_server(toolsets=None, granted_scopes=frozenset({"wsReadOnly"}))
    async with Client(server, mode=mode) as client:
        overview = await call(client, "enable_toolsets")
        off = next(item for item in overview["items"] if item["name"] == OFF)
        assert "tools" not in off  # nothing in it this grant allows
        if mode == "legacy":
            await call(client, "enable_toolsets", toolsets=[OFF])
            assert OFF_TOOLS.isdisjoint(await names(client))
            assert "Unknown tool" in await call_error(client, "list_audit_log")
