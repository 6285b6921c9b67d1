"""What runs: Wrike clients built from the settings, and the static connection (sandbox, permanent token or
the OAuth grant of `wrike-mcp auth login`) as the context every request of a one-user server sees.

`server_commands`, `doctor`, `auth_commands` and `remote/` (each signed-in user's client) build through here.
The sandbox is never imported here: only the CLI imports it (DESIGN §2) and hands it over as a `Sandbox`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from wrike_mcp.config import Settings
from wrike_mcp.tools.deps import Mode, WrikeContext
from wrike_mcp.wrike.client import EventHook, WrikeClient
from wrike_mcp.wrike.governor import SharedBudget
from wrike_mcp.wrike.tokens import StaticTokenSource, TokenSource

SANDBOX_TOKEN = "wrike-sandbox-token"  # noqa: S105  (the emulator's documented demo token)
SANDBOX_BASE_URL = "http://127.0.0.1/api/v4"  # in-process: requests never leave the process


@dataclass(frozen=True)
class SandboxSite:
    """The sandbox served on a loopback port: where its API and sign-in are, and its demo OAuth app."""

    api_url: str
    login_url: str
    client_id: str
    client_secret: str


class Sandbox(Protocol):
    """The built-in Wrike emulator, as `--sandbox` runs it (the CLI implements it: cli.BuiltInSandbox)."""

    def app(self) -> ASGIApp:
        """A fresh emulator, seeded, to call in-process."""
        ...

    def on_loopback(self) -> AbstractContextManager[SandboxSite]:
        """The emulator on a real loopback port, for as long as the context lasts."""
        ...


def client_from_settings(
    settings: Settings,
    token_source: TokenSource,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    host: str | None = None,
    shared_budget: SharedBudget | None = None,
    event_hooks: Sequence[EventHook] = (),
) -> WrikeClient:
    """A Wrike client configured by the settings; `host` overrides WRIKE_HOST (a remote user's data centre),
    `shared_budget` counts its requests where other processes with the same grant count theirs, `event_hooks`
    observe each exchange (an HTTP server's metrics)."""
    client = WrikeClient(
        token_source,
        base_url=settings.base_url,
        host=host or settings.host,
        timeout=settings.timeout,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        max_retries=settings.max_retries,
        retry_budget=settings.retry_budget,
        max_queue_wait=settings.max_queue_wait,
        transport=transport,
        shared_budget=shared_budget,
    )
    client.event_hooks.extend(event_hooks)
    return client


@asynccontextmanager
async def connect(
    settings: Settings, *, sandbox: Sandbox | None, event_hooks: Sequence[EventHook] = ()
) -> AsyncIterator[WrikeContext]:
    """The context of a one-user server: the in-process sandbox, OAuth, or a permanent token. The client is
    closed when the context ends.

    Raises NoCredentialsError (wrike_mcp.auth) when there are no credentials.
    """
    if sandbox is not None:
        transport = httpx.ASGITransport(app=SandboxOnFirstRequest(sandbox.app))
        settings = settings.model_copy(update={"base_url": SANDBOX_BASE_URL})
        client = client_from_settings(
            settings, StaticTokenSource(SANDBOX_TOKEN), transport=transport, event_hooks=event_hooks
        )
        async with client:
            yield WrikeContext(settings, client, granted_scopes=None, mode="sandbox")
        return

    from wrike_mcp.auth import granted_scopes, token_source_from_settings

    source = token_source_from_settings(settings)
    mode: Mode = "permanent token" if isinstance(source, StaticTokenSource) else "oauth"
    async with client_from_settings(settings, source, event_hooks=event_hooks) as client:
        yield WrikeContext(settings, client, granted_scopes=granted_scopes(source), mode=mode)


class SandboxOnFirstRequest:
    """The in-process sandbox, built and seeded at the first Wrike request rather than at start-up.

    Answering `initialize` and `tools/list` needs no Wrike data, and building the emulator would otherwise
    be a good part of the stdio cold start.
    """

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self.build = build
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            self.app = self.build()
        await self.app(scope, receive, send)
