"""The real `wrike-mcp serve --sandbox` as a subprocess: stdio and streamable HTTP (stateful and stateless),
with SDK clients in both protocol eras (2026-07-28 "auto" and 2025-11-25 "legacy")."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.e2e_helpers import WRIKE_MCP, free_port

pytestmark = pytest.mark.slow

MODES = ["auto", "legacy"]


async def exercise(client: Client) -> None:
    """List the tools and call two of them; what a first session with a client does."""
    tools = {tool.name for tool in (await client.list_tools()).tools}
    assert {"get_me", "search_tasks", "enable_toolsets"} <= tools
    assert "list_app_activity" not in tools  # off by default, one enable_toolsets call away
    me = await client.call_tool("get_me", {})
    assert not me.is_error and me.structured_content is not None
    assert me.structured_content["user"]["name"] == "Ann Lee"
    assert me.structured_content["mode"] == "sandbox"
    found = await client.call_tool("search_tasks", {"text": "Draft launch announcement"})
    assert not found.is_error and found.structured_content is not None
    assert [item["title"] for item in found.structured_content["items"]] == ["Draft launch announcement"]
    missing = await client.call_tool("get_task", {"task": "IEAAAAAAAAAAAAAA"})
    assert missing.is_error


@pytest.mark.parametrize("mode", MODES)
async def test_stdio(mode: str, clean_env: dict[str, str]) -> None:
    params = StdioServerParameters(command=str(WRIKE_MCP), args=["serve", "--sandbox"], env=clean_env)
    async with Client(params, mode=mode) as client:
        await exercise(client)
        resource = await client.read_resource("wrike://me")
        assert json.loads(resource.contents[0].text)["user"]["name"] == "Ann Lee"  # type: ignore[union-attr]


class HttpServer:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(params=[False, True], ids=["stateful", "stateless"])
def http_server(request: pytest.FixtureRequest, clean_env: dict[str, str]) -> Iterator[HttpServer]:
    port = free_port()
    args = [str(WRIKE_MCP), "serve", "--sandbox", "--transport", "http", "--port", str(port)]
    if request.param:
        args.append("--stateless")
    process = subprocess.Popen(args, env=clean_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                pytest.fail(
                    f"server exited with {process.returncode}: {process.stderr.read().decode()[-2000:]}"
                )
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the HTTP server did not start within 20 s")
                time.sleep(0.1)
        yield HttpServer(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("mode", MODES)
async def test_streamable_http(http_server: HttpServer, mode: str) -> None:
    async with (
        httpx2.AsyncClient(timeout=30) as http,
        Client(streamable_http_client(http_server.url, http_client=http), mode=mode) as client,
    ):
        await exercise(client)
