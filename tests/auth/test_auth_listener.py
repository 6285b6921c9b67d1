"""The one-shot redirect listener, over http and over https with the throw-away certificate."""

from __future__ import annotations

import logging
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


async def test_only_the_first_redirect_counts_and_the_listener_stops_after_it() -> None:
    port = free_port()
    first = f"http://localhost:{port}/cb?code=first&state=s1"
    async with RedirectListener(f"http://localhost:{port}/cb", wait_seconds=5) as listener:
        async with httpx.AsyncClient() as browser:
            assert (await browser.post(f"http://127.0.0.1:{port}/cb?code=posted&state=s1")).status_code == 405
            assert (await browser.get(first)).status_code == 200
            second = await browser.get(f"http://localhost:{port}/cb?code=second&state=s1")
            assert second.status_code == 409 and "already received" in second.text
        assert await listener.wait() == first
    async with httpx.AsyncClient() as browser:
        with pytest.raises(httpx.ConnectError):
            await browser.get(first)


async def test_a_request_for_another_host_does_not_end_the_login() -> None:
    port = free_port()
    async with RedirectListener(f"http://127.0.0.1:{port}/cb", wait_seconds=5) as listener:
        async with httpx.AsyncClient() as browser:
            # what a page on evil.example sees after rebinding its name to 127.0.0.1
            rebound = await browser.get(
                f"http://127.0.0.1:{port}/cb?code=forged&state=s1", headers={"Host": f"evil.example:{port}"}
            )
            assert rebound.status_code == 400 and "not localhost" in rebound.text
            await browser.get(
                f"http://127.0.0.1:{port}/cb?code=c1&state=s1", headers={"Host": f"[::1]:{port}"}
            )
        assert await listener.wait() == f"http://127.0.0.1:{port}/cb?code=c1&state=s1"


@pytest.mark.parametrize(
    ("query", "page"),
    [
        ("code=c1&state=s1", "received Wrike's answer"),
        ("error=access_denied&state=s1", "Access was denied in Wrike"),
        ("error=invalid_scope&error_description=%3Cscript%3E&state=s1", "the terminal says which"),
        ("state=s1", "the terminal says which"),
    ],
)
async def test_the_page_says_what_came_back_and_no_code_reaches_the_log(
    query: str, page: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    async with RedirectListener(f"http://localhost:{port}/callback", wait_seconds=5) as listener:
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(f"http://localhost:{port}/callback?{query}")
        assert answer.status_code == 200
        assert page in answer.text and "close this tab" in answer.text
        assert "<script>" not in answer.text  # Wrike's error text is not echoed into the page
        assert await listener.wait() == f"http://localhost:{port}/callback?{query}"
    # the test's own client (httpx, httpcore) logs the URL; the listener (uvicorn, wrike_mcp) must not
    served = " ".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "c1" not in served and "callback?" not in served
