"""enable_toolsets over the real transports of `wrike-mcp serve --sandbox` (a subprocess): where a session is
kept it turns a toolset on for that session only and the SDK client hears `tools/list_changed`; where none is
kept it says which setting to use instead (docs/TOOLSETS.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.e2e_helpers import WRIKE_MCP, Served, start_server

pytestmark = pytest.mark.slow

OFF = "app_activity"
AUDIT = "list_audit_log"


class Heard:
    def __init__(self) -> None:
        self.methods: list[str] = []
        self.arrived = anyio.Event()

    async def __call__(self, message: Any) -> None:
        method = getattr(getattr(message, "root", message), "method", None)
        if isinstance(method, str):
            self.methods.append(method)
            self.arrived.set()


async def names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


def stdio(clean_env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(WRIKE_MCP), args=["serve", "--sandbox"], env=clean_env)


async def test_stdio_modern_turns_on_and_the_listen_stream_hears_it(clean_env: dict[str, str]) -> None:
    async with Client(stdio(clean_env), mode="auto") as client:
        assert AUDIT not in await names(client)
        async with client.listen(tools_list_changed=True) as events:
            result = await client.call_tool("enable_toolsets", {"toolsets": [OFF]})
            assert not result.is_error and result.structured_content is not None
            assert result.structured_content["turned_on"] == [OFF]
            with anyio.fail_after(10):
                async for event in events:
                    assert type(event).__name__ == "ToolsListChanged"
                    break
        assert AUDIT in await names(client)
        assert not (await client.call_tool(AUDIT, {"limit": 1})).is_error


async def test_stdio_legacy_turns_on_and_the_client_hears_it(clean_env: dict[str, str]) -> None:
    heard = Heard()
    async with Client(stdio(clean_env), mode="legacy", message_handler=heard) as client:
        assert AUDIT not in await names(client)
        result = await client.call_tool("enable_toolsets", {"toolsets": [OFF]})
        assert not result.is_error
        assert AUDIT in await names(client)
    assert heard.methods == ["notifications/tools/list_changed"]


@pytest.fixture(params=[False, True], ids=["stateful", "stateless"])
def http_server(request: pytest.FixtureRequest, clean_env: dict[str, str]) -> Iterator[Served]:
    served = start_server(["--sandbox", *(["--stateless"] if request.param else [])], clean_env)
    try:
        yield served
    finally:
        served.stop()


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_http_sessions_stay_apart(
    http_server: Served, mode: str, request: pytest.FixtureRequest
) -> None:
    stateless = "stateless" in request.node.callspec.id
    heard_one, heard_two = Heard(), Heard()
    async with (
        httpx2.AsyncClient(timeout=30) as http_one,
        httpx2.AsyncClient(timeout=30) as http_two,
        Client(
            streamable_http_client(http_server.url, http_client=http_one),
            mode=mode,
            message_handler=heard_one,
        ) as one,
        Client(
            streamable_http_client(http_server.url, http_client=http_two),
            mode=mode,
            message_handler=heard_two,
        ) as two,
    ):
        result = await one.call_tool("enable_toolsets", {"toolsets": [OFF]})
        kept = (
            mode == "legacy" and not stateless
        )  # only a handshake-era stateful session keeps state over HTTP
        if kept:
            assert not result.is_error
            with anyio.fail_after(10):  # the notification travels on the session's GET stream
                await heard_one.arrived.wait()
            assert heard_one.methods == ["notifications/tools/list_changed"]
        else:
            assert result.is_error
            text = " ".join(block.text for block in result.content if block.type == "text")
            assert "no session" in text and "--toolsets default,app_activity" in text
        assert (AUDIT in await names(one)) is kept
        assert AUDIT not in await names(two)
        assert heard_two.methods == []
