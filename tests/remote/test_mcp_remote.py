"""`mcp-remote` (npm), a real third-party MCP client, signs in to remote mode end to end.

mcp-remote is what stdio-only MCP clients use to reach a remote server: it is started here as the MCP server
process of the SDK's stdio client, registers itself with DCR, prints the authorize URL and asks the desktop to
open it. Its "browser" is `BROWSER` pointing at a script that only writes the URL to a file (the `open` package
it uses runs xdg-open, which honours `BROWSER` when there is no desktop); Chromium, driven by Playwright, opens
that URL and presses Allow on our consent page, the sandbox signs the demo user in, and mcp-remote's own loopback
callback receives the code and exchanges it. `tools/list` and `get_me` then go through mcp-remote over stdio.

Versions: pinned, MCP_REMOTE_VERSIONS: the newest 0.14.x and the newest release. 0.15.x was reported to
fail on its own side (its provider losing the discovery state it saves before the redirect, so the callback leg
throws "discoveryState was not available on the callback leg"); against this server that did not reproduce on
2026-12-04: 0.15.0 and 0.15.1 completed the first sign-in, and the second one with the cached registration after the
grant was revoked, every time (0.15.1: 7 runs under Node 20, 2 under Node 22). Both lines run here, so a
regression in either shows. mcp-remote keeps its state under MCP_REMOTE_CONFIG_DIR (by default
~/.mcp-auth): a temporary directory here, as is HOME.

It is installed on first use with npm into .node22/mcp-remote-<version> (npm's cache in .node22/npm-cache, as
.ci/run sets it); the system Node (20 or newer) runs it. Without npm, or if the install fails, the test skips,
and fails under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.remote.helpers import Replica, base_env, free_port, start_replica, structured
from wrike_mcp.sandbox.serve import BackgroundSandbox

pytestmark = pytest.mark.slow

# The newest 0.14.x and the newest release (what `npx -y mcp-remote` fetches today); see the docstring.
MCP_REMOTE_VERSIONS = ("0.14.5", "0.15.1")
ROOT = Path(__file__).resolve().parents[2]
SIGN_IN_TIMEOUT = 90.0


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI runs mcp-remote end to end: {reason}")
    pytest.skip(reason)


def install_mcp_remote(version: str) -> Path:
    """mcp-remote's executable, installed into .node22/mcp-remote-<version> unless it already is."""
    prefix = ROOT / ".node22" / f"mcp-remote-{version}"
    binary = prefix / "node_modules" / ".bin" / "mcp-remote"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable("node and npm are needed to install mcp-remote")
    env = {**os.environ, "npm_config_cache": str(ROOT / ".node22" / "npm-cache")}
    command = [npm or "npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(prefix)]
    try:
        result = subprocess.run(
            [*command, f"mcp-remote@{version}"], env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        unavailable(f"npm install mcp-remote@{version} did not finish in 300 s")
    if result.returncode != 0 or not binary.exists():
        unavailable(f"npm install mcp-remote@{version} failed: {result.stderr[-2000:]}")
    return binary


def first_line(path: Path) -> str:
    """The first line written to `path`, waiting for it up to SIGN_IN_TIMEOUT."""
    deadline = time.monotonic() + SIGN_IN_TIMEOUT
    while not path.exists() or not path.read_text().strip():
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing was written to {path}")
        time.sleep(0.1)
    return path.read_text().splitlines()[0]


async def approve_in_chromium(chromium: Any, opened: Path, callback: str) -> str:
    """Open the URL mcp-remote asked the desktop to open, press Allow; the callback URL the browser reached."""
    url = await anyio.to_thread.run_sync(first_line, opened)
    context = await chromium.new_context()
    try:
        page = await context.new_page()
        response = await page.goto(url)
        assert response is not None and response.status == 200, url
        assert page.url.split("?")[0].endswith("/consent"), page.url
        await page.locator('button[value="allow"]').click()
        await page.wait_for_url(f"{callback}?**", timeout=30_000)
        reached: str = page.url
        return reached
    finally:
        await context.close()


@dataclass
class Run:
    authorize_url: str
    reached: str  # the callback URL the browser was sent to
    tools: set[str]
    me: dict[str, Any]


async def run_mcp_remote(
    binary: Path, replica: Replica, chromium: Any, tmp_path: Path, port: int, name: str
) -> Run:
    """Start mcp-remote over stdio, sign in through Chromium when it asks, list tools and call get_me."""
    opened = tmp_path / f"opened-{name}"
    fake_browser = tmp_path / f"browser-{name}.sh"
    fake_browser.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{opened}'\n")
    fake_browser.chmod(0o755)
    env = base_env(tmp_path)
    for variable in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(variable, None)  # no desktop: xdg-open falls back to BROWSER
    env.update(BROWSER=str(fake_browser), MCP_REMOTE_CONFIG_DIR=str(tmp_path / "mcp-auth"))
    params = StdioServerParameters(command=str(binary), args=[replica.mcp_url, str(port)], env=env)
    callback = f"http://localhost:{port}/oauth/callback"
    log = tmp_path / f"mcp-remote-{name}.log"
    reached: list[str] = []

    async def approve() -> None:
        reached.append(await approve_in_chromium(chromium, opened, callback))

    try:
        with log.open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                async with anyio.create_task_group() as group:
                    group.start_soon(approve)
                    with anyio.fail_after(SIGN_IN_TIMEOUT):
                        await session.initialize()
                tools = {tool.name for tool in (await session.list_tools()).tools}
                me = structured(await session.call_tool("get_me", {}))
    except BaseException:
        print(log.read_text()[-4000:])  # mcp-remote's own account of what went wrong
        raise
    return Run(opened.read_text().splitlines()[0], reached[0], tools, me)


def stored(tmp_path: Path, suffix: str) -> dict[str, Any]:
    found = list((tmp_path / "mcp-auth").rglob(f"*{suffix}"))
    assert len(found) == 1, found
    document: dict[str, Any] = json.loads(found[0].read_text())
    return document


@pytest.mark.parametrize("version", MCP_REMOTE_VERSIONS)
async def test_mcp_remote_signs_in_through_chromium_and_calls_tools(
    tmp_path: Path, sandbox: BackgroundSandbox, chromium: Any, version: str
) -> None:
    binary = install_mcp_remote(version)
    replica = start_replica(tmp_path, sandbox.base_url, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    port = free_port()
    try:
        first = await run_mcp_remote(binary, replica, chromium, tmp_path, port, "first")
        assert first.authorize_url.startswith(f"{replica.base_url}/authorize?"), first.authorize_url
        query = parse_qs(urlsplit(first.authorize_url).query)
        assert query["redirect_uri"] == [f"http://localhost:{port}/oauth/callback"], query
        assert query["resource"] == [replica.mcp_url], query
        answer = parse_qs(urlsplit(first.reached).query)
        assert "code" in answer and answer["iss"] == [replica.base_url], answer
        assert {"get_me", "search_tasks", "create_task"} <= first.tools
        assert first.me["user"]["name"] == "Ann Lee"  # the sandbox's demo user, signed in without a form
        # the tokens are ours, kept in its config directory (not in ~/.mcp-auth)
        tokens = stored(tmp_path, "tokens.json")
        client_id = stored(tmp_path, "client_info.json")["client_id"]
        assert tokens["access_token"].startswith("wmcp_at_")

        # the grant is revoked; the next start finds its tokens refused and signs in again with the same
        # registration (the path where 0.15.x loses its discovery state)
        async with httpx.AsyncClient(timeout=30) as http:
            revoked = await http.post(
                f"{replica.base_url}/revoke", data={"token": tokens["refresh_token"], "client_id": client_id}
            )
        assert revoked.status_code == 200, revoked.text
        second = await run_mcp_remote(binary, replica, chromium, tmp_path, port, "second")
        assert parse_qs(urlsplit(second.authorize_url).query)["client_id"] == [client_id]
        assert second.me["user"]["name"] == "Ann Lee"
        assert stored(tmp_path, "tokens.json")["access_token"] != tokens["access_token"]
    finally:
        replica.stop()
    calls = [
        line for line in replica.access_log() if '"tool": "get_me"' in line and '"outcome": "ok"' in line
    ]
    assert len(calls) == 2, calls
