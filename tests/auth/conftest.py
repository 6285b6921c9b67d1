"""Auth test fixtures. Every test here uses a file token store in its own tmp dir, never the OS keyring:
`WRIKE_MCP_KEYRING=0` forces the file backend and `WRIKE_MCP_TOKEN_STORE` points it at the tmp path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.auth.auth_helpers import CANARY_SECRET
from wrike_mcp.auth.store import TokenStore
from wrike_mcp.config import Settings


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("WRIKE_"):
            monkeypatch.delenv(name)
    store_path = tmp_path / "config" / "tokens.json"
    monkeypatch.setenv("WRIKE_MCP_KEYRING", "0")
    monkeypatch.setenv("WRIKE_MCP_TOKEN_STORE", str(store_path))
    return store_path


@pytest.fixture
def store_path(isolated_env: Path) -> Path:
    return isolated_env


@pytest.fixture
def settings() -> Settings:
    """Settings for a real-Wrike-shaped login (mock transports answer instead of Wrike)."""
    return Settings(client_id="test-client", client_secret=CANARY_SECRET)


@pytest.fixture
def store(settings: Settings) -> TokenStore:
    return TokenStore.from_settings(settings)
