"""Helpers for end-to-end tests: the installed `wrike-mcp` command in a clean environment, and its HTTP
server as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

WRIKE_MCP = Path(sys.executable).parent / "wrike-mcp"


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment minus every WRIKE_* setting; HOME and the token store in `home`; no keyring."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WRIKE_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        WRIKE_MCP_TOKEN_STORE=str(home / "tokens.json"),
        WRIKE_MCP_KEYRING="0",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"

    def stop(self) -> tuple[str, str]:
        """Stop the server; its stdout and stderr."""
        self.process.terminate()
        try:
            out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return out.decode(errors="replace"), err.decode(errors="replace")


def start_server(args: list[str], env: dict[str, str]) -> Served:
    port = free_port()
    process = subprocess.Popen(
        [str(WRIKE_MCP), "serve", "--transport", "http", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            assert process.stderr is not None
            raise RuntimeError(
                f"server exited {process.returncode}: {process.stderr.read().decode()[-2000:]}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Served(process, port)
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("the HTTP server did not start within 20 s") from None
            time.sleep(0.1)
