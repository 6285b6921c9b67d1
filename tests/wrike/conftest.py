"""Fixtures for client tests against the sandbox: in-process (ASGI) and over real loopback HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from tests.wrike.wrike_helpers import DEMO_TOKEN, FAST, SANDBOX_BASE_URL, SANDBOX_ORIGIN, MakeClient
from wrike_mcp.sandbox import SandboxConfig, create_app
from wrike_mcp.wrike.client import WrikeClient
from wrike_mcp.wrike.resolve import Resolver
from wrike_mcp.wrike.tokens import StaticTokenSource, TokenSource


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig()


@pytest.fixture
def sandbox_app(sandbox_config: SandboxConfig) -> Any:
    return create_app(sandbox_config)


@pytest.fixture
async def control(sandbox_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the sandbox's control plane (`/_sandbox/...`)."""
    transport = httpx.ASGITransport(app=sandbox_app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_ORIGIN) as http:
        yield http


@pytest.fixture
async def make_client(sandbox_app: Any) -> AsyncIterator[MakeClient]:
    """Build clients on the in-process sandbox; closed at teardown."""
    made: list[WrikeClient] = []

    def make(token: str | TokenSource = DEMO_TOKEN, **options: Any) -> WrikeClient:
        source = StaticTokenSource(token) if isinstance(token, str) else token
        client = WrikeClient(
            source,
            base_url=options.pop("base_url", SANDBOX_BASE_URL),
            transport=options.pop("transport", httpx.ASGITransport(app=sandbox_app)),
            **{**FAST, **options},
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
def client(make_client: MakeClient) -> WrikeClient:
    return make_client()


@pytest.fixture
def live_sandbox(sandbox_app: Any) -> Iterator[str]:
    """The same sandbox app served by uvicorn on a free loopback port in a thread; yields its origin."""
    # IPPROTO_TCP, so asyncio sets TCP_NODELAY on accepted connections (without it, Nagle and
    # delayed ACKs add ~40 ms to every reused keep-alive connection)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sandbox_app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "sandbox did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture
def resolver(client: WrikeClient) -> Resolver:
    return Resolver(client)
