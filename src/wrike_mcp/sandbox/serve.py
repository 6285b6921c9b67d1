"""Serving the sandbox over real HTTP: `wrike-mcp sandbox`, and a background server for tests."""

from __future__ import annotations

import contextlib
import threading
import time
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from wrike_mcp.sandbox.app import create_app
from wrike_mcp.sandbox.config import SandboxConfig
from wrike_mcp.sandbox.middleware import LOOPBACK_HOSTS
from wrike_mcp.sandbox.plans import ENTERPRISE, SUBSCRIPTION_TYPES, TEAM
from wrike_mcp.sandbox.tokens import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TOKEN,
    NOAUDIT_TOKEN,
    READONLY_TOKEN,
)


def _uvicorn_config(app: Starlette, host: str, port: int) -> uvicorn.Config:
    # h11 explicitly: the drop and truncate faults rely on its connection handling (see middleware.py).
    return uvicorn.Config(
        app, host=host, port=port, http="h11", lifespan="off", log_level="warning", access_log=False
    )


def banner(host: str, port: int, config: SandboxConfig) -> str:
    base = f"http://{host}:{port}"
    return "\n".join(
        [
            "Wrike API v4 sandbox (an emulator with seed data; not Wrike)",
            f"  API base URL:     {base}/api/v4",
            f"  OAuth authorize:  {base}/oauth2/authorize/v4",
            f"  OAuth token:      {base}/oauth2/token",
            f"  Control plane:    {base}/_sandbox/ (loopback only)",
            f"  Tokens:           {DEMO_TOKEN} (all scopes), {READONLY_TOKEN} (wsReadOnly),",
            f"                    {NOAUDIT_TOKEN} (Default, no audit log); user Ann Lee",
            f"  OAuth client:     {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}",
            f"  Token lifetime:   {config.token_ttl} s; rate limit: {config.rate_limit} requests/min/token",
            f"  Wrike plan:       {SUBSCRIPTION_TYPES[config.plan]}"
            + (
                " (task `status`, time logging and account-wide comments answer 403)"
                if config.plan == TEAM
                else ""
            ),
            "  Try: WRIKE_BASE_URL=" + f"{base}/api/v4 WRIKE_ACCESS_TOKEN={DEMO_TOKEN} wrike-mcp serve",
        ]
    )


def run_sandbox(
    host: str, port: int, token_ttl: int = 3600, rate_limit: int = 400, plan: str = ENTERPRISE
) -> int:
    config = SandboxConfig(token_ttl=token_ttl, rate_limit=rate_limit, plan=plan)
    app = create_app(config)
    print(banner(host, port, config), flush=True)
    if host not in LOOPBACK_HOSTS:
        print(
            f"  warning: listening on {host}; the control plane still answers loopback clients only",
            flush=True,
        )
    server = uvicorn.Server(_uvicorn_config(app, host, port))
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


class BackgroundSandbox:
    """The sandbox on a real loopback socket in a daemon thread (port 0 picks a free port).

    with BackgroundSandbox() as sandbox:
        httpx.get(f"{sandbox.api_url}/contacts?me=true", headers=...)
    """

    def __init__(self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = create_app(config)
        self.host = host
        self._server = uvicorn.Server(_uvicorn_config(self.app, host, port))
        self._thread = threading.Thread(target=self._server.run, name="wrike-sandbox", daemon=True)
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v4"

    def start(self) -> BackgroundSandbox:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundSandbox:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
