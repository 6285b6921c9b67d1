"""The one-shot redirect listener, over http and over https with the throw-away certificate."""

from __future__ import annotations

import socket

import anyio.to_thread
import httpx
import pytest

from wrike_mcp.auth.errors import LoginError
from wrike_mcp.auth.login import RedirectListener


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_listener_catches_one_redirect(scheme: str) -> None:
    port = free_port()
    async with RedirectListener(f"{scheme}://localhost:{port}/callback", wait_seconds=5) as listener:
        assert (listener.fingerprint is not None) == (scheme == "https")
        async with httpx.AsyncClient(verify=False) as browser:
            assert (await browser.get(f"{scheme}://127.0.0.1:{port}/favicon.ico")).status_code == 404
            page = await browser.get(f"{scheme}://localhost:{port}/callback?code=c1&state=s1")
            assert page.status_code == 200 and "close this tab" in page.text
        assert await listener.wait() == f"{scheme}://localhost:{port}/callback?code=c1&state=s1"


async def test_https_listener_certificate_is_for_localhost() -> None:
    import ssl

    port = free_port()
    async with RedirectListener(f"https://localhost:{port}/cb", wait_seconds=5) as listener:
        # a strict client rejects it (self-signed), which is the warning the user is told to expect
        async with httpx.AsyncClient() as strict:
            with pytest.raises(httpx.ConnectError):
                await strict.get(f"https://localhost:{port}/cb")
        pem = await anyio.to_thread.run_sync(ssl.get_server_certificate, ("127.0.0.1", port))
        assert "BEGIN CERTIFICATE" in pem
        assert listener.fingerprint and len(listener.fingerprint.split(":")) == 32


async def test_listener_times_out_and_refuses_remote_redirects() -> None:
    async with RedirectListener(f"http://127.0.0.1:{free_port()}/cb", wait_seconds=0.1) as listener:
        with pytest.raises(LoginError, match="no redirect arrived"):
            await listener.wait()
    with pytest.raises(LoginError, match="not on localhost"):
        RedirectListener("https://example.com/cb")


async def test_busy_port_is_a_clear_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(LoginError, match="cannot listen on"):
            async with RedirectListener(f"http://127.0.0.1:{port}/cb"):
                pass
