"""Fixtures for remote mode: a throwaway database on SQLite and on the real PostgreSQL, a sandbox on a port."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from wrike_mcp.remote.store import SCHEMA_VERSION, Store
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.serve import BackgroundSandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
POSTGRES_ADMIN_URL = os.environ.get(
    "WRIKE_MCP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^/:@]+):[^/@]*@", r"\1:***@", url)


async def _postgres_admin() -> Any:  # an asyncpg connection (asyncpg has no type hints)
    import asyncpg

    try:
        return await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"PostgreSQL is required in CI and not reachable at {shown(POSTGRES_ADMIN_URL)}: {exc} "
                "(WRIKE_MCP_TEST_POSTGRES: the URL of a role that may create databases; .ci/run makes one)"
            )
        pytest.skip(f"no PostgreSQL at {shown(POSTGRES_ADMIN_URL)} ({type(exc).__name__}); CI runs these")


@contextlib.asynccontextmanager
async def throwaway_postgres() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards (skipped without PostgreSQL, failed with CI=true)."""
    admin = await _postgres_admin()
    name = f"wrike_mcp_test_{secrets.token_hex(6)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'remote.sqlite3'}"
        return
    async with throwaway_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def workdir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for a test module's shared replica (logs, SQLite file), named after the module."""
    return tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[BackgroundSandbox]:
    """One sandbox for a test module's shared replica."""
    with BackgroundSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def database(workdir: Path) -> str:
    """The SQLite database of a test module's shared replica."""
    return f"sqlite:///{workdir / 'db.sqlite3'}"


@pytest.fixture
def sandbox() -> Iterator[BackgroundSandbox]:
    with BackgroundSandbox() as running:
        yield running


# Long enough for a burst of calls to finish on a loaded 2-core machine before the refreshed token is due
# again (at three quarters of its life, auth/oauth.py refresh_due), short enough to wait for in a test.
SHORT_TOKEN_TTL = 8


@pytest.fixture
def short_token_sandbox() -> Iterator[BackgroundSandbox]:
    """Wrike access tokens that live SHORT_TOKEN_TTL seconds (`wrike-mcp sandbox --token-ttl 8`)."""
    with BackgroundSandbox(SandboxConfig(token_ttl=SHORT_TOKEN_TTL)) as running:
        yield running


# ---- a real browser: Debian's Chromium driven by Playwright (test_browser.py, test_account.py) ----------


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs a real browser: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture
async def chromium(chromium_path: Path) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """A migrated store in a throwaway SQLite file: for in-process tests of rules that any database keeps."""
    opened = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        assert await opened.migrate() == SCHEMA_VERSION
        yield opened
    finally:
        await opened.close()
