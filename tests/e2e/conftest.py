"""Helpers for end-to-end tests: the installed `wrike-mcp` command in a clean environment."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

WRIKE_MCP = Path(sys.executable).parent / "wrike-mcp"


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment minus every WRIKE_* setting; HOME and the token store in a temp dir; no keyring."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WRIKE_")}
    env.update(
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        WRIKE_MCP_TOKEN_STORE=str(tmp_path / "tokens.json"),
        WRIKE_MCP_KEYRING="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
