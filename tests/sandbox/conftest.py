"""Fixtures that reach the sandbox over HTTP semantics: in process through httpx.ASGITransport, or over a
real loopback socket (BackgroundSandbox) where the wire itself matters (drop/truncate faults)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette

from tests.sandbox.sandbox_helpers import BASE_URL, api_client
from wrike_mcp.sandbox import SandboxConfig, SandboxState, create_app
from wrike_mcp.sandbox.serve import BackgroundSandbox


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
def state(app: Starlette) -> SandboxState:
    sandbox: SandboxState = app.state.sandbox
    return sandbox


@pytest.fixture
async def raw(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """No credentials: for OAuth, the control plane and auth failures."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The demo user (Ann Lee) with the all-scopes permanent token, based at /api/v4."""
    async with api_client(app) as client:
        yield client


@pytest.fixture
def team_app() -> Starlette:
    """A sandbox started with --plan team."""
    return create_app(SandboxConfig(plan="team"))


@pytest.fixture
async def team(team_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The demo user on the Team-plan sandbox."""
    async with api_client(team_app) as client:
        yield client


@pytest.fixture(scope="module")
def live() -> Iterator[BackgroundSandbox]:
    """The sandbox on a real loopback port (uvicorn in a thread), shared by a module's tests."""
    with BackgroundSandbox(SandboxConfig()) as sandbox:
        yield sandbox
